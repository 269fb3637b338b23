"""Writing your own op, following the pattern documented in ``minigrad/function.py``."""
import numpy as np
import pytest

import minigrad
from minigrad import gradcheck

from conftest import randn64


class Cube(minigrad.Function):
    """y = x³;  dy/dx = 3x² (the docstring's example)."""

    label = "x³"

    def forward(self, x):
        self.save_for_backward(x)
        return x ** 3

    def backward(self, gy):
        x, = self.saved_tensors
        return gy * 3 * x ** 2


def test_documented_example_cube():
    x = randn64(2, 3)
    y = Cube.apply(x)
    np.testing.assert_allclose(y.numpy(), x.numpy() ** 3)
    assert isinstance(y.grad_fn, Cube) and y.grad_fn.label == "x³"
    assert gradcheck(Cube.apply, [x])
    assert gradcheck(lambda t: Cube()(t), [randn64(4)])


def test_custom_op_backward_in_tensor_ops_gives_double_backward():
    x = randn64(3)
    g, = minigrad.grad(Cube.apply(x).sum(), x, create_graph=True)
    g2, = minigrad.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * x.numpy())


class PolarToCartesian(minigrad.Function):
    """Two outputs: (r, θ) -> (r cos θ, r sin θ)."""

    def forward(self, r, theta):
        xp = minigrad.backend.get_array_module(r)
        c, s = xp.cos(theta), xp.sin(theta)
        self.save_for_backward(r, c, s)
        return r * c, r * s

    def backward(self, gx, gy):
        r, c, s = self.saved_tensors
        gx = 0 if gx is None else gx
        gy = 0 if gy is None else gy
        return gx * c + gy * s, r * (gy * c - gx * s)


def test_multi_output_custom_op():
    r, theta = randn64(4), randn64(4)
    x, y = PolarToCartesian.apply(r, theta)
    np.testing.assert_allclose(x.numpy(), r.numpy() * np.cos(theta.numpy()))
    assert x.grad_fn is y.grad_fn and x.grad_fn.n_outputs == 2
    assert gradcheck(PolarToCartesian.apply, [r, theta])
    # only one output used: the other output's gradient arrives as None
    assert gradcheck(lambda a, b: PolarToCartesian.apply(a, b)[1], [r, theta])


class ScaledShift(minigrad.Function):
    """y = a · x + b with a a Python number and b a plain array (no gradient for either)."""

    def forward(self, x, a, b):
        self.a = a
        return a * x + b

    def backward(self, gy):
        assert self.needs_input_grad == (True, False, False)
        return gy * self.a, None, None


def test_custom_op_with_python_number_and_array_inputs():
    x = randn64(2, 3)
    b = np.arange(3.0)
    y = ScaledShift.apply(x, 2.5, b)
    np.testing.assert_allclose(y.numpy(), 2.5 * x.numpy() + b)
    assert gradcheck(lambda t: ScaledShift.apply(t, 2.5, b), [x])
    # with no input that requires grad, the result is a plain tensor and no node is kept
    z = ScaledShift()(np.ones(3), 2.0, np.zeros(3))
    assert isinstance(z, minigrad.Tensor) and z.grad_fn is None and not z.requires_grad
    np.testing.assert_allclose(z.numpy(), np.full(3, 2.0))


class Clip01Grad(minigrad.Function):
    """A hot fused op: backward on arrays, refusing create_graph as the docs ask."""

    def forward(self, x):
        self.mask = (x > 0) & (x < 1)
        return x.clip(0, 1)

    def backward(self, gy):
        if minigrad.is_grad_enabled():
            raise RuntimeError("Clip01Grad: double backward (create_graph=True) is not supported")
        return minigrad.Tensor._make(gy.array * self.mask, None, 0, False)


def test_array_backward_op_and_its_create_graph_refusal():
    x = minigrad.tensor([-0.5, 0.25, 0.75, 2.0], requires_grad=True, dtype=minigrad.float64)
    assert gradcheck(Clip01Grad.apply, [x])
    with pytest.raises(RuntimeError, match="create_graph"):
        minigrad.grad(Clip01Grad.apply(x).sum(), x, create_graph=True)


def test_custom_op_saving_an_input_detects_in_place_change():
    x = randn64(3)
    y = Cube.apply(x).sum()
    with minigrad.no_grad():
        x.mul_(2.0)
    with pytest.raises(RuntimeError, match="'cube'.*version"):
        y.backward()


def test_forward_errors_are_prefixed_with_the_op_name():
    class Picky(minigrad.Function):
        def forward(self, x):
            raise ValueError("needs a square matrix")

    with pytest.raises(ValueError, match="^picky: needs a square matrix"):
        Picky.apply(minigrad.ones(2, 3))


def test_missing_forward_or_backward():
    class NoBackward(minigrad.Function):
        def forward(self, x):
            return x * 1

    with pytest.raises(NotImplementedError, match="forward"):
        minigrad.Function()(minigrad.ones(2))
    y = NoBackward.apply(minigrad.ones(2, requires_grad=True)).sum()
    with pytest.raises(NotImplementedError, match="NoBackward must define backward"):
        y.backward()
