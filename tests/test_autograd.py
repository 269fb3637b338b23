"""The backward engine's contract: accumulation, retain_grad, minigrad.grad, double backward,
freed graphs, in-place detection, no_grad, detach, long chains, memory release."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad
from minigrad import gradcheck

from conftest import randn64


# -- accumulation and where gradients land ------------------------------------------
def test_leaves_accumulate_across_backward_calls():
    x = randn64(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 5.0))


def test_leaf_used_twice_in_one_graph_gets_the_sum():
    x = randn64(3)
    ((x * x) + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1)


def test_summed_gradients_of_zero_d_tensors_stay_arrays():
    """NumPy returns scalars, not arrays, from 0-d arithmetic: a summed 0-d gradient must
    still be an array of the tensor's device (found by the GPU tests: ``a @ b`` of vectors)."""
    a, b = randn64(3), randn64(3)
    dot = a @ b                                  # 0-d, reached by two gradients below
    (dot * dot).backward(create_graph=False)
    np.testing.assert_allclose(a.grad.numpy(), 2 * dot.item() * b.numpy())
    s = minigrad.tensor(1.5, requires_grad=True, dtype=minigrad.float64)
    (s * s).backward()
    (s * 3).backward()                           # accumulated into an existing 0-d .grad
    assert type(s.grad.array) is type(s.array)
    assert (s.grad * s).item() == pytest.approx(6.0 * 1.5)


def test_leaf_grads_do_not_share_memory():
    """x + y hands the same gradient to both inputs: each .grad must be its own array."""
    x, y = randn64(3), randn64(3)
    (x + y).sum().backward()
    x.grad.array *= 10
    np.testing.assert_allclose(y.grad.numpy(), np.ones(3))


def test_non_leaf_grad_only_with_retain_grad():
    x = randn64(2, 3)
    h = x * 2
    z = h.tanh()
    z.retain_grad()
    z.sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(z.grad.numpy(), np.ones((2, 3)))
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 - np.tanh(2 * x.numpy()) ** 2))
    assert not h.is_leaf and x.is_leaf and z.grad_fn is not None and x.grad_fn is None


def test_backward_with_explicit_gradient():
    x = randn64(2, 3)
    g = np.arange(6.0).reshape(2, 3)
    (x * 3).backward(minigrad.tensor(g, dtype=minigrad.float64))
    np.testing.assert_allclose(x.grad.numpy(), 3 * g)


def test_grad_leaves_dot_grad_untouched():
    x, w = randn64(3), randn64(3)
    y = (x * w).sum()
    gx, gw = minigrad.grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), w.numpy())
    np.testing.assert_allclose(gw.numpy(), x.numpy())
    assert x.grad is None and w.grad is None


def test_grad_of_a_non_leaf_and_unused_input():
    x, unused = randn64(3), randn64(2)
    h = x * 2
    y = (h ** 2).sum()
    gh, gx, gu = minigrad.grad(y, [h, x, unused], allow_unused=True)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(gx.numpy(), 8 * x.numpy())
    assert gu is None
    with pytest.raises(RuntimeError, match="input 1.*allow_unused=True"):
        minigrad.grad((x * 2).sum(), [x, unused])  # PyTorch's default: allow_unused=False


def test_float32_and_float64_mix_gives_each_leaf_its_own_dtype():
    a = minigrad.randn(3, requires_grad=True)                       # float32
    b = minigrad.tensor(np.ones(3), requires_grad=True)             # float64
    y = a * b
    assert y.dtype == minigrad.float64
    y.sum().backward()
    assert a.grad.dtype == minigrad.float32 and b.grad.dtype == minigrad.float64


# -- higher order ---------------------------------------------------------------------
def test_double_backward_of_cube():
    x = randn64(4)
    g, = minigrad.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    g2, = minigrad.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * x.numpy())


def test_double_backward_of_tanh_through_backward():
    x = randn64(4)
    x.tanh().sum().backward(create_graph=True)
    assert x.grad.requires_grad
    t = np.tanh(x.numpy())
    first = x.grad
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -2 * t * (1 - t ** 2))


def test_triple_derivative():
    x = randn64(3)
    g1, = minigrad.grad((x ** 4).sum(), x, create_graph=True)
    g2, = minigrad.grad(g1.sum(), x, create_graph=True)
    g3, = minigrad.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), 24 * x.numpy())


