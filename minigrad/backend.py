"""The array backend: the one place that touches ``numpy`` and ``cupy``.

Every other module asks this one for the array module of its data::

    xp = get_array_module(x)      # numpy for CPU arrays, cupy for GPU arrays
    out = xp.zeros(x.shape, dtype=x.dtype)

Where NumPy and CuPy spell an operation differently (scatter-add, random numbers,
copying to the host) the difference is resolved here, once.

Dtype rules (as PyTorch): Python floats become ``float32``; NumPy float arrays keep
their dtype unless ``dtype=`` is given; integers become ``int64``; booleans stay ``bool``.
Ops between float32 and float64 tensors give float64 (NumPy's promotion); Python
numbers never promote a tensor (``x32 * 2.0`` stays float32).
"""
from __future__ import annotations

import numpy

try:  # a stand-in when CuPy is absent, so ``xp is cupy`` works everywhere
    import cupy  # type: ignore
    import cupyx  # type: ignore
    CUPY_IMPORTED = True
except Exception:  # ImportError, or CUDA libraries missing: the CPU path must still work
    class _CupyStandIn:
        """Placeholder for the ``cupy`` module: nothing is ever an instance of its ndarray."""

        class ndarray:  # noqa: N801 - mirrors cupy.ndarray
            pass

        def __repr__(self):
            return "<cupy: not installed>"

    cupy = _CupyStandIn()
    cupyx = None
    CUPY_IMPORTED = False

float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
int64 = numpy.dtype("int64")
bool_ = numpy.dtype("bool")
default_float = float32

_DTYPE_NAMES = {
    "float32": float32, "float": float32, "float64": float64, "double": float64,
    "int64": int64, "long": int64, "bool": bool_,
}


