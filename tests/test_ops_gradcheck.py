"""Every op of API.md against float64 central differences (``minigrad.gradcheck``).

Each case is ``(fn, shapes)``: ``fn`` takes the float64 leaves made from ``shapes``.
Shapes are small (gradcheck runs two forwards per input element) but cover broadcasting,
0-d tensors, negative and tuple dims.
"""
import numpy as np
import pytest

import minigrad
from minigrad import gradcheck

RNG = np.random.default_rng(123)


def leaves(*shapes, positive=False, away_from_zero=False):
    out = []
    for s in shapes:
        a = RNG.standard_normal(s)
        if positive:
            a = np.abs(a) + 0.5
        if away_from_zero:  # kinks (abs, relu, clamp) must not sit within eps of a sample
            a = np.where(np.abs(a) < 0.1, a + 0.3 * np.sign(a + 1e-12), a)
        out.append(minigrad.tensor(a, requires_grad=True, dtype=minigrad.float64))
    return out


def check(fn, *shapes, **kw):
    assert gradcheck(fn, leaves(*shapes, **kw))


BINARY_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1, 4), (3, 1)), ((), (2, 3)),
                 ((4, 1), (1, 5)), ((2, 3), ())]


# -- arithmetic ----------------------------------------------------------------------
@pytest.mark.parametrize("s0,s1", BINARY_SHAPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_binary_broadcasting(op, s0, s1):
    f = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}[op]
    check(f, s0, s1)


@pytest.mark.parametrize("s0,s1", BINARY_SHAPES)
def test_div_broadcasting(s0, s1):
    x, y = leaves(s0, s1)
    y = minigrad.tensor(np.abs(y.array) + 0.5, requires_grad=True, dtype=minigrad.float64)
    assert gradcheck(lambda a, b: a / b, [x, y])


@pytest.mark.parametrize("f", [lambda x: x + 2.0, lambda x: 2.0 - x, lambda x: x * 3,
                               lambda x: 1.5 / x, lambda x: x / 4.0, lambda x: -x,
                               lambda x: np.float64(2.0) * x, lambda x: x - np.ones(3)])
def test_arithmetic_with_numbers_and_arrays(f):
    check(f, (2, 3), positive=True)


@pytest.mark.parametrize("f", [lambda x: x ** 2, lambda x: x ** 3, lambda x: x ** 0.5,
                               lambda x: x ** -1.5, lambda x: 2.0 ** x, lambda x: x.pow(2)])
def test_pow_scalar_forms(f):
    check(f, (2, 3), positive=True)


@pytest.mark.parametrize("s0,s1", [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3))])
def test_pow_tensor_tensor(s0, s1):
    check(lambda a, b: a ** b, s0, s1, positive=True)


def test_pow_exponent_gradient_at_zero_base_is_zero():
    base = minigrad.tensor([0.0, 2.0], requires_grad=True, dtype=minigrad.float64)
    exponent = minigrad.tensor([2.0, 3.0], requires_grad=True, dtype=minigrad.float64)
    (base ** exponent).sum().backward()
    np.testing.assert_allclose(exponent.grad.numpy(), [0.0, 8 * np.log(2)])
    np.testing.assert_allclose(base.grad.numpy(), [0.0, 12.0])
    e = minigrad.tensor([1.5], requires_grad=True, dtype=minigrad.float64)
    (0.0 ** e).sum().backward()
    assert e.grad.item() == 0.0


@pytest.mark.parametrize("s0,s1", [
    ((3,), (3,)),            # 1-D · 1-D -> scalar
    ((3,), (3, 4)),          # vector @ matrix
    ((2, 3), (3,)),          # matrix @ vector
    ((2, 3), (3, 4)),        # 2-D
    ((1, 3), (3, 4)),        # batch size 1: the outer-product path for dL/dx1
    ((2, 2, 3), (2, 3, 4)),  # batched
    ((2, 2, 3), (3, 4)),     # broadcast batch on the left
    ((3, 4), (2, 4, 2)),     # broadcast batch on the right
    ((2, 1, 2, 3), (3, 3, 2)),  # batch dims broadcast against each other
    ((3,), (2, 3, 4)),       # 1-D against a batch
])
def test_matmul(s0, s1):
    check(lambda a, b: a @ b, s0, s1)


