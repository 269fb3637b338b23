"""The generated scene world, its language, the real-format loaders and the metrics."""
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
from scene_world import formats, language, metrics, world  # noqa: E402
from scene_world.world import Obj  # noqa: E402


def test_generator_is_deterministic_and_seed_dependent():
    a_img, a_sc = world.generate(50, seed=3)
    b_img, b_sc = world.generate(50, seed=3)
    c_img, _ = world.generate(50, seed=4)
    assert a_img.shape == (50, 64, 64, 3) and a_img.dtype == np.uint8
    assert np.array_equal(a_img, b_img) and a_sc == b_sc
    assert not np.array_equal(a_img, c_img)


def test_render_draws_each_object_in_its_colour_and_nothing_else():
    scene = (Obj("circle", "red", "large", 1, 0, 11, 32), Obj("square", "blue", "small", 0, 2, 53, 11))
    img = world.render([scene])[0]
    assert tuple(img[32, 11]) == world.COLOURS["red"]          # centres are painted
    assert tuple(img[11, 53]) == world.COLOURS["blue"]
    assert tuple(img[32, 32]) == world.BACKGROUND              # the empty middle cell
    red = np.all(img == world.COLOURS["red"], axis=-1).sum()
    assert abs(red - np.pi * 9 ** 2) < 0.15 * np.pi * 9 ** 2    # about a disc of radius 9
    blue = np.all(img == world.COLOURS["blue"], axis=-1).sum()
    assert blue == (2 * int(0.85 * 5) + 1) ** 2                # |dx|, |dy| <= 4.25: a 9x9 square


def test_splits_keep_held_out_pairs_out_of_training_and_in_every_comp_scene():
    held = set(world.HOLDOUT)
    _, train = world.generate(400, 0, "train")
    _, comp = world.generate(100, 1, "comp")
    assert not any((o.colour, o.shape) in held for s in train for o in s)
    assert all(any((o.colour, o.shape) in held for o in s) for s in comp)
    assert all(1 <= len(s) <= 4 and len({(o.row, o.col) for o in s}) == len(s) for s in train)


SCENE = (Obj("circle", "red", "large", 0, 0, 11, 11),      # top left
         Obj("square", "blue", "small", 2, 0, 11, 53),     # bottom left
         Obj("circle", "green", "small", 1, 2, 53, 32))    # middle right


def test_captions_follow_the_grammar():
    assert language.captions(SCENE) == [
        "a large red circle , a small blue square and a small green circle",
        "there are three shapes : a large red circle , a small blue square and a small green circle",
        "a large red circle above a small blue square and a small green circle"]
    one = (Obj("cross", "white", "small", 2, 1, 32, 53),)
    assert language.captions(one)[1:] == ["there is one shape : a small white cross",
                                          "a small white cross at the bottom centre"]


def test_answers_are_right_on_a_hand_checked_scene():
    rng = np.random.default_rng(0)
    qa = {}
    for _ in range(30):
        for q, a, t in language.questions(SCENE, rng, per_type=3):
            assert qa.setdefault(q, a) == a
    truth = {"what colour is the square ?": "blue",
             "what colour is the large circle ?": "red",
             "what colour is the small circle ?": "green",
             "what shape is the blue object ?": "square",
             "what shape is the green object ?": "circle",
             "how many shapes are there ?": "three",
             "how many circles are there ?": "two",
             "how many red shapes are there ?": "one",
             "how many yellow shapes are there ?": "zero",
             "is there a blue square ?": "yes",
             "is there a red square ?": None,                     # a held-out pair: never asked
             "is the red circle to the left of the green circle ?": "yes",
             "is the square above the red circle ?": "no",
             "is the square below the red circle ?": "yes",
             "is the green circle to the left of the square ?": "no"}
    checked = 0
    for q, a in truth.items():
        if q in qa:
            assert qa[q] == a, q
            checked += 1
    assert checked >= 6
    assert "what colour is the circle ?" not in qa             # two circles: ambiguous, never asked
    for q, a in qa.items():                                    # every exists answer, checked by hand rule
        if q.startswith("is there a "):
            colour, shape = q[len("is there a "):-2].split()
            assert a == ("yes" if (colour, shape) in {("red", "circle"), ("blue", "square"),
                                                      ("green", "circle")} else "no")


def test_vocab_encodes_pads_and_decodes():
    v = language.Vocab.build(["a red circle", "a blue square"])
    assert v.itos[:4] == ["<NULL>", "<START>", "<END>", "<UNK>"]
    ids = v.encode("a red cat", length=7)
    assert ids == [1, v.stoi["a"], v.stoi["red"], 3, 2, 0, 0]
    assert v.decode(ids) == "a red <UNK>"
    assert v.encode_batch(["a", "a blue square"]).shape == (2, 5)
    assert language.Vocab.from_state_dict(v.state_dict()).itos == v.itos


