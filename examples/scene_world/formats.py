"""Readers for the public data sets, into the same shapes the generated world uses.

COCO captions (`annotations/captions_train2014.json` + the image folder):
    {"images": [{"id": 9, "file_name": "COCO_train2014_000000000009.jpg", ...}, ...],
     "annotations": [{"image_id": 9, "id": 1, "caption": "A plate of food."}, ...]}
VQA v2 (`v2_OpenEnded_mscoco_train2014_questions.json` + `v2_mscoco_train2014_annotations.json`):
    {"questions": [{"image_id": 9, "question": "What is on the plate?", "question_id": 90}, ...]}
    {"annotations": [{"question_id": 90, "image_id": 9, "answer_type": "other",
                      "multiple_choice_answer": "food", "answers": [{"answer": "food", ...}, ...]}]}
easy-VQA (the `easy_vqa` package: 64x64 PNGs and questions shipped in the wheel).

Every loader returns plain Python lists; `load_images` turns paths into a (N, S, S, 3) uint8
array, resized to S x S, which is what the models read.
"""
import json
import os
import re

import numpy as np


def load_images(paths, size=64):
    """Read image files into a (N, size, size, 3) uint8 array (RGB, bilinear resize)."""
    from PIL import Image
    out = np.empty((len(paths), size, size, 3), np.uint8)
    for i, path in enumerate(paths):
        with Image.open(path) as im:
            im = im.convert("RGB")
            if im.size != (size, size):
                im = im.resize((size, size), Image.BILINEAR)
            out[i] = np.asarray(im)
    return out


def _read_json(path, keys):
    with open(path) as f:
        data = json.load(f)
    for key in keys:
        if key not in data:
            raise KeyError(f"{path}: expected a top-level key {key!r}, found {sorted(data)}")
    return data


def load_coco_captions(captions_json, image_dir):
    """COCO captions: a list of (image_path, [caption, ...]) in the order of "images".
    Images without a caption are left out."""
    data = _read_json(captions_json, ("images", "annotations"))
    caps = {}
    for ann in data["annotations"]:
        caps.setdefault(ann["image_id"], []).append(ann["caption"].strip())
    out = []
    for img in data["images"]:
        if img["id"] in caps:
            out.append((os.path.join(image_dir, img["file_name"]), caps[img["id"]]))
    return out


def _image_index(image_dir):
    """{image_id: path} from file names ending in the id, e.g. COCO_val2014_000000000042.jpg."""
    index = {}
    for name in sorted(os.listdir(image_dir)):
        m = re.search(r"(\d+)\.(jpe?g|png)$", name, re.IGNORECASE)
        if m:
            index[int(m.group(1))] = os.path.join(image_dir, name)
    return index


def load_vqa_v2(questions_json, annotations_json, image_dir):
    """VQA v2: a list of dicts {image_path, question, answer (the multiple-choice answer),
    answers (the ten human answers), type (answer_type: yes/no, number, other)}.
    Questions whose image is not in `image_dir` are left out."""
    qs = _read_json(questions_json, ("questions",))["questions"]
    anns = {a["question_id"]: a for a in _read_json(annotations_json, ("annotations",))["annotations"]}
    images = _image_index(image_dir)
    out = []
    for q in qs:
        if q["question_id"] not in anns:
            raise KeyError(f"{annotations_json}: no annotation for question_id {q['question_id']}")
        if q["image_id"] not in images:
            continue
        a = anns[q["question_id"]]
        out.append({"image_path": images[q["image_id"]], "question": q["question"],
                    "answer": a["multiple_choice_answer"],
                    "answers": [x["answer"] for x in a.get("answers", [])] or [a["multiple_choice_answer"]],
                    "type": a.get("answer_type", "other")})
    return out


def easy_vqa_type(question):
    """easy-VQA has no type field; its templates tell: "what color ..." -> colour,
    "what shape / what is the ..." -> shape, anything else (is there / does ...) -> exists."""
    q = question.lower()
    if q.startswith("what color"):
        return "colour"
    if q.startswith("what"):
        return "shape"
    return "exists"


def load_easy_vqa(split):
    """easy-VQA's official split ("train" or "test"): (image_paths {id: path}, rows) where rows
    are (image_id, question, answer, type)."""
    if split not in ("train", "test"):
        raise ValueError(f"load_easy_vqa: split must be 'train' or 'test', got {split!r}")
    import easy_vqa
    texts, answers, ids = getattr(easy_vqa, f"get_{split}_questions")()
    paths = getattr(easy_vqa, f"get_{split}_image_paths")()
    return paths, [(i, q, a, easy_vqa_type(q)) for q, a, i in zip(texts, answers, ids)]
