"""Functions that make tensors: ``tensor``, ``zeros``, ``ones``, ``randn``, ``rand``, ``arange`` ..."""
from __future__ import annotations

from . import backend
from .tensor import Tensor, plain


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise ValueError(f"size must be non-negative integers, got size={tuple(size)} "
                             f"({s!r} is not)")
    return tuple(size)


def _new(array, requires_grad, device=None):
    if device is not None:  # CuPy makes arrays on the current GPU: move them to "cuda:N"
        array = backend.to_device(array, device)
    t = plain(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype):
    return backend.as_dtype(dtype) or backend.default_float


def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new leaf tensor holding ``data`` (Python floats become float32, ints int64)."""
    if isinstance(data, Tensor):
        data = data.array
    return _new(backend.as_array(data, dtype=dtype, device=device), requires_grad)


def zeros(*size, requires_grad=False, dtype=None, device=None):
    xp = backend.array_module_for(device)
    return _new(xp.zeros(_shape(size), dtype=_float_dtype(dtype)), requires_grad, device)


def ones(*size, requires_grad=False, dtype=None, device=None):
    xp = backend.array_module_for(device)
    return _new(xp.ones(_shape(size), dtype=_float_dtype(dtype)), requires_grad, device)


def full(size, fill_value, requires_grad=False, dtype=None, device=None):
    xp = backend.array_module_for(device)
    return _new(xp.full(_shape((size,)), fill_value, dtype=_float_dtype(dtype)), requires_grad, device)


def zeros_like(t, requires_grad=False, dtype=None):
    xp = backend.get_array_module(t.array)
    return _new(xp.zeros(t.shape, dtype=backend.as_dtype(dtype) or t.dtype), requires_grad)


def ones_like(t, requires_grad=False, dtype=None):
    xp = backend.get_array_module(t.array)
    return _new(xp.ones(t.shape, dtype=backend.as_dtype(dtype) or t.dtype), requires_grad)


def randn(*size, requires_grad=False, dtype=None, device=None):
    """Samples of the standard normal distribution (seeded by ``manual_seed``)."""
    xp = backend.array_module_for(device)
    return _new(backend.random_normal(_shape(size), _float_dtype(dtype), xp), requires_grad, device)


def rand(*size, requires_grad=False, dtype=None, device=None):
    """Samples of the uniform distribution on [0, 1)."""
    xp = backend.array_module_for(device)
    return _new(backend.random_uniform(_shape(size), _float_dtype(dtype), xp=xp), requires_grad, device)


def randint(low, high, size, device=None):
    if not low < high:
        raise ValueError(f"randint: low must be less than high, got low={low}, high={high}")
    xp = backend.array_module_for(device)
    return _new(backend.random_integers(low, high, _shape((size,)), xp), False, device)


def arange(start, end=None, step=1, requires_grad=False, dtype=None, device=None):
    """``start, start+step, ...`` below ``end``; int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError(f"arange: step must be non-zero, got step={step}")
    xp = backend.array_module_for(device)
    if dtype is None:
        integral = all(isinstance(v, int) for v in (start, end, step))
        dtype = backend.int64 if integral else backend.default_float
    return _new(xp.arange(start, end, step, dtype=backend.as_dtype(dtype)), requires_grad, device)


def manual_seed(seed):
    """Seed every random number minigrad draws (init, randn, dropout, sampling)."""
    backend.random_state.seed(int(seed))


# -- PyTorch's legacy typed constructors: ``LongTensor([1, 2])`` or ``LongTensor(3, 4)`` -------
def _typed_constructor(dtype_name, doc):
    def make(*args, device=None):
        dtype = backend.as_dtype(dtype_name)
        if len(args) == 1 and not isinstance(args[0], int):
            data = args[0].array if isinstance(args[0], Tensor) else args[0]
            return Tensor(data, dtype=dtype, device=device)
        xp = backend.array_module_for(device)
        return _new(xp.zeros(_shape(args), dtype=dtype), False, device)
    make.__name__ = make.__qualname__ = doc
    make.__doc__ = (f"``{doc}(data)`` makes a {dtype_name} tensor of ``data``; ``{doc}(*sizes)`` "
                    "one of zeros (PyTorch leaves it uninitialised).")
    return make


FloatTensor = _typed_constructor("float32", "FloatTensor")
DoubleTensor = _typed_constructor("float64", "DoubleTensor")
LongTensor = _typed_constructor("int64", "LongTensor")
IntTensor = _typed_constructor("int32", "IntTensor")
BoolTensor = _typed_constructor("bool", "BoolTensor")


def empty(*size, requires_grad=False, dtype=None, device=None):
    """A tensor of ``size`` (zeros here; PyTorch leaves it uninitialised)."""
    return zeros(*size, requires_grad=requires_grad, dtype=dtype, device=device)


def full_like(t, fill_value, requires_grad=False, dtype=None):
    xp = backend.get_array_module(t.array)
    return _new(xp.full(t.shape, fill_value, dtype=backend.as_dtype(dtype) or t.dtype), requires_grad)


def randn_like(t, requires_grad=False, dtype=None):
    xp = backend.get_array_module(t.array)
    return _new(backend.random_normal(t.shape, backend.as_dtype(dtype) or t.dtype, xp), requires_grad)


def rand_like(t, requires_grad=False, dtype=None):
    xp = backend.get_array_module(t.array)
    return _new(backend.random_uniform(t.shape, backend.as_dtype(dtype) or t.dtype, xp=xp),
                requires_grad)
