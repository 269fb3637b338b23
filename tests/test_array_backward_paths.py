"""Ops whose backward runs on arrays when no graph of the gradient is wanted (a plain
``backward()``) must give the very bits of their Tensor-op backward (``create_graph=True``),
and the Tensor path must still differentiate again."""
import numpy as np
import pytest

import minigrad
import nn.functional as F


def _gradients(make_output, inputs, gy, create_graph):
    out = make_output()
    return [g.array for g in minigrad.grad(out, inputs, minigrad.tensor(gy), create_graph=create_graph)]


@pytest.mark.parametrize("x_shape", [(25, 100), (1, 100), (3, 5, 100), (100,)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_plain_backward_is_bitwise_the_graph_backward(x_shape, bias, dtype):
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal(x_shape).astype(dtype), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal((7, 100)).astype(dtype), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(7).astype(dtype), requires_grad=True) if bias else None
    inputs = [x, w] + ([b] if bias else [])
    gy = rng.standard_normal(x_shape[:-1] + (7,)).astype(dtype)
    plain = _gradients(lambda: F.linear(x, w, b), inputs, gy, create_graph=False)
    graph = _gradients(lambda: F.linear(x, w, b), inputs, gy, create_graph=True)
    for p, g in zip(plain, graph):
        assert p.dtype == g.dtype and p.shape == g.shape
        assert p.tobytes() == g.tobytes()


def test_linear_differentiates_twice():
    rng = np.random.default_rng(1)
    w = minigrad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(4), requires_grad=True)

    def weight_gradient_sum(x):                     # Σ dL/dW of L = Σ linear(x)², a function of x
        loss = (F.linear(x, w, b) ** 2).sum()
        gw, = minigrad.grad(loss, [w], create_graph=True)
        return gw.sum()

    x = minigrad.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert minigrad.gradcheck(weight_gradient_sum, [x])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_plain_backward_matches_the_graph_backward(reduction):
    rng = np.random.default_rng(2)
    logits = minigrad.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    target = rng.integers(0, 5, 6)
    target[0] = -100                                # ignored: adds no gradient
    make = lambda: F.cross_entropy(logits, minigrad.tensor(target), reduction=reduction)  # noqa: E731
    gy = rng.standard_normal(make().shape)
    plain, = _gradients(make, [logits], gy, create_graph=False)
    graph, = _gradients(make, [logits], gy, create_graph=True)
    assert np.allclose(plain, graph, rtol=1e-12, atol=1e-15)
    assert not plain[0].any()