def as_dtype(dtype):
    """Turn ``minigrad.float32``, ``numpy.float32`` or ``"float32"`` into a numpy dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        try:
            return _DTYPE_NAMES[dtype]
        except KeyError:
            raise TypeError(f"unknown dtype {dtype!r}; expected one of {sorted(_DTYPE_NAMES)}") from None
    return numpy.dtype(dtype)


# ---------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------
def get_array_module(x):
    """The module (``numpy`` or ``cupy``) that owns array ``x``."""
    if CUPY_IMPORTED and isinstance(x, cupy.ndarray):
        return cupy
    return numpy


def is_array(x) -> bool:
    return isinstance(x, numpy.ndarray) or (CUPY_IMPORTED and isinstance(x, cupy.ndarray))


def device_of(x) -> str:
    """``"cpu"`` for NumPy arrays, ``"cuda:N"`` for CuPy arrays."""
    if CUPY_IMPORTED and isinstance(x, cupy.ndarray):
        return f"cuda:{x.device.id}"
    return "cpu"


def parse_device(device) -> tuple[str, int]:
    """``"cpu"`` -> ("cpu", 0); ``"cuda"`` / ``"cuda:1"`` -> ("cuda", 1)."""
    if device is None:
        return ("cpu", 0)
    name = str(device)
    if name == "cpu":
        return ("cpu", 0)
    if name == "cuda" or name.startswith("cuda:"):
        index = 0
        if ":" in name:
            try:
                index = int(name.split(":", 1)[1])
            except ValueError:
                raise ValueError(f"bad device {device!r}: expected 'cpu', 'cuda' or 'cuda:N'") from None
        return ("cuda", index)
    raise ValueError(f"bad device {device!r}: expected 'cpu', 'cuda' or 'cuda:N'")


def cuda_available() -> bool:
    if not CUPY_IMPORTED:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def cuda_device_count() -> int:
    if not CUPY_IMPORTED:
        return 0
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:
        return 0


def array_module_for(device):
    """The array module that makes arrays on ``device``."""
    kind, index = parse_device(device)
    if kind == "cpu":
        return numpy
    if not cuda_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available "
                           "(install the 'cuda' extra: cupy-cuda12x, and check a GPU is visible)")
    return cupy


def to_device(array, device):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    kind, index = parse_device(device)
    if kind == "cpu":
        return to_host(array)
    array_module_for(device)
    with cupy.cuda.Device(index):
        return cupy.asarray(array)


def to_host(array):
    """A NumPy array with the same values (``.get()`` for CuPy arrays)."""
    if CUPY_IMPORTED and isinstance(array, cupy.ndarray):
        return array.get()
    return numpy.asarray(array)


# ---------------------------------------------------------------------------
# Making arrays
# ---------------------------------------------------------------------------
def as_array(data, dtype=None, device=None):
    """Make a backend array from Python data, a NumPy/CuPy array or a scalar.

    Python floats (and lists of them) become float32; NumPy float arrays keep their
    dtype; integers become int64 - unless ``dtype`` is given.
    """
    dtype = as_dtype(dtype)
    if is_array(data):
        array = data
        if dtype is not None and array.dtype != dtype:
            array = array.astype(dtype)
        elif dtype is None and array.dtype.kind in "iu" and array.dtype != int64:
            array = array.astype(int64)
        elif dtype is None and array.dtype == numpy.float16:
            array = array.astype(float32)
    else:
        array = numpy.asarray(data)
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        elif array.dtype.kind == "f" and not isinstance(data, (numpy.ndarray, numpy.generic)):
            array = array.astype(float32)  # Python floats -> float32
        elif array.dtype.kind in "iu":
            array = array.astype(int64, copy=False)
        elif array.dtype.kind not in "fb":
            raise TypeError(f"cannot make a tensor from data of type {type(data).__name__} "
                            f"(NumPy dtype {array.dtype})")
    if device is not None:
        array = to_device(array, device)
    return array


def wrap_scalar(value, like):
    """NumPy turns 0-d results into scalars; turn them back into 0-d arrays."""
    if isinstance(value, numpy.generic):
        return numpy.asarray(value)
    if not is_array(value):
        return get_array_module(like).asarray(value)
    return value


# ---------------------------------------------------------------------------
# Where NumPy and CuPy differ
# ---------------------------------------------------------------------------
def scatter_add(target, index, values):
    """``target[index] += values`` with repeated indices accumulating (in place)."""
    if CUPY_IMPORTED and isinstance(target, cupy.ndarray):
        cupyx.scatter_add(target, index, values)
    else:
        numpy.add.at(target, index, values)
    return target


def add_rows(target, rows, values):
    """Add each row of ``values`` (N, D) into ``target`` (V, D) at row ``rows[n]`` (in place).

    The embedding backward. Repeated rows accumulate. Faster than the general
    scatter-add because it treats whole rows at once.
    """
    if CUPY_IMPORTED and isinstance(target, cupy.ndarray):
        cupyx.scatter_add(target, rows, values)
        return target
    if rows.size and values.ndim == 2 and target.ndim == 2:
        unique, inverse = numpy.unique(rows, return_inverse=True)
        if unique.size == rows.size:
            target[rows] += values
            return target
        summed = numpy.zeros((unique.size, values.shape[1]), dtype=target.dtype)
        numpy.add.at(summed, inverse, values)
        target[unique] += summed
        return target
    numpy.add.at(target, rows, values)
    return target


class RandomState:
    """Per-module random generators, seeded together by ``minigrad.manual_seed``."""

    def __init__(self, seed=None):
        self.seed(seed)

    def seed(self, seed):
        self._seed = seed
        self.numpy = numpy.random.default_rng(seed)
        self._cupy = None

    def generator(self, xp):
        if xp is numpy:
            return self.numpy
        if self._cupy is None:
            self._cupy = cupy.random.default_rng(self._seed)
        return self._cupy


random_state = RandomState()


def random_normal(shape, dtype, xp=numpy):
    return random_state.generator(xp).standard_normal(shape, dtype=dtype)


def random_uniform(shape, dtype, low=0.0, high=1.0, xp=numpy):
    gen = random_state.generator(xp)
    return (gen.random(shape, dtype=dtype) * (high - low) + low).astype(dtype, copy=False)


def random_integers(low, high, shape, xp=numpy):
    return random_state.generator(xp).integers(low, high, size=shape, dtype=int64)


def host_numpy():
    """The NumPy module, for host-side bookkeeping (never tensor data)."""
    return numpy
