"""``Module``: a layer that owns parameters, buffers and other modules.

Assigning a ``Parameter`` or a ``Module`` as an attribute registers it, in order::

    class TwoLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(4, 8)     # registered as "hidden"
            self.out = nn.Linear(8, 2)        # registered as "out"
        def forward(self, x):
            return self.out(self.hidden(x).tanh())

    dict(TwoLayer().named_parameters()).keys()
    # hidden.weight, hidden.bias, out.weight, out.bias

As in PyTorch, assigning ``None`` to a registered name empties its slot, and a plain Tensor
assigned to a parameter's name raises ``TypeError`` (wrap it: ``nn.Parameter(t)``), so the
optimizer never keeps updating a replaced weight. Any other value (a number, a list) replaces
the registration with a plain attribute, where PyTorch raises.

Calling a module tags every graph node its ``forward`` makes with the module's dotted
path (``encoder.lstm``), so graph pictures can group nodes by layer.
"""
from __future__ import annotations

from collections import OrderedDict

from minigrad import backend
from minigrad.grad_mode import STATE, no_grad, run_in_module_scope
from minigrad.tensor import Tensor, plain
from .constructor_record import ConstructorRecord  # whole-module save/load


def _staged_value(owner, key, value, target):
    """``value`` as an array of ``target``'s shape, dtype and device, or a clear error."""
    where = f"load_state_dict for {owner}: '{key}'"
    array = value.array if isinstance(value, Tensor) else value
    try:
        array = backend.as_array(array) if not backend.is_array(array) else array
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where} must be a tensor or a numeric array, got "
                        f"{type(value).__name__} ({error})") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where} has dtype {array.dtype}, which cannot be converted to the "
                        f"model's dtype {target.dtype} (expected numbers)")
    if array.dtype.kind == "f" and target.dtype.kind in "iub":
        raise TypeError(f"{where} holds floating point values (dtype {array.dtype}) but the "
                        f"model's buffer has dtype {target.dtype}")
    shape = tuple(array.shape)
    if shape != tuple(target.shape):
        raise ValueError(f"{where}: size mismatch: checkpoint has shape {shape}, the model has "
                         f"shape {tuple(target.shape)}")
    return backend.to_device(array, target.device).astype(target.dtype, copy=True)


