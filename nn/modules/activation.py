"""Activation functions as modules, for use inside ``Sequential``."""
from __future__ import annotations

from .. import functional as F
from .module import Module


def _implicit_dim(x):
    return 0 if x.ndim in (0, 1, 3) else 1


class Tanh(Module):
    """y = tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class ReLU(Module):
    """y = max(x, 0). ``inplace=True``: as ``nn.functional.in_place`` says (x overwritten
    where nothing is recorded; in a recorded graph a new tensor, the same values)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.relu(x, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """y = 1 / (1 + e⁻ˣ)."""

    def forward(self, x):
        return F.sigmoid(x)


class Softmax(Module):
    """y = softmax(x) along ``dim`` (``dim=None``: PyTorch's old implicit choice,
    0 for a 0-, 1- or 3-d input, else 1)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, _implicit_dim(x) if self.dim is None else self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y = log softmax(x) along ``dim`` (``dim=None``: PyTorch's old implicit choice,
    0 for a 0-, 1- or 3-d input, else 1)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, _implicit_dim(x) if self.dim is None else self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
