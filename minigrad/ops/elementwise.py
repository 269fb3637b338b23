"""Elementwise functions and their derivatives, each a one-liner in backward."""
from __future__ import annotations

import math

from .. import backend
from ..function import Function
from ..grad_mode import STATE
from ..tensor import Tensor, _broadcasts_to, plain
from .promotion import promote
from .shape import sum_to


_array_module = backend.get_array_module


def _xp(x):
    """The module (numpy or cupy) of array ``x``; a host array's without a lookup (the hot
    forwards below write this test out: a call costs as much as the lookup)."""
    return _HOST_XP if x.__class__ is _HOST_ARRAY else _array_module(x)


def as_float(x):
    """Integer and bool inputs of a float function become the default float dtype (float32),
    as PyTorch (NumPy would make them float64)."""
    if isinstance(x, Tensor) and x.array.dtype.kind not in "fc":
        return astype(x, backend.default_float)
    return x


def _array_grad(g, like):
    """A gradient computed on arrays (no graph), as a Tensor (NumPy makes 0-d results scalars)."""
    if g.__class__ is not like.__class__:
        g = backend.wrap_scalar(g, like)
    return plain(g)


def _host_constants(value):
    """``value`` as a read-only 0-d host array per float dtype. NumPy converts a Python number
    operand afresh on every call (most of the time of an op on a few elements); a 0-d array
    of the other operand's own dtype gives the very same bits without that."""
    constants = {}
    for dtype in (backend.float32, backend.float64):
        constant = backend.as_array(value, dtype=dtype)
        constant.setflags(write=False)
        constants[dtype] = constant
    return constants


_HOST_ARRAY = type(backend.as_array(0.0))
_HALF, _ONE = _host_constants(0.5), _host_constants(1.0)
_FLOAT32 = backend.float32
_HALF32, _ONE32 = _HALF[_FLOAT32], _ONE[_FLOAT32]   # the default dtype's: no dict lookup
_HOST_XP = _array_module(_HALF32)   # what _array_module(x) gives for any host array x


def _constant(constants, value, like):
    """The constant ``value`` to combine with array ``like``: from ``constants`` for a host
    float32/float64 array, else the Python number (a device array, another dtype)."""
    if like.__class__ is _HOST_ARRAY:
        return constants.get(like.dtype, value)
    return value


class Exp(Function):
    """y = eˣ;  dy/dx = y."""

    label = "exp"

    def forward(self, x):
        xp = _HOST_XP if x.__class__ is _HOST_ARRAY else _array_module(x)   # _xp(x), inlined
        y = xp.exp(x)
        self._saved = (y,)   # save_for_backward(y), written out
        return y

    new_grads = True

    def backward(self, gy):
        if not STATE.grad_enabled:  # no graph of the gradient wanted: on arrays
            y, = self.saved_arrays
            g = gy.array * y
            return plain(g) if g.__class__ is y.__class__ else _array_grad(g, y)   # 0-d: a scalar
        y, = self.saved_tensors
        return gy * y


def exp(x):
    if isinstance(x, Tensor) and x.array.dtype.kind == "f":
        return Exp()._call1(x)
    return Exp()(as_float(x))


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""

    label = "log"

    def forward(self, x):
        self.save_for_backward(x)
        return _xp(x).log(x)

    def backward(self, gy):
        x, = self.saved_tensors
        return gy / x


def log(x):
    if isinstance(x, Tensor) and x.array.dtype.kind == "f":
        return Log()._call1(x)
    return Log()(as_float(x))


class Log1p(Function):
    """y = ln(1 + x), accurate for small x;  dy/dx = 1/(1 + x)."""

    label = "log1p"

    def forward(self, x):
        self.save_for_backward(x)
        return _xp(x).log1p(x)

    def backward(self, gy):
        x, = self.saved_tensors
        return gy / (x + 1)


def log1p(x):
    return Log1p()(as_float(x))


