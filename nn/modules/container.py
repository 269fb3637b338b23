"""Containers: ``Sequential`` runs modules in order; ``ModuleList`` holds them by index."""
from __future__ import annotations

from collections import OrderedDict

from .module import Module


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
