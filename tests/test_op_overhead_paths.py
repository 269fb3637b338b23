"""The shortcuts that keep a 1-element op cheap (bench/op_overhead.py) change no result:

- the binary forwards read both operands' dtype and shape directly, and a Python number or an
  operand of another dtype object takes the promotion path as before;
- a one-node backward makes a fresh gradient of the leaf's dtype the leaf's ``.grad`` itself,
  and finds a leaf's hooks also when ``requires_grad`` was set as an attribute;
- a node's saved arrays are refused once released, and only then.
"""
import numpy as np
import pytest

import minigrad

BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b}


def _bits(t):
    return t.array.dtype.str, t.array.shape, t.array.tobytes()


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("other", [2.0, 3, True])
def test_a_python_number_operand_keeps_the_tensors_dtype(op, other):
    x = minigrad.tensor(np.array([1.5, -2.0], np.float32), requires_grad=True)
    for y in (BINARY[op](x, other), BINARY[op](other, x)):
        assert y.dtype == minigrad.float32
        y.backward(minigrad.tensor(np.ones(2, np.float32)))
        assert x.grad.dtype == minigrad.float32


@pytest.mark.parametrize("op", sorted(BINARY))
def test_an_integer_tensor_meets_a_float_tensor_in_the_floats_dtype(op):
    x = minigrad.tensor(np.array([1.5, 2.0]), requires_grad=True)        # float64
    i = minigrad.tensor(np.array([1, 2]))                                # int64
    y = BINARY[op](x, i)
    assert y.dtype == minigrad.float64
    y.backward(minigrad.tensor(np.ones(2)))
    assert x.grad.dtype == minigrad.float64


@pytest.mark.parametrize("op", sorted(BINARY))
def test_another_byte_order_is_promoted_as_numpy_does(op):
    """Equal values, two dtype objects ('<f4' and '>f4'): the general promotion path."""
    a = np.array([1.5, 2.0], np.float32)
    b = np.array([0.5, 4.0], np.float32).astype(">f4")
    x, w = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    y = BINARY[op](x, w)
    expected = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b}[op]
    assert y.array.dtype == expected.dtype and y.array.tobytes() == expected.tobytes()
    y.backward(minigrad.tensor(np.ones(2, y.array.dtype)))
    assert x.grad.shape == (2,) and w.grad.shape == (2,)


def test_broadcast_shapes_are_recorded_for_the_gradient_sum():
    x = minigrad.tensor(np.ones((3, 1), np.float32), requires_grad=True)
    w = minigrad.tensor(np.ones((1, 4), np.float32), requires_grad=True)
    for op in ("add", "sub"):
        BINARY[op](x, w).backward(minigrad.tensor(np.ones((3, 4), np.float32)))
    assert x.grad.tolist() == [[8.0], [8.0], [8.0]]            # 4 from add, 4 from sub
    assert w.grad.tolist() == [[0.0, 0.0, 0.0, 0.0]]           # 3 from add, -3 from sub


def _leaves_and_op(op):
    """Two float32 leaves x, w and a function making ``op``'s output from them (a product,
    or x's exp / tanh / sigmoid): the ops whose backward makes a fresh gradient."""
    x = minigrad.tensor(np.array([0.3], np.float32), requires_grad=True)
    w = minigrad.tensor(np.array([0.7], np.float32), requires_grad=True)
    make = {"mul": lambda: x * w, "exp": x.exp, "tanh": x.tanh, "sigmoid": x.sigmoid}[op]
    return x, w, make


@pytest.mark.parametrize("op", ["mul", "exp", "tanh", "sigmoid"])
def test_a_fresh_gradient_becomes_the_grad_and_is_nobody_elses(op):
    x, w, make = _leaves_and_op(op)
    gy = minigrad.tensor(np.array([2.0], np.float32))
    make().backward(gy)
    first = _bits(x.grad)
    assert not np.shares_memory(x.grad.array, gy.array)
    assert x.grad.grad_fn is None and not x.grad.requires_grad
    if op == "mul":
        assert not np.shares_memory(x.grad.array, w.grad.array)
    make().backward(gy)                   # the second one is added to the first
    twice = (np.frombuffer(first[2], np.float32) * 2).tobytes()
    assert _bits(x.grad)[2] == twice


