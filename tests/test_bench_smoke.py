"""The benchmark harness runs, and its hand-written NumPy reference computes true gradients.

The reference (bench/numpy_lstm.py) is what minigrad's speed is judged against, so its
backward, derived by hand, is checked here against finite differences in float64, against
minigrad's nn.LSTM/GRU/RNN with the same weights, and its clip + Adam step against PyTorch.
"""
import os
import sys

import numpy as np
import pytest

import minigrad
import nn
import nn.functional as F

BENCH = os.path.join(os.path.dirname(__file__), "..", "bench")
sys.path.insert(0, os.path.abspath(BENCH))

from numpy_lstm import NumpyCharLM  # noqa: E402

V, E, H, T, B = 5, 3, 4, 4, 2
CELLS = ["lstm", "gru", "rnn"]


def _problem(cell, seed=0):
    rng = np.random.default_rng(seed)
    model = NumpyCharLM(cell, V, H, embed=E, seed=seed, dtype=np.float64)
    idx, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    h0 = rng.standard_normal((B, H))
    state = (h0, rng.standard_normal((B, H))) if cell == "lstm" else h0
    return model, idx, targets, state


@pytest.mark.parametrize("cell", CELLS)
def test_reference_gradients_match_finite_differences(cell):
    model, idx, targets, state = _problem(cell)
    _, grads, _ = model.loss_and_grads(idx, targets, state)
    eps = 1e-6
    for name, p in model.params.items():
        numeric = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = model.loss_and_grads(idx, targets, state)[0]
            p[i] = old - eps
            down = model.loss_and_grads(idx, targets, state)[0]
            p[i] = old
            numeric[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_reference_matches_minigrad_layer(cell):
    model, idx, targets, state = _problem(cell, seed=1)
    loss, grads, last = model.loss_and_grads(idx, targets, state)
    p = {k: minigrad.tensor(v, requires_grad=True) for k, v in model.params.items()}
    layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](E, H).double()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(layer, name + "_l0").array = model.params[name].copy()
    x = F.embedding(minigrad.tensor(idx), p["embedding"])
    hx = (tuple(minigrad.tensor(s[None]) for s in state) if cell == "lstm"
          else minigrad.tensor(state[None]))
    out, h_n = layer(x, hx)
    logits = F.linear(out.reshape(T * B, H), p["out_weight"], p["out_bias"])
    mg_loss = F.cross_entropy(logits, minigrad.tensor(targets.reshape(-1)))
    mg_loss.backward()
    assert abs(mg_loss.item() - loss) < 1e-12
    last_h = last[0] if cell == "lstm" else last
    np.testing.assert_allclose((h_n[0] if cell == "lstm" else h_n).numpy()[0], last_h, atol=1e-12)
    for name in ("embedding", "out_weight", "out_bias"):
        np.testing.assert_allclose(p[name].grad.numpy(), grads[name], atol=1e-12, err_msg=name)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        got = getattr(layer, name + "_l0").grad.numpy()
        np.testing.assert_allclose(got, grads[name], atol=1e-12, err_msg=name)


def test_reference_step_matches_torch_adam_and_clipping():
    torch = pytest.importorskip("torch")
    model, idx, targets, _ = _problem("lstm", seed=2)
    model.max_norm = 0.05                        # small enough that clipping really scales
    emb = torch.nn.Embedding(V, E).double()
    rnn = torch.nn.LSTM(E, H).double()
    out = torch.nn.Linear(H, V).double()
    pairs = [(emb.weight, "embedding"), (out.weight, "out_weight"), (out.bias, "out_bias")]
    pairs += [(getattr(rnn, n + "_l0"), n) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    with torch.no_grad():
        for tp, name in pairs:
            tp.copy_(torch.from_numpy(model.params[name]))
    params = [tp for tp, _ in pairs]
    opt = torch.optim.Adam(params, lr=model.lr)
    for _ in range(2):
        y, _ = rnn(emb(torch.from_numpy(idx)))
        loss = torch.nn.functional.cross_entropy(out(y).reshape(-1, V),
                                                 torch.from_numpy(targets).reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, model.max_norm)
        opt.step()
        ref_loss, _ = model.train_step(idx, targets)
        assert abs(loss.item() - ref_loss) < 1e-10
    for tp, name in pairs:
        np.testing.assert_allclose(model.params[name], tp.detach().numpy(), atol=1e-9, err_msg=name)


def test_reference_float32_stays_float32():
    model = NumpyCharLM("lstm", V, H, seed=0)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, V, (T, B))
    _, grads, (h, c) = model.loss_and_grads(idx, idx)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert h.dtype == c.dtype == np.float32
    loss0, state = model.train_step(idx, idx)
    loss1, _ = model.train_step(idx, idx, state)          # truncated BPTT: carry the state
    assert np.isfinite(loss0) and np.isfinite(loss1)
    assert all(p.dtype == np.float32 for p in model.params.values())


def test_min_char_rnn_port_computes_what_the_hand_written_step_computes():
    import min_char_rnn_port as port
    assert port.check_same(np.dtype("float64")) < 1e-12
    r = port.run(steps=2, rounds=1)
    assert r["numpy_ms"] > 0 and r["minigrad_ms"] > 0 and r["ratio"] > 0


def test_harness_smoke_writes_page_and_plot(tmp_path):
    import run
    out = tmp_path / "performance.md"
    results, _, target_rows = run.main(["--smoke", "--no-memory", "--no-overhead",
                                        "--out", str(out)])
    page = out.read_text()
    assert "LSTM training step" in page and "GRU training step" in page and "RNN training step" in page
    assert "min-char-rnn by hand and ported" in page
    assert (tmp_path / "img" / "perf_tokens_per_s.png").stat().st_size > 1000
    lstm = results[("lstm",) + run.SMOKE_CONFIGS[0]]
    for name in ("minigrad", "numpy"):
        assert lstm[name]["seconds"] > 0 and np.isfinite(lstm[name]["loss"])
    # every implementation starts from a loss near log(V) (untrained), or is reported absent
    assert 0.0 <= lstm.pop("_other_load") <= 2.0 * os.cpu_count()
    for name, r in lstm.items():
        assert ("error" in r and r["error"].startswith(("absent", "failed"))) or \
            abs(r["loss"] - np.log(run.V)) < 0.5, (name, r)
    assert any("0.9x hand NumPy" in row[0] for row in target_rows)


def test_each_implementation_is_timed_in_a_process_of_its_own():
    import turns
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 65, (5, 2)), rng.integers(0, 65, (5, 2))
    workers = [turns.Worker(), turns.Worker()]
    try:
        first = [w.build(name, "gru", 8, idx, targets, warmup=1)
                 for w, name in zip(workers, ("numpy", "minigrad"))]
        pids = {reply["pid"] for reply in first}
        assert len(pids) == 2 and os.getpid() not in pids
        for reply in first:
            assert abs(reply["loss"] - np.log(65)) < 0.5 and reply["warm"] > 0
        assert all(w.burst(3) > 0 for w in workers)
        failed = workers[0].build("no_such_framework", "gru", 8, idx, targets, warmup=1)
        assert failed["error"].startswith("failed (")
        assert workers[1].burst(1) > 0                    # the other child is unaffected
    finally:
        cpu = [w.close() for w in workers]
    assert all(c > 0 for c in cpu)


def test_memory_measurement_runs_in_a_fresh_process():
    import memory
    row = memory.measure("numpy", mode="truncated", B=2, T=8, H=8)
    assert "error" not in row, row
    assert 0 < row["baseline_mib"] <= row["peak_mib"] < 500
