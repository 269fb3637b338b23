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


class LeakyReLU(Module):
    """y = x for x > 0, negative_slope · x otherwise (``F.leaky_relu``)."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = F.checked_number("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """y = x·Φ(x) = ½ x (1 + erf(x/√2)) (``F.gelu``); ``approximate='tanh'``:
    ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = F.check_gelu_approximate("GELU", approximate)

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Identity(Module):
    """y = x: a placeholder layer (``model.fc = nn.Identity()`` drops a classifier head and
    keeps the features). Any constructor arguments are accepted and ignored, as in PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):  # noqa: A002 - torch's argument name
        return input
