"""``Dropout``: randomly silence units while training, so none can be relied on alone."""
from __future__ import annotations

from .. import functional as F
from .arg_checks import probability
from .module import Module


class Dropout(Module):
    """Inverted dropout: y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p), in ``train()`` mode;
    the identity in ``eval()`` mode. Masks come from minigrad's generator
    (``minigrad.manual_seed`` makes them repeatable)."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = probability("Dropout", "p", p)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
