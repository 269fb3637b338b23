"""Tensor functions PyTorch programs call that are not the lecture's core ops: values by
their definitions and PyTorch, gradients by finite differences, errors named."""
import re

import numpy as np
import pytest

import minigrad
from minigrad.grad_mode import is_grad_enabled
from tests.conftest import randn64

try:
    import torch
except ImportError:  # the PyTorch comparisons skip; the behaviour tests still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def test_maximum_and_minimum_pick_elementwise_and_split_the_gradient_on_ties():
    a = minigrad.tensor([1.0, 5.0, 3.0], requires_grad=True, dtype=minigrad.float64)
    b = minigrad.tensor([2.0, 4.0, 3.0], requires_grad=True, dtype=minigrad.float64)
    assert minigrad.maximum(a, b).tolist() == [2.0, 5.0, 3.0] == minigrad.max(a, b).tolist()
    assert a.minimum(b).tolist() == [1.0, 4.0, 3.0]
    minigrad.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.0, 1.0, 0.5] and b.grad.tolist() == [1.0, 0.0, 0.5]
    assert minigrad.gradcheck(minigrad.minimum, [randn64(3, 1), randn64(4, rng=np.random.default_rng(2))])


@needs_torch
def test_maximum_ties_match_pytorch():
    a, b = np.array([1.0, 3.0, -2.0]), np.array([1.0, 2.0, -2.0])
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch.maximum(ta, tb).sum().backward()
    ma, mb = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    minigrad.maximum(ma, mb).sum().backward()
    assert ma.grad.tolist() == ta.grad.tolist() and mb.grad.tolist() == tb.grad.tolist()


