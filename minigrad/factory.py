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


def multinomial(input, num_samples, replacement=False):  # noqa: A002 - torch's argument name
    """Category indices drawn from each row of ``input``'s weights, as ``torch.multinomial``:
    how a language model picks its next character, ``multinomial(softmax(logits / τ), 1)``.

    ``input`` (C,) or (R, C) holds non-negative finite weights (they need not sum to 1);
    returns int64 (num_samples,) or (R, num_samples). With ``replacement`` each draw is
    independent: index k with probability w_k / Σ w, found where a uniform u falls in the
    cumulative weights. Without, the draws are distinct, in the order of an exponential race
    (each category's time −log(u_k) / w_k, earliest first: the same law as drawing one, removing
    it and drawing again). Seeded by ``manual_seed``."""
    weights = input.array if isinstance(input, Tensor) else backend.as_array(input)
    if weights.dtype.kind != "f" or weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be a float tensor of 1 or 2 dimensions, got "
                         f"shape {tuple(weights.shape)} and dtype {weights.dtype}")
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    xp = backend.get_array_module(weights)
    rows = weights.reshape(-1, weights.shape[-1]).astype(backend.float64)
    if rows.shape[1] == 0 or not bool(xp.isfinite(rows).all()) or bool((rows < 0).any()) \
            or bool((rows.sum(axis=1) <= 0).any()):
        raise ValueError("multinomial: every row of input must hold finite, non-negative weights "
                         "with a positive sum")
    fewest = int((rows > 0).sum(axis=1).min())     # positive weights in the sparsest row
    if not replacement and num_samples > fewest:
        raise ValueError(f"multinomial: cannot draw num_samples={num_samples} distinct categories "
                         f"without replacement from a row with only {fewest} positive weights")
    u = backend.random_uniform((rows.shape[0], num_samples if replacement else rows.shape[1]),
                               backend.float64, xp=xp)
    if replacement:
        cumulative = rows.cumsum(axis=1)
        cumulative /= cumulative[:, -1:]          # the last is exactly 1.0: u < 1 always lands
        drawn = (u[:, :, None] >= cumulative[:, None, :]).sum(axis=2)
    else:
        positive = rows > 0
        times = xp.where(positive, -xp.log1p(-u) / xp.where(positive, rows, 1.0), xp.inf)
        drawn = xp.argsort(times, axis=1, kind="stable")[:, :num_samples]
    drawn = drawn.astype(backend.int64)
    return plain(drawn if weights.ndim == 2 else drawn.reshape(num_samples))


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


def eye(n, m=None, requires_grad=False, dtype=None, device=None):
    """The (n, m) identity matrix (m = n by default): ones on the diagonal, as ``torch.eye``
    (the IRNN's W_hh starts as one)."""
    m = n if m is None else m
    _shape((n, m))
    xp = backend.array_module_for(device)
    return _new(xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, requires_grad=False, dtype=None, device=None):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    xp = backend.array_module_for(device)
    return _new(xp.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad, device)


def from_numpy(array):
    """A tensor sharing ``array``'s memory (a NumPy array; its dtype kept, as
    ``torch.from_numpy``): writing to one changes the other."""
    if not isinstance(array, backend.NUMPY.array_type):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype not in (backend.float32, backend.float64, backend.int64, backend.int32,
                           backend.bool_):
        raise TypeError(f"from_numpy: dtype {array.dtype} is not supported; expected float32, "
                        f"float64, int64, int32 or bool")
    return plain(array)


def empty_like(t, requires_grad=False, dtype=None):
    """A tensor of ``t``'s shape, dtype and device (zeros here; PyTorch leaves it uninitialised)."""
    return zeros_like(t, requires_grad=requires_grad, dtype=dtype)


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