def test_coco_captions_loader_reads_the_real_format(tmp_path):
    from PIL import Image
    (tmp_path / "img").mkdir()
    for i, name in ((9, "COCO_val2014_000000000009.jpg"), (25, "COCO_val2014_000000000025.jpg")):
        Image.fromarray(np.full((40, 30, 3), i, np.uint8)).save(tmp_path / "img" / name)
    doc = {"images": [{"id": 9, "file_name": "COCO_val2014_000000000009.jpg", "width": 30, "height": 40},
                      {"id": 25, "file_name": "COCO_val2014_000000000025.jpg", "width": 30, "height": 40},
                      {"id": 7, "file_name": "uncaptioned.jpg", "width": 1, "height": 1}],
           "annotations": [{"image_id": 9, "id": 1, "caption": "A plate of food. "},
                           {"image_id": 25, "id": 2, "caption": "A giraffe."},
                           {"image_id": 9, "id": 3, "caption": "Food on a plate"}]}
    path = tmp_path / "captions_val2014.json"
    path.write_text(json.dumps(doc))
    items = formats.load_coco_captions(str(path), str(tmp_path / "img"))
    assert [(os.path.basename(p), c) for p, c in items] == [
        ("COCO_val2014_000000000009.jpg", ["A plate of food.", "Food on a plate"]),
        ("COCO_val2014_000000000025.jpg", ["A giraffe."])]
    images = formats.load_images([p for p, _ in items], size=16)
    assert images.shape == (2, 16, 16, 3) and images[0, 5, 5, 0] == 9 and images[1, 0, 0, 2] == 25
    assert language.tokenize("A plate, of food.") == ["a", "plate", ",", "of", "food", "."]


def test_vqa_v2_loader_reads_the_real_format(tmp_path):
    from PIL import Image
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "COCO_val2014_000000000042.jpg")
    qs = {"questions": [{"image_id": 42, "question": "What color is it?", "question_id": 420},
                        {"image_id": 42, "question": "Is it dark?", "question_id": 421},
                        {"image_id": 43, "question": "Missing image?", "question_id": 430}]}
    answers = ["black"] * 7 + ["gray"] * 3
    anns = {"annotations": [
        {"question_id": 420, "image_id": 42, "answer_type": "other", "multiple_choice_answer": "black",
         "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": k + 1}
                     for k, a in enumerate(answers)]},
        {"question_id": 421, "image_id": 42, "answer_type": "yes/no", "multiple_choice_answer": "yes",
         "answers": [{"answer": "yes", "answer_confidence": "yes", "answer_id": 1}]},
        {"question_id": 430, "image_id": 43, "answer_type": "yes/no", "multiple_choice_answer": "no",
         "answers": []}]}
    (tmp_path / "q.json").write_text(json.dumps(qs))
    (tmp_path / "a.json").write_text(json.dumps(anns))
    items = formats.load_vqa_v2(str(tmp_path / "q.json"), str(tmp_path / "a.json"), str(tmp_path))
    assert [(i["question"], i["answer"], i["type"]) for i in items] == [
        ("What color is it?", "black", "other"), ("Is it dark?", "yes", "yes/no")]
    assert items[0]["answers"] == answers
    assert items[0]["image_path"].endswith("000000000042.jpg")


def test_easy_vqa_adapter_reads_the_package():
    pytest.importorskip("easy_vqa")
    paths, rows = formats.load_easy_vqa("test")
    assert len(paths) == 1000 and len(rows) == 9673
    assert {t for *_, t in rows} == {"colour", "shape", "exists"}
    assert formats.easy_vqa_type("what color is the shape?") == "colour"
    assert formats.easy_vqa_type("what is the blue shape?") == "shape"
    assert formats.easy_vqa_type("is there a red shape?") == "exists"
    with pytest.raises(ValueError, match="split"):
        formats.load_easy_vqa("val")


def test_bleu4_agrees_with_the_hand_computed_value():
    # hypothesis "the cat sat on a mat" vs reference "the cat sat on the mat": 6 words each, BP = 1;
    # clipped matches: 1-grams 5/6, 2-grams 3/5, 3-grams 2/4, 4-grams 1/3
    expected = np.exp(np.mean(np.log([5 / 6, 3 / 5, 2 / 4, 1 / 3])))
    got = metrics.bleu4(["the cat sat on a mat"], [["the cat sat on the mat"]])
    assert got == pytest.approx(expected, rel=1e-6)
    assert metrics.bleu4(["a b c d e"], [["x y", "a b c d e"]]) == pytest.approx(1.0)
    # references of unequal number: padding by repetition changes nothing
    assert metrics.bleu4(["a b c d", "e f g h"], [["a b c d"], ["e f g h", "z"]]) == pytest.approx(1.0)


def test_accuracy_per_type_and_vqa_v2_score_by_hand():
    acc = metrics.accuracy_by_type(["red", "yes", "no", "two"], ["red", "no", "no", "two"],
                                   ["colour", "exists", "exists", "count"])
    assert acc == {"overall": 0.75, "colour": 1.0, "count": 1.0, "exists": 0.5}
    # 2 of 10 humans said it: 8 subsets hold both (2/3), 2 hold one (1/3) -> 0.6
    assert metrics.vqa_v2_score("a", ["a"] * 2 + ["b"] * 8) == pytest.approx(0.6)
    assert metrics.vqa_v2_score("a", ["a"] * 4 + ["b"] * 6) == pytest.approx(1.0)
    assert metrics.vqa_v2_score("c", ["a"] * 10) == 0.0
    with pytest.raises(ValueError, match="lengths"):
        metrics.accuracy_by_type(["a"], ["a", "b"], ["t"])
