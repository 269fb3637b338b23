"""A stand-in GPU for machines without one: the ``"checked"`` device.

Code written for ``xp = backend.get_array_module(x)`` runs unchanged on CuPy, unless it
reaches around the backend: ``numpy.asarray(x.array)``, ``numpy.add.at(...)``, a host
index array used on device data, a NumPy result mixed into device math. CuPy refuses
those (``TypeError: Unsupported type <class 'numpy.ndarray'>``, or "Implicit conversion to
a NumPy array is not allowed"), but only on a machine with a GPU. This module refuses them
everywhere:

- ``CheckedArray`` holds a NumPy array but is not one. Its operators, methods and
  indexing work like NumPy's, and each refuses a plain ``numpy.ndarray`` operand;
  ``numpy.asarray(checked)`` raises (as CuPy does); ``numpy.<function>(checked)`` raises
  (use ``xp.<function>``); 0-d results stay arrays (as CuPy's do).
- ``checked`` is its ``xp``: NumPy's functions, taking and giving ``CheckedArray``.
  ``checked.asarray(host)`` is the one explicit upload; ``checked.random`` and
  ``checked.add.at`` are refused (random numbers and scatter-add go through the backend).
- ``CheckedBackend`` registers it with ``minigrad.backend`` as the device ``"checked:0"``.
  It draws the same random numbers as the CPU, so a seeded run on ``"checked"`` must
  reproduce the CPU run exactly: any difference is a bug in device handling.

Use it in a test::

    from minigrad.testing.checked_backend import checked_device
    with checked_device():
        x = minigrad.randn(3, 4, device="checked")   # x.device == "checked:0"
        (x.tanh() ** 2).sum().backward()

This is a check of device-agnostic code, not of speed: every op costs a few Python calls.
"""
from __future__ import annotations

import contextlib
import numbers
import types

import numpy

from minigrad import backend

DEVICE = "checked"


def _refuse(what, value):
    raise TypeError(
        f"{what}: a host NumPy array (shape {tuple(value.shape)}, dtype {value.dtype}) was mixed "
        f"with an array on the '{DEVICE}' device. A GPU refuses this too: move data with "
        "minigrad.backend.to_device / to_host, or make it with xp = backend.get_array_module(x).")


def _unwrap(value, what):
    """The NumPy arrays inside ``value`` (refusing host NumPy arrays)."""
    kind = type(value)
    if kind is CheckedArray:
        return value._a
    if kind is tuple or kind is list:
        return kind(_unwrap(v, what) for v in value)
    if isinstance(value, numpy.ndarray):
        _refuse(what, value)
    return value


def _unwrap_kwargs(kwargs, what):
    return {k: _unwrap(v, what) for k, v in kwargs.items()}


def _wrap(value):
    """NumPy results as checked arrays; NumPy scalars become 0-d arrays, as CuPy's do."""
    if isinstance(value, numpy.ndarray):
        return CheckedArray(value)
    if isinstance(value, numpy.generic):
        return CheckedArray(numpy.asarray(value))
    kind = type(value)
    if kind is tuple or kind is list:
        return kind(_wrap(v) for v in value)
    return value


_OPERAND_TYPES = (numbers.Number, numpy.generic)


