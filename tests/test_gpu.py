"""On a real GPU (CuPy): gradient checks, the cell kernels, and a short LSTM training run
compared with the same run on the CPU. Skipped without CuPy and a CUDA device; run them
with ``scripts/check_gpu.sh``.

The op cases are those of ``test_backend_checked.py`` (the same table, not a copy).
Weights are made on the CPU and moved, because CuPy draws different random numbers.
"""
import numpy as np
import pytest

import minigrad
import nn
from nn import functional as F
from test_backend_checked import OPS, host
from test_gpu_kernels import bidirectional_batch_first_run

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not minigrad.cuda.is_available(),
                                 reason="CuPy and a CUDA GPU are required")]


def leaves(shapes, device):
    return [minigrad.tensor(host(s, i, away_from_zero=True), requires_grad=True, device=device)
            for i, s in enumerate(shapes)]


def test_arrays_are_cupy_and_placement_works():
    import cupy
    x = minigrad.randn(3, 4, device="cuda")
    assert isinstance(x.array, cupy.ndarray) and x.device == "cuda:0"
    assert type(x.numpy()) is np.ndarray and isinstance(x.sum().item(), float)
    with pytest.raises(RuntimeError, match="cpu") as info:
        x + minigrad.randn(3, 4)
    assert "cuda:0" in str(info.value)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).to("cuda")
    assert all(t.device == "cuda:0" for t in list(model.parameters()) + list(model.buffers()))


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_on_gpu(name):
    fn, shapes = OPS[name]
    xs = leaves(shapes, "cuda")
    # astype rounds through float32 (spacing ~6e-8 near 1): a 1e-6 step would measure the
    # rounding, not the slope, so that op gets a step float32 resolves.
    eps = 1e-3 if name == "astype" else 1e-6
    assert minigrad.gradcheck(fn, xs, eps=eps)


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_cpu(name):
    fn, shapes = OPS[name]
    results = []
    for device in ("cpu", "cuda"):
        xs = leaves(shapes, device)
        out = fn(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        sum(((o * o).sum() for o in outs if o.requires_grad), minigrad.zeros((), dtype=minigrad.float64,
                                                                           device=device)).backward()
        results.append((outs, xs))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(results[0][1], results[1][1]):
        if a.grad is not None:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cell_kernels_take_over_on_gpu_arrays_only():
    from minigrad.ops import rnn_kernels
    assert rnn_kernels.on_gpu(minigrad.zeros(2, 3, device="cuda").array)
    assert not rnn_kernels.on_gpu(minigrad.zeros(2, 3).array)


@pytest.mark.parametrize("mode", ["steps", "layer"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_kernels_gradcheck_and_match_gate_level(kind, mode):
    minigrad.manual_seed(0)
    node_level = getattr(nn, kind)(3, 4, num_layers=2, graph=mode).double().to("cuda")
    x = minigrad.tensor(host((4, 2, 3), 9), requires_grad=True, device="cuda")
    assert minigrad.gradcheck(lambda x, *ps: node_level(x)[0], [x] + list(node_level.parameters()))
    gate_level = getattr(nn, kind)(3, 4, num_layers=2, graph="gates").double().to("cuda")
    gate_level.load_state_dict(node_level.state_dict())
    a, b = node_level(x)[0], gate_level(x)[0]
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode, watch", [("steps", False), ("layer", False), ("steps", True)])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_bidirectional_batch_first_layers_from_a_given_state_match_cpu(kind, mode, watch):
    """Both directions of time, batch-first inputs and gradients (strided views of the
    time-major buffers), a given initial state and, with ``watch``, every step of
    graph="steps" running its own backward (an edge_hook sees each edge): the GPU's
    kernels and direct cuBLAS calls give the CPU's gradients."""
    on_cpu, on_gpu = (bidirectional_batch_first_run(kind, mode, watch, device)
                      for device in ("cpu", "cuda"))
    for a, b in zip(on_cpu, on_gpu):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


class CharLM(nn.Module):
    def __init__(self, vocab=20, hidden=32, graph="steps"):
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, hidden, batch_first=True, graph=graph)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.head(out)


def train(device, steps=8, graph="steps"):
    minigrad.manual_seed(0)
    model = CharLM(graph=graph).to(device)
    opt = minigrad.optim.Adam(model.parameters(), lr=3e-3)
    tokens = np.random.default_rng(0).integers(0, 20, size=(4, 17))
    x = minigrad.tensor(tokens[:, :-1], device=device)
    y = minigrad.tensor(tokens[:, 1:], device=device)
    losses = []
    for _ in range(steps):
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, 20), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("graph", ["steps", "layer"])
def test_short_lstm_training_matches_cpu(graph):
    cpu, gpu = train("cpu", graph=graph), train("cuda", graph=graph)
    assert cpu[-1] < cpu[0]
    np.testing.assert_allclose(gpu, cpu, rtol=2e-4, atol=2e-5)
