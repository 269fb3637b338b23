"""``minigrad.cuda``: is a GPU usable (CuPy installed and a device visible)?"""
from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy imports and at least one CUDA device is visible. Never raises."""
    return backend.cuda_available()


def device_count() -> int:
    return backend.cuda_device_count()
