"""Compare a student's arrays with the reference and describe the first difference."""
from __future__ import annotations

from minigrad import backend
from minigrad.tensor import Tensor


def host(value):
    """A float64 host array of a Tensor, an array or a number."""
    np = backend.host_numpy()
    if isinstance(value, Tensor):
        value = value.array
    return np.asarray(backend.to_host(value) if backend.is_array(value) else value,
                      dtype=np.float64)


def first_mismatch(what, yours, expected, rtol=1e-7, atol=1e-9):
    """None when ``yours`` equals ``expected`` within tolerance, else a sentence naming
    ``what``, the first wrong index and both values."""
    np = backend.host_numpy()
    try:
        yours = host(yours)
    except (TypeError, ValueError) as error:
        return f"{what}: could not read your value as numbers ({error})"
    expected = host(expected)
    if yours.shape != expected.shape:
        return f"{what} has shape {yours.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(yours)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(yours))[0])
        return f"{what}{list(index)} is {yours[index]}, expected {expected[index]:.8g}"
    wrong = ~np.isclose(yours, expected, rtol=rtol, atol=atol)
    if not wrong.any():
        return None
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    worst = float(np.max(np.abs(yours - expected)))
    where = list(index) if index else ""
    return (f"{what}{where} is {yours[index]:.8g}, expected {expected[index]:.8g} "
            f"({int(wrong.sum())} of {wrong.size} elements differ; largest difference {worst:.3g})")
