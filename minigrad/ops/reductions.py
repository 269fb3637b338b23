"""Reductions over all elements or along ``dim`` (an int or a tuple), with ``keepdim``."""
from __future__ import annotations

import builtins
from collections import namedtuple

from .. import backend
from ..function import Function
from ..grad_mode import STATE
from ..tensor import Tensor, plain
from .elementwise import maximum, minimum, where
from .indexing import flip
from .shape import _normalize_dim, broadcast_to, reshape

values_indices = namedtuple("values_indices", ["values", "indices"])


def _axes(dim, ndim, op):
    """Normalise ``dim`` (None, int or tuple) to a tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = []
    for d in dims:
        if not isinstance(d, int) or isinstance(d, bool):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got dim={dim!r}")
        bound = builtins.max(ndim, 1)
        if not -bound <= d < bound:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions")
        axes.append(d % bound)
    return tuple(sorted(set(axes))) if ndim else ()


def _keepdim_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(Function):
    """y = Σ x over ``axes``; the gradient is gy copied back to every summed element."""

    label = "sum"

    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        self.in_shape = x.shape
        return backend.wrap_scalar(x.sum(axis=self.axes, keepdims=self.keepdim), x)

    def backward(self, gy):
        if not self.keepdim:
            gy = reshape(gy, _keepdim_shape(self.in_shape, self.axes))
        return broadcast_to(gy, self.in_shape)


def sum(x, dim=None, keepdim=False):  # noqa: A001 - mirrors torch.sum
    if not isinstance(x, Tensor):
        x = Tensor(x)
    return Sum(_axes(dim, x.ndim, "sum"), keepdim)(x)


def mean(x, dim=None, keepdim=False):
    """Σ x / n over ``dim``."""
    if x.dtype.kind != "f":
        raise TypeError(f"mean: needs a floating point tensor, got dtype {x.dtype}")
    axes = _axes(dim, x.ndim, "mean")
    count = 1
    for a in axes:
        count *= x.shape[a]
    return Sum(axes, keepdim)(x) / count


def var(x, dim=None, keepdim=False, unbiased=True):
    """Σ (x − mean)² / (n − 1) (or / n when ``unbiased=False``)."""
    axes = _axes(dim, x.ndim, "var")
    count = 1
    for a in axes:
        count *= x.shape[a]
    centred = x - mean(x, axes, keepdim=True)
    return sum(centred * centred, axes, keepdim) / (count - 1 if unbiased else count)


class Norm(Function):
    """The Euclidean (Frobenius) norm over ``axes``: ‖x‖ = √(Σ x²);

        d‖x‖/dx = x / ‖x‖,   and 0 where ‖x‖ = 0 (PyTorch's subgradient there).

    The backward recomputes ‖x‖ from x with tensor ops when a graph of the gradient is
    wanted, so the norm differentiates twice (gradient penalties, ``create_graph=True``)."""

    label = "‖·‖"

    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        xp = backend.get_array_module(x)
        kept = xp.sqrt((x * x).sum(axis=self.axes, keepdims=True))
        self.save_for_backward(x)
        self.kept = kept
        shape = kept.shape if self.keepdim else _reduced_shape(x.shape, self.axes)
        return backend.wrap_scalar(kept.reshape(shape), x)

    def backward(self, gy):
        x, = self.saved_tensors
        kept_shape = self.kept.shape
        if not STATE.grad_enabled:        # on arrays: no graph of the gradient wanted
            n = self.kept
            safe = backend.get_array_module(n).where(n == 0, n.dtype.type(1), n)
            return plain(x.array * (gy.array.reshape(kept_shape) / safe))
        n = sum(x * x, self.axes, keepdim=True).sqrt()
        return x * (reshape(gy, kept_shape) / where(n.array != 0, n, 1.0))


def _reduced_shape(shape, axes):
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def norm(x, p="fro", dim=None, keepdim=False):
    """‖x‖ over ``dim`` (all elements when None), as ``torch.norm``: ``p`` = "fro" or 2 the
    Euclidean norm √(Σ x²), 1 the sum of |x|, ``float("inf")`` the largest |x|."""
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        raise TypeError(f"norm: needs a floating point Tensor, got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    axes = _axes(dim, x.ndim, "norm")
    if p in ("fro", 2):
        return Norm(axes, keepdim)(x)
    if p == 1:
        return sum(x.abs(), axes, keepdim)
    if p == float("inf"):
        return Max(axes, keepdim)(x.abs())
    raise ValueError(f"norm: p={p!r} is not supported; expected 'fro', 2, 1 or float('inf')")


class _Extreme(Function):
    """Max or min along axes; the gradient goes to the element(s) that were chosen
    (split evenly between ties)."""

    reduce = None

    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"{self.label}: cannot reduce an empty tensor of shape {tuple(x.shape)}")
        y = getattr(x, self.reduce)(axis=self.axes, keepdims=True)
        chosen = (x == y)
        self.weights = chosen / chosen.sum(axis=self.axes, keepdims=True)
        self.in_shape = x.shape
        if not self.keepdim:
            y = y.reshape(_reduced_shape(x.shape, self.axes))
        return backend.wrap_scalar(y, x)

    def backward(self, gy):
        if not self.keepdim:
            gy = reshape(gy, _keepdim_shape(self.in_shape, self.axes))
        return broadcast_to(gy, self.in_shape) * self.weights.astype(gy.dtype, copy=False)


class Max(_Extreme):
    label = "max"
    reduce = "max"


class Min(_Extreme):
    label = "min"
    reduce = "min"


def _extreme(op, x, dim, keepdim):
    axes = _axes(dim, x.ndim, op.label)
    values = op(axes, keepdim)(x)
    if dim is None or isinstance(dim, (tuple, list)):
        return values
    indices = getattr(x.array, "arg" + op.reduce)(axis=axes[0] if x.ndim else None)
    if keepdim:
        indices = backend.get_array_module(x.array).expand_dims(indices, axes[0])
    return values_indices(values, plain(backend.wrap_scalar(indices, x.array)))


def max(x, dim=None, keepdim=False):  # noqa: A001 - mirrors torch.max
    """The largest element; with ``dim`` an int, ``(values, indices)`` as torch.max; with a
    tensor in ``dim``'s place, ``torch.max(a, b)``: the element-by-element ``maximum``."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    return _extreme(Max, x, dim, keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001 - mirrors torch.min
    """The smallest element; with ``dim`` an int, ``(values, indices)`` as torch.min."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    return _extreme(Min, x, dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    """Index of the largest element (no gradient)."""
    data = x.array
    if dim is None:
        return plain(backend.wrap_scalar(data.argmax(), data))
    indices = data.argmax(axis=dim)
    if keepdim:
        indices = backend.get_array_module(data).expand_dims(indices, dim)
    return plain(backend.wrap_scalar(indices, data))



def std(x, dim=None, keepdim=False, unbiased=True):
    """√var: the standard deviation over ``dim`` (``unbiased``: divide by n − 1)."""
    return var(x, dim, keepdim, unbiased).sqrt()


def _truth(name, x, dim, keepdim):
    array = x.array if isinstance(x, Tensor) else backend.as_array(x)
    axes = _axes(dim, array.ndim, name)
    return plain(backend.wrap_scalar(getattr(array, name)(axis=axes, keepdims=keepdim), array))


def any(x, dim=None, keepdim=False):  # noqa: A001 - mirrors torch.any
    """Is any element true (non-zero) over ``dim``? A bool tensor, no gradient."""
    return _truth("any", x, dim, keepdim)


def all(x, dim=None, keepdim=False):  # noqa: A001 - mirrors torch.all
    """Are all elements true (non-zero) over ``dim``? A bool tensor, no gradient."""
    return _truth("all", x, dim, keepdim)


class CumSum(Function):
    """y_i = Σ_{j ≤ i} x_j along ``dim``;  dL/dx_j = Σ_{i ≥ j} gy_i, the cumulative sum of
    gy taken from the other end."""

    label = "cumsum"

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return x.cumsum(axis=self.dim)

    def backward(self, gy):
        return flip(cumsum(flip(gy, self.dim), self.dim), self.dim)


def cumsum(x, dim):
    """The running sum along ``dim``, as ``torch.cumsum``."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    return CumSum(_normalize_dim(dim, x.ndim, "cumsum"))(x)