def test_softmax_cross_entropy_hessian_vector_product_by_gradcheck():
    target = [2, 0, 1, 1]
    v = minigrad.tensor(np.random.default_rng(0).standard_normal((4, 3)))

    def gradient_dot_v(logits):
        g, = minigrad.grad(minigrad.cross_entropy(logits, target), logits, create_graph=True)
        return (g * v).sum()
    assert gradcheck(gradient_dot_v, [randn64(4, 3)])


# -- freed graphs ---------------------------------------------------------------------
def test_second_backward_through_freed_graph_raises():
    x = randn64(3)
    y = x.tanh().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = randn64(3)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    expected = 2 * (np.exp(x.numpy()) * (x.numpy() + 1))
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_backward_of_non_scalar_needs_a_gradient():
    x = randn64(2, 3)
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        (x * 2).backward()


def test_backward_of_tensor_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.tensor([1.0, 2.0]).sum().backward()


# -- in-place changes ---------------------------------------------------------------
def test_add_under_no_grad_of_saved_input_raises_naming_op_and_versions():
    x = randn64(3)
    w = randn64(3)
    y = (x * w).sum()
    with minigrad.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match=r"'mul'.*version 1, expected version 0"):
        y.backward()


def test_parameter_updated_between_forward_and_backward_raises():
    w = randn64(3, 3)
    x = randn64(2, 3, requires_grad=False)
    loss = (x @ w).tanh().sum()
    with minigrad.no_grad():
        w -= 0.1 * minigrad.ones(3, 3, dtype=minigrad.float64)
    with pytest.raises(RuntimeError, match="matmul.*modified by an in-place operation"):
        loss.backward()


def test_zero_and_setitem_of_saved_tensor_raise():
    for change in (lambda t: t.zero_(), lambda t: t.__setitem__(0, 5.0)):
        x = randn64(3)
        h = randn64(3, requires_grad=False)
        y = (x * h).sum()
        with minigrad.no_grad():
            change(h)
        with pytest.raises(RuntimeError, match="version"):
            y.backward()


def test_in_place_on_saved_output_raises():
    x = randn64(3)
    y = x.exp()            # Exp saves its output
    z = y.sum()
    with minigrad.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="'exp'"):
        z.backward()


def test_in_place_change_of_a_tensor_backward_does_not_need_is_fine():
    x = randn64(3)
    h = randn64(3, requires_grad=False)
    y = (x + h).sum()      # Add saves nothing
    with minigrad.no_grad():
        h.add_(1.0)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones(3))


def test_in_place_on_leaf_requiring_grad_raises_outside_no_grad():
    x = randn64(3)
    for change in (lambda: x.add_(1.0), lambda: x.zero_(), lambda: x.__setitem__(0, 1.0),
                   lambda: x.mul_(2.0)):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            change()
    with minigrad.no_grad():
        x.zero_()
    np.testing.assert_array_equal(x.numpy(), np.zeros(3))


def test_augmented_assignment_is_in_place_outside_recording():
    w = randn64(3)
    data = w.array
    with minigrad.no_grad():
        w -= 0.5
        w *= 2.0
        w /= 4.0
        w += minigrad.ones(3, dtype=minigrad.float64)
    assert w.array is data and w.is_leaf and w.requires_grad and w._version == 4
    h = w * 1.0
    h += 1.0                     # recording: out of place, part of the graph
    assert h.grad_fn is not None and h.grad_fn.name() == "add"


@pytest.mark.parametrize("view", [lambda w: w.T, lambda w: w[0:2], lambda w: w.reshape(3, 3),
                                  lambda w: w.unsqueeze(0), lambda w: w.split(1, 0)[1],
                                  lambda w: w.unbind(1)[0], lambda w: w.expand(2, 3, 3)])
