"""The dtype rules for an op's two operands, as PyTorch's (see ``backend.py`` for the table).

- float op int -> float: an integer array meets a float one in the float's dtype;
- a Python float never promotes a tensor (``x32 * 2.0`` stays float32), and an integer
  tensor times a Python float is ``default_float`` (float32), never a silent float64;
- float32 op float64 -> float64 (NumPy's own promotion, left to it).

Every binary op (``arithmetic.py``, ``elementwise.where``) casts its arrays here first.
"""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor


def promote(x0, x1):
    """The arrays (or Python numbers) ``x0, x1`` cast so that float op int -> float
    (as PyTorch), never a silent float64 from an integer operand."""
    d0 = getattr(x0, "dtype", None)
    d1 = getattr(x1, "dtype", None)
    if d0 is not None and d1 is not None:
        if d0 != d1:
            if d0.kind == "f" and d1.kind != "f":
                x1 = x1.astype(d0)
            elif d1.kind == "f" and d0.kind != "f":
                x0 = x0.astype(d1)
    elif d0 is not None and d0.kind != "f" and isinstance(x1, float):
        x0 = x0.astype(backend.default_float)
    elif d1 is not None and d1.kind != "f" and isinstance(x0, float):
        x1 = x1.astype(backend.default_float)
    return x0, x1


def kind(x):
    """'f' for floats (arrays or Python floats), else the array's kind ('i', 'b' ...)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype.kind
    return "f" if isinstance(x, float) else "i"


def as_operand(x):
    """An op's operand as given by the user: tensors as they are, NumPy scalars as Python
    numbers (so they never promote float32 to float64), lists as arrays."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, backend.numpy.generic):
        return x.item()
    if isinstance(x, (list, tuple)):
        return backend.as_array(x)
    if not isinstance(x, (int, float, bool)) and not backend.is_array(x):
        raise TypeError(f"an arithmetic operand must be a Tensor, an array or a number, got "
                        f"{type(x).__name__} {x!r:.40}")
    return x
