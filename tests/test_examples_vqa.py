"""The VQA model and script: it can memorise, the question-only baseline ignores the image,
each distinct question is encoded once, and the script runs end to end on both data sets."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad
import nn.functional as F

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
sys.path.insert(0, EXAMPLES)
from scene_world import language, world  # noqa: E402
from scene_world.models import VQAModel, to_input  # noqa: E402


def tiny_vqa(n_images=4):
    images, scenes = world.generate(n_images, seed=2)
    rows = language.scene_questions(scenes, seed=0, per_type=1)
    vocab = language.Vocab.build(q for _, q, _, _ in rows)
    answers = language.answer_vocabulary()
    q = vocab.encode_batch([r[1] for r in rows], ends=False)
    a = np.array([answers.index(r[2]) for r in rows])
    which = np.array([r[0] for r in rows])
    return to_input(images[:, ::4, ::4]), q, a, which, vocab, answers


def test_vqa_model_overfits_a_handful_of_questions():
    x, q, a, which, vocab, answers = tiny_vqa()
    model = VQAModel(len(vocab), len(answers), True, "mul", channels=(8, 8), grid=16,
                     embed=16, hidden=32, joint=32)
    opt = minigrad.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(120):
        loss = F.cross_entropy(model(x, q, which), minigrad.tensor(a))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    with minigrad.no_grad():
        assert np.array_equal(model(x, q, which).numpy().argmax(1), a)


def test_question_encoding_reads_up_to_the_last_word_only():
    _, q, _, _, vocab, answers = tiny_vqa(1)
    model = VQAModel(len(vocab), len(answers), False, embed=8, hidden=8, joint=8)
    padded = np.concatenate([q, np.zeros((len(q), 5), np.int64)], axis=1)   # extra <NULL>s
    lens = (q != 0).sum(1)
    with minigrad.no_grad():
        a = model.encode_questions(q, lens).numpy()
        b = model.encode_questions(padded, lens).numpy()
        out, _ = model.lstm(model.embed(minigrad.tensor(q[:1, :lens[0]])))
    np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(a[0], out.numpy()[0, -1], rtol=1e-6)


def test_baseline_ignores_the_image_and_duplicates_share_one_encoding():
    x, q, a, which, vocab, answers = tiny_vqa(2)
    model = VQAModel(len(vocab), len(answers), use_image=False, embed=8, hidden=8, joint=8)
    with minigrad.no_grad():
        s1 = model(x, q, which).numpy()
        s2 = model(minigrad.zeros(*x.shape), q, which).numpy()
        dup = model(x, np.concatenate([q, q]), np.concatenate([which, which])).numpy()
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_allclose(dup, np.concatenate([s1, s1]), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="fusion"):
        VQAModel(10, 3, fusion="sum")


def run(*args, cwd):
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, "vqa.py"), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize("data", ["world", "easy-vqa"])
def test_smoke_runs_end_to_end(tmp_path, data):
    if data == "easy-vqa":
        pytest.importorskip("easy_vqa")
    out = str(tmp_path / "vqa")
    r = run("--smoke", "--data", data, "--out", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "test accuracy, image+question: overall" in r.stdout
    assert "test accuracy, question only:" in r.stdout
    assert ("comp accuracy" in r.stdout) == (data == "world")
    for name in ("ckpt.npz", "loss.png", "answers_test.png"):
        assert os.path.getsize(os.path.join(out, name)) > 0
    if data == "world":
        r = run("--smoke", "--out", out, "--resume", "--steps", "8", "--baseline-steps", "0", cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "resumed" in r.stdout and "image+question: 2 steps" in r.stdout


def test_graph_modes_record_the_question_lstm_differently_with_the_same_numbers():
    """--graph only changes how the question LSTM's loop is recorded: the same scores and
    the same gradients (to float32 rounding) from the same weights."""
    x, q, a, which, vocab, answers = tiny_vqa(2)
    results = []
    for graph in ("gates", "steps", "layer"):
        minigrad.manual_seed(3)
        model = VQAModel(len(vocab), len(answers), True, "mul", channels=(4, 4), grid=16,
                         embed=8, hidden=8, joint=8, graph=graph)
        loss = F.cross_entropy(model(x, q, which), minigrad.tensor(a))
        loss.backward()
        results.append((loss.item(), [p.grad.numpy() for p in model.parameters()]))
        assert model.lstm.graph == graph
    for loss, grads in results[1:]:
        assert loss == pytest.approx(results[0][0], rel=1e-6)
        for g, g0 in zip(grads, results[0][1]):
            np.testing.assert_allclose(g, g0, rtol=1e-5, atol=1e-7)
