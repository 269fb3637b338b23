"""Layers against PyTorch with the same weights: outputs and gradients (inputs and
parameters), in float64 so any difference is a bug, not rounding."""
import numpy as np
import pytest

import minigrad
import nn

torch = pytest.importorskip("torch", reason="PyTorch parity tests need torch")

TOL = dict(rtol=1e-10, atol=1e-11)


def copy_weights(ours, theirs):
    """Load the PyTorch module's state dict (as numpy) into ours: interop and setup at once."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def run_both(ours, theirs, x, dtype=np.float64, integer_input=False):
    """Forward and backward of sum(y * R) on both; returns pairs to compare."""
    ours.to(dtype)
    theirs.to(getattr(torch, np.dtype(dtype).name))
    copy_weights(ours, theirs)
    rng = np.random.default_rng(42)
    x = x if integer_input else x.astype(dtype)
    if integer_input:
        mx, tx = minigrad.tensor(x), torch.tensor(x)
    else:
        mx = minigrad.tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
    my, ty = ours(mx), theirs(tx)
    r = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    (my * minigrad.tensor(r)).sum().backward()
    (ty * torch.tensor(r)).sum().backward()
    pairs = [("output", my.numpy(), ty.detach().numpy())]
    if not integer_input:
        pairs.append(("input grad", mx.grad.numpy(), tx.grad.numpy()))
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        pairs.append((name + " grad", p.grad.numpy(), theirs_params[name].grad.numpy()))
    return pairs


def assert_pairs(pairs):
    for what, a, b in pairs:
        assert a.shape == b.shape, what
        np.testing.assert_allclose(a, b, err_msg=what, **TOL)


def x_normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_linear_matches_torch():
    assert_pairs(run_both(nn.Linear(5, 3), torch.nn.Linear(5, 3), x_normal(2, 4, 5)))


def test_embedding_matches_torch():
    idx = np.array([[1, 3, 3], [0, 9, 1]])
    assert_pairs(run_both(nn.Embedding(10, 4), torch.nn.Embedding(10, 4), idx, integer_input=True))


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((2, 1), (0, 2))])
def test_conv2d_matches_torch(stride, padding):
    assert_pairs(run_both(nn.Conv2d(3, 4, (3, 2), stride, padding),
                          torch.nn.Conv2d(3, 4, (3, 2), stride, padding), x_normal(2, 3, 7, 6)))


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), (3, 1, 0)])
def test_max_pool2d_matches_torch(kernel, stride, padding):
    assert_pairs(run_both(nn.MaxPool2d(kernel, stride, padding),
                          torch.nn.MaxPool2d(kernel, stride, padding), x_normal(2, 3, 7, 6)))


@pytest.mark.parametrize("ours,theirs,shape", [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 4)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 4, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (3, 4, 5, 2)),
])
def test_batchnorm_matches_torch_in_train_and_eval(ours, theirs, shape):
    mine, ref = ours(4), theirs(4)
    with torch.no_grad():
        ref.weight.copy_(torch.linspace(0.5, 2.0, 4))
        ref.bias.copy_(torch.linspace(-0.3, 0.3, 4))
    for step in range(3):                                           # running stats follow along
        x = x_normal(*shape, seed=step) * 2 + 1
        assert_pairs(run_both(mine, ref, x) if step == 0 else _step(mine, ref, x))
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(mine, key).numpy(), getattr(ref, key).numpy(), **TOL)
    mine.eval()
    ref.eval()
    assert_pairs(_step(mine, ref, x_normal(*shape, seed=9)))


def _step(mine, ref, x):
    """Forward/backward both without re-copying weights (keeps the running statistics)."""
    for p in mine.parameters():
        p.grad = None
    ref.zero_grad()
    mx, tx = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    my, ty = mine(mx), ref(tx)
    my.sum().backward()
    (ty.sum()).backward()
    pairs = [("output", my.numpy(), ty.detach().numpy()), ("input grad", mx.grad.numpy(), tx.grad.numpy())]
    pairs += [(n, p.grad.numpy(), q.grad.numpy())
              for (n, p), q in zip(mine.named_parameters(), ref.parameters())]
    return pairs


def test_layernorm_matches_torch():
    ref = torch.nn.LayerNorm((3, 4))
    with torch.no_grad():
        ref.weight.copy_(torch.randn(3, 4, generator=torch.Generator().manual_seed(0)))
        ref.bias.copy_(torch.randn(3, 4, generator=torch.Generator().manual_seed(1)))
    assert_pairs(run_both(nn.LayerNorm((3, 4)), ref, x_normal(2, 5, 3, 4)))


def test_small_cnn_matches_torch():
    ours = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 3 * 3, 2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.BatchNorm2d(3),
                                 torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(3 * 3 * 3, 2))
    assert_pairs(run_both(ours, theirs, x_normal(4, 1, 6, 7)))


def parity_report(dtype):
    """Max abs / rel error of outputs and gradients against PyTorch, per layer."""
    cases = {
        "Linear": (lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), x_normal(8, 4, 5), False),
        "Embedding": (lambda: nn.Embedding(10, 4), lambda: torch.nn.Embedding(10, 4),
                      np.random.default_rng(0).integers(0, 10, (8, 5)), True),
        "Conv2d": (lambda: nn.Conv2d(3, 8, 3, 2, 1), lambda: torch.nn.Conv2d(3, 8, 3, 2, 1),
                   x_normal(4, 3, 16, 16), False),
        "MaxPool2d": (lambda: nn.MaxPool2d(3, 2, 1), lambda: torch.nn.MaxPool2d(3, 2, 1),
                      x_normal(4, 3, 16, 16), False),
        "BatchNorm2d(train)": (lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3),
                               x_normal(4, 3, 8, 8), False),
        "BatchNorm1d(eval)": (lambda: nn.BatchNorm1d(3).eval(), lambda: torch.nn.BatchNorm1d(3).eval(),
                              x_normal(16, 3), False),
        "LayerNorm": (lambda: nn.LayerNorm(6), lambda: torch.nn.LayerNorm(6), x_normal(8, 5, 6), False),
    }
    for name, (mine, ref, x, integer) in cases.items():
        m, r = mine(), ref()
        if "eval" in name:
            with torch.no_grad():
                r.running_mean.copy_(torch.tensor([0.3, -0.2, 0.1]))
                r.running_var.copy_(torch.tensor([0.5, 2.0, 1.3]))
        worst_abs = worst_rel = 0.0
        for _, a, b in run_both(m, r, x, dtype=dtype, integer_input=integer):
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            worst_abs = max(worst_abs, float(diff.max()))
            worst_rel = max(worst_rel, float((diff / np.maximum(np.abs(b), 1e-3)).max()))
        print(f"{np.dtype(dtype).name:8s} {name:20s} max abs {worst_abs:.2e}  max rel {worst_rel:.2e}")


if __name__ == "__main__":  # python tests/test_nn_torch_parity.py: the figures for the report
    for dt in (np.float64, np.float32):
        parity_report(dt)
