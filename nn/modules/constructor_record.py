"""Whole-module save and load without pickle: a module remembers how it was constructed.

    minigrad.save(model, "model.npz")    # class names, constructor arguments, state
    model = minigrad.load("model.npz")   # nn.Sequential(nn.Linear(4, 8), ...) rebuilt

Every ``Module`` subclass has its ``__init__`` wrapped (``__init_subclass__``) so that the
outermost constructor call records its arguments, when they are simple values: numbers,
strings, bools, None, dtypes, modules, and tuples/lists/dicts of those. Saving writes, for
the model, its class name and those arguments, the tree of its modules and its state dict.
Loading calls only classes that ``nn`` itself exports (``registered_classes()``), with the
recorded arguments, checks that the rebuilt tree is the saved one, and loads the state: no
code from the file is ever run. A user's own ``Module`` subclass is refused with a note
saying how to save its ``state_dict`` instead (PyTorch would pickle it, which is what lets
a checkpoint run arbitrary code).
"""
from __future__ import annotations

import functools
import importlib
from collections import OrderedDict

from minigrad import backend

_SIMPLE = (type(None), bool, int, float, str)


class _NotSimple(Exception):
    pass


# -- recording -------------------------------------------------------------------------------
def _dtype_name(value):
    """The name of a dtype argument (minigrad.float32, a NumPy dtype or scalar type), or None."""
    if not (isinstance(value, type) or type(value).__module__.startswith("numpy")):
        return None
    try:
        dtype = backend.as_dtype(value)
    except TypeError:
        return None
    return dtype.name if dtype.kind in "biufc" else None


def _encode(value):
    """A constructor argument as plain data (modules kept as objects until save)."""
    if isinstance(value, _SIMPLE):
        return value
    if type(value).__module__.startswith("numpy") and not isinstance(value, type) and \
            hasattr(value, "item") and getattr(value, "shape", None) == ():
        return _encode(value.item())                  # a NumPy scalar, e.g. eps=np.float32(..)
    if _dtype_name(value) is not None:
        return {"__dtype__": _dtype_name(value)}
    if hasattr(type(value), "__minigrad_record__"):
        return {"__module__": value}
    if type(value) in (list, tuple):
        return type(value)(_encode(v) for v in value)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return type(value)((k, _encode(v)) for k, v in value.items())
    raise _NotSimple(f"an argument of type {type(value).__name__}")


def _recording(init):
    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if type(self).__init__ is __init__:          # the outermost constructor only
            try:
                recorded = ([_encode(a) for a in args], {k: _encode(v) for k, v in kwargs.items()})
            except _NotSimple as why:
                recorded = str(why)
            object.__setattr__(self, "_constructor_arguments", recorded)
    return __init__


# -- the registry --------------------------------------------------------------------------------
def registered_classes():
    """{name: class} of every Module class that ``nn`` exports: all that load rebuilds."""
    nn = importlib.import_module(__name__.split(".")[0])
    return {name: obj for name, obj in vars(nn).items()
            if isinstance(obj, type) and issubclass(obj, ConstructorRecord)}


def _state_dict_advice(cls_name):
    return (f"save its state instead: minigrad.save(model.state_dict(), f), then rebuild "
            f"with {cls_name}(...).load_state_dict(minigrad.load(f))")


def _check_registered(module, where, registry, model_name):
    cls_name = type(module).__name__
    if registry.get(cls_name) is not type(module):
        raise TypeError(f"minigrad.save: cannot save the whole module: '{where}' is a "
                        f"{cls_name}, a class not registered in nn (load rebuilds only nn's own "
                        f"classes and never runs code from a file); "
                        f"{_state_dict_advice(model_name)}")


# -- saving -----------------------------------------------------------------------------------------
def _container_arguments(module, registry):
    """A container is recorded with the children it holds now (append() included)."""
    children = [(name, {"__module__": m}) for name, m in module._modules.items()]
    if type(module) in (registry.get("Sequential"), registry.get("ModuleDict")):
        return ([OrderedDict(children)], {})
    if type(module) is registry.get("ModuleList"):
        return ([[m for _, m in children]], {})
    return None


