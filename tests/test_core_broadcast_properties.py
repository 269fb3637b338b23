"""Property-based broadcasting: for any pair of broadcastable shapes, the gradient of each
input of + - * / is the upstream gradient summed back to that input's shape."""
import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad import gradcheck
from minigrad.ops.shape import sum_to

SETTINGS = settings(max_examples=25, deadline=None)
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
OPS = {"add": (lambda a, b: a + b), "sub": (lambda a, b: a - b),
       "mul": (lambda a, b: a * b), "div": (lambda a, b: a / b)}


def leaf(shape, rng, positive=False):
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return minigrad.tensor(a, requires_grad=True, dtype=minigrad.float64)


@SETTINGS
@given(shapes=PAIRS, op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2 ** 16))
def test_binary_op_gradients_reduce_to_input_shapes(shapes, op, seed):
    rng = np.random.default_rng(seed)
    s0, s1 = shapes.input_shapes
    x0, x1 = leaf(s0, rng), leaf(s1, rng, positive=(op == "div"))
    y = OPS[op](x0, x1)
    assert y.shape == shapes.result_shape
    g = rng.standard_normal(y.shape)
    y.backward(minigrad.tensor(g, dtype=minigrad.float64))
    assert x0.grad.shape == s0 and x1.grad.shape == s1
    a0 = np.broadcast_to(x0.numpy(), y.shape)
    a1 = np.broadcast_to(x1.numpy(), y.shape)
    d0, d1 = {"add": (g, g), "sub": (g, -g), "mul": (g * a1, g * a0),
              "div": (g / a1, -g * a0 / a1 ** 2)}[op]
    lead0, lead1 = len(y.shape) - len(s0), len(y.shape) - len(s1)
    np.testing.assert_allclose(x0.grad.numpy(), _sum_to(d0, s0, lead0), atol=1e-12)
    np.testing.assert_allclose(x1.grad.numpy(), _sum_to(d1, s1, lead1), atol=1e-12)


def _sum_to(a, shape, lead):
    """The reference reduction, written independently of minigrad's SumTo."""
    a = a.sum(axis=tuple(range(lead))) if lead else a
    for axis, size in enumerate(shape):
        if size == 1 and a.shape[axis] != 1:
            a = a.sum(axis=axis, keepdims=True)
    return a.reshape(shape)


@SETTINGS
@given(shapes=PAIRS, seed=st.integers(0, 2 ** 16))
def test_sum_to_is_the_adjoint_of_broadcasting(shapes, seed):
    """<broadcast(x), g> == <x, sum_to(g)>, and sum_to passes gradcheck."""
    rng = np.random.default_rng(seed)
    s0, _ = shapes.input_shapes
    out = shapes.result_shape
    x = leaf(s0, rng)
    g = minigrad.tensor(rng.standard_normal(out), dtype=minigrad.float64)
    lhs = float((np.broadcast_to(x.numpy(), out) * g.numpy()).sum())
    rhs = float((x.numpy() * sum_to(g, s0).numpy()).sum())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)
    big = leaf(out, rng)
    assert gradcheck(lambda t: sum_to(t, s0), [big])
