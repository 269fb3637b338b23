"""Softmax, log-softmax and cross-entropy, computed with the log-sum-exp trick.

    softmax(x)_i     = exp(x_i − m) / Σ_j exp(x_j − m),   m = max_j x_j
    log_softmax(x)_i = x_i − m − log Σ_j exp(x_j − m)

Subtracting the maximum changes nothing mathematically and keeps exp() from overflowing.
"""
from __future__ import annotations

from .. import backend
from ..function import Function
from ..grad_mode import STATE
from ..tensor import Tensor, plain
from .elementwise import as_float
from .shape import _normalize_dim


def _xp(x):
    return backend.get_array_module(x)


def _log_softmax_array(x, axis):
    xp = _xp(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


def _at_targets(x, target):
    """x[n, target[n], d1, ...] for x (N, C, d1, ...): each element's value at its class.
    For (N, C) an integer index pair (a few times cheaper than ``take_along_axis``, the
    same values)."""
    xp = _xp(x)
    if x.ndim == 2:
        return x[xp.arange(x.shape[0]), target]
    return xp.squeeze(xp.take_along_axis(x, xp.expand_dims(target, 1), axis=1), 1)


def _subtract_one_at_targets(g, target):
    """g[n, target[n], d1, ...] −= 1 in place (each element's class appears once per row)."""
    xp = _xp(g)
    if g.ndim == 2:
        g[xp.arange(g.shape[0]), target] -= 1
        return
    index = xp.expand_dims(target, 1)
    xp.put_along_axis(g, index, xp.take_along_axis(g, index, axis=1) - 1, axis=1)


class Softmax(Function):
    """y = softmax(x);  dL/dx = y ⊙ (gy − Σ_j gy_j y_j)."""

    label = "softmax"

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = _xp(x)
        e = xp.exp(x - x.max(axis=self.dim, keepdims=True))
        y = e / e.sum(axis=self.dim, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        y, = self.saved_tensors
        return y * (gy - (gy * y).sum(self.dim, keepdim=True))


def softmax(x, dim):
    x = as_float(x)
    return Softmax(_normalize_dim(dim, x.ndim, "softmax"))(x)


class LogSoftmax(Function):
    """y = log_softmax(x);  dL/dx = gy − exp(y) Σ_j gy_j."""

    label = "log_softmax"

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        y = _log_softmax_array(x, self.dim)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        y, = self.saved_tensors
        return gy - y.exp() * gy.sum(self.dim, keepdim=True)


def log_softmax(x, dim):
    x = as_float(x)
    return LogSoftmax(_normalize_dim(dim, x.ndim, "log_softmax"))(x)


class CrossEntropy(Function):
    """Mean (or summed, or per-element) −log softmax(logits)[target], in one node.

    logits (N, C) with target (N,), or (N, C, d1, ...) with target (N, d1, ...).
    Targets equal to ``ignore_index`` add nothing and are not counted in the mean.
    dL/dlogits = (softmax(logits) − onehot(target)) · weight, weight = 1/count per kept element.
    """

    label = "cross_entropy"

    def __init__(self, target, ignore_index, reduction, none_ignored=False):
        self.target, self.ignore_index, self.reduction = target, ignore_index, reduction
        self.none_ignored = none_ignored   # known: no target equals ignore_index

    def forward(self, logits):
        xp = _xp(logits)
        target = self.target
        logp = _log_softmax_array(logits, 1)
        if self.none_ignored:               # every element kept: the mask would be all ones
            keep, safe_target = None, target
            losses = -_at_targets(logp, target)
        else:
            keep = target != self.ignore_index
            safe_target = xp.where(keep, target, 0)
            losses = -_at_targets(logp, safe_target) * keep
        self.keep, self.safe_target = keep, safe_target
        self.save_for_backward(logits, logp)
        if self.reduction == "none":
            return losses
        total = losses.sum()
        if self.reduction == "sum":
            return backend.wrap_scalar(total, logits)
        self.count = target.size if keep is None else int(xp.count_nonzero(keep))
        return backend.wrap_scalar(total / logits.dtype.type(self.count) if self.count
                                   else total * logits.dtype.type(float("nan")), logits)

    def _weight(self, gy, dtype):
        """gy spread over the kept elements, shaped like the target."""
        keep = (_xp(self.target).ones(self.target.shape, dtype) if self.keep is None
                else self.keep.astype(dtype))
        if self.reduction == "none":
            return gy * keep
        if self.reduction == "mean" and self.count:
            keep = keep / dtype.type(self.count)
        return gy * keep

    def backward(self, gy):
        logits, logp = self.saved_tensors
        xp = _xp(logp.array)
        dtype = logp.array.dtype
        if not STATE.grad_enabled:  # plain arrays: the fast path when no graph is needed
            g = xp.exp(logp.array)
            _subtract_one_at_targets(g, self.safe_target)
            if self.keep is None and self.reduction != "none":   # one weight for every element
                g *= gy.array if self.reduction == "sum" else \
                    gy.array * (dtype.type(1) / dtype.type(self.count))
                return plain(g)
            weight = self._weight(gy.array, dtype)
            g *= weight.reshape(weight.shape[:1] + (1,) + weight.shape[1:])    # expand_dims(·, 1)
            return plain(g)
        onehot = xp.zeros(logp.shape, dtype=dtype)
        xp.put_along_axis(onehot, xp.expand_dims(self.safe_target, 1), 1, axis=1)
        weight = self._weight(gy, dtype)
        return (softmax(logits, 1) - onehot) * weight.unsqueeze(1)


def cross_entropy(logits, target, ignore_index=-100, reduction="mean"):
    """Cross-entropy loss between ``logits`` and integer class indices ``target``.

    Args:
        logits: (N, C) or (N, C, d1, ...) unnormalised scores.
        target: (N,) or (N, d1, ...) int64 class indices in [0, C), or ``ignore_index``.
        reduction: "mean" (over non-ignored elements), "sum" or "none".
    """
    target_data = target.array if isinstance(target, Tensor) else backend.as_array(target)
    if target_data.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype "
                        f"{target_data.dtype}")
    if logits.ndim < 1 or logits.dtype.kind != "f":
        raise TypeError(f"cross_entropy: logits must be a float tensor of shape (N, C, ...), got "
                        f"shape {tuple(logits.shape)} and dtype {logits.dtype}")
    if logits.ndim == 1:
        logits = logits.unsqueeze(0)
        target_data = target_data.reshape(1)
    expected = (logits.shape[0],) + tuple(logits.shape[2:])
    if tuple(target_data.shape) != expected:
        raise ValueError(f"cross_entropy: logits of shape {tuple(logits.shape)} need a target of shape "
                         f"{expected}, got {tuple(target_data.shape)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    none_ignored = _targets_in_range(target_data, logits.shape[1], ignore_index)
    return CrossEntropy(target_data, ignore_index, reduction, none_ignored)(logits)


def _targets_in_range(target, classes, ignore_index):
    """Raise unless every target is a class index or ``ignore_index``; returns True when
    no target is ``ignore_index`` (known from the range alone: the usual case, one
    reduction and no mask)."""
    if target.size and backend.indices_in_range(target, classes):
        if not 0 <= ignore_index < classes:      # then no class index can equal it
            return True
        return not int(target.min()) <= ignore_index <= int(target.max())
    kept = target[target != ignore_index]
    if kept.size and (int(kept.min()) < 0 or int(kept.max()) >= classes):
        bad = int(kept.max()) if int(kept.max()) >= classes else int(kept.min())
        raise IndexError(f"cross_entropy: target value {bad} is out of range for {classes} classes "
                         f"(valid: 0..{classes - 1}, or ignore_index={ignore_index})")
    return False