class CheckedArray:
    """An array on the ``"checked"`` device: NumPy's behaviour, CuPy's refusals."""

    __slots__ = ("_a",)
    __hash__ = None

    def __init__(self, array):
        self._a = array

    # -- what CuPy refuses -----------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"implicit conversion of an array on the '{DEVICE}' device to a NumPy "
                        "array is not allowed (CuPy refuses it too): use minigrad.backend.to_host")

    def __array_function__(self, func, types_, args, kwargs):
        raise TypeError(f"numpy.{func.__name__}() was called on an array of the '{DEVICE}' device: "
                        f"use xp = minigrad.backend.get_array_module(x); xp.{func.__name__}(...)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        what = f"numpy.{ufunc.__name__}"
        if method not in ("__call__", "reduce", "accumulate", "outer"):
            raise TypeError(f"{what}.{method} on the '{DEVICE}' device: use "
                            "minigrad.backend.scatter_add (CuPy spells it differently)")
        out = kwargs.get("out")
        result = getattr(ufunc, method)(*_unwrap(inputs, what), **_unwrap_kwargs(kwargs, what))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    # -- NumPy's attributes and methods, on checked arrays ---------------------------------------
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(self._a, name)
        if not callable(value):
            return _wrap(value)
        what = f"ndarray.{name}"

        def method(*args, **kwargs):
            return _wrap(value(*_unwrap(args, what), **_unwrap_kwargs(kwargs, what)))
        return method

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index, "indexing")])

    def __setitem__(self, index, value):
        self._a[_unwrap(index, "indexing")] = _unwrap(value, "assignment")

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __format__(self, spec):
        return format(self._a, spec)

    def __repr__(self):
        return f"{DEVICE}:{self._a!r}"

    def __copy__(self):
        return CheckedArray(self._a.copy())

    def __deepcopy__(self, memo):
        return CheckedArray(self._a.copy())

    def __reduce__(self):
        return (CheckedArray, (self._a,))

    def __neg__(self):
        return CheckedArray(-self._a)

    def __pos__(self):
        return CheckedArray(+self._a)

    def __abs__(self):
        return CheckedArray(abs(self._a))

    def __invert__(self):
        return CheckedArray(~self._a)


def _binary(name):
    what = f"operator {name}"

    def op(self, other):
        if type(other) is CheckedArray:
            other = other._a
        elif isinstance(other, numpy.ndarray):
            _refuse(what, other)
        elif not isinstance(other, _OPERAND_TYPES):
            return NotImplemented  # e.g. a Tensor: let its reflected operator answer
        return _wrap(getattr(self._a, name)(other))
    op.__name__ = name
    return op


def _inplace(name):
    what = f"operator {name}"

    def op(self, other):
        if type(other) is CheckedArray:
            other = other._a
        elif isinstance(other, numpy.ndarray):
            _refuse(what, other)
        elif not isinstance(other, _OPERAND_TYPES):
            return NotImplemented
        getattr(self._a, name)(other)
        return self
    op.__name__ = name
    return op


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
            "and", "or", "xor", "lshift", "rshift"):
    setattr(CheckedArray, f"__{_op}__", _binary(f"__{_op}__"))
    setattr(CheckedArray, f"__r{_op}__", _binary(f"__r{_op}__"))
    setattr(CheckedArray, f"__i{_op}__", _inplace(f"__i{_op}__"))
for _op in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(CheckedArray, f"__{_op}__", _binary(f"__{_op}__"))


