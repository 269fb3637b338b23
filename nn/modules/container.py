"""Containers: ``Sequential`` runs modules in order; ``ModuleList`` holds them by index;
``ParameterList`` / ``ParameterDict`` hold parameters themselves (by index, by key)."""
from __future__ import annotations

import operator
from collections import OrderedDict

from minigrad.tensor import Tensor
from .module import Module, Parameter


def _check_module(container, key, module):
    """Containers hold Modules only: a lambda or a number would be silently dropped."""
    if not isinstance(module, Module):
        raise TypeError(f"{container}: item {key!r} must be an nn.Module, got "
                        f"{type(module).__name__} ({module!r:.60})")
    return module


class Sequential(Module):
    """``Sequential(a, b, c)(x) == c(b(a(x)))``; also takes an OrderedDict of named modules."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            items = [(str(k), _check_module("Sequential", k, m)) for k, m in modules[0].items()]
        else:
            items = [(str(i), _check_module("Sequential", i, m)) for i, m in enumerate(modules)]
        for name, m in items:
            setattr(self, name, m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*items[index])
        return items[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        setattr(self, str(len(self._modules)), _check_module("Sequential", len(self._modules), module))
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (``layers.0.weight``, ...)."""

    def __init__(self, modules=None):
        super().__init__()
        self.extend(modules or [])

    def append(self, module):
        setattr(self, str(len(self._modules)), _check_module("ModuleList", len(self._modules), module))
        return self

    def extend(self, modules):
        modules = list(modules)
        for i, m in enumerate(modules):  # all checked before any is added
            _check_module("ModuleList", len(self._modules) + i, m)
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList is a container: call its items, not the list")


def _check_key(key):
    if not isinstance(key, str) or not key or "." in key:
        raise TypeError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        items = list((modules or {}).items())
        for k, m in items:
            _check_key(k)
            _check_module("ModuleDict", k, m)
        for k, m in items:
            setattr(self, k, m)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        _check_key(key)
        setattr(self, key, _check_module("ModuleDict", key, module))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()


# -- parameters held directly ----------------------------------------------------------------
def _as_parameter(container, key, value):
    """A Parameter as is; a plain Tensor wrapped in one (as PyTorch does); anything else
    refused, since it would never reach ``parameters()`` or the state dict."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{container}: item {key!r} must be an nn.Parameter or a Tensor, got "
                    f"{type(value).__name__} ({value!r:.60})")


def _describe(key, p):
    """A parameter's line in PyTorch's repr: ``(0): Parameter containing: [... of size 3x4]``."""
    size = "x".join(str(n) for n in p.shape)
    device = "" if p.device == "cpu" else f" ({p.device})"
    return f"  ({key}): Parameter containing: [minigrad.{p.dtype} of size {size}{device}]"


def _parameters_repr(module):
    """PyTorch's layout: one parameter on the line, several each on their own line."""
    lines = [_describe(k, p) for k, p in module._parameters.items() if p is not None]
    name = type(module).__name__
    if len(lines) == 1:
        return f"{name}({lines[0]})"
    return f"{name}(" + "".join("\n  " + line for line in lines) + ("\n" if lines else "") + ")"


class ParameterList(Module):
    """A list of parameters registered on the module under "0", "1", ... (PyTorch's keys), so
    that ``parameters()``, the optimizer, ``state_dict()`` and ``.to()`` see them::

        self.scales = nn.ParameterList([nn.Parameter(minigrad.ones(d)) for d in dims])
        for s, x in zip(self.scales, xs): ...

    A plain Tensor put in is wrapped in a Parameter, as in PyTorch.
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _key(self, index):
        """The key ("0", "1", ...) of an int index, negative ones counted from the end."""
        index, n = operator.index(index), len(self)
        if not -n <= index < n:
            raise IndexError(f"ParameterList: index {index} is out of range for a list of {n}")
        return str(index % n)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(list(self)[index])
        return self._parameters[self._key(index)]

    def __setitem__(self, index, param):
        key = self._key(index)
        setattr(self, key, _as_parameter("ParameterList", int(key), param))

    def append(self, value):
        n = len(self)
        setattr(self, str(n), _as_parameter("ParameterList", n, value))
        return self

    def extend(self, values):
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError("ParameterList.extend should be called with an iterable of "
                            f"parameters, got {type(values).__name__}")
        values = [_as_parameter("ParameterList", len(self) + i, v)   # all checked first
                  for i, v in enumerate(values)]
        for v in values:
            self.append(v)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __repr__(self):
        return _parameters_repr(self)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList is a container: use its parameters, not the list")


class ParameterDict(Module):
    """A dict of parameters registered under their keys (``state_dict()`` key
    ``"<name>.<key>"``), in insertion order; a plain Tensor put in is wrapped in a Parameter."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key):
        """PyTorch's rules for a parameter's name, plus: no clash with an attribute."""
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {key!r} "
                            f"({type(key).__name__})")
        if not key or "." in key:
            raise KeyError(f"ParameterDict: key {key!r} must be a non-empty string without '.'")
        if key not in self._parameters and (hasattr(type(self), key) or key in self.__dict__):
            raise KeyError(f"ParameterDict: key {key!r} is the name of one of its attributes "
                           "(a method or Module's own state); choose another key")

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self._check_key(key)
        setattr(self, key, _as_parameter("ParameterDict", key, value))

    def __delitem__(self, key):
        if key not in self._parameters:
            raise KeyError(key)
        delattr(self, key)

    def update(self, parameters):
        """Add (or replace) from a mapping or an iterable of (key, value) pairs; every item
        is checked before any is added."""
        items = list(parameters.items() if hasattr(parameters, "items") else parameters)
        for pair in items:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ParameterDict.update: expected a mapping or (key, value) "
                                f"pairs, got the item {pair!r:.60}")
            self._check_key(pair[0])
            _as_parameter("ParameterDict", pair[0], pair[1])
        for key, value in items:
            self[key] = value

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def __contains__(self, key):
        return key in self._parameters

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def __repr__(self):
        return _parameters_repr(self)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict is a container: use its parameters, not the dict")