def test_log1p_std_and_cumsum_follow_their_definitions_and_finite_differences():
    x = randn64(3, 4)
    np.testing.assert_allclose(x.abs().log1p().numpy(), np.log1p(np.abs(x.numpy())), rtol=1e-15)
    np.testing.assert_allclose(x.std(1).numpy(), x.numpy().std(1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(minigrad.std(x, unbiased=False).numpy(), x.numpy().std(), rtol=1e-12)
    np.testing.assert_allclose(x.cumsum(0).numpy(), np.cumsum(x.numpy(), 0), rtol=1e-15)
    for fn in (lambda t: (t * t).log1p(), lambda t: t.std(0, keepdim=True), lambda t: t.cumsum(1),
               lambda t: minigrad.cumsum(t, -2) * t):
        assert minigrad.gradcheck(fn, [randn64(3, 4)])


def test_erf_is_the_c_librarys_and_differentiates_to_the_gaussian():
    import math
    values = [-3.0, -0.5, 0.0, 1e-8, 0.7, 4.0]
    x = minigrad.tensor(values, dtype=minigrad.float64)
    assert x.erf().tolist() == [math.erf(v) for v in values]
    assert minigrad.erf(minigrad.tensor([0.5])).dtype == minigrad.float32
    assert minigrad.gradcheck(lambda t: (t * 0.8).erf(), [randn64(2, 3)])
    if torch is not None:
        a = np.random.default_rng(3).standard_normal(7)
        t, m = torch.tensor(a, requires_grad=True), minigrad.tensor(a, requires_grad=True)
        torch.erf(t).sum().backward()
        minigrad.erf(m).sum().backward()
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-14)


def test_gather_picks_one_element_per_index_and_scatters_the_gradient_back():
    x = randn64(2, 4)
    index = minigrad.tensor([[3, 3, 0], [1, 2, 1]])
    np.testing.assert_array_equal(x.gather(1, index).numpy(),
                                  np.take_along_axis(x.numpy(), index.numpy(), 1))
    x.gather(1, index).sum().backward()
    assert x.grad.tolist() == [[1, 0, 0, 2], [0, 2, 1, 0]]          # repeats add up
    assert minigrad.gradcheck(lambda t: minigrad.gather(t, 0, minigrad.tensor([[1, 0, 1, 1]])),
                              [randn64(2, 4)])


def test_index_select_takes_whole_slices():
    x = randn64(3, 4)
    np.testing.assert_array_equal(x.index_select(1, minigrad.tensor([3, 0, 3])).numpy(),
                                  x.numpy()[:, [3, 0, 3]])
    assert minigrad.gradcheck(lambda t: minigrad.index_select(t, 0, minigrad.tensor([2, 2])), [randn64(3, 4)])


@needs_torch
def test_gather_std_cumsum_log1p_match_pytorch():
    a = np.random.default_rng(9).standard_normal((3, 5))
    idx = np.array([[4, 0], [1, 1], [2, 3]])
    t, m = torch.tensor(a, requires_grad=True), minigrad.tensor(a, requires_grad=True)
    outs = [lambda x, i: x.gather(1, i), lambda x, i: x.std(0), lambda x, i: x.cumsum(1),
            lambda x, i: x.abs().log1p()]
    for f in outs:
        np.testing.assert_allclose(f(m, minigrad.tensor(idx)).numpy(),
                                   f(t, torch.tensor(idx)).detach().numpy(), rtol=1e-12)
    sum(f(t, torch.tensor(idx)).sum() for f in outs).backward()
    sum(f(m, minigrad.tensor(idx)).sum() for f in outs).backward()
    np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_any_and_all_reduce_masks():
    mask = minigrad.tensor([[True, False], [False, False]])
    assert bool(mask.any()) and not bool(mask.all()) and mask.any(1).tolist() == [True, False]
    assert minigrad.all(minigrad.tensor([1, 2]) > 0).item() is True
    assert mask.any(0, keepdim=True).shape == (1, 2)


def test_constructors_eye_linspace_from_numpy_and_empty_like():
    assert minigrad.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]] and minigrad.eye(2).dtype == minigrad.float32
    np.testing.assert_allclose(minigrad.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    a = np.zeros(3)
    t = minigrad.from_numpy(a)
    a[1] = 7.0                                                     # shares memory, as PyTorch
    assert t.tolist() == [0.0, 7.0, 0.0] and t.dtype == minigrad.float64
    e = minigrad.empty_like(minigrad.ones(2, 3, dtype=minigrad.float64))
    assert e.shape == (2, 3) and e.dtype == minigrad.float64
    assert minigrad.is_tensor(t) and not minigrad.is_tensor(a)
    assert minigrad.clip(minigrad.tensor([-2.0, 0.5]), -1, 1).tolist() == [-1.0, 0.5]


def test_set_grad_enabled_as_a_block_a_call_and_a_decorator():
    x = minigrad.ones(2, requires_grad=True)
    with minigrad.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    assert (x * 2).grad_fn is not None
    minigrad.set_grad_enabled(False)
    try:
        assert not is_grad_enabled()
    finally:
        minigrad.set_grad_enabled(True)

    @minigrad.set_grad_enabled(False)
    def evaluate():
        return is_grad_enabled()
    assert is_grad_enabled() and evaluate() is False and is_grad_enabled()
    with minigrad.inference_mode():
        assert (x * 2).grad_fn is None


@pytest.mark.parametrize("call, error, message", [
    (lambda: minigrad.from_numpy([1.0]), TypeError, "from_numpy: expected a numpy.ndarray, got list"),
    (lambda: minigrad.from_numpy(np.zeros(2, np.float16)), TypeError, "from_numpy: dtype float16 is not supported"),
    (lambda: minigrad.gather(minigrad.ones(2, 3), 1, minigrad.tensor([0, 1])), ValueError,
     "gather: index must be an integer tensor with as many dimensions as the input (2)"),
    (lambda: minigrad.index_select(minigrad.ones(2, 3), 2, minigrad.tensor([0])), IndexError,
     "index_select: dim 2 is out of range for a tensor with 2 dimensions"),
    (lambda: minigrad.linspace(0, 1, -1), ValueError, "linspace: steps must be a non-negative int, got -1"),
    (lambda: minigrad.set_grad_enabled("no"), TypeError, "set_grad_enabled: mode must be True or False"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
