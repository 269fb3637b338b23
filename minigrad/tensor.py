"""``Tensor``: an array that remembers the operation that made it.

Every operation on tensors runs at once (define-by-run) and, when an input requires
a gradient, records its node as the result's ``grad_fn``. ``backward()`` walks those
nodes in reverse (see ``autograd.py``) and accumulates ``.grad`` on the leaves.
"""
from __future__ import annotations

from . import backend
from .grad_mode import STATE


class _HookHandle:
    """What ``register_post_accumulate_grad_hook`` returns: ``handle.remove()`` unregisters."""

    __slots__ = ("_hooks",)

    def __init__(self, hooks, hook):
        self._hooks = hooks
        hooks[self] = hook          # keyed by the handle: insertion order is call order

    def remove(self):
        self._hooks.pop(self, None)


_new = object.__new__   # one lookup, not two, in the constructor every op output goes through


def plain(array):
    """A Tensor around ``array`` that is part of no graph and needs no gradient: what every
    backward that computes on arrays hands back, a constant, a freshly made state. (The one
    constructor for that; ``Tensor._make`` is the one for an op's recorded outputs.)"""
    t = _new(Tensor)
    t.array = array
    t.grad = t.grad_fn = t._vc = t._name = None
    t._out_idx = 0
    t.requires_grad = False
    return t


