"""Moving a tensor between devices; the gradient moves back."""
from __future__ import annotations

from .. import backend
from ..function import Function


class ToDevice(Function):
    label = "to"

    def __init__(self, device):
        self.device = device

    def forward(self, x):
        self.source = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return to_device(gy, self.source)

    def name(self):
        return f"to({self.device})"


def to_device(x, device):
    backend.parse_device(device)
    return ToDevice(str(device))(x)
