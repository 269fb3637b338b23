"""``x[index]`` with ints, slices, ``None``, ``...``, integer arrays and boolean masks.

The gradient of a selection scatters back into a zero tensor of the input's shape;
an element picked twice (``x[[0, 0]]``) receives both gradients.
"""
from __future__ import annotations

from .. import backend
from ..function import Function
from ..function import _raise_modified
from ..tensor import Tensor
from .shape import _normalize_dim


def _index_arrays(index, like=None):
    """Replace Tensors and lists inside an index by backend arrays (on ``like``'s device)."""
    if isinstance(index, tuple):
        return tuple(_index_arrays(i, like) for i in index)
    if isinstance(index, Tensor):
        index = index.array
    elif isinstance(index, list):
        index = backend.as_array(index)
    else:
        return index
    return index if like is None else backend.to_device(index, backend.device_of(like))


def _is_advanced(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(backend.is_array(i) and i.dtype != backend.bool_ for i in items)


class GetItem(Function):
    label = "[]"

    def __init__(self, index, index_tensors=()):
        self.index = index
        # integer index Tensors and their versions, checked at backward like saved tensors
        self.index_versions = [(t, t._version) for t in index_tensors]

    def forward(self, x):
        self.in_shape = x.shape
        try:
            y = x[self.index]
        except IndexError as error:
            raise IndexError(f"index {_describe(self.index)} is out of range for a tensor of "
                             f"shape {tuple(x.shape)}: {error}") from None
        if not backend.is_array(y):
            y = backend.wrap_scalar(y, x)
        return y

    def backward(self, gy):
        for tensor, version in self.index_versions:
            if tensor._version != version:
                _raise_modified(self, tensor, version)
        return GetItemGrad(self.index, self.in_shape)(gy)

    def name(self):
        return f"getitem[{_describe(self.index)}]"


class GetItemGrad(Function):
    """Scatter ``gy`` into zeros of the input's shape (the backward of ``GetItem``)."""

    label = "scatter"

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, gy):
        xp = backend.get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _is_advanced(self.index):
            backend.scatter_add(gx, self.index, gy)
        else:
            gx[self.index] = gy
        return gx

    def backward(self, ggx):
        return GetItem(self.index)(ggx)


def getitem(x, index):
    items = index if isinstance(index, tuple) else (index,)
    index_tensors = [i for i in items if isinstance(i, Tensor)]
    index = _index_arrays(index, x.array)
    y = GetItem(index, index_tensors)(x)
    if not _has_arrays(index):
        y._as_view_of(x)  # basic indexing (ints, slices, None, ...) gives a view of x's array
    return y


def _has_arrays(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(backend.is_array(i) for i in items)


def _describe(index):
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for i in items:
        if backend.is_array(i):
            if i.dtype == backend.bool_:
                parts.append(f"<mask {tuple(i.shape)}>")
            elif i.size <= 6:
                parts.append(str(backend.to_host(i).tolist()))
            else:
                parts.append(f"<indices {tuple(i.shape)}, max {int(i.max())}>")
        elif isinstance(i, slice):
            parts.append(":" if i == slice(None) else
                         f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
                         + ("" if i.step is None else f":{i.step}"))
        else:
            parts.append(repr(i))
    return ", ".join(parts)


def flip(x, dims):
    """``x`` with the order of its elements reversed along each of ``dims``, as ``torch.flip``
    (a sequence read backwards, t = T−1 … 0); the gradient is flipped back."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    index = [slice(None)] * x.ndim
    for d in dims:
        if not isinstance(d, int) or isinstance(d, bool) or not -x.ndim <= d < x.ndim:
            raise IndexError(f"flip: dim {d!r} is out of range for a tensor with {x.ndim} dimensions")
        index[d % x.ndim] = slice(None, None, -1)
    return getitem(x, tuple(index))


def gather(x, dim, index):
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` (for dim = 1), as ``torch.gather``: pick one
    element along ``dim`` per position of ``index`` (e.g. each step's log-probability of
    its target). An advanced index, so the gradient scatters back and repeats add up."""
    idx = index.array if isinstance(index, Tensor) else backend.as_array(index)
    if idx.dtype.kind not in "iu" or idx.ndim != x.ndim:
        raise ValueError(f"gather: index must be an integer tensor with as many dimensions as the "
                         f"input ({x.ndim}), got dtype {idx.dtype} and shape {tuple(idx.shape)}")
    dim = _normalize_dim(dim, x.ndim, "gather")
    if any(i > s for d, (i, s) in enumerate(zip(idx.shape, x.shape)) if d != dim):
        raise ValueError(f"gather: index of shape {tuple(idx.shape)} is larger than the input "
                         f"{tuple(x.shape)} outside dim {dim}")
    xp = backend.get_array_module(idx)
    coords = list(xp.meshgrid(*[xp.arange(n) for n in idx.shape], indexing="ij"))
    coords[dim] = idx
    return getitem(x, tuple(coords))


def index_select(x, dim, index):
    """The slices ``index`` (a 1-D integer tensor) of ``x`` along ``dim``, as
    ``torch.index_select``."""
    idx = index.array if isinstance(index, Tensor) else backend.as_array(index)
    if idx.dtype.kind not in "iu" or idx.ndim != 1:
        raise ValueError(f"index_select: index must be a 1-D integer tensor, got dtype "
                         f"{idx.dtype} and shape {tuple(idx.shape)}")
    return getitem(x, (slice(None),) * _normalize_dim(dim, x.ndim, "index_select") + (idx,))
