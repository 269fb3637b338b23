"""Inverted dropout (``nn.Dropout``, ``F.dropout``): a random mask, scaled so the
expected value is unchanged."""
from __future__ import annotations

from .. import backend
from ..function import Function


def _xp(x):
    return backend.get_array_module(x)


class Dropout(Function):
    """Inverted dropout: y = x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p); dL/dx = gy ⊙ m / (1 − p)."""

    label = "dropout"

    def __init__(self, p):
        self.p = p

    def forward(self, x):
        xp = _xp(x)
        keep = backend.random_uniform(x.shape, x.dtype, xp=xp) >= self.p
        mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))
        self.save_for_backward(mask)
        return x * mask

    def backward(self, gy):
        mask, = self.saved_tensors
        return gy * mask
