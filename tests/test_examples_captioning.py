"""The captioning model and script: attention is a distribution, the model can memorise, the
script runs end to end and resumes."""
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
from scene_world.models import Captioner, to_input  # noqa: E402


def tiny_data(n=4):
    images, scenes = world.generate(n, seed=5)
    caps = [language.captions(s)[0] for s in scenes]
    vocab = language.Vocab.build(caps)
    rows = vocab.encode_batch(caps)
    return images[:, ::4, ::4], rows, vocab                     # 16x16 images keep it fast


@pytest.mark.parametrize("cell,attention", [("lstm", True), ("rnn", False)])
def test_captioner_overfits_a_handful_of_examples(cell, attention):
    images, rows, vocab = tiny_data()
    model = Captioner(len(vocab), cell, attention, channels=(8, 8), grid=16, embed=16,
                      hidden=48, attn=16)
    opt = minigrad.optim.Adam(model.parameters(), lr=1e-2)
    x, cin, target = to_input(images), minigrad.tensor(rows[:, :-1]), minigrad.tensor(rows[:, 1:])
    for _ in range(150):
        scores = model(x, cin)
        loss = F.cross_entropy(scores.reshape(-1, len(vocab)), target.reshape(-1), ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    with minigrad.no_grad():                   # (train mode: BatchNorm uses these 4 images' statistics)
        ids, alphas = model.generate(x, rows.shape[1], vocab.start, vocab.end)
    assert [vocab.decode(r) for r in ids] == [vocab.decode(r) for r in rows]
    assert (alphas is None) == (not attention)


def test_padding_is_ignored_by_the_loss():
    images, rows, vocab = tiny_data(2)
    model = Captioner(len(vocab), "lstm", True, channels=(4, 4), grid=16, embed=8, hidden=8, attn=8)
    scores = model(to_input(images), minigrad.tensor(rows[:, :-1]))
    loss = F.cross_entropy(scores.reshape(-1, len(vocab)), minigrad.tensor(rows[:, 1:].reshape(-1)),
                           ignore_index=vocab.null)
    s = scores.numpy().reshape(-1, len(vocab)).astype(np.float64)
    t = rows[:, 1:].reshape(-1)
    logp = s - s.max(1, keepdims=True) - np.log(np.exp(s - s.max(1, keepdims=True)).sum(1, keepdims=True))
    keep = t != 0
    assert loss.item() == pytest.approx(-logp[keep, t[keep]].mean(), rel=1e-5)


def test_attention_weights_sum_to_one_and_weight_the_grid():
    model = Captioner(12, "lstm", True, channels=(4, 4), grid=16, embed=8, hidden=8, attn=8)
    x = to_input(world.generate(3, seed=1)[0][:, ::4, ::4])
    v, keys, state = model.start(x)
    p, z = model.attend(v, keys, state[0])
    assert p.shape == (3, 16) and np.all(p.numpy() > 0)
    np.testing.assert_allclose(p.numpy().sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(z.numpy(), np.einsum("bl,bld->bd", p.numpy(), v.numpy()), rtol=1e-5, atol=1e-6)


def run(*args, cwd):
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, "captioning.py"), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_smoke_runs_end_to_end_and_resumes(tmp_path):
    out = str(tmp_path / "cap")
    r = run("--smoke", "--out", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "BLEU-4 test:" in r.stdout and "BLEU-4 comp:" in r.stdout
    for name in ("ckpt.npz", "loss.png", "captions_test.png", "attention_test_0.png"):
        assert os.path.getsize(os.path.join(out, name)) > 0
    r = run("--smoke", "--out", out, "--resume", "--steps", "8", "--cell", "rnn", cwd=tmp_path)
    assert r.returncode != 0                     # the checkpoint holds an LSTM: say so
    assert "was made with cell='lstm'; this run asks for cell='rnn'" in r.stderr
    r = run("--smoke", "--out", out, "--resume", "--steps", "8", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resumed" in r.stdout and "trained 2 steps" in r.stdout


def test_graph_gates_and_steps_give_the_same_decoder_numbers():
    """--graph gates records every op of the decoder cell, steps one node per word: the
    same loss and gradients."""
    images, rows, vocab = tiny_data(2)
    results = []
    for graph in ("gates", "steps"):
        minigrad.manual_seed(4)
        model = Captioner(len(vocab), "lstm", True, channels=(4, 4), grid=16, embed=8,
                          hidden=8, attn=8, graph=graph)
        scores = model(to_input(images), minigrad.tensor(rows[:, :-1]))
        loss = F.cross_entropy(scores.reshape(-1, len(vocab)),
                               minigrad.tensor(rows[:, 1:].reshape(-1)), ignore_index=0)
        loss.backward()
        results.append((loss.item(), [p.grad.numpy() for p in model.parameters()]))
        assert model.cell.graph == graph
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-6)
    for g, g0 in zip(results[1][1], results[0][1]):   # float32: the two orders of rounding,
        np.testing.assert_allclose(g, g0, rtol=1e-4, atol=1e-6)   # through a CNN's sums