def _constructor_record(module, where, registry):
    cls_name = type(module).__name__
    _check_registered(module, where, registry, cls_name)
    recorded = _container_arguments(module, registry) or \
        module.__dict__.get("_constructor_arguments")
    if not isinstance(recorded, tuple):
        raise TypeError(f"minigrad.save: cannot save the whole module: '{where}' ({cls_name}) "
                        f"was constructed with {recorded or 'arguments it did not record'}, "
                        "not a number, string, bool, None, dtype, module or a tuple/list/dict "
                        f"of those; {_state_dict_advice(cls_name)}")

    def modules_to_records(value):
        if isinstance(value, dict) and set(value) == {"__module__"}:
            return {"__module__": _constructor_record(value["__module__"], where, registry)}
        if isinstance(value, (list, tuple)):
            return type(value)(modules_to_records(v) for v in value)
        if isinstance(value, dict):
            return type(value)((k, modules_to_records(v)) for k, v in value.items())
        return value
    args, kwargs = recorded
    return {"class": cls_name, "args": modules_to_records(args),
            "kwargs": modules_to_records(kwargs)}


def module_record(model):
    """What ``minigrad.save(model, f)`` writes: constructor record, module tree, state."""
    registry = registered_classes()
    tree = []
    for path, module in model.named_modules():
        _check_registered(module, path or "<root>", registry, type(model).__name__)
        tree.append([path, type(module).__name__, bool(module.training)])
    record = _constructor_record(model, "<root>", registry)
    return record | {"tree": tree, "state": model.state_dict()}


# -- loading ---------------------------------------------------------------------------------------
def _decode(value, registry):
    if isinstance(value, dict) and set(value) == {"__dtype__"}:
        return backend.as_dtype(value["__dtype__"])
    if isinstance(value, dict) and set(value) == {"__module__"}:
        return _construct(value["__module__"], registry)
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(v, registry) for v in value)
    if isinstance(value, dict):
        return type(value)((k, _decode(v, registry)) for k, v in value.items())
    return value


def _construct(record, registry):
    cls = registry.get(record.get("class"))
    if cls is None:
        raise ValueError(f"class nn.{record.get('class')} is not registered in nn (load "
                         "rebuilds only nn's own module classes)")
    args, kwargs = record.get("args", []), record.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ValueError(f"the record of nn.{cls.__name__} has malformed arguments")
    return cls(*_decode(args, registry), **_decode(kwargs, registry))


def rebuild_module(record, device=None):
    """The module a ``module_record`` describes, with its state loaded."""
    if not isinstance(record, dict) or not isinstance(record.get("tree"), list):
        raise ValueError("the module record is malformed")
    try:
        model = _construct(record, registered_classes())
    except MemoryError:
        raise ValueError(f"constructing nn.{record.get('class')} with the recorded arguments "
                         "needs more memory than there is") from None
    tree = [[path, type(m).__name__] for path, m in model.named_modules()]
    saved = [entry[:2] for entry in record["tree"]]
    if tree != saved:
        diff = next((f"'{a[0]}': saved {b}, rebuilt {a}" for a, b in zip(tree, saved) if a != b),
                    f"saved {len(saved)} modules, rebuilt {len(tree)}")
        raise ValueError(f"the rebuilt nn.{type(model).__name__} differs from the saved one "
                         f"({diff}); was the module changed after it was constructed?")
    state = record.get("state")
    targets = model._state_targets()
    for key, value in state.items():                 # keep the saved dtypes (e.g. float64)
        target = targets.get(key)
        if target is not None and getattr(value, "dtype", None) is not None \
                and value.dtype != target.dtype:
            target.array = target.array.astype(value.dtype)
    model.load_state_dict(state)
    for (path, _cls, training), (_, module) in zip(record["tree"], model.named_modules()):
        object.__setattr__(module, "training", bool(training))
    return model.to(device) if device is not None else model


class ConstructorRecord:
    """Mixin of ``nn.Module``: records constructor arguments, and the save/load protocol
    that ``minigrad.save`` / ``minigrad.load`` call (minigrad never imports nn)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording(cls.__init__)

    def __minigrad_record__(self):
        return module_record(self)

    @staticmethod
    def __minigrad_rebuild__(record, device=None):
        return rebuild_module(record, device)
