"""``Dropout``: randomly silence units while training, so none can be relied on alone."""
from __future__ import annotations

from .. import functional as F
from .module import Module


class Dropout(Module):
    """Inverted dropout: y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p), in ``train()`` mode;
    the identity in ``eval()`` mode. Masks come from minigrad's generator
    (``minigrad.manual_seed`` makes them repeatable)."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
