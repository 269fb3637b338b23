"""The VQA example's data: splits of images with their questions, and batches by image.

    data, answers = load_data(cfg)                    # {"train"|"test"|"comp": Split}
    batches = QuestionBatches(data, vocab, answers, device)
    x, questions, which, target, rows = batches.batch("train", image_indices)

A batch holds some images and *every* question about them, so each image is encoded once
per step however many questions it has; ``which[n]`` is the image question ``n`` is about.
"""
from collections import Counter

import numpy as np

import minigrad

from . import formats, language, metrics, world
from .models import to_input


class Split:
    """Images (N, S, S, 3) uint8 and rows of (image_index, question, answer, type)."""

    def __init__(self, images, rows):
        self.images, self.rows = images, rows
        self.by_image = [[] for _ in range(len(images))]
        for k, (i, *_rest) in enumerate(rows):
            self.by_image[i].append(k)


def load_data(cfg, smoke=False):
    """{split name: Split} and the list of answers, for ``cfg["data"]``: the generated
    world, easy-VQA (only its first images when ``smoke``) or VQA v2 files."""
    if cfg["data"] == "world":
        splits = world.make_splits(cfg["n_train"], cfg["n_test"], cfg["n_test"], cfg["seed"])
        data = {name: Split(im, language.scene_questions(sc, cfg["seed"] * 7 + k, cfg["per_type"]))
                for k, (name, (im, sc)) in enumerate(splits.items())}
        return data, language.answer_vocabulary()
    if cfg["data"] == "easy-vqa":
        return load_easy_vqa(cfg, smoke)
    if cfg["data"] == "vqa2":
        return load_vqa2(cfg)
    raise ValueError(f"--data must be 'world', 'easy-vqa' or 'vqa2', got {cfg['data']!r}")


def load_easy_vqa(cfg, smoke=False):
    """easy-VQA's official train/test split (the ``easy_vqa`` package)."""
    try:
        import easy_vqa
    except ImportError:
        raise ImportError("--data easy-vqa needs the easy-vqa package "
                          "(pip install easy-vqa)") from None
    data = {}
    for name in ("train", "test"):
        paths, rows = formats.load_easy_vqa(name)
        if smoke:                                   # the first few images only
            keep = sorted(paths)[:cfg["n_train"] if name == "train" else cfg["n_test"]]
            paths = {i: paths[i] for i in keep}
            rows = [r for r in rows if r[0] in paths]
        ids = sorted(paths)
        pos = {i: k for k, i in enumerate(ids)}
        images = formats.load_images([paths[i] for i in ids], cfg["image_size"])
        data[name] = Split(images, [(pos[i], q, a, t) for i, q, a, t in rows])
    return data, easy_vqa.get_answers()


def load_vqa2(cfg):
    """VQA v2 files: the first tenth of the images is the test split; the answers are the
    ``--top-answers`` most frequent; each test question keeps its ten human answers."""
    items = formats.load_vqa_v2(cfg["vqa_questions"], cfg["vqa_annotations"], cfg["vqa_images"])
    paths = sorted({it["image_path"] for it in items})
    pos = {p: k for k, p in enumerate(paths)}
    images = formats.load_images(paths, cfg["image_size"])
    n_test = max(1, len(paths) // 10)
    answers = [a for a, _ in Counter(it["answer"] for it in items).most_common(cfg["top_answers"])]
    data = {}
    for name, keep in (("train", lambda k: k >= n_test), ("test", lambda k: k < n_test)):
        idx = [k for k in range(len(paths)) if keep(k)]
        new = {k: j for j, k in enumerate(idx)}
        rows = [(new[pos[it["image_path"]]], it["question"], it["answer"], it["type"])
                for it in items if keep(pos[it["image_path"]])]
        data[name] = Split(images[idx], rows)
        data[name].human = [it["answers"] for it in items if keep(pos[it["image_path"]])]
    return data, answers


class QuestionBatches:
    """Every split's questions encoded once (padded word ids) with their answer ids (-100
    for an answer outside the classifier's list), served in batches by image."""

    def __init__(self, data, vocab, answers, device="cpu"):
        self.data, self.vocab, self.answers, self.device = data, vocab, answers, device
        answer_id = {a: k for k, a in enumerate(answers)}
        self.q_len = max(len(language.tokenize(q)) for _, q, _, _ in data["train"].rows)
        self.encoded = {name: (vocab.encode_batch([r[1] for r in s.rows], self.q_len, ends=False),
                               np.array([answer_id.get(r[2], -100) for r in s.rows], np.int64))
                        for name, s in data.items()}

    def batch(self, name, image_idx):
        """The images, all their questions, which image each question is about, the answer
        ids and the questions' rows in the split."""
        split, (qs, ans) = self.data[name], self.encoded[name]
        rows = [k for i in image_idx for k in split.by_image[i]]
        which = [j for j, i in enumerate(image_idx) for _ in split.by_image[i]]
        return (to_input(split.images[image_idx], self.device), qs[rows], np.asarray(which),
                minigrad.tensor(ans[rows], device=self.device), rows)

    def predict(self, model, name):
        """Predicted answer strings for every question of a split."""
        split = self.data[name]
        preds = [None] * len(split.rows)
        model.eval()
        with minigrad.no_grad():
            for s in range(0, len(split.images), 64):
                image_idx = np.arange(s, min(s + 64, len(split.images)))
                x, q, which, _, rows = self.batch(name, image_idx)
                for k, a in zip(rows, model(x, q, which).numpy().argmax(1)):
                    preds[k] = self.answers[a]
        model.train()
        return preds

    def scores(self, model, name, preds=None):
        """Accuracy overall and per question type ({"overall": a, type: a, ...})."""
        split = self.data[name]
        preds = self.predict(model, name) if preds is None else preds
        return metrics.accuracy_by_type(preds, [r[2] for r in split.rows],
                                        [r[3] for r in split.rows])
