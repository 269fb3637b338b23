"""``Tensor.backward`` without options takes a short path (``autograd.backward_one``), and a
graph that is one node on leaves (``(x * w).backward(g)``) a shorter one still
(``_backward_on_leaves``). These are the specifications that they change nothing: the same
gradients bit for bit as the general engine (``run_backward`` with an edge hook, which takes
the general path), the same copy rule for ``.grad``, the same errors with every ``.grad``
left as it was, hooks called once every gradient is written and with grad mode restored,
grad mode restored after an error, a nested backward inside a ``split_shared`` one.
"""
import numpy as np
import pytest

import minigrad
from minigrad.autograd import run_backward
from minigrad.grad_mode import STATE

OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
       "div": lambda a, b: a / b, "tanh": lambda a, b: a.tanh(), "exp": lambda a, b: a.exp(),
       "sigmoid": lambda a, b: a.sigmoid(), "log": lambda a, b: a.log(),
       "const": lambda a, b: a * b.detach(), "row_matmul": lambda a, b: a.reshape(1, -1) @ b.reshape(-1, 1),
       "x*x": lambda a, b: a * a, "x+x": lambda a, b: a + a,
       "two_nodes": lambda a, b: (a * b).tanh(), "mixed_dtypes": lambda a, b: a * b.double()}


def _leaves(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    a = minigrad.tensor(np.abs(rng.standard_normal(shape)).astype(dtype) + 0.5, requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    return a, b


def _general(y, g):
    """The general engine's result: an edge hook sends the call down the general path."""
    run_backward([y], [g], edge_hook=lambda parent, node, gx: None)


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("shape", [(), (1,), (3,)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_short_paths_give_the_general_gradients_bit_for_bit(op, shape, dtype):
    fast, general = _leaves(shape, dtype, 0), _leaves(shape, dtype, 0)
    g = minigrad.tensor(np.random.default_rng(1).standard_normal(
        OPS[op](*fast).shape).astype(OPS[op](*fast).dtype))
    for repeat in range(2):   # the second backward accumulates into .grad
        OPS[op](*fast).backward(g)
        _general(OPS[op](*general), g)
        for f, r in zip(fast, general):
            assert (f.grad is None) == (r.grad is None)
            if f.grad is not None:
                assert f.grad.dtype == r.grad.dtype and f.grad.shape == r.grad.shape
                assert f.grad.array.tobytes() == r.grad.array.tobytes()


@pytest.mark.parametrize("op", ["add", "sub", "mul", "tanh", "row_matmul", "x+x"])
def test_a_grad_never_shares_memory_with_the_given_gradient_or_another_grad(op):
    a, b = _leaves((3,), "float32", 2)
    y = OPS[op](a, b)
    g = minigrad.ones(*y.shape)
    y.backward(g)
    arrays = [t.array for t in (g, a.grad, b.grad) if t is not None]
    for i, first in enumerate(arrays):
        for second in arrays[i + 1:]:
            assert not np.shares_memory(first, second)


class _BadSecondGradient(minigrad.Function):
    """Hands a right gradient to its first input and one of a wrong shape to its second."""

    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        return gy, minigrad.ones(5)


def test_a_bad_gradient_raises_before_any_grad_is_written():
    a, b = _leaves((2,), "float32", 3)
    a.grad = minigrad.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="_badsecondgradient.backward returned a gradient of shape"):
        _BadSecondGradient.apply(a, b).backward(minigrad.ones(2))
    assert a.grad.tolist() == [1.0, 2.0] and b.grad is None
    assert minigrad.is_grad_enabled()


class _Raises(minigrad.Function):
    def forward(self, x):
        return x * 2

    def backward(self, gy):
        raise ValueError("no gradient today")


@pytest.mark.parametrize("graph", ["one node", "two nodes"])
def test_grad_mode_is_restored_after_a_backward_raises(graph):
    a, _ = _leaves((2,), "float32", 4)
    y = _Raises.apply(a) if graph == "one node" else _Raises.apply(a).exp()
    with pytest.raises(ValueError, match="no gradient today"):
        y.backward(minigrad.ones(2))
    assert minigrad.is_grad_enabled()


def test_a_backward_run_under_no_grad_leaves_grad_mode_off():
    a, _ = _leaves((2,), "float32", 5)
    w = a * 3
    with minigrad.no_grad():
        w.backward(minigrad.ones(2))
        assert not minigrad.is_grad_enabled()
    assert minigrad.is_grad_enabled()
    assert a.grad.tolist() == [3.0, 3.0]


def test_hooks_run_once_both_grads_are_written_with_grad_mode_on():
    a, b = _leaves((2,), "float32", 6)
    seen = []

    def hook(leaf):
        seen.append((leaf is a, a.grad is not None, b.grad is not None, minigrad.is_grad_enabled()))
    a.register_post_accumulate_grad_hook(hook)
    b.register_post_accumulate_grad_hook(hook)
    (a * b).backward(minigrad.ones(2))
    assert seen == [(True, True, True, True), (False, True, True, True)]


def test_a_root_that_retains_its_grad_gets_it():
    a, b = _leaves((2,), "float32", 7)
    y = a * b
    y.retain_grad()
    g = minigrad.tensor([2.0, 3.0])
    y.backward(g)
    assert y.grad.tolist() == [2.0, 3.0]
    assert np.array_equal(a.grad.array, g.array * b.array)


class _RecordsSplitShared(minigrad.Function):
    def forward(self, x):
        return x * 1.0

    def backward(self, gy):
        _RecordsSplitShared.seen.append(STATE.split_shared)
        return gy


def test_a_backward_inside_a_split_shared_backward_runs_without_it():
    _RecordsSplitShared.seen = []
    x, _ = _leaves((2,), "float32", 8)
    inner = []

    def edge_hook(parent, node, gx):
        if not inner:
            inner.append(STATE.split_shared)
            u, _ = _leaves((2,), "float32", 9)
            with minigrad.enable_grad():   # the engine turned recording off
                _RecordsSplitShared.apply(u).exp().backward(minigrad.ones(2))  # two nodes
                (u * 2).backward(minigrad.ones(2))                             # one node
            inner.append(STATE.split_shared)
    run_backward([(x * 2).sum()], [None], split_shared=True, edge_hook=edge_hook)
    assert inner == [True, True] and _RecordsSplitShared.seen == [False]
    assert STATE.split_shared is False


def test_methods_of_a_float16_tensor_take_the_op_functions():
    x = minigrad.tensor(np.array([0.5, -1.0], dtype=np.float16), requires_grad=True)
    for method, function in (("exp", minigrad.exp), ("tanh", minigrad.tanh),
                             ("sigmoid", minigrad.sigmoid)):
        by_method, by_function = getattr(x, method)(), function(x)
        assert by_method.dtype == by_function.dtype
        assert by_method.array.tobytes() == by_function.array.tobytes()
