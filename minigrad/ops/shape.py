"""Shape operations: the data is rearranged, never changed, so each backward undoes its forward.

Inside a plain ``backward()`` (no graph of the gradient wanted, ``STATE.grad_enabled`` is
False) the backward of a reshape, a permute and a broadcast works on the arrays directly:
the same NumPy call the Tensor op would make, without a graph node per gradient.
"""
from __future__ import annotations

from .. import backend
from ..function import Function
from ..grad_mode import STATE
from ..tensor import Tensor, plain


def _normalize_dim(dim, ndim, op):
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got dim={dim!r}")
    if not -ndim - 1 < dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % max(ndim, 1)


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    label = "reshape"

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} "
                             f"({x.size} elements) into shape {self.shape}") from None

    def backward(self, gy):
        if not STATE.grad_enabled and gy.__class__ is Tensor:
            if gy.array.shape == self.in_shape:
                return gy
            return _array_view(gy.array.reshape(self.in_shape), gy)
        return reshape(gy, self.in_shape)


def _array_view(array, base):
    """What a shape op gives when nothing is recorded: a Tensor of ``array`` (a view of
    ``base``'s array) sharing ``base``'s version counter."""
    return plain(array)._as_view_of(base)


def reshape(x, *shape):
    """``x`` with a new shape holding the same elements (one size may be -1)."""
    shape = _shape_args(shape)
    if tuple(x.shape) == shape:
        return x
    unknown = 0
    for s in shape:                      # plain ints >= -1 (the usual case), at most one -1
        if s.__class__ is not int or s < 0:
            if s.__class__ is int and s == -1:
                unknown += 1
            elif not isinstance(s, int) or isinstance(s, bool) or s < -1:
                unknown = 2
    if unknown > 1:
        raise ValueError(f"reshape: shape must be integers >= 0 with at most one -1, got shape "
                         f"{shape}")
    return Reshape(shape)(x)._as_view_of(x)


def flatten(x, start_dim=0, end_dim=-1):
    shape = tuple(x.shape)
    if not shape:
        return reshape(x, 1)
    start, end = start_dim % len(shape), end_dim % len(shape)
    size = 1
    for s in shape[start:end + 1]:
        size *= s
    return reshape(x, shape[:start] + (size,) + shape[end + 1:])


class Permute(Function):
    label = "permute"

    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, gy):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        if not STATE.grad_enabled and gy.__class__ is Tensor:
            return _array_view(gy.array.transpose(inverse), gy)
        return permute(gy, tuple(inverse))


def permute(x, *dims):
    dims = _shape_args(dims)
    ndim = x.ndim
    identity = tuple(range(ndim))
    normalized = tuple([d % max(ndim, 1) for d in dims])
    if len(dims) != ndim or tuple(sorted(normalized)) != identity:
        raise ValueError(f"permute: dims {dims} are not a permutation of the {ndim} dimensions "
                         f"of a tensor of shape {tuple(x.shape)}")
    if normalized == identity:
        return x
    return Permute(normalized)(x)._as_view_of(x)


def transpose(x, dim0, dim1):
    """Swap two dimensions."""
    ndim = x.ndim
    dim0, dim1 = _normalize_dim(dim0, ndim, "transpose"), _normalize_dim(dim1, ndim, "transpose")
    dims = list(range(ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return permute(x, tuple(dims))


def squeeze(x, dim=None):
    shape = tuple(x.shape)
    if dim is None:
        return reshape(x, tuple(s for s in shape if s != 1))
    dim = _normalize_dim(dim, len(shape), "squeeze")
    if shape[dim] != 1:
        return x
    return reshape(x, shape[:dim] + shape[dim + 1:])


def unsqueeze(x, dim):
    shape = tuple(x.shape)
    dim = _normalize_dim(dim, len(shape) + 1, "unsqueeze")
    return reshape(x, shape[:dim] + (1,) + shape[dim:])


class BroadcastTo(Function):
    """Repeat along broadcast dimensions; backward sums them back (``SumTo``)."""

    label = "expand"

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        xp = backend.get_array_module(x)
        try:
            return xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"expand: a tensor of shape {tuple(x.shape)} cannot be expanded "
                             f"to shape {self.shape}") from None

    def backward(self, gy):
        return sum_to(gy, self.in_shape)


def broadcast_to(x, shape):
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    return BroadcastTo(shape)(x)._as_view_of(x)


def expand(x, *sizes):
    """Broadcast to ``sizes`` (-1 keeps a dimension's size), as ``torch.Tensor.expand``."""
    sizes = _shape_args(sizes)
    lead = len(sizes) - x.ndim
    for i, s in enumerate(sizes):
        if not isinstance(s, int) or isinstance(s, bool) or s < -1:
            raise ValueError(f"expand: sizes must be non-negative integers or -1, got size {s!r} "
                             f"at position {i} of sizes {sizes}")
    if lead < 0:
        raise ValueError(f"expand: sizes {sizes} have fewer dimensions than the tensor's shape "
                         f"{tuple(x.shape)}")
    if -1 in sizes[:lead]:
        raise ValueError(f"expand: size -1 is not allowed in a new leading dimension "
                         f"(position {sizes.index(-1)} of sizes {sizes} for a tensor of shape "
                         f"{tuple(x.shape)})")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


class SumTo(Function):
    """Sum a broadcast gradient back to the shape of the input it came from."""

    label = "sum_to"

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return _summed_to(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)


def _summed_to(x, shape):
    """The array ``x`` summed over its broadcast dimensions down to ``shape``."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1)
    y = x.sum(axis=axes, keepdims=True) if axes else x
    if lead:
        y = y.reshape(shape)
    return y


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the reverse of broadcasting)."""
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    if not STATE.grad_enabled and x.__class__ is Tensor:   # nothing to record: on the array
        try:
            return plain(_summed_to(x.array, shape))
        except (ValueError, IndexError):
            pass                                           # the op's call names the error
    return SumTo(shape)(x)


def repeat(x, *sizes):
    """``x`` tiled ``sizes[d]`` times along each dimension, as ``torch.Tensor.repeat``
    (more sizes than dimensions add leading ones): out[i] = x[i mod n]. Built of a reshape,
    an expand and a reshape, so the gradient sums the copies back."""
    sizes = _shape_args(sizes)
    if len(sizes) < x.ndim or any(not isinstance(r, int) or isinstance(r, bool) or r < 0
                                  for r in sizes):
        raise ValueError(f"repeat: needs a non-negative count for each of the {x.ndim} "
                         f"dimensions (or more), got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    pairs = [n for s in shape for n in (1, s)]                     # (1, s0, 1, s1, ...)
    tiles = [n for r, s in zip(sizes, shape) for n in (r, s)]      # (r0, s0, r1, s1, ...)
    return reshape(expand(reshape(x, *pairs), *tiles), *[r * s for r, s in zip(sizes, shape)])