# ---------------------------------------------------------------------------
# ``checked``: the array module (NumPy's API over checked arrays)
# ---------------------------------------------------------------------------
class _Ufunc:
    """A NumPy ufunc over checked arrays; ``.at`` is refused (use ``backend.scatter_add``)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, self.__name__, args, kwargs)

    def reduce(self, *args, **kwargs):
        return _call(self._ufunc.reduce, f"{self.__name__}.reduce", args, kwargs)

    def accumulate(self, *args, **kwargs):
        return _call(self._ufunc.accumulate, f"{self.__name__}.accumulate", args, kwargs)

    def outer(self, *args, **kwargs):
        return _call(self._ufunc.outer, f"{self.__name__}.outer", args, kwargs)

    def __getattr__(self, name):
        if name == "at":
            raise AttributeError(f"xp.{self.__name__}.at is NumPy-only (CuPy spells it "
                                 "cupyx.scatter_add): use minigrad.backend.scatter_add")
        return getattr(self._ufunc, name)


def _call(function, what, args, kwargs):
    out = kwargs.get("out")
    result = function(*_unwrap(args, what), **_unwrap_kwargs(kwargs, what))
    if type(out) is CheckedArray:
        return out
    return _wrap(result)


def _function(function, what):
    def call(*args, **kwargs):
        return _call(function, what, args, kwargs)
    call.__name__ = what
    call.__doc__ = function.__doc__
    return call


def _asarray(data, dtype=None, **kwargs):
    """The one explicit upload: host data (NumPy arrays included) to the checked device."""
    if type(data) is CheckedArray:
        converted = numpy.asarray(data._a, dtype=dtype, **kwargs)
        return data if converted is data._a else CheckedArray(converted)
    return CheckedArray(numpy.array(_unwrap_host_lists(data), dtype=dtype, **kwargs))


def _unwrap_host_lists(data):
    kind = type(data)
    if kind is CheckedArray:
        return data._a
    if kind is tuple or kind is list:
        return kind(_unwrap_host_lists(v) for v in data)
    return data


class _Namespace:
    """``numpy`` (or one of its submodules) with every function taking checked arrays."""

    _REFUSED = {
        "random": "random numbers go through minigrad.backend.random_normal / random_uniform / "
                  "random_integers (NumPy and CuPy generators differ)",
    }

    def __init__(self, module, path):
        self._module = module
        self._path = path

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._REFUSED and self._module is numpy:
            raise AttributeError(f"{self._path}.{name} is refused: {self._REFUSED[name]}")
        value = getattr(self._module, name)
        if isinstance(value, types.ModuleType):
            wrapped = _Namespace(value, f"{self._path}.{name}")
        elif isinstance(value, numpy.ufunc):
            wrapped = _Ufunc(value)
        elif callable(value) and not isinstance(value, type):
            wrapped = _function(value, f"{self._path}.{name}")
        else:
            wrapped = value  # dtypes, classes (finfo, errstate), constants
        setattr(self, name, wrapped)  # look each name up once
        return wrapped

    def __repr__(self):
        return f"<array module {self._path!r} (NumPy behind a device wall)>"


checked = _Namespace(numpy, "checked")
checked.ndarray = CheckedArray
checked.asarray = _asarray
checked.array = _asarray


class _CheckedGenerator:
    """NumPy's generator, same stream, checked arrays out."""

    def __init__(self, seed):
        self._gen = numpy.random.default_rng(seed)

    def standard_normal(self, shape, dtype):
        return CheckedArray(self._gen.standard_normal(shape, dtype=dtype))

    def random(self, shape, dtype):
        return CheckedArray(self._gen.random(shape, dtype=dtype))

    def integers(self, low, high, size, dtype):
        return CheckedArray(numpy.asarray(self._gen.integers(low, high, size=size, dtype=dtype)))


class CheckedBackend(backend.ArrayBackend):
    """The ``"checked"`` device: one device, NumPy arithmetic, CuPy's refusals."""

    kind = DEVICE
    xp = checked
    array_type = CheckedArray

    def device_count(self):
        return 1

    def device_of(self, array):
        return f"{DEVICE}:0"

    def from_host(self, host, index):
        return CheckedArray(numpy.array(host, copy=True))  # device memory never aliases the host's

    def to_host(self, array):
        return array._a.copy()

    def scatter_add(self, target, index, values):
        numpy.add.at(target._a, _unwrap(index, "scatter_add index"), _unwrap(values, "scatter_add values"))

    def erf(self, x):
        from minigrad.backend import _host_erf
        return CheckedArray(_host_erf(_unwrap(x, "erf input")))

    def default_rng(self, seed):
        return _CheckedGenerator(seed)


@contextlib.contextmanager
def checked_device():
    """Register the ``"checked"`` device for the duration of a ``with`` block; yields its name."""
    backend.register_backend(CheckedBackend())
    try:
        yield DEVICE
    finally:
        backend.unregister_backend(DEVICE)
