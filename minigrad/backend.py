"""The array backend: the one place that touches ``numpy`` and ``cupy``.

Every other module asks this one for the array module of its data::

    xp = get_array_module(x)      # numpy for CPU arrays, cupy for GPU arrays
    out = xp.zeros(x.shape, dtype=x.dtype)

CuPy copies NumPy's API, so ``xp.exp``, ``x.sum(axis=1)`` and ``x @ w`` are the same code
on both. The few operations the two libraries spell differently (moving data between
devices, scatter-add, random numbers) are methods of an ``ArrayBackend``, written once
here: ``NumpyBackend`` for ``"cpu"``, ``CupyBackend`` for ``"cuda"``. Each backend is
registered under its device name and its array type, so finding the backend of an array
is one dictionary lookup. A test can register a third one (see
``minigrad.testing.checked_backend``) whose arrays refuse to mix with NumPy's, to prove
that no code reaches around this module.

Dtype rules (as PyTorch): Python floats become ``float32``; NumPy float arrays keep
their dtype unless ``dtype=`` is given; integers become ``int64``; booleans stay ``bool``.
Ops between float32 and float64 tensors give float64 (NumPy's promotion); Python
numbers never promote a tensor (``x32 * 2.0`` stays float32).
"""
from __future__ import annotations

import math
import warnings

import numpy

try:  # a stand-in when CuPy is absent, so ``xp is cupy`` works everywhere
    with warnings.catch_warnings():  # `import minigrad` must stay silent without a GPU
        warnings.simplefilter("ignore")
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
int32 = numpy.dtype("int32")
bool_ = numpy.dtype("bool")
default_float = float32