class Erf(Function):
    """y = erf x = (2/√π) ∫₀ˣ e^(−t²) dt;  dy/dx = (2/√π) e^(−x²). (The exact GELU is
    x Φ(x) with the normal CDF Φ(x) = ½ (1 + erf(x/√2)).)"""

    label = "erf"

    def forward(self, x):
        self.save_for_backward(x)
        return backend.erf(x)

    def backward(self, gy):
        x, = self.saved_tensors
        return gy * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp()


def erf(x):
    return Erf()(as_float(x))


class Sqrt(Function):
    """y = √x;  dy/dx = 1 / (2y)."""

    label = "sqrt"

    def forward(self, x):
        y = _xp(x).sqrt(x)
        self._saved = (y,)   # save_for_backward(y), written out
        return y

    def backward(self, gy):
        y, = self.saved_tensors
        return gy / (2 * y)


def sqrt(x):
    if isinstance(x, Tensor) and x.array.dtype.kind == "f":
        return Sqrt()._call1(x)
    return Sqrt()(as_float(x))


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0, as PyTorch)."""

    label = "abs"

    def forward(self, x):
        xp = _xp(x)
        self.sign = xp.sign(x)
        return xp.abs(x)

    def backward(self, gy):
        return gy * self.sign


def abs_(x):
    return Abs()(x)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 − y²."""

    label = "tanh"

    def forward(self, x):
        xp = _HOST_XP if x.__class__ is _HOST_ARRAY else _array_module(x)   # _xp(x), inlined
        y = xp.tanh(x)
        self._saved = (y,)   # save_for_backward(y), written out
        return y

    new_grads = True

    def backward(self, gy):
        if not STATE.grad_enabled:
            y, = self.saved_arrays
            host32 = y.dtype is _FLOAT32 and y.__class__ is _HOST_ARRAY  # _constant's common case
            one = _ONE32 if host32 else _constant(_ONE, 1, y)
            g = gy.array * (one - y * y)
            return plain(g) if g.__class__ is y.__class__ else _array_grad(g, y)   # 0-d: a scalar
        y, = self.saved_tensors
        return gy * (1 - y * y)