class Tensor:
    """A multi-dimensional array with an optional gradient.

    Args:
        data: a NumPy/CuPy array (its dtype is kept), or a Python number or nested list
            (float32, as ``torch.Tensor``; ``minigrad.tensor`` infers int64 for integers).
        requires_grad: record operations on it so ``backward`` computes ``.grad``.
        dtype: ``minigrad.float32`` (default for Python floats), ``float64`` or ``int64``.
        device: ``"cpu"`` (default) or ``"cuda"`` / ``"cuda:N"``.
    """

    __slots__ = ("array", "requires_grad", "grad", "grad_fn", "_out_idx", "_vc", "_name",
                 "_post_accumulate_grad_hooks", "__weakref__")
    __array_priority__ = 1000  # numpy_array * tensor -> Tensor.__rmul__

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        if isinstance(data, Tensor):
            data = data.array
        elif dtype is None and not backend.is_array(data):
            dtype = backend.default_float  # Tensor([0]) is float32, as torch.Tensor ("tensor" infers)
        self.array = backend.as_array(data, dtype=dtype, device=device)
        self.grad = None
        self.grad_fn = None
        self._out_idx = 0
        self._vc = None
        self._name = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, grad_fn, out_idx, requires_grad):
        """Fast constructor for op outputs (no conversion, no checks)."""
        t = _new(cls)
        t.array = data
        t.requires_grad = requires_grad
        t.grad = t._vc = t._name = None
        t.grad_fn = grad_fn
        t._out_idx = out_idx
        return t

    # -- properties ------------------------------------------------------------
    @property
    def data(self):
        """The same values as a Tensor cut from the graph (shares storage and the version
        counter), as in PyTorch: ``p.data.add_(p.grad, alpha=-lr)`` updates ``p`` in place.
        The backend array itself is ``.array`` (a NumPy or CuPy array)."""
        return self.detach()

    @data.setter
    def data(self, value):
        array = value.array if isinstance(value, Tensor) else backend.as_array(value)
        if backend.device_of(array) != backend.device_of(self.array):
            raise RuntimeError(f"data: cannot assign a tensor on {backend.device_of(array)} to "
                               f"a tensor on {self.device}")
        self.array = array
        self._bump_version()

    @property
    def shape(self):
        return self.array.shape

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self):
        return backend.device_of(self.array)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    is_parameter = False  # True on nn.Parameter: a module's learnable weight

    @property
    def output_index(self):
        """Which output of ``grad_fn`` this tensor is (0 for a single-output op or a leaf)."""
        return self._out_idx

    @property
    def name(self):
        """Optional label used by graph pictures."""
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        if self.grad_fn is not None:
            if self.grad_fn._names is None:
                self.grad_fn._names = {}
            self.grad_fn._names[self._out_idx] = value

    @property
    def _version(self):
        return 0 if self._vc is None else self._vc[0]

    def _bump_version(self):
        if self._vc is None:
            self._vc = [1]
        else:
            self._vc[0] += 1

    def _as_view_of(self, base):
        """Share ``base``'s version counter: this tensor's array is a view of ``base``'s, so an
        in-place change of either one must be seen by a backward that saved the other."""
        if isinstance(base, Tensor):
            if base._vc is None:
                base._vc = [0]
            self._vc = base._vc
        return self

    @property
    def T(self):
        return permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return transpose(self, -2, -1)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        values = backend.to_host(self.array)
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn=<{type(self.grad_fn).__name__}>"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        device = "" if self.device == "cpu" else f", device='{self.device}'"
        dtype = "" if self.dtype == backend.float32 else f", dtype={self.dtype}"
        body = str(values).replace("\n", "\n       ")
        return f"tensor({body}{dtype}{device}{extra})"

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.array.size} elements "
                               "is ambiguous")
        return bool(self.array)

    def __hash__(self):
        return id(self)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.array.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got dtype {self.dtype}")
        return int(self.item())

    # -- leaving the graph ------------------------------------------------------
    def numpy(self):
        """A host NumPy array (a copy for GPU tensors; shares memory on the CPU)."""
        return backend.to_host(self.array)

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item(): only a one-element tensor can be converted to a Python "
                             f"number, got shape {tuple(self.shape)}")
        return backend.to_host(self.array).reshape(()).item()

    def tolist(self):
        return backend.to_host(self.array).tolist()

    def detach(self):
        """The same data, cut from the graph (shares memory and the version counter)."""
        t = plain(self.array)
        if self._vc is None:
            self._vc = [0]
        t._vc = self._vc
        return t

    def requires_grad_(self, flag=True):
        if flag and self.array.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, "
                               f"got dtype {self.dtype}")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use detach()")
        self.requires_grad = flag
        if flag and getattr(self, "_post_accumulate_grad_hooks", None) is None:
            # a leaf a backward writes to: its hook slot is set (to None), so that reading it
            # there is one lookup, not an AttributeError caught (about 0.5 µs per leaf)
            self._post_accumulate_grad_hooks = None
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is None:
            return self
        import weakref
        if self.grad_fn._retained is None:
            self.grad_fn._retained = {}
        self.grad_fn._retained[self._out_idx] = weakref.ref(self)
        return self

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` each time a backward has written this leaf's ``.grad``.

        As PyTorch's: the hook sees the finished gradient (``self.grad``) and returns
        nothing. ``DistributedDataParallel`` uses it to start averaging a bucket of
        gradients across processes as soon as that bucket is complete. Returns a handle
        whose ``remove()`` unregisters the hook. (The slot is None on a leaf made to require
        grad, unset on other tensors: op outputs pay nothing.)
        """
        if self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors have "
                               f"their .grad accumulated; this one has grad_fn "
                               f"{type(self.grad_fn).__name__}")
        if not callable(hook):
            raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got "
                            f"{type(hook).__name__}")
        hooks = getattr(self, "_post_accumulate_grad_hooks", None)
        if hooks is None:
            hooks = self._post_accumulate_grad_hooks = {}
        return _HookHandle(hooks, hook)

    def to(self, target):
        """``to("cuda")``, ``to("cpu")`` or ``to(minigrad.float64)`` (differentiable)."""
        dtype, device = backend.parse_target(target)
        if dtype is not None:
            return astype(self, dtype)
        if device == self.device:
            return self
        return to_device(self, target)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=0):
        return self.to(f"cuda:{index}")

    def float(self):
        return astype(self, backend.float32)

    def double(self):
        return astype(self, backend.float64)

    def long(self):
        return astype(self, backend.int64)

    def int(self):
        return astype(self, backend.int32)

    def bool(self):
        return astype(self, backend.bool_)

    def type(self, dtype=None):
        """``t.type(minigrad.int64)`` converts; ``t.type()`` names the type (``'minigrad.FloatTensor'``)."""
        if dtype is None:
            return f"minigrad.{_TYPE_NAMES.get(self.dtype.name, self.dtype.name)}"
        if isinstance(dtype, str) and dtype.rsplit(".", 1)[-1] in _TENSOR_TYPES:
            dtype = _TENSOR_TYPES[dtype.rsplit(".", 1)[-1]]
        return astype(self, backend.as_dtype(dtype))

    # -- new tensors like this one (same dtype and device), as PyTorch's new_* --------
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        data = data.array if isinstance(data, Tensor) else data
        return Tensor(data, requires_grad=requires_grad, dtype=dtype or self.dtype,
                      device=device or self.device)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .factory import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_size_args(size), 0, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_size_args(size), 1, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_size_args(size), 0, dtype, device, requires_grad)

    def type_as(self, other):
        return astype(self, other.dtype)

    # -- autograd --------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is required unless self holds a single element. The graph's saved
        arrays are freed afterwards unless ``retain_graph`` (or ``create_graph``) is True.
        """
        if create_graph:
            run_backward((self,), (gradient,), True, True)
        else:
            backward_one(self, gradient, retain_graph)

    # -- in place (bump the version so backward can tell) -----------------------
    def _check_inplace(self, what):
        if self.requires_grad and STATE.grad_enabled:
            kind = "a leaf tensor that requires grad" if self.grad_fn is None else \
                "a tensor that is part of a recorded graph"
            raise RuntimeError(f"{what}: in-place operation on {kind} (shape {tuple(self.shape)}); "
                               "wrap it in `with minigrad.no_grad():` or use an out-of-place op")

    def zero_(self):
        self._check_inplace("zero_")
        self.array[...] = 0
        self._bump_version()
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self.array[...] = value
        self._bump_version()
        return self

    def copy_(self, source):
        self._check_inplace("copy_")
        source = source.array if isinstance(source, Tensor) else source
        if not _broadcasts_to(tuple(getattr(source, "shape", ())), tuple(self.shape)):
            raise ValueError(f"copy_: source of shape {tuple(source.shape)} cannot be broadcast "
                             f"to the destination's shape {tuple(self.shape)}")
        self.array[...] = source
        self._bump_version()
        return self

    def add_(self, other, alpha=1.0):
        """self += alpha * other. PyTorch's old order ``add_(alpha, other)`` is accepted too."""
        self._check_inplace("add_")
        if isinstance(alpha, Tensor) and not isinstance(other, Tensor):
            other, alpha = alpha, other  # add_(-lr, grad): the pre-1.5 tutorials' order
        if isinstance(other, Tensor) and not _broadcasts_to(other.shape, self.shape):
            raise ValueError(f"add_: other of shape {tuple(other.shape)} cannot be added in place "
                             f"to a tensor of shape {tuple(self.shape)}")
        other = other.array if isinstance(other, Tensor) else other
        if alpha != 1.0:
            other = other * alpha
        self.array += other
        self._bump_version()
        return self

    def sub_(self, other, alpha=1.0):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        self._check_inplace("mul_")
        self.array *= other.array if isinstance(other, Tensor) else other
        self._bump_version()
        return self

    def div_(self, other):
        self._check_inplace("div_")
        self.array /= other.array if isinstance(other, Tensor) else other
        self._bump_version()
        return self

    def clamp_(self, min=None, max=None):  # noqa: A002 - torch's argument names
        self._check_inplace("clamp_")
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        backend.get_array_module(self.array).clip(self.array, min, max, out=self.array)
        self._bump_version()
        return self

    def normal_(self, mean=0.0, std=1.0):
        """Fill with samples of N(mean, std²) (seeded by ``minigrad.manual_seed``)."""
        self._check_inplace("normal_")
        xp = backend.get_array_module(self.array)
        self.array[...] = backend.random_normal(self.shape, self.dtype, xp) * std + mean
        self._bump_version()
        return self

    def uniform_(self, a=0.0, b=1.0):
        """Fill with samples of the uniform distribution on [a, b)."""
        self._check_inplace("uniform_")
        xp = backend.get_array_module(self.array)
        self.array[...] = backend.random_uniform(self.shape, self.dtype, a, b, xp=xp)
        self._bump_version()
        return self

    # in-place shape changes (the tensor keeps its identity, as PyTorch's ``unsqueeze_``)
    def _reshape_inplace(self, what, result):
        if self.requires_grad and STATE.grad_enabled:
            raise RuntimeError(f"{what}: in-place shape change of a tensor that requires grad; "
                               "use the out-of-place version")
        self.array = result.array
        return self

    def unsqueeze_(self, dim):
        return self._reshape_inplace("unsqueeze_", unsqueeze(self, dim))

    def squeeze_(self, dim=None):
        return self._reshape_inplace("squeeze_", squeeze(self, dim))

    def t_(self):
        return self._reshape_inplace("t_", self.t())

    # ``w -= lr * g`` under no_grad changes w itself (as PyTorch), so w stays the leaf an
    # optimizer holds; while a graph is being recorded it is the out-of-place ``w = w - ...``.
    # ``loss = Tensor([0]); loss += l`` (l recorded) must record too: out of place, as well.
    def _records(self, other):
        return STATE.grad_enabled and (self.requires_grad or
                                       (isinstance(other, Tensor) and other.requires_grad))

    def __iadd__(self, other):
        return self + other if self._records(other) else self.add_(other)

    def __isub__(self, other):
        return self - other if self._records(other) else self.sub_(other)

    def __imul__(self, other):
        return self * other if self._records(other) else self.mul_(other)

    def __itruediv__(self, other):
        if self._records(other):
            return self / other
        return self.mul_(1.0 / (other.array if isinstance(other, Tensor) else other))

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        value = value.array if isinstance(value, Tensor) else value
        try:
            self.array[_index_arrays(index, self.array)] = value
        except IndexError as error:
            raise IndexError(f"__setitem__: index {index!r} is out of range for a tensor of shape "
                             f"{tuple(self.shape)}: {error}") from None
        except ValueError as error:
            raise ValueError(f"__setitem__: cannot assign a value of shape "
                             f"{tuple(getattr(value, 'shape', ()))} at index {index!r} of a tensor "
                             f"of shape {tuple(self.shape)}: {error}") from None
        self._bump_version()

    # -- operators ---------------------------------------------------------------
    def __add__(self, other):
        if other.__class__ is Tensor or isinstance(other, Tensor):  # straight to the op's call
            return Add()._call2(self, other)
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        if other.__class__ is Tensor or isinstance(other, Tensor):  # straight to the op's call
            return Sub()._call2(self, other)
        return sub(self, other)

    def __rsub__(self, other):
        return sub(other, self)

    def __mul__(self, other):
        if other.__class__ is Tensor or isinstance(other, Tensor):  # straight to the op's call
            return Mul()._call2(self, other)
        return mul(self, other)

    def __rmul__(self, other):
        return mul(other, self)

    def __truediv__(self, other):
        if other.__class__ is Tensor or isinstance(other, Tensor):  # straight to the op's call
            return Div()._call2(self, other)
        return div(self, other)

    def __rtruediv__(self, other):
        return div(other, self)

    def __pow__(self, other):
        return pow(self, other)

    def __rpow__(self, other):
        return pow(other, self)

    def __matmul__(self, other):
        if isinstance(other, Tensor):
            return MatMul()._call2(self, other)
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        return neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return abs_(self)

    def __getitem__(self, index):
        return getitem(self, index)

    # comparisons make no graph: their results are bool tensors with no gradient
    def __eq__(self, other):
        return _compare(self, other, "equal")

    def __ne__(self, other):
        return _compare(self, other, "not_equal")

    def __lt__(self, other):
        return _compare(self, other, "less")

    def __le__(self, other):
        return _compare(self, other, "less_equal")

    def __gt__(self, other):
        return _compare(self, other, "greater")

    def __ge__(self, other):
        return _compare(self, other, "greater_equal")

    # -- logic on masks (bool tensors; bitwise on integers), no gradient, as PyTorch ------
    def __invert__(self):
        return _bitwise(self, None, "~", "invert")

    def __and__(self, other):
        return _bitwise(self, other, "&", "bitwise_and")

    def __or__(self, other):
        return _bitwise(self, other, "|", "bitwise_or")

    def __xor__(self, other):
        return _bitwise(self, other, "^", "bitwise_xor")

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def logical_not(self):
        return _bitwise(self.bool() if self.dtype.kind != "b" else self, None, "~", "invert")

    # -- methods (the same ops as minigrad.<name>) ----------------------------------
    def exp(self):
        dtype = self.array.dtype
        if dtype is _FLOAT32 or dtype is _FLOAT64:  # straight to the op's one-Tensor call
            return Exp()._call1(self)
        return exp(self)

    def log(self):
        dtype = self.array.dtype
        if dtype is _FLOAT32 or dtype is _FLOAT64:  # straight to the op's one-Tensor call
            return Log()._call1(self)
        return log(self)

    def sqrt(self):
        dtype = self.array.dtype
        if dtype is _FLOAT32 or dtype is _FLOAT64:  # straight to the op's one-Tensor call
            return Sqrt()._call1(self)
        return sqrt(self)

    def abs(self):
        return abs_(self)

    def tanh(self):
        dtype = self.array.dtype
        if dtype is _FLOAT32 or dtype is _FLOAT64:  # straight to the op's one-Tensor call
            return Tanh()._call1(self)
        return tanh(self)

    def sigmoid(self):
        dtype = self.array.dtype
        if dtype is _FLOAT32 or dtype is _FLOAT64:  # straight to the op's one-Tensor call
            return Sigmoid()._call1(self)
        return sigmoid(self)

    def relu(self):
        return relu(self)

    def clamp(self, min=None, max=None):
        return clamp(self, min, max)

    def pow(self, exponent):
        return pow(self, exponent)

    def matmul(self, other):
        return matmul(self, other)

    def sum(self, dim=None, keepdim=False):
        return sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return mean(self, dim, keepdim)

    def var(self, dim=None, keepdim=False, unbiased=True):
        return var(self, dim, keepdim, unbiased)

    def max(self, dim=None, keepdim=False):
        return max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return argmax(self, dim, keepdim)

    def softmax(self, dim):
        return softmax(self, dim)

    def log_softmax(self, dim):
        return log_softmax(self, dim)

    def reshape(self, *shape):
        return reshape(self, *shape)

    def view(self, *shape):
        return reshape(self, *shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return transpose(self, dim0, dim1)

    def permute(self, *dims):
        return permute(self, *dims)

    def squeeze(self, dim=None):
        return squeeze(self, dim)

    def unsqueeze(self, dim):
        return unsqueeze(self, dim)

    def expand(self, *sizes):
        return expand(self, *sizes)

    def split(self, split_size_or_sections, dim=0):
        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return unbind(self, dim)

    def clone(self):
        return clone(self)

    def contiguous(self):
        """Arrays here need no reordering; the same tensor (as PyTorch for a contiguous one)."""
        return self

    def is_contiguous(self):
        return True

    def narrow(self, dim, start, length):
        return narrow(self, dim, start, length)

    def t(self):
        return t(self)

    def view_as(self, other):
        return reshape(self, tuple(other.shape))

    def expand_as(self, other):
        return expand(self, *other.shape)

    def sort(self, dim=-1, descending=False, stable=False):
        return sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch's argument name
        return topk(self, k, dim, largest, sorted)

    def argmin(self, dim=None, keepdim=False):
        return argmin(self, dim, keepdim)

    def where(self, condition, other):
        return where(condition, self, other)

    def any(self, dim=None, keepdim=False):
        return any_(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return all_(self, dim, keepdim)

    def std(self, dim=None, keepdim=False, unbiased=True):
        return std(self, dim, keepdim, unbiased)

    def cumsum(self, dim):
        return cumsum(self, dim)

    def log1p(self):
        return log1p(self)

    def erf(self):
        return erf(self)

    def clip(self, min=None, max=None):  # noqa: A002 - torch's argument names
        return clamp(self, min, max)

    def maximum(self, other):
        return maximum(self, other)

    def minimum(self, other):
        return minimum(self, other)

    def gather(self, dim, index):
        return gather(self, dim, index)

    def index_select(self, dim, index):
        return index_select(self, dim, index)

    def bmm(self, mat2):
        return bmm(self, mat2)

    def repeat(self, *sizes):
        return repeat(self, *sizes)

    def flip(self, dims):
        return flip(self, dims)

    def masked_fill(self, mask, value):
        return masked_fill(self, mask, value)

    def norm(self, p="fro", dim=None, keepdim=False):
        return norm(self, p, dim, keepdim)

    def multinomial(self, num_samples, replacement=False):
        return multinomial(self, num_samples, replacement)


_FLOAT32, _FLOAT64 = backend.float32, backend.float64   # NumPy's own dtype objects (see the
# unary methods: another float dtype, or an equal dtype object that is not these, takes the
# op's function, which does the same)
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor",
               "int32": "IntTensor", "bool": "BoolTensor"}
_TENSOR_TYPES = {v: k for k, v in _TYPE_NAMES.items()}


def _size_args(size):
    """``new_zeros(2, 3)`` and ``new_zeros((2, 3))`` mean the same."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _broadcasts_to(source, target):
    """Can an array of shape ``source`` be broadcast to exactly ``target``?"""
    if len(source) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(reversed(source), reversed(target)))


def _bitwise(a, b, symbol, name):
    """``~a``, ``a & b``, ``a | b``, ``a ^ b`` for bool or integer tensors (b may be a Python
    bool or int)."""
    arrays = [a.array] + ([] if b is None else [b.array if isinstance(b, Tensor) else b])
    for x in arrays:
        if isinstance(x, int):           # a Python bool or int
            continue
        if not backend.is_array(x) or x.dtype.kind not in "biu":
            raise TypeError(f"{symbol}: needs bool or integer tensors (masks such as x > 0), "
                            f"got {getattr(x, 'dtype', type(x).__name__)}")
    xp = backend.get_array_module(a.array)
    return plain(backend.wrap_scalar(getattr(xp, name)(*arrays), a.array))


def is_tensor(obj):
    """Is ``obj`` a minigrad Tensor (``torch.is_tensor``)?"""
    return isinstance(obj, Tensor)


def _compare(a, b, name):
    xp = backend.get_array_module(a.array)
    b = b.array if isinstance(b, Tensor) else b
    return plain(backend.wrap_scalar(getattr(xp, name)(a.array, b), a.array))


# The ops live in minigrad/ops; imported last because they subclass Function, which uses Tensor.
from .ops.arithmetic import add, sub, mul, div, neg, pow, matmul, bmm  # noqa: E402
from .ops.arithmetic import Add, Sub, Mul, Div, MatMul  # noqa: E402
from .ops.elementwise import exp, log, sqrt, abs_, tanh, sigmoid, relu, clamp, where, astype  # noqa: E402
from .ops.elementwise import masked_fill, log1p, erf, maximum, minimum  # noqa: E402
from .ops.elementwise import Exp, Log, Sqrt, Tanh, Sigmoid  # noqa: E402
from .ops.reductions import sum, mean, var, max, min, argmax, norm, std, cumsum  # noqa: E402,A004
from .ops.reductions import any as any_, all as all_  # noqa: E402
from .ops.shape import (reshape, flatten, transpose, permute, squeeze, unsqueeze,  # noqa: E402
                        expand, repeat)
from .ops.indexing import getitem, flip, gather, index_select, _index_arrays  # noqa: E402
from .ops.join import split, chunk, unbind  # noqa: E402
from .ops.softmax import softmax, log_softmax  # noqa: E402
from .ops.device import to_device  # noqa: E402
from .ops.sorting import sort, argsort, topk, argmin  # noqa: E402
from .ops.views import clone, narrow, t  # noqa: E402
from .autograd import run_backward, backward_one  # noqa: E402
from .factory import multinomial  # noqa: E402
