"""Negative log-likelihood of class indices: ``nll_loss`` (PyTorch's, paired with ``log_softmax``).

    loss_n = −w[t_n] · logp[n, t_n]          (t_n the target class, w optional class weights)
    mean:  Σ_n loss_n / Σ_n w[t_n]           (targets equal to ignore_index are left out)

It is built from ``TakeAlongDim`` (picks logp[n, t_n]; its backward puts gy back at t_n), so
its gradient −w[t_n] / Σ w at the target class and 0 elsewhere comes from that op, and the
loss can be differentiated twice.
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor, plain
from .sorting import TakeAlongDim

REDUCTIONS = ("mean", "sum", "none")


def class_target(op, logits, target, ignore_index):
    """Check ``target`` holds one class index per row of ``logits`` (N, C, d1, ...); its array."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(logits).__name__}")
    target = target.array if isinstance(target, Tensor) else backend.as_array(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices (int64), got dtype "
                        f"{target.dtype}")
    if logits.ndim < 1 or logits.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a float tensor of shape (N, C, ...), got shape "
                        f"{tuple(logits.shape)} and dtype {logits.dtype}")
    expected = (logits.shape[0],) + tuple(logits.shape[2:]) if logits.ndim > 1 else ()
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: input of shape {tuple(logits.shape)} needs a target of shape "
                         f"{expected}, got target of shape {tuple(target.shape)}")
    classes = logits.shape[1] if logits.ndim > 1 else logits.shape[0]
    kept = target[target != ignore_index]
    if kept.size and (int(kept.min()) < 0 or int(kept.max()) >= classes):
        bad = int(kept.max()) if int(kept.max()) >= classes else int(kept.min())
        raise IndexError(f"{op}: target value {bad} is out of range for {classes} classes "
                         f"(valid: 0..{classes - 1}, or ignore_index={ignore_index})")
    return target


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    """Mean (or summed, or per-element) −input[n, target[n]].

    Args:
        input: (N, C) or (N, C, d1, ...) log-probabilities (e.g. ``log_softmax(x, 1)``), or (C,).
        target: (N,) or (N, d1, ...) int64 class indices, or () for a (C,) input.
        weight: optional (C,) tensor of class weights.
        reduction: "mean" (weighted, over non-ignored elements), "sum" or "none".
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"nll_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    target = class_target("nll_loss", input, target, ignore_index)
    if input.ndim == 1:
        input, target = input.unsqueeze(0), target.reshape(1)
        if reduction == "none":
            reduction = "none_scalar"
    xp = backend.get_array_module(input.array)
    keep = target != ignore_index
    safe = xp.where(keep, target, 0)
    picked = TakeAlongDim(xp.expand_dims(safe, 1), 1)(input).squeeze(1)
    w = keep.astype(input.dtype)
    if weight is not None:
        weight = weight.array if isinstance(weight, Tensor) else backend.as_array(weight)
        if tuple(weight.shape) != (input.shape[1],):
            raise ValueError(f"nll_loss: weight must have shape ({input.shape[1]},) (one per "
                             f"class), got shape {tuple(weight.shape)}")
        w = w * weight.astype(input.dtype)[safe]
    losses = -picked * plain(w)
    if reduction == "none":
        return losses
    if reduction == "none_scalar":
        return losses.reshape(())
    total = losses.sum()
    return total if reduction == "sum" else total / total.dtype.type(w.sum())
