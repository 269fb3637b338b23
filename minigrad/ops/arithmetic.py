"""Arithmetic with NumPy broadcasting: + - * / ** @.

Broadcasting copies an input along new or size-1 dimensions, so its gradient is the
sum over those copies: every backward ends with ``sum_to(gx, input_shape)``.
"""
from __future__ import annotations

import math

from ..function import Function
from ..grad_mode import STATE
from ..tensor import Tensor, plain
from .. import backend
from .outer_product import outer_product
from .promotion import as_operand, kind, promote
from .shape import _summed_to, reshape, sum_to, transpose


def _shape(x):
    return getattr(x, "shape", ())


def _needs_cast(x0, x1):
    """Must ``promote`` look at the operands? Not when both are arrays of the very same dtype
    object (their own attributes, read without getattr defaults: a Python number raises)."""
    try:
        return x0.dtype is not x1.dtype
    except AttributeError:   # a Python number
        return True


def _same_array_kind(g, x0, x1):
    """Both operands arrays of g's class, shape and dtype, not 0-d (backward may run on arrays).
    (Each test is written the cheap way first: the class by identity, a dtype by identity,
    then by equality.)"""
    cls = g.__class__
    if x0.__class__ is not cls or x1.__class__ is not cls:
        return False
    shape, dtype = g.shape, g.dtype
    d0, d1 = x0.dtype, x1.dtype
    return (x0.shape == shape and x1.shape == shape and shape != ()   # 0-d: NumPy gives scalars
            and (d0 is dtype or d0 == dtype) and (d1 is dtype or d1 == dtype))


class Add(Function):
    label = "+"

    def forward(self, x0, x1):
        try:   # two arrays, the usual case: their own attributes, no getattr with a default
            cast = x0.dtype is not x1.dtype   # the very same dtype: nothing to cast
            self.s0, self.s1 = x0.shape, x1.shape
        except AttributeError:   # a Python number
            cast = True
        if cast:
            x0, x1 = promote(x0, x1)
            self.s0, self.s1 = _shape(x0), _shape(x1)
        return x0 + x1

    def backward(self, gy):
        p0, p1 = self.parents
        shape = gy.array.shape   # the same shape as an input: its gradient is gy itself
        return ((gy if shape == self.s0 else sum_to(gy, self.s0)) if p0 else None,
                (gy if shape == self.s1 else sum_to(gy, self.s1)) if p1 else None)