def tanh(x):
    if isinstance(x, Tensor) and x.array.dtype.kind == "f":
        return Tanh()._call1(x)
    return Tanh()(as_float(x))


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ);  dy/dx = y (1 − y)."""

    label = "σ"

    new_grads = True

    def forward(self, x):
        host = x.__class__ is _HOST_ARRAY
        half = _HALF32 if host and x.dtype is _FLOAT32 else _constant(_HALF, 0.5, x)
        xp = _HOST_XP if host else _array_module(x)   # _xp(x), inlined
        y = xp.tanh(x * half)      # tanh form: stable for large |x|, no overflow warning
        if y.size > 1024:          # in place: no new arrays (few elements: out of place is faster)
            y *= half
            y += half
        else:
            y = y * half + half
        self._saved = (y,)   # save_for_backward(y), written out
        return y

    def backward(self, gy):
        if not STATE.grad_enabled:
            y, = self.saved_arrays
            host32 = y.dtype is _FLOAT32 and y.__class__ is _HOST_ARRAY  # _constant's common case
            one = _ONE32 if host32 else _constant(_ONE, 1, y)
            g = gy.array * y * (one - y)
            return plain(g) if g.__class__ is y.__class__ else _array_grad(g, y)   # 0-d: a scalar
        y, = self.saved_tensors
        return gy * y * (1 - y)


def sigmoid(x):
    if isinstance(x, Tensor) and x.array.dtype.kind == "f":
        return Sigmoid()._call1(x)
    return Sigmoid()(as_float(x))


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""

    label = "relu"

    def forward(self, x):
        y = _xp(x).maximum(x, 0)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        y, = self.saved_tensors
        return gy * (y.array > 0)


def relu(x):
    return ReLU()(x)


class Clamp(Function):
    """y = min(max(x, low), high);  dy/dx = 1 inside [low, high], 0 outside."""

    label = "clamp"

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        xp = _xp(x)
        y = xp.clip(x, self.low, self.high)
        self.inside = (y == x)
        return y

    def backward(self, gy):
        return gy * self.inside


def clamp(x, min=None, max=None):  # noqa: A002 - torch's argument names
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not isinstance(bound, (int, float)):
            raise TypeError(f"clamp: {name} must be a number, got {name}={bound!r}")
    return Clamp(min, max)(x)


class Where(Function):
    """y = x where condition else other; the gradient goes to whichever was chosen."""

    label = "where"

    def __init__(self, condition):
        self.condition = condition

    def forward(self, x, other):
        x, other = promote(x, other)
        self.s0, self.s1 = getattr(x, "shape", ()), getattr(other, "shape", ())
        return _xp(self.condition).where(self.condition, x, other)

    def backward(self, gy):
        p0, p1 = self.parents
        gx0 = sum_to(gy * self.condition, self.s0) if p0 else None
        gx1 = sum_to(gy * ~self.condition, self.s1) if p1 else None
        return gx0, gx1


def where(condition, x, other):
    """Elementwise choice: ``x`` where ``condition`` is true, else ``other``."""
    condition = condition.array if isinstance(condition, Tensor) else backend.as_array(condition)
    if condition.dtype != backend.bool_:
        condition = condition != 0
    return Where(condition)(x, other)


def masked_fill(x, mask, value):
    """``x`` with ``value`` where the bool ``mask`` (broadcast to x's shape) is true, as
    ``torch.masked_fill``: how attention hides positions before its softmax
    (``scores.masked_fill(~valid, float("-inf"))``). The gradient reaches x where the mask is
    false; ``value`` is cast to x's dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"masked_fill: input must be a Tensor, got {type(x).__name__}")
    condition = mask.array if isinstance(mask, Tensor) else backend.as_array(mask)
    if condition.dtype != backend.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor (e.g. x > 0), got dtype "
                        f"{condition.dtype}")
    if not _broadcasts_to(tuple(condition.shape), tuple(x.shape)):
        raise ValueError(f"masked_fill: mask of shape {tuple(condition.shape)} does not "
                         f"broadcast to the input's shape {tuple(x.shape)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got a "
                             f"tensor of shape {tuple(value.shape)}")
        value = value.item()
    if not isinstance(value, (int, float, bool)):
        raise TypeError(f"masked_fill: value must be a number, got {type(value).__name__}")
    filler = _xp(x.array).asarray(value, dtype=x.dtype)   # x's dtype, as PyTorch casts it
    return Where(condition)(filler, x)


class _Extremum(Function):
    """The larger (``Maximum``) or smaller (``Minimum``) of two tensors, element by element,
    broadcast; the gradient goes to the one chosen, split evenly on a tie (as PyTorch)."""

    pick = None

    def forward(self, a, b):
        a, b = promote(a, b)
        self.s0, self.s1 = getattr(a, "shape", ()), getattr(b, "shape", ())
        xp = _xp(a if backend.is_array(a) else b)
        first = (a > b) if self.pick == "maximum" else (a < b)
        tie = a == b
        dtype = xp.result_type(a, b)
        self.w0 = first.astype(dtype) + tie.astype(dtype) * dtype.type(0.5)
        return getattr(xp, self.pick)(a, b)

    def backward(self, gy):
        p0, p1 = self.parents
        gx0 = sum_to(gy * self.w0, self.s0) if p0 else None
        gx1 = sum_to(gy * (1 - self.w0), self.s1) if p1 else None
        return gx0, gx1


class Maximum(_Extremum):
    label = "maximum"
    pick = "maximum"


class Minimum(_Extremum):
    label = "minimum"
    pick = "minimum"


def maximum(input, other):  # noqa: A002 - torch's argument names
    """max(input, other) element by element (``torch.maximum``)."""
    return Maximum()(input, other)


def minimum(input, other):  # noqa: A002 - torch's argument names
    """min(input, other) element by element (``torch.minimum``)."""
    return Minimum()(input, other)


class AsType(Function):
    """A dtype conversion; the gradient is converted back."""

    label = "astype"

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        if self.in_dtype.kind != "f":
            return None
        return astype(gy, self.in_dtype)


def astype(x, dtype):
    dtype = backend.as_dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype.kind != "f":  # integer / bool results carry no gradient (as PyTorch)
        return plain(x.array.astype(dtype))
    return AsType(dtype)(x)