# -- reductions -----------------------------------------------------------------------
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                         ((0, 2), False), ((0, -1), True), ((), False)])
@pytest.mark.parametrize("op", ["sum", "mean", "var"])
def test_sum_mean_var(op, dim, keepdim):
    kwargs = {"unbiased": False} if op == "var" and dim == () else {}  # n - 1 = 0 otherwise
    check(lambda x: getattr(x, op)(dim=dim, keepdim=keepdim, **kwargs), (2, 3, 4))


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                         ((0, 2), True)])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min(op, dim, keepdim):
    def f(x):
        out = getattr(x, op)(dim=dim, keepdim=keepdim)
        return out.values if isinstance(dim, int) else out
    check(f, (2, 3, 4))


def test_max_ties_split_gradient():
    x = minigrad.tensor([1.0, 3.0, 3.0], requires_grad=True, dtype=minigrad.float64)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 0.5])


def test_reductions_on_0d():
    check(lambda x: x.sum() * x.mean(), ())


# -- shape ops ------------------------------------------------------------------------
@pytest.mark.parametrize("f,shape", [
    (lambda x: x.reshape(4, 3), (2, 6)),
    (lambda x: x.reshape(-1), (2, 3, 2)),
    (lambda x: x.view(3, -1), (2, 6)),
    (lambda x: x.reshape((2, 2, 3)), (12,)),
    (lambda x: x.flatten(1), (2, 3, 2)),
    (lambda x: x.transpose(0, 1), (2, 3)),
    (lambda x: x.transpose(-1, -3), (2, 3, 4)),
    (lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    (lambda x: x.permute((1, 0)), (2, 3)),
    (lambda x: x.T, (2, 3)),
    (lambda x: x.T, (2, 3, 4)),
    (lambda x: x.squeeze(), (1, 3, 1)),
    (lambda x: x.squeeze(0), (1, 3)),
    (lambda x: x.squeeze(-1), (3, 1)),
    (lambda x: x.unsqueeze(0), (3,)),
    (lambda x: x.unsqueeze(-1), (2, 3)),
    (lambda x: x.expand(4, 3), (1, 3)),
    (lambda x: x.expand(2, -1, 3), (4, 1)),
    (lambda x: minigrad.reshape(x, (3, 2)), (6,)),
])
def test_shape_ops(f, shape):
    check(f, shape)


# -- elementwise ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "relu", "abs", "log", "sqrt"])
def test_unary(name, shape):
    positive = name in ("log", "sqrt")
    check(lambda x: getattr(x, name)(), shape, positive=positive, away_from_zero=True)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "relu", "abs", "log", "sqrt"])
def test_unary_functions_match_methods(name):
    x, = leaves((2, 3), positive=True)
    np.testing.assert_allclose(getattr(minigrad, name)(x).numpy(), getattr(x, name)().numpy())


@pytest.mark.parametrize("low,high", [(-0.5, 0.5), (None, 0.2), (-0.2, None)])
def test_clamp(low, high):
    check(lambda x: x.clamp(low, high), (3, 4), away_from_zero=True)
    check(lambda x: minigrad.clamp(x, min=low, max=high), (5,), away_from_zero=True)


def test_where_broadcasting():
    cond = minigrad.tensor(RNG.standard_normal((2, 3)) > 0)
    check(lambda a, b: minigrad.where(cond, a, b), (2, 3), (3,))
    check(lambda a, b: minigrad.where(cond, a, b), (1, 3), ())
    check(lambda a: minigrad.where(cond, a, 0.0), (2, 3))
    check(lambda a: a.where(cond, 1.0), (2, 3))


def test_astype_to_dtype():
    # float64 -> float32 -> float64 loses precision: compare with a loose tolerance
    x, = leaves((3,))
    assert gradcheck(lambda a: a.to(minigrad.float32).to(minigrad.float64) * 2, [x],
                     eps=1e-3, atol=1e-3, rtol=1e-2)
    y = x.to(minigrad.float32)
    assert y.dtype == minigrad.float32
    y.sum().backward()
    assert x.grad.dtype == minigrad.float64
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))


# -- indexing -------------------------------------------------------------------------
INDEXES = [
    1, -1, slice(1, 3), (slice(None), 0), (Ellipsis, 1), (None, 0), (0, None, slice(None, None, 2)),
    (slice(None, None, -1),), [0, 2, 0, 0], (np.array([0, 1, 1]), np.array([2, 2, 2])),
    ([1, 1], slice(0, 2)), np.array([[0, 1], [1, 1]]),
]