class Parameter(Tensor):
    """A tensor that is a module's learnable weight: it requires grad and is registered
    by the module it is assigned to."""

    __slots__ = ()
    is_parameter = True

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            data = data.array
        super().__init__(data, dtype=None)
        if self.dtype.kind == "f":
            self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module(ConstructorRecord):
    """Base class of all layers. Subclasses call ``super().__init__()`` and define ``forward``."""

    def __init__(self):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):   # __init__ called again: forget
            for name in d.get(store, ()):                       # the old registrations' copies
                d.pop(name, None)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_local_name", None)
        object.__setattr__(self, "_names_given", False)

    # -- registration ---------------------------------------------------------
    # The stores (``_parameters``, ``_modules``, ``_buffers``) say what is registered, in
    # order; each registered value is also kept under its name in the instance ``__dict__``,
    # so ``self.weight`` is a plain attribute read (about 70 ns here) and not a failed lookup
    # followed by ``__getattr__`` (900 ns, paid for every parameter and submodule a forward
    # touches, every time step). The four methods below are the only writers of the stores,
    # and each updates both.
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called "
                                 f"(call super().__init__() first in {type(self).__name__})")
        params, modules, buffers = d["_parameters"], d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            modules.pop(name, None)
            buffers.pop(name, None)
            params[name] = value
            d["_names_given"] = False
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
            if value._local_name is None:
                object.__setattr__(value, "_local_name", name)
            d["_names_given"] = False
        elif name in buffers and (value is None or isinstance(value, Tensor)):
            buffers[name] = value
        elif name in params and value is None:
            params[name] = None
        elif name in modules and value is None:
            modules[name] = None
        elif name in params:      # PyTorch's rule: a parameter's name takes a Parameter or None
            hint = "; wrap it: nn.Parameter(tensor)" if isinstance(value, Tensor) else ""
            raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} to "
                            f"parameter {name!r} (expected an nn.Parameter or None{hint})")
        elif name in modules:
            raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} to "
                            f"child module {name!r} (expected an nn.Module or None)")
        elif name in buffers:
            raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} to "
                            f"buffer {name!r} (expected a Tensor or None)")
        else:                     # a plain attribute (a property's setter, if the class has one)
            object.__setattr__(self, name, value)
            return
        d[name] = value

    def __getattr__(self, name):
        # reached only when ``name`` is in no __dict__: the stores are the record, so look
        # there before giving up
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d.get(store, ()):
                del d[store][name]
                d.pop(name, None)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is state but not a parameter (e.g. BatchNorm's running mean):
        saved in the state dict, moved by ``to()``, never given to an optimizer."""
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        self._buffers[name] = tensor
        self.__dict__[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        setattr(self, name, module)

    # -- calling -----------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        """``forward`` with every node it makes tagged with this module's dotted path (the
        enclosing time step is kept); a top-level call first names the parameters."""
        if not self._names_given and STATE.scope is None:
            self._give_parameter_names()
        return run_in_module_scope(self._local_name, self.forward, args, kwargs)

    def _give_parameter_names(self):
        """Label each unnamed parameter with its dotted name, for graph pictures."""
        for name, p in self.named_parameters():
            if p._name is None:
                p._name = name
        object.__setattr__(self, "_names_given", True)

    # -- walking the tree --------------------------------------------------------------
    def named_modules(self, prefix="", memo=None):
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in memo:
                continue
            memo.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()
                        if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, parameter) pairs in registration order, each parameter once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{module_name}.{name}" if module_name else name), b

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        for m in list(self.modules())[::-1]:
            fn(m)
        return self

    # -- modes and gradients ------------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = plain(p.grad.array * 0)

    def requires_grad_(self, flag=True):
        for p in self.parameters():
            p.requires_grad_(flag)
        return self

    # -- state -----------------------------------------------------------------------------
    def state_dict(self):
        """Ordered {dotted name: Tensor} of parameters and persistent buffers (sharing data)."""
        state = OrderedDict()
        for module_name, module in self.named_modules():
            for name, p in module._parameters.items():
                if p is not None:
                    state[f"{module_name}.{name}" if module_name else name] = p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    state[f"{module_name}.{name}" if module_name else name] = b.detach()
        return state

    def _state_targets(self):
        targets = OrderedDict()
        for module_name, module in self.named_modules():
            for store in (module._parameters, module._buffers):
                for name, t in store.items():
                    if t is not None and name not in module._non_persistent:
                        targets[f"{module_name}.{name}" if module_name else name] = t
        return targets

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (Tensors or NumPy arrays, e.g. a PyTorch state dict as numpy) into
        the parameters and buffers. Every key and shape is checked before anything is
        copied, so a failed load leaves the module unchanged.

        Returns (missing_keys, unexpected_keys) when ``strict=False``.
        """
        name = type(self).__name__
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict for {name}: state_dict must be a mapping of names to "
                            f"tensors or arrays (from state_dict() or minigrad.load), got "
                            f"{type(state_dict).__name__}")
        bad_keys = [k for k in state_dict.keys() if not isinstance(k, str)]
        if bad_keys:
            raise TypeError(f"load_state_dict for {name}: keys must be strings, got key "
                            f"{bad_keys[0]!r} of type {type(bad_keys[0]).__name__}")
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict.keys() if k not in targets]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(f"load_state_dict for {name}: " + "; ".join(parts))
        # every value converted to its target's dtype and device first: nothing is written
        # unless all of them can be
        staged = [(target, _staged_value(name, key, state_dict[key], target))
                  for key, target in targets.items() if key in state_dict]
        with no_grad():
            for target, value in staged:
                target.array = value
                target._bump_version()
        return (missing, unexpected)

    # -- devices and dtypes ---------------------------------------------------------------------
    def _convert(self, convert):
        for module in self.modules():
            for store in (module._parameters, module._buffers):
                for t in store.values():
                    if t is None:
                        continue
                    t.array = convert(t.array)
                    if t.grad is not None:
                        t.grad = plain(convert(t.grad.array))
        return self

    def to(self, target):
        """``to("cuda")`` / ``to("cpu")`` moves parameters and buffers; ``to(minigrad.float64)``
        converts floating-point parameters and buffers. Returns self."""
        dtype, device = backend.parse_target(target)
        if dtype is not None:
            return self._convert(lambda a: a.astype(dtype) if a.dtype.kind == "f" else a)
        return self._convert(lambda a: backend.to_device(a, device))

    def double(self):
        return self.to(backend.float64)

    def float(self):
        return self.to(backend.float32)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=0):
        return self.to(f"cuda:{index}")

    # -- printing ---------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"