def test_in_place_change_of_the_base_of_a_saved_view_raises(view):
    """nn.Linear computes x @ W.T: an optimizer step on W before backward must be caught."""
    w = randn64(3, 3)
    x = randn64(3, requires_grad=False)
    loss = (view(w) * x).sum()
    with minigrad.no_grad():
        w.sub_(0.1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_detach_shares_the_version_counter():
    x = randn64(3)
    y = (x * x.detach()).sum()   # the detached copy is saved for backward
    d = x.detach()
    d.add_(1.0)                  # not a graph tensor: allowed, but x's data changed
    with pytest.raises(RuntimeError, match="version"):
        y.backward()


# -- modes ----------------------------------------------------------------------------
def test_no_grad_context_and_decorator():
    x = randn64(3)
    with minigrad.no_grad():
        y = x * 2
    assert y.grad_fn is None and not y.requires_grad

    @minigrad.no_grad()
    def f(t):
        assert not minigrad.is_grad_enabled()
        return t.exp()
    assert f(x).grad_fn is None
    assert minigrad.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_restores_on_exception_and_nests():
    with pytest.raises(ValueError):
        with minigrad.no_grad():
            raise ValueError("boom")
    assert minigrad.is_grad_enabled()

    @minigrad.no_grad()
    def fails():
        raise KeyError("x")
    with pytest.raises(KeyError):
        fails()
    assert minigrad.is_grad_enabled()
    with minigrad.no_grad():
        with minigrad.enable_grad():
            assert minigrad.is_grad_enabled()
        assert not minigrad.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = randn64(3)
    h = (x * 2).detach()
    assert h.grad_fn is None and not h.requires_grad
    y = (h * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), h.numpy())
    assert np.shares_memory(h.array, h.detach().array)


def test_backward_restores_grad_mode_after_an_error():
    class Broken(minigrad.Function):
        def forward(self, x):
            return x * 1

        def backward(self, gy):
            raise ValueError("broken backward")
    x = randn64(2)
    with pytest.raises(ValueError, match="broken"):
        Broken.apply(x).sum().backward()
    assert minigrad.is_grad_enabled()


# -- long chains ----------------------------------------------------------------------
def test_ten_thousand_step_chain_matches_numpy_bptt():
    """h_t = tanh(h_{t-1} w + x_t) for 10,000 steps: no RecursionError, exact BPTT."""
    steps = 10_000
    rng = np.random.default_rng(0)
    xs = rng.standard_normal(steps) * 0.5
    w0 = 0.9
    w = minigrad.tensor(w0, requires_grad=True, dtype=minigrad.float64)
    h = minigrad.tensor(0.0, dtype=minigrad.float64)
    for t in range(steps):
        h = (h * w + xs[t]).tanh()
    h.backward()

    hs = [0.0]
    for t in range(steps):
        hs.append(np.tanh(hs[-1] * w0 + xs[t]))
    gw, gh = 0.0, 1.0
    for t in range(steps, 0, -1):
        gpre = gh * (1 - hs[t] ** 2)
        gw += gpre * hs[t - 1]
        gh = gpre * w0
    np.testing.assert_allclose(h.item(), hs[-1])
    np.testing.assert_allclose(w.grad.item(), gw, rtol=1e-10)
    del h
    gc.collect()


def test_deep_graph_is_freed_without_recursion_error():
    x = randn64(1)
    h = x
    for _ in range(20_000):
        h = h * 1.0
    ref = weakref.ref(h.grad_fn)
    del h
    assert ref() is None  # freed by reference counting alone, no RecursionError


# -- memory -----------------------------------------------------------------------------
def test_saved_arrays_and_intermediates_are_freed():
    x = randn64(4)
    h = x.exp()
    node_ref = weakref.ref(h.grad_fn)
    saved_ref = weakref.ref(h.grad_fn._saved[0])   # exp saves its output array
    h_ref = weakref.ref(h)
    y = (h * 2).sum()
    del h
    y.backward()
    assert saved_ref() is None             # saved arrays are released by backward
    assert h_ref() is None                 # and so are intermediate tensors kept for backward
    assert node_ref() is not None          # the node lives while the output does
    del y
    assert node_ref() is None              # and is freed with it, without the gc
    assert x.grad is not None


def test_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        x = randn64(8)
        y = ((x.tanh() * x).softmax(0) + x.split(4)[0].sum()).sum()
        refs = [weakref.ref(y.grad_fn)]
        y.backward()
        del y
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_long_graph_releases_saved_arrays_after_backward():
    x = minigrad.tensor(np.ones((1000,)), requires_grad=True, dtype=minigrad.float64)
    tracemalloc.start()
    try:
        h = x
        for _ in range(50):
            h = (h * 1.0001).tanh()     # each step saves ~8 kB
        loss = h.sum()
        before, _ = tracemalloc.get_traced_memory()
        loss.backward()
        del h
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert before > 50 * 8000          # the saved arrays were really there
    assert after < before - 40 * 8000  # and most of them are gone while `loss` still lives