@pytest.mark.parametrize("op", sorted(BINARY))
def test_a_float64_gradient_of_a_float32_leaf_is_converted(op):
    x = minigrad.tensor(np.array([0.3], np.float32), requires_grad=True)
    w = minigrad.tensor(np.array([0.7]), requires_grad=True)            # float64
    BINARY[op](x, w).backward(minigrad.tensor(np.array([1.0])))
    assert x.grad.dtype == minigrad.float32 and w.grad.dtype == minigrad.float64


@pytest.mark.parametrize("op", ["add", "sub"])
def test_the_first_grad_of_a_sum_is_a_copy_of_the_given_gradient(op):
    x = minigrad.tensor(np.array([0.3], np.float32), requires_grad=True)
    w = minigrad.tensor(np.array([0.7], np.float32), requires_grad=True)
    gy = minigrad.tensor(np.array([2.0], np.float32))
    BINARY[op](x, w).backward(gy)
    assert x.grad.tolist() == [2.0]
    assert not np.shares_memory(x.grad.array, gy.array)
    assert not np.shares_memory(x.grad.array, w.grad.array)
    gy.array[0] = 5.0                       # the caller's gradient changes: the grads do not
    assert x.grad.tolist() == [2.0]


def test_a_leaf_made_to_require_grad_by_attribute_gets_grads_and_hooks():
    x = minigrad.Tensor(np.array([2.0], np.float32))
    x.requires_grad = True                       # no requires_grad_(): no hook slot set
    w = minigrad.tensor(np.array([3.0], np.float32), requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (x * w).backward(minigrad.tensor(np.array([1.0], np.float32)))
    assert x.grad.tolist() == [3.0] and w.grad.tolist() == [2.0]
    assert seen == [[2.0]]
    x.exp().backward(minigrad.tensor(np.array([1.0], np.float32)))
    assert x.grad.array.dtype == np.float32


def test_hooks_of_both_leaves_run_once_each_in_input_order():
    x = minigrad.tensor(np.array([2.0], np.float32), requires_grad=True)
    w = minigrad.tensor(np.array([3.0], np.float32), requires_grad=True)
    order = []
    x.register_post_accumulate_grad_hook(lambda t: order.append(("x", t.grad.tolist())))
    w.register_post_accumulate_grad_hook(lambda t: order.append(("w", t.grad.tolist())))
    (x + w).backward(minigrad.tensor(np.array([1.0], np.float32)))
    assert order == [("x", [1.0]), ("w", [1.0])]


@pytest.mark.parametrize("op", ["mul", "exp", "tanh", "sigmoid"])
def test_saved_arrays_are_refused_once_released_and_kept_with_retain_graph(op):
    _, _, make = _leaves_and_op(op)
    gy = minigrad.tensor(np.array([1.0], np.float32))
    y = make()
    y.backward(gy, retain_graph=True)
    y.backward(gy)                                      # still there: retained
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward(gy)
    with pytest.raises(RuntimeError, match="a second time"):
        y.grad_fn.saved_arrays


def test_a_node_that_saved_nothing_is_refused_once_released_too():
    x = minigrad.tensor(np.array([0.3], np.float32), requires_grad=True)
    y = x + x                                           # add saves nothing
    y.backward(minigrad.tensor(np.array([1.0], np.float32)), retain_graph=True)
    assert y.grad_fn.saved_arrays == ()
    y.backward(minigrad.tensor(np.array([1.0], np.float32)))
    with pytest.raises(RuntimeError, match="a second time"):
        y.grad_fn.saved_arrays
