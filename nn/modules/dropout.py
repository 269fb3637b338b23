"""``Dropout``: randomly silence units while training, so none can be relied on alone."""
from __future__ import annotations

from .. import functional as F
from .arg_checks import probability
from .module import Module


class Dropout(Module):
    """Inverted dropout: y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p), in ``train()`` mode;
    the identity in ``eval()`` mode. Masks come from minigrad's generator
    (``minigrad.manual_seed`` makes them repeatable)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = probability("Dropout", "p", p)
        self.inplace = bool(inplace)      # as nn.functional.in_place says

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace=True" if self.inplace else f"p={self.p}"
