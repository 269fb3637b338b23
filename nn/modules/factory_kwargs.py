"""PyTorch's factory keywords on every module: ``nn.LSTM(4, 8, dtype=minigrad.float64,
device="cuda")``. A layer builds its parameters as usual, then ``place`` converts and moves
them (checking both keywords first, so a bad one raises before anything is built)."""
from __future__ import annotations

from minigrad import backend


def check(owner, dtype, device):
    """The float dtype asked for (or None), and ``device`` checked; raises naming the bad one."""
    if dtype is not None:
        try:
            dtype = backend.as_dtype(dtype)
        except TypeError:
            raise TypeError(f"{owner}: dtype must be a floating point dtype such as "
                            f"minigrad.float32 or minigrad.float64, got dtype={dtype!r}") from None
        if dtype.kind != "f":
            raise TypeError(f"{owner}: dtype must be a floating point dtype (parameters are "
                            f"learned), got dtype={dtype}")
    if device is not None:
        try:
            backend.parse_device(device)
        except ValueError as error:
            raise ValueError(f"{owner}: device={device!r}: {error}") from None
    return dtype, device


def place(module, dtype, device):
    """Convert ``module``'s float parameters and buffers to ``dtype`` and move them to ``device``."""
    if dtype is not None:
        module.to(dtype)
    if device is not None:
        module.to(device)
    return module