def add(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return Add()._call2(a, b)
    return Add()(as_operand(a), as_operand(b))


class Sub(Function):
    label = "-"

    def forward(self, x0, x1):
        try:   # two arrays, the usual case: their own attributes, no getattr with a default
            cast = x0.dtype is not x1.dtype   # the very same dtype: nothing to cast
            self.s0, self.s1 = x0.shape, x1.shape
        except AttributeError:   # a Python number
            cast = True
        if cast:
            x0, x1 = promote(x0, x1)
            self.s0, self.s1 = _shape(x0), _shape(x1)
        return x0 - x1

    def backward(self, gy):
        p0, p1 = self.parents
        shape = gy.array.shape   # the same shape as an input: no sum needed
        return ((gy if shape == self.s0 else sum_to(gy, self.s0)) if p0 else None,
                (-gy if shape == self.s1 else sum_to(-gy, self.s1)) if p1 else None)


def sub(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return Sub()._call2(a, b)
    return Sub()(as_operand(a), as_operand(b))


class Mul(Function):
    label = "×"
    new_grads = True

    def forward(self, x0, x1):
        try:   # _needs_cast(x0, x1), written out: it runs once per product
            cast = x0.dtype is not x1.dtype
        except AttributeError:
            cast = True
        if cast:
            x0, x1 = promote(x0, x1)
        self._saved = (x0, x1)   # save_for_backward(x0, x1), written out
        return x0 * x1

    def backward(self, gy):
        if not STATE.grad_enabled:
            x0, x1 = self.saved_arrays
            g = gy.array
            if _same_array_kind(g, x0, x1):   # no broadcast, no promotion: on arrays
                p0, p1 = self.parents
                return (plain(g * x1) if p0 else None,
                        plain(g * x0) if p1 else None)
        x0, x1 = self.saved_tensors
        p0, p1 = self.parents
        return (sum_to(gy * x1, _shape(x0)) if p0 else None,
                sum_to(gy * x0, _shape(x1)) if p1 else None)


def mul(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return Mul()._call2(a, b)
    return Mul()(as_operand(a), as_operand(b))


class Div(Function):
    label = "÷"

    def forward(self, x0, x1):
        if _needs_cast(x0, x1):
            x0, x1 = promote(x0, x1)
        if kind(x0) != "f" and kind(x1) != "f":   # int / int is a float32 (as PyTorch)
            x0 = x0.astype(backend.default_float) if backend.is_array(x0) else float(x0)
            x1 = x1.astype(backend.default_float) if backend.is_array(x1) else x1
        self.save_for_backward(x0, x1)
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.saved_tensors
        p0, p1 = self.parents
        gx0 = sum_to(gy / x1, _shape(x0)) if p0 else None
        gx1 = sum_to(-gy * x0 / (x1 * x1), _shape(x1)) if p1 else None
        return gx0, gx1


def div(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return Div()._call2(a, b)
    return Div()(as_operand(a), as_operand(b))


class Neg(Function):
    label = "−"

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x):
    return Neg()(x)


class Pow(Function):
    """y = x0 ** x1;  dy/dx0 = x1 · x0^(x1-1),  dy/dx1 = y · log(x0)."""

    label = "**"

    def forward(self, x0, x1):
        x0, x1 = promote(x0, x1)
        y = x0 ** x1
        self.save_for_backward(x0, x1, y)
        return y

    def backward(self, gy):
        x0, x1, y = self.saved_tensors
        p0, p1 = self.parents
        gx0 = sum_to(gy * x1 * x0 ** (x1 - 1), _shape(x0)) if p0 else None
        gx1 = None
        if p1:
            from .elementwise import log, where
            if isinstance(x0, Tensor):  # y · log x0 is 0 · (−∞) at x0 = 0, where the limit is 0
                log_x0 = log(where(x0.array == 0, 1.0, x0))
            else:
                log_x0 = math.log(x0) if x0 != 0 else 0.0
            gx1 = sum_to(gy * y * log_x0, _shape(x1))
        return gx0, gx1


def pow(a, b):  # noqa: A001 - mirrors torch.pow
    return Pow()(as_operand(a), as_operand(b))


class MatMul(Function):
    """y = x0 @ x1 (1-D, 2-D and batched, as ``numpy.matmul``).

    For 2-D inputs: dL/dx0 = dL/dy · x1ᵀ and dL/dx1 = x0ᵀ · dL/dy. A vector is a matrix of
    one column (x1) or one row (x0) here; where a gradient's product then has inner dimension
    1 (W h: dL/dW = dL/dy hᵀ), a plain backward computes it with ``outer_product`` (the
    matmul's bits, several times faster).
    """

    label = "matmul"
    new_grads = True

    def forward(self, x0, x1):
        s0, s1 = getattr(x0, "shape", ()), getattr(x1, "shape", ())   # _shape, inlined
        if not s0 or not s1:
            raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                             f"{tuple(s0)} and {tuple(s1)}")
        k0 = s0[-1]
        k1 = s1[0] if len(s1) == 1 else s1[-2]
        if k0 != k1:
            raise ValueError(f"matmul: shapes {tuple(s0)} and {tuple(s1)} are not aligned "
                             f"({k0} != {k1})")
        d0, d1 = x0.dtype, x1.dtype
        if d0 != d1:
            raise TypeError(f"matmul: dtypes {d0} and {d1} differ; convert one of them "
                            f"(e.g. with .to(minigrad.{d0}))")
        self._saved = (x0, x1)   # save_for_backward(x0, x1), written out
        return x0 @ x1

    def backward(self, gy):
        if not STATE.grad_enabled:  # no graph of the gradient wanted: the same maths on arrays
            a, b = self.saved_arrays
            return _matmul_backward_arrays(gy.array, a, b, self.parents)
        a, b = self.saved_tensors
        p0, p1 = self.parents
        if a.ndim == 1 and b.ndim == 1:
            return (gy * b if p0 else None), (gy * a if p1 else None)
        a2 = reshape(a, (1,) + tuple(a.shape)) if a.ndim == 1 else a
        b2 = reshape(b, tuple(b.shape) + (1,)) if b.ndim == 1 else b
        g2 = gy
        if a.ndim == 1:
            g2 = reshape(g2, tuple(g2.shape[:-1]) + (1,) + tuple(g2.shape[-1:]))
        if b.ndim == 1:
            g2 = reshape(g2, tuple(g2.shape) + (1,))
        gx0 = gx1 = None
        if p0:
            gx0 = reshape(sum_to(g2 @ transpose(b2, -1, -2), a2.shape), a.shape)
        if p1:
            gx1 = reshape(sum_to(transpose(a2, -1, -2) @ g2, b2.shape), b.shape)
        return gx0, gx1


def _matmul_backward_arrays(gy, a, b, parents):
    """MatMul.backward on arrays, for every shape ``numpy.matmul`` takes: the operations of
    the Tensor path above in the same order (reshape, swap of the last two axes, matmul,
    ``sum_to``), so the same bits, without the ten or so Tensors and nodes that path makes
    (a matrix times a vector, W h, is min-char-rnn's every step). A matmul of inner dimension
    1 (the gradient of W in W h) runs as ``outer_product``, with the matmul's bits."""
    p0, p1 = parents
    if a.ndim == 1 and b.ndim == 1:
        return (plain(gy * b) if p0 else None), (plain(gy * a) if p1 else None)
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    g2 = gy
    if a.ndim == 1:
        g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
    if b.ndim == 1:
        g2 = g2.reshape(g2.shape + (1,))
    gx0 = gx1 = None
    if p0:
        if b2.ndim == 2 and g2.ndim == 2 and b2.shape[1] == 1:
            gx0 = outer_product(g2, b2.T)
        else:
            gx0 = g2 @ b2.swapaxes(-1, -2)
        if gx0.shape != a.shape:     # the Tensor path's sum_to to a2's shape, reshape to a's
            gx0 = _summed_to(gx0, a2.shape).reshape(a.shape)
        gx0 = plain(gx0)
    if p1:
        if a2.ndim == 2 and g2.ndim == 2 and a2.shape[0] == 1:
            gx1 = outer_product(a2.T, g2)
        else:
            gx1 = a2.swapaxes(-1, -2) @ g2
        if gx1.shape != b.shape:
            gx1 = _summed_to(gx1, b2.shape).reshape(b.shape)
        gx1 = plain(gx1)
    return gx0, gx1


def matmul(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return MatMul()._call2(a, b)
    return MatMul()(as_operand(a), as_operand(b))


def bmm(a, b):
    """Batched matrix product of (B, n, m) and (B, m, p) -> (B, n, p), as ``torch.bmm`` (soft
    attention's scores and context); strict about shapes where ``matmul`` broadcasts."""
    for name, t in (("input", a), ("mat2", b)):
        if not isinstance(t, Tensor) or t.ndim != 3:
            raise ValueError(f"bmm: {name} must be a 3-D tensor (batch, rows, columns), got "
                             f"{tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(f"bmm: shapes {tuple(a.shape)} and {tuple(b.shape)} do not multiply: "
                         f"expected (B, n, m) and (B, m, p)")
    return matmul(a, b)
