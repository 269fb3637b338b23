"""Ordering along a dimension: ``sort``, ``argsort``, ``topk``, ``argmin`` (as PyTorch).

The values ``sort`` and ``topk`` return are elements of x picked by index along ``dim``:

    y[..., j, ...] = x[..., idx[..., j, ...], ...]

so the gradient puts each gy element back where it was picked from and zeros elsewhere
(``TakeAlongDimGrad``); the backward of that scatter is the same gather again, so second
derivatives work too.
"""
from __future__ import annotations

from collections import namedtuple

from .. import backend
from ..function import Function
from ..tensor import Tensor, plain
from .shape import _normalize_dim

values_indices = namedtuple("values_indices", ["values", "indices"])


def _xp(x):
    return backend.get_array_module(x)


class TakeAlongDim(Function):
    """y = x picked at ``indices`` along ``dim``;  dx = gy scattered back to those places."""

    label = "take_along_dim"

    def __init__(self, indices, dim):
        self.indices, self.dim = indices, dim

    def forward(self, x):
        self.in_shape = x.shape
        return _xp(x).take_along_axis(x, self.indices, axis=self.dim)

    def backward(self, gy):
        return TakeAlongDimGrad(self.indices, self.dim, self.in_shape)(gy)


class TakeAlongDimGrad(Function):
    """gx = zeros(in_shape) with gy added at ``indices`` along ``dim``; its backward gathers."""

    label = "take_along_dim_grad"

    def __init__(self, indices, dim, shape):
        self.indices, self.dim, self.shape = indices, dim, shape

    def forward(self, gy):
        xp = _xp(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        where = list(xp.ix_(*[xp.arange(n) for n in self.indices.shape]))
        where[self.dim] = self.indices   # sort/topk indices are distinct along dim
        gx[tuple(where)] = gy            # (index arrays work alike on NumPy and CuPy)
        return gx

    def backward(self, ggx):
        return TakeAlongDim(self.indices, self.dim)(ggx)


def _check_tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")


def _order(x, dim, descending):
    """Indices that sort x along ``dim`` (stable, so equal values keep their order)."""
    data = x.array
    if x.ndim == 0:
        return _xp(data).zeros((), dtype=backend.int64)
    key = -data if descending and data.dtype.kind != "b" else data
    order = _xp(data).argsort(key, axis=dim, kind="stable")
    if descending and data.dtype.kind == "b":
        order = _xp(data).flip(order, axis=dim)
    return order.astype(backend.int64, copy=False)


def _gather(x, order, dim):
    if x.ndim == 0:
        return x, plain(order)
    values = TakeAlongDim(order, dim)(x)
    return values, plain(order)


def sort(x, dim=-1, descending=False, stable=False):
    """``(values, indices)``: x sorted along ``dim`` (ascending unless ``descending``)."""
    _check_tensor(x, "sort")
    dim = _normalize_dim(dim, max(x.ndim, 1), "sort")
    return values_indices(*_gather(x, _order(x, dim, descending), dim))


def argsort(x, dim=-1, descending=False, stable=False):
    """The indices ``sort`` would return (no gradient)."""
    _check_tensor(x, "argsort")
    dim = _normalize_dim(dim, max(x.ndim, 1), "argsort")
    return plain(_order(x, dim, descending))


def topk(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch's argument name
    """``(values, indices)`` of the ``k`` largest (or smallest) elements along ``dim``."""
    _check_tensor(x, "topk")
    dim = _normalize_dim(dim, max(x.ndim, 1), "topk")
    length = x.shape[dim] if x.ndim else 1
    if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= length:
        raise ValueError(f"topk: k must be an integer in [0, {length}] (the size of dim {dim}), "
                         f"got k={k!r}")
    order = _order(x, dim, descending=largest)
    if x.ndim:
        order = order[(slice(None),) * dim + (slice(0, k),)]
    return values_indices(*_gather(x, order, dim))


def argmin(x, dim=None, keepdim=False):
    """Index of the smallest element (no gradient)."""
    _check_tensor(x, "argmin")
    data = x.array
    if dim is None:
        return plain(backend.wrap_scalar(data.argmin(), data))
    dim = _normalize_dim(dim, max(x.ndim, 1), "argmin")
    indices = data.argmin(axis=dim)
    if keepdim:
        indices = _xp(data).expand_dims(indices, dim)
    return plain(backend.wrap_scalar(indices, data))

