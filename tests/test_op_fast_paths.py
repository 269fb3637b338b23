"""The lean paths of the common ops (one- and two-Tensor calls, gradients on arrays, a fresh
gradient kept as ``.grad`` without a copy) give the very results of the general ones."""
import numpy as np
import pytest

import minigrad
from minigrad.autograd import run_backward

UNARY = {"exp": lambda x: x.exp(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
         "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt()}
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b}
SHAPES = [(), (1,), (3, 4), (40, 40)]


def _grads(make_output, inputs, gy, create_graph):
    out = make_output()
    grads = minigrad.grad(out, inputs, minigrad.tensor(gy), create_graph=create_graph)
    return out, [g.array for g in grads]


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("op", sorted(UNARY))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_plain_backward_is_bitwise_the_graph_backward(op, shape, dtype):
    rng = np.random.default_rng(0)
    x = minigrad.tensor(np.abs(rng.standard_normal(shape)).astype(dtype) + 0.1, requires_grad=True)
    gy = rng.standard_normal(shape).astype(dtype)
    _, plain = _grads(lambda: UNARY[op](x), [x], gy, create_graph=False)
    _, graph = _grads(lambda: UNARY[op](x), [x], gy, create_graph=True)
    _same_bits(plain[0], graph[0])


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((), ()), ((1,), (1,)), ((3, 4), (3, 4)), ((3, 4), (4,)),
                                    ((3, 1), (1, 4))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_plain_backward_is_bitwise_the_graph_backward(op, shapes, dtype):
    rng = np.random.default_rng(1)
    a = minigrad.tensor(rng.standard_normal(shapes[0]).astype(dtype), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(shapes[1]).astype(dtype) + 3, requires_grad=True)
    gy = rng.standard_normal(np.broadcast_shapes(*shapes)).astype(dtype)
    _, plain = _grads(lambda: BINARY[op](a, b), [a, b], gy, create_graph=False)
    _, graph = _grads(lambda: BINARY[op](a, b), [a, b], gy, create_graph=True)
    for p, g in zip(plain, graph):
        _same_bits(p, g)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_forward_is_the_tanh_form_bit_for_bit(shape, dtype):
    x = np.random.default_rng(2).standard_normal(shape).astype(dtype) * 10
    expected = np.tanh(x * 0.5)
    expected *= 0.5
    expected += 0.5
    _same_bits(minigrad.tensor(x).sigmoid().array, np.asarray(expected))


@pytest.mark.parametrize("op", ["add", "mul"])
def test_method_module_function_and_node_call_agree(op):
    rng = np.random.default_rng(3)
    a = minigrad.tensor(rng.standard_normal(5).astype("float32"), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(5).astype("float32"), requires_grad=True)
    from minigrad.ops import arithmetic
    cls = {"add": arithmetic.Add, "mul": arithmetic.Mul}[op]
    results = [BINARY[op](a, b), getattr(minigrad, op)(a, b), cls()(a, b)]
    for y in results:
        _same_bits(y.array, results[0].array)
        assert type(y.grad_fn) is cls and y.grad_fn.inputs == ((a, -1), (b, -1))
        assert y.grad_fn.output_shapes == ((5,),) and y.requires_grad


def test_each_grad_is_its_own_array_never_the_users_gradient():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    w = minigrad.tensor([3.0, 4.0], requires_grad=True)
    gy = minigrad.tensor([1.0, 1.0])
    (x + w).backward(gy)           # add hands gy itself to both inputs
    assert not np.shares_memory(x.grad.array, w.grad.array)
    assert not np.shares_memory(x.grad.array, gy.array)
    x.grad = w.grad = None
    (x * w).backward(gy)           # mul makes a new gradient for each input
    assert not np.shares_memory(x.grad.array, w.grad.array)
    assert x.grad.tolist() == [3.0, 4.0] and w.grad.tolist() == [1.0, 2.0]
    x.grad = None
    (x * x).backward(gy)           # two gradients into one leaf: summed
    assert x.grad.tolist() == [2.0, 4.0]


def test_a_gradient_an_edge_hook_saw_is_not_the_grad():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    run_backward([x.tanh()], [minigrad.tensor([1.0, 1.0])],
                 edge_hook=lambda parent, node, gx: seen.append(gx))
    assert len(seen) == 1 and np.array_equal(seen[0].array, x.grad.array)
    assert not np.shares_memory(seen[0].array, x.grad.array)


def test_fresh_gradient_added_to_an_existing_grad_keeps_both_intact():
    x = minigrad.tensor([0.5, 1.5], requires_grad=True)
    x.exp().backward(minigrad.tensor([1.0, 1.0]))
    first = x.grad
    first_values = first.array.copy()
    x.exp().backward(minigrad.tensor([1.0, 1.0]))
    assert np.array_equal(first.array, first_values)          # the old .grad object is untouched
    assert np.allclose(x.grad.array, 2 * np.exp(x.array))


def test_float64_gradient_into_float32_leaf_is_converted():
    x = minigrad.tensor(np.float32([0.5, 1.5]), requires_grad=True)
    w = minigrad.tensor(np.float64([2.0, 3.0]), requires_grad=True)
    (x * w).backward(minigrad.tensor(np.float64([1.0, 1.0])))
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 3.0]
    assert w.grad.dtype == np.float64


def test_device_mismatch_and_bad_forward_still_named_on_the_lean_paths():
    a = minigrad.tensor(np.zeros((2, 3), "float32"), requires_grad=True)
    b = minigrad.tensor(np.zeros((4, 5), "float32"), requires_grad=True)
    with pytest.raises(ValueError, match="^add: "):
        a + b
    with pytest.raises(ValueError, match="^mul: "):
        a * b