@pytest.mark.parametrize("index", INDEXES, ids=[repr(i) for i in INDEXES])
def test_getitem(index):
    check(lambda x: x[index], (3, 4))


def test_getitem_repeated_indices_accumulate():
    x = minigrad.tensor(np.arange(4.0), requires_grad=True, dtype=minigrad.float64)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 1, 0])


def test_getitem_mask_and_tensor_index():
    x, = leaves((3, 4))
    mask = x.array > 0
    check(lambda a: a[mask], (3, 4))
    check(lambda a: a[minigrad.tensor(mask)], (3, 4))
    check(lambda a: a[minigrad.tensor([2, 0, 2])], (3, 4))
    check(lambda a: a[minigrad.tensor([2, 0]), 1:], (3, 4))


def test_getitem_double_backward():
    x, = leaves((4,))
    assert gradcheck(lambda a: minigrad.grad((a[[0, 0, 3]] ** 2).sum(), a, create_graph=True)[0],
                     [x])


# -- joining and splitting ------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    shapes = [(2, 3), (2, 3), (2, 3)]
    shapes = [tuple(s + k if i == dim % 2 else s for i, s in enumerate(sh))
              for k, sh in enumerate(shapes)]
    check(lambda *xs: minigrad.cat(xs, dim), *shapes)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    check(lambda *xs: minigrad.stack(xs, dim), (2, 3), (2, 3))


@pytest.mark.parametrize("size,dim", [(2, 0), (1, 1), ([1, 3], 1), (3, -1)])
def test_split(size, dim):
    check(lambda x: x.split(size, dim), (5, 4))


def test_split_with_only_some_pieces_used():
    check(lambda x: x.split(2, 0)[1] * 2, (5, 3))
    check(lambda x: minigrad.split(x, [1, 4], 0)[0], (5, 3))


@pytest.mark.parametrize("n,dim", [(2, 0), (3, 1), (4, -1)])
def test_chunk(n, dim):
    check(lambda x: x.chunk(n, dim), (5, 4))
    check(lambda x: minigrad.chunk(x, n, dim)[0].sum(), (5, 4))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind(dim):
    check(lambda x: x.unbind(dim), (3, 4))
    check(lambda x: minigrad.unbind(x, dim)[1] * 3, (3, 4))


# -- softmax family ---------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(name, dim):
    check(lambda x: getattr(x, name)(dim), (3, 4))
    check(lambda x: getattr(minigrad, name)(x, dim), (2, 3, 2))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_2d(reduction):
    target = minigrad.tensor([0, 2, 1, 2])
    check(lambda x: minigrad.cross_entropy(x, target, reduction=reduction), (4, 3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_nd_with_ignore_index(reduction):
    target = np.array([[[0, 2], [1, -100]], [[-100, 1], [2, 0]]])  # (N=2, d1=2, d2=2)
    check(lambda x: minigrad.cross_entropy(x, target, reduction=reduction), (2, 3, 2, 2))
    check(lambda x: minigrad.cross_entropy(x, [[1, 2], [0, 1]], ignore_index=1,
                                           reduction=reduction), (2, 3, 2))


@pytest.mark.parametrize("name,f", [
    ("x^3", lambda x: (x ** 3).sum()),
    ("tanh", lambda x: x.tanh().sum()),
    ("sigmoid", lambda x: (x.sigmoid() * x).sum()),
    ("softmax", lambda x: (x.softmax(1) * x).sum()),
    ("log_softmax", lambda x: (x.log_softmax(-1) ** 2).sum()),
    ("cross_entropy", lambda x: minigrad.cross_entropy(x, [1, 0, 2])),
    ("max", lambda x: (x.max(1).values ** 2).sum()),
    ("matmul", lambda x: ((x @ x.T) ** 2).sum()),
    ("div", lambda x: (1.0 / (x * x + 1)).sum()),
    ("split/cat", lambda x: (minigrad.cat(x.split(1, 1)[::-1], 1) * x).sum()),
])
def test_double_backward(name, f):
    """The gradient function is itself differentiable (create_graph=True): gradcheck it."""
    check(lambda x: minigrad.grad(f(x), x, create_graph=True)[0], (3, 3))
