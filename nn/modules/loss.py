"""Loss modules (``nn.NLLLoss``, ``nn.CrossEntropyLoss``, ``nn.MSELoss``, ``nn.BCELoss``,
``nn.BCEWithLogitsLoss``): the functional losses with their options fixed at construction,
as in PyTorch."""
from __future__ import annotations

from .. import functional as F
from .module import Module


class NLLLoss(Module):
    """−input[n, target[n]] averaged over n: pair it with ``LogSoftmax(dim=1)``."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__()
        self.weight, self.ignore_index = weight, ignore_index
        self.reduction = F.check_reduction("NLLLoss", reduction)

    def forward(self, input, target):  # noqa: A002 - torch's argument name
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(Module):
    """``nll_loss(log_softmax(logits, 1), target)`` in one node."""

    def __init__(self, ignore_index=-100, reduction="mean"):
        super().__init__()
        self.ignore_index = ignore_index
        self.reduction = F.check_reduction("CrossEntropyLoss", reduction)

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(input, target, self.ignore_index, self.reduction)


class MSELoss(Module):
    """Mean of (input − target)²."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = F.check_reduction("MSELoss", reduction)

    def forward(self, input, target):  # noqa: A002
        return F.mse_loss(input, target, self.reduction)


class BCELoss(Module):
    """−w · (y log x + (1 − y) log(1 − x)) for probabilities x (``F.binary_cross_entropy``):
    pair it with ``Sigmoid``, or better use ``BCEWithLogitsLoss`` on the logits.
    ``weight`` is a buffer, as in PyTorch (moved by ``.to()``, kept in the state dict)."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__()
        self.register_buffer("weight", weight)
        self.reduction = F.check_reduction("BCELoss", reduction)

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(Module):
    """``Sigmoid`` + ``BCELoss`` in one stable formula (``F.binary_cross_entropy_with_logits``).
    ``pos_weight`` (one value per class, broadcast along the last dim) weights the positive
    targets; ``weight`` and ``pos_weight`` are buffers, as in PyTorch."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = F.check_reduction("BCEWithLogitsLoss", reduction)

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)