_DTYPE_NAMES = {
    "float32": float32, "float": float32, "float64": float64, "double": float64,
    "int64": int64, "long": int64, "int32": int32, "int": int32, "bool": bool_,
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
# The backends: what differs between array libraries, written once
# ---------------------------------------------------------------------------
class ArrayBackend:
    """One array library minigrad can compute with, serving the devices ``kind:0..N-1``.

    Attributes:
        kind: the device name (``"cpu"``, ``"cuda"``).
        xp: the NumPy-like module that makes and computes on its arrays.
        array_type: the class of its arrays.
    """

    kind = None
    xp = None
    array_type = None

    def device_count(self) -> int:
        raise NotImplementedError

    def device_of(self, array) -> str:
        raise NotImplementedError

    def from_host(self, host, index):
        """This library's copy of NumPy array ``host`` on device ``index``."""
        raise NotImplementedError

    def move(self, array, index):
        """``array`` (already of this library) on device ``index``; no copy when there."""
        return array

    def to_host(self, array):
        raise NotImplementedError

    def scatter_add(self, target, index, values):
        """``target[index] += values``, repeated indices accumulating (in place)."""
        raise NotImplementedError

    def add_rows(self, target, rows, values):
        """``target[rows[n]] += values[n]`` for whole rows, repeats accumulating (in place)."""
        self.scatter_add(target, rows, values)

    def summed_rows(self, rows, values, num_rows):
        """A new (num_rows, D) array, zeros with ``values[n]`` added at row ``rows[n]``
        (every row index already known to lie in [0, num_rows)): a table's gradient."""
        target = self.xp.zeros((num_rows, values.shape[1]), dtype=values.dtype)
        self.add_rows(target, rows, values)
        return target

    def erf(self, x):
        """The error function erf x = (2/√π) ∫₀ˣ e^(−t²) dt, element by element."""
        raise NotImplementedError

    def default_rng(self, seed):
        """A generator with ``standard_normal(shape, dtype)``, ``random(shape, dtype)`` and
        ``integers(low, high, size, dtype)`` making this library's arrays."""
        raise NotImplementedError


_SMALL_SCATTER = 32768   # add_rows scatters up to this many values element by element


def _small_scatter(values, num_rows):
    """Few enough values (N, D), into few enough rows, for ``_small_row_sums``."""
    return values.size <= _SMALL_SCATTER and num_rows * values.shape[1] <= 2 * _SMALL_SCATTER


def _small_row_sums(rows, values, num_rows, dtype):
    """zeros (num_rows, D) of ``dtype`` with row n of ``values`` added at row ``rows[n]``.
    Small (min-char-rnn: 25 rows into a 65-row table): numpy.add.at on the flat element
    indices sums each row's values in index order, in a third of the time of
    ``NumpyBackend.add_rows``' sort."""
    width = values.shape[1]
    sums = numpy.zeros((num_rows, width), dtype=dtype)
    flat = numpy.add.outer(rows * width, numpy.arange(width))
    numpy.add.at(sums.reshape(-1), flat.reshape(-1), values.reshape(-1))
    return sums


def _gathered_rows(values, order):
    """``values[order]`` for ``NumpyBackend.add_rows``'s add.reduceat down the rows. When a
    row is a multiple of 1 KiB long the rows go into a buffer whose rows are one cache line
    longer: there add.reduceat ran 3-4x slower (float32 (2048, 512) into 65 rows: 10.7 ms,
    padded 2.7 ms, the same sums in the same order), every row starting on the same cache
    sets."""
    width = values.shape[1]
    if (width * values.itemsize) % 1024:
        return values[order]
    padded = numpy.empty((values.shape[0], width + 64 // values.itemsize), dtype=values.dtype)
    rows = padded[:, :width]
    rows[...] = values[order]
    return rows


class NumpyBackend(ArrayBackend):
    """NumPy arrays in host memory: the ``"cpu"`` device."""

    kind = "cpu"
    xp = numpy
    array_type = numpy.ndarray

    def device_count(self):
        return 1

    def device_of(self, array):
        return "cpu"

    def from_host(self, host, index):
        return host

    def to_host(self, array):
        return numpy.asarray(array)

    def scatter_add(self, target, index, values):
        numpy.add.at(target, index, values)

    def erf(self, x):
        # NumPy has no erf ufunc: the C library's, one element at a time (exact, ~0.1 µs each)
        return _host_erf(x)

    def summed_rows(self, rows, values, num_rows):
        if rows.size and _small_scatter(values, num_rows):   # the sums are the table itself
            return _small_row_sums(rows, values, num_rows, values.dtype)
        return super().summed_rows(rows, values, num_rows)

    def add_rows(self, target, rows, values):
        # numpy.add.at is slow (5-10x here); for distinct rows a fancy-index += is exact, and
        # repeated rows are sorted together and each run summed by one add.reduceat, so each
        # row is written once.
        if not (rows.size and values.ndim == 2 and target.ndim == 2):
            numpy.add.at(target, rows, values)
            return
        rows = rows.reshape(-1)
        if rows.min() < 0:                       # (one reduction: indices are rarely negative)
            rows = numpy.where(rows < 0, rows + target.shape[0], rows)
        if _small_scatter(values, target.shape[0]):
            target += _small_row_sums(rows, values, target.shape[0], numpy.result_type(target, values))
            return
        order = numpy.argsort(rows, kind="stable")
        ordered = rows[order]
        first = numpy.empty(rows.size, dtype=bool)    # does a new run of equal rows start here?
        first[0] = True
        numpy.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        starts = first.nonzero()[0]
        if starts.size == rows.size:
            target[rows] += values
            return
        target[ordered[starts]] += numpy.add.reduceat(_gathered_rows(values, order), starts, axis=0)

    def default_rng(self, seed):
        return numpy.random.default_rng(seed)


class _CupyGenerator:
    """CuPy's ``RandomState`` behind the three methods minigrad draws with.

    CuPy's random streams differ from NumPy's: the same seed gives different numbers on the
    GPU, so runs that must match the CPU make their weights on the CPU and move them."""

    def __init__(self, seed):
        self.state = cupy.random.RandomState(seed)

    def standard_normal(self, shape, dtype):
        return self.state.standard_normal(shape, dtype=dtype)

    def random(self, shape, dtype):
        return self.state.random_sample(shape, dtype=dtype)

    def integers(self, low, high, size, dtype):
        return self.state.randint(low, high, size=size, dtype=dtype)


class CupyBackend(ArrayBackend):
    """CuPy arrays in GPU memory: the ``"cuda:N"`` devices."""

    kind = "cuda"
    xp = cupy
    array_type = cupy.ndarray

    def device_count(self):
        try:
            return int(cupy.cuda.runtime.getDeviceCount())
        except Exception:  # no driver, no device: CUDA is simply unavailable
            return 0

    def device_of(self, array):
        return f"cuda:{array.device.id}"

    def from_host(self, host, index):
        with cupy.cuda.Device(index):
            return cupy.asarray(host)

    def move(self, array, index):
        if array.device.id == index:
            return array
        with cupy.cuda.Device(index):
            return array.copy()  # CuPy copies onto the current device

    def to_host(self, array):
        return array.get()

    def scatter_add(self, target, index, values):
        if hasattr(cupy.add, "at"):     # CuPy >= 13 spells it as NumPy does
            cupy.add.at(target, index, values)
        else:
            cupyx.scatter_add(target, index, values)

    def erf(self, x):
        import cupyx.scipy.special   # CuPy's elementwise kernel
        return cupyx.scipy.special.erf(x)

    def default_rng(self, seed):
        return _CupyGenerator(seed)


NUMPY = NumpyBackend()
_BY_KIND = {"cpu": NUMPY}              # device name -> backend
_BY_TYPE = {numpy.ndarray: NUMPY}      # array class -> backend (exact type: one lookup)
_BY_MODULE = {id(numpy): NUMPY}        # id(xp) -> backend, for the random helpers
_ARRAY_TYPES = (numpy.ndarray,)        # for isinstance (NumPy subclasses such as memmap)


def register_backend(array_backend):
    """Make ``array_backend`` serve the devices ``array_backend.kind:N``. Returns it."""
    global _ARRAY_TYPES
    if array_backend.kind in _BY_KIND:
        raise ValueError(f"a backend for device {array_backend.kind!r} is already registered")
    _BY_KIND[array_backend.kind] = array_backend
    _BY_TYPE[array_backend.array_type] = array_backend
    _BY_MODULE[id(array_backend.xp)] = array_backend
    _ARRAY_TYPES = _ARRAY_TYPES + (array_backend.array_type,)
    return array_backend


def unregister_backend(kind):
    """Forget the backend of device ``kind`` (the CPU's stays)."""
    global _ARRAY_TYPES
    if kind == "cpu":
        raise ValueError("the cpu backend cannot be unregistered")
    array_backend = _BY_KIND.pop(kind)
    del _BY_TYPE[array_backend.array_type]
    del _BY_MODULE[id(array_backend.xp)]
    _ARRAY_TYPES = tuple(t for t in _ARRAY_TYPES if t is not array_backend.array_type)
    random_state.forget(kind)


if CUPY_IMPORTED:
    register_backend(CupyBackend())


def backend_of(x) -> ArrayBackend:
    """The backend owning array ``x`` (NumPy's for anything that is not an array)."""
    found = _BY_TYPE.get(type(x))
    if found is not None:
        return found
    for array_type in _ARRAY_TYPES[::-1]:  # most recently registered first: subclasses win
        if isinstance(x, array_type):
            return _BY_TYPE[array_type]
    return NUMPY


def backend_for(device) -> ArrayBackend:
    """The backend serving ``device``; raises when that device is not usable here."""
    kind, index = parse_device(device)
    found = _BY_KIND.get(kind)
    if found is None or found.device_count() == 0:
        raise RuntimeError(f"device {str(device)!r} requested but CUDA is not available "
                           "(install the 'cuda' extra: cupy-cuda12x, and check a GPU is visible)")
    count = found.device_count()
    if index >= count:
        raise RuntimeError(f"device {str(device)!r} requested but only {count} {kind} "
                           f"device(s) are visible")
    return found


# ---------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------
def get_array_module(x):
    """The module (``numpy`` or ``cupy``) that owns array ``x``."""
    found = _BY_TYPE.get(type(x))
    return numpy if found is None else found.xp


def undispatched(function):
    """``function`` without NumPy's ``__array_function__`` dispatch, for a loop that calls
    it on arrays of one known library many times.

    NumPy 1.25+ wraps ``numpy.dot``, ``vdot`` and the like in a dispatcher that first calls
    a Python function to find the arguments' ``__array_function__`` overrides; the C
    function behind it (``_implementation``) does the very same arithmetic. At min-char-rnn's
    size (B=1, H=100) the dispatch is 0.5 of the 1.9 µs of a step's h W_hhᵀ. Any other
    function (CuPy's, a test backend's) comes back as it is.
    """
    return getattr(function, "_implementation", function)


def is_array(x) -> bool:
    return isinstance(x, _ARRAY_TYPES)


def device_of(x) -> str:
    """``"cpu"`` for NumPy arrays, ``"cuda:N"`` for CuPy arrays."""
    return backend_of(x).device_of(x)


def parse_device(device) -> tuple[str, int]:
    """``"cpu"`` -> ("cpu", 0); ``"cuda"`` -> ("cuda", 0); ``"cuda:1"`` -> ("cuda", 1)."""
    if device is None:
        return ("cpu", 0)
    name = str(device)
    kind, colon, index = name.partition(":")
    known = kind == "cuda" or kind in _BY_KIND
    if not known or (colon and not index.isdigit()) or (kind == "cpu" and index not in ("", "0")):
        kinds = " or ".join(repr(k) for k in sorted(set(_BY_KIND) | {"cuda"}))
        raise ValueError(f"bad device {device!r}: expected {kinds}, optionally with ':N' "
                         "('cuda:1')")
    return (kind, int(index) if colon else 0)


def canonical_device(device) -> str:
    """The name ``Tensor.device`` would report: ``"cuda"`` -> ``"cuda:0"``, ``"cpu"`` -> ``"cpu"``."""
    kind, index = parse_device(device)
    return "cpu" if kind == "cpu" else f"{kind}:{index}"


def parse_target(target):
    """What ``x.to(target)`` (a tensor or a module) asks for: ``(dtype, None)`` for a dtype
    (``minigrad.float64``, ``"float64"``, ``numpy.float64``), ``(None, device)`` for a device
    (``"cpu"``, ``"cuda"``, ``"cuda:1"``; the name as ``Tensor.device`` reports it). A target
    that is neither raises ``ValueError`` naming it."""
    try:
        dtype = as_dtype(target)
    except TypeError:
        dtype = None
    if dtype is not None:
        return dtype, None
    return None, canonical_device(target)


def cuda_available() -> bool:
    """True when CuPy imports and at least one CUDA device is visible. Never raises."""
    found = _BY_KIND.get("cuda")
    return found is not None and found.device_count() > 0


def cuda_device_count() -> int:
    found = _BY_KIND.get("cuda")
    return 0 if found is None else found.device_count()


def array_module_for(device):
    """The array module that makes arrays on ``device`` (``None`` means the CPU)."""
    return backend_for(device).xp


def to_device(array, device):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    kind, index = parse_device(device)
    target = backend_for(device)
    source = backend_of(array)
    if source is target:
        return target.move(array, index)
    return target.from_host(source.to_host(array), index)


def to_host(array):
    """A NumPy array with the same values (``.get()`` for CuPy arrays)."""
    return backend_of(array).to_host(array)


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
        if type(array) not in _BY_TYPE:  # a NumPy subclass (memmap, matrix): plain ndarray
            array = backend_of(array).xp.asarray(array)
        if dtype is not None and array.dtype != dtype:
            array = array.astype(dtype)
        elif dtype is None and array.dtype.kind in "iu" and array.dtype != int64:
            array = array.astype(int64)
        elif dtype is None and array.dtype == numpy.float16:
            array = array.astype(float32)
    else:
        try:
            array = numpy.asarray(data)
        except ValueError as error:  # ragged nested lists
            raise ValueError(f"cannot make a tensor from data of type {type(data).__name__}: the "
                             f"nested lists must be rectangular (equal lengths at each level); "
                             f"NumPy said: {error}") from None
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
    """NumPy turns 0-d results into scalars; turn them back into 0-d arrays on ``like``'s device."""
    if is_array(value):
        return value
    return get_array_module(like).asarray(value)


# ---------------------------------------------------------------------------
# Where NumPy and CuPy differ
# ---------------------------------------------------------------------------
def indices_in_range(indices, size):
    """True when every integer of ``indices`` lies in [0, size) (also when there are none).
    One maximum over the indices read as unsigned integers of the same width, where a
    negative index becomes a huge one, instead of a minimum and a maximum."""
    if indices.size == 0:
        return True
    if indices.dtype.kind == "i":
        indices = indices.view(f"u{indices.dtype.itemsize}")
    return int(indices.max()) < size


_ERF_OBJECTS = numpy.frompyfunc(math.erf, 1, 1)


def _host_erf(x):
    """erf of a host array, in its dtype (``math.erf`` per element)."""
    return numpy.asarray(_ERF_OBJECTS(x), dtype=x.dtype)


def erf(x):
    """erf of every element of ``x``, on ``x``'s device (NumPy has no erf; CuPy does)."""
    return backend_of(x).erf(x)


def scatter_add(target, index, values):
    """``target[index] += values`` with repeated indices accumulating (in place).

    NumPy spells it ``numpy.add.at``, CuPy ``cupyx.scatter_add``."""
    backend_of(target).scatter_add(target, index, values)
    return target


def summed_rows(rows, values, num_rows):
    """zeros (num_rows, D) with each row of ``values`` (N, D) added at row ``rows[n]``, on
    ``values``' device: a table's gradient (the embedding backward). ``rows`` (N,) must lie
    in [0, num_rows) (the caller has checked them); repeated rows accumulate in order."""
    return backend_of(values).summed_rows(rows, values, num_rows)


def add_rows(target, rows, values):
    """Add each row of ``values`` (N, D) into ``target`` (V, D) at row ``rows[n]`` (in place).

    The embedding backward. Repeated rows accumulate. Faster than the general
    scatter-add on the CPU because it treats whole rows at once.
    """
    backend_of(target).add_rows(target, rows, values)
    return target


class RandomState:
    """One random generator per device kind, seeded together by ``minigrad.manual_seed``.

    The same seed gives the same numbers on every NumPy-backed device; CuPy's generator
    draws a different stream."""

    def __init__(self, seed=None):
        self.seed(seed)

    def seed(self, seed):
        self._seed = seed
        self.numpy = NUMPY.default_rng(seed)
        self._generators = {"cpu": self.numpy}

    def generator(self, xp):
        """The generator for arrays of module ``xp`` (``numpy``, ``cupy``, ...)."""
        found = _BY_MODULE.get(id(xp))
        if found is None:
            raise TypeError(f"no registered backend uses the array module {xp!r}")
        gen = self._generators.get(found.kind)
        if gen is None:
            gen = self._generators[found.kind] = found.default_rng(self._seed)
        return gen

    def forget(self, kind):
        self._generators.pop(kind, None)


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
