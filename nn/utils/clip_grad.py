"""Gradient clipping, the guard against exploding gradients in RNNs (``nn.utils.clip_grad_norm_``).

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)   # rescale if ‖g‖ > 5
    optimizer.step()
"""
from __future__ import annotations

import math

from minigrad import backend
from minigrad.tensor import Tensor

_HOST_ARRAY = backend.NUMPY.array_type     # numpy.ndarray: the "cpu" device's arrays
_host_vdot = backend.undispatched(backend.NUMPY.xp.vdot)   # the dot product of two host arrays


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _grad_arrays(parameters):
    """The arrays of the gradients present, in the parameters' order (one pass, one list)."""
    if isinstance(parameters, Tensor):
        parameters = (parameters,)
    arrays = []
    for p in parameters:
        g = p.grad
        if g is not None:
            arrays.append(g.array)
    return arrays


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Rescale all gradients together so their joint norm is at most ``max_norm``::

        ‖g‖ = (Σ_p Σ_i |g_p,i|^k)^(1/k)      (k = norm_type; inf: max |g|)
        g ← g · min(1, max_norm / (‖g‖ + 1e-6))

    The direction of the update is kept; only its length is capped. Returns the norm
    before clipping, as a Python float.
    """
    grads = _grad_arrays(parameters)
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(backend.to_host(abs(g).max())) for g in grads)
    elif norm_type == 2.0:   # the usual case: one dot product per gradient, no temporaries
        total = math.sqrt(_sum_of_squares(grads))
    else:
        total = 0.0
        for g in grads:
            total += float(backend.to_host((abs(g) ** norm_type).sum()))
        total = total ** (1.0 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= g.dtype.type(coef)
    return total


def _sum_of_squares(grads):
    """Σ_p g_p · g_p as a Python float, added up in the parameters' order (a host array's
    dot product needs no device round trip)."""
    total = 0.0
    for g in grads:
        if type(g) is _HOST_ARRAY:
            total += float(_host_vdot(g, g))
        else:
            total += float(backend.to_host(backend.get_array_module(g).vdot(g, g)))
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [−clip_value, clip_value]."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for p in _with_grads(parameters):
        xp = backend.get_array_module(p.grad.array)
        xp.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)
