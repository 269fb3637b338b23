"""PyTorch's small shape helpers: ``clone``, ``narrow``, ``t``, ``contiguous``.

``narrow`` and ``t`` are slices and transposes (their gradients are those ops'); ``clone``
is the identity with its own storage:  y = x,  dx = gy.
"""
from __future__ import annotations

from ..function import Function
from ..tensor import Tensor
from .indexing import getitem
from .shape import _normalize_dim, transpose


class Clone(Function):
    """y = a copy of x (new storage); dy/dx = 1."""

    label = "clone"

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


def clone(x):
    return Clone()(x)


def _check_int(value, name, op):
    if isinstance(value, Tensor) and value.ndim == 0 and value.dtype.kind in "iu":
        value = int(value.item())
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    return value


def narrow(x, dim, start, length):
    """x[..., start:start + length, ...] along ``dim`` (a view, as PyTorch)."""
    dim = _normalize_dim(_check_int(dim, "dim", "narrow"), x.ndim, "narrow")
    start = _check_int(start, "start", "narrow")
    length = _check_int(length, "length", "narrow")
    size = x.shape[dim]
    if start < 0:
        start += size
    if not 0 <= start <= size:
        raise IndexError(f"narrow: start {start} is out of range for dim {dim} of size {size}")
    if length < 0 or start + length > size:
        raise ValueError(f"narrow: length {length} from start {start} exceeds dim {dim} of "
                         f"size {size}")
    return getitem(x, (slice(None),) * dim + (slice(start, start + length),))


def t(x):
    """The transpose of a matrix (a 0-d or 1-d tensor is returned as it is)."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape "
                         f"{tuple(x.shape)}; use transpose(dim0, dim1)")
    return x if x.ndim < 2 else transpose(x, 0, 1)
