"""Whole-module save and load without pickle: a module remembers how it was constructed.

    minigrad.save(model, "model.npz")    # class names, constructor arguments, state
    model = minigrad.load("model.npz")   # nn.Sequential(nn.Linear(4, 8), ...) rebuilt

Every ``Module`` subclass has its ``__init__`` wrapped (``__init_subclass__``) so that the
outermost constructor call records its arguments, when they are simple values: numbers,
strings, bools, None, dtypes, modules, and tuples/lists/dicts of those. Saving writes, for
the model, its class name and those arguments, the tree of its modules and its state dict.
Loading calls only classes that ``nn`` itself exports (``registered_classes()``) and the
user's own classes that the caller allowlisted, with the recorded arguments, checks that
the rebuilt tree is the saved one, and loads the state: no code from the file is ever run.

A user's own ``Module`` subclass (``model.RNNModel``) is written as its qualified name,
``f"{cls.__module__}.{cls.__qualname__}"``, and nothing else. Loading rebuilds it only when
the caller passes the class itself (``minigrad.serialization.safe_globals([RNNModel])``):
the name in the file is matched against the allowlisted classes' names, never imported.
(PyTorch pickles the class, which is what lets a checkpoint run arbitrary code; since
PyTorch 2.6 ``torch.load`` likewise refuses a class not allowlisted.)
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


def qualified_name(cls):
    """``model.RNNModel``: how a file names a class that is not nn's own."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _class_name(cls, registry, aliases=None):
    """What a record calls a class: nn's own by its name in nn (``"LSTM"``, no dot), a user's
    by its qualified name (always dotted), or by the name it was allowlisted under."""
    if registry.get(cls.__name__) is cls:
        return cls.__name__
    return (aliases or {}).get(cls, qualified_name(cls))


def _state_dict_advice(cls_name):
    return (f"save its state instead: minigrad.save(model.state_dict(), f), then rebuild "
            f"with {cls_name}(...).load_state_dict(minigrad.load(f))")


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
    return {"class": _class_name(type(module), registry), "args": modules_to_records(args),
            "kwargs": modules_to_records(kwargs)}


def module_record(model):
    """What ``minigrad.save(model, f)`` writes: constructor record, module tree, state."""
    registry = registered_classes()
    tree = []
    for path, module in model.named_modules():
        tree.append([path, _class_name(type(module), registry), bool(module.training)])
    record = _constructor_record(model, "<root>", registry)
    return record | {"tree": tree, "state": model.state_dict()}


# -- loading ---------------------------------------------------------------------------------------
class _Classes:
    """The classes one load may construct: nn's own by name, the allowlisted by qualified name."""

    def __init__(self, safe_globals=None):
        self.registry = registered_classes()
        self.allowed = dict(safe_globals or {})           # {"model.RNNModel": RNNModel}
        self.aliases = {obj: name for name, obj in self.allowed.items()
                        if isinstance(obj, type)}

    def lookup(self, name):
        if not isinstance(name, str) or "." not in name:      # nn's own, as saved by nn
            cls = self.registry.get(name)
            if cls is None:
                raise ValueError(f"class nn.{name} is not registered in nn (load rebuilds only "
                                 "nn's own module classes and the classes you allowlist)")
            return cls
        cls = self.allowed.get(name)                          # matched by name, never imported
        shown = name if len(name) <= 200 else name[:200] + "..."
        if cls is None:
            short = name.rsplit(".", 1)[-1]
            short = short if short.isidentifier() else "TheClass"
            raise ValueError(f"class {shown} is not allowlisted: load rebuilds a class of your "
                             "own only when you pass the class itself; load inside "
                             f"`with minigrad.serialization.safe_globals([{short}]):` (or call "
                             f"minigrad.serialization.add_safe_globals([{short}]) once)")
        if not (isinstance(cls, type) and issubclass(cls, ConstructorRecord)):
            raise ValueError(f"{shown} is allowlisted but is not an nn.Module class; load "
                             "constructs module classes only")
        return cls

    def name_of(self, cls):
        return _class_name(cls, self.registry, self.aliases)


def _decode(value, classes):
    if isinstance(value, dict) and set(value) == {"__dtype__"}:
        return backend.as_dtype(value["__dtype__"])
    if isinstance(value, dict) and set(value) == {"__module__"}:
        return _construct(value["__module__"], classes)
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(v, classes) for v in value)
    if isinstance(value, dict):
        return type(value)((k, _decode(v, classes)) for k, v in value.items())
    return value


def _construct(record, classes):
    if not isinstance(record, dict):
        raise ValueError("a module record is malformed")
    cls = classes.lookup(record.get("class"))
    args, kwargs = record.get("args", []), record.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ValueError(f"the record of {classes.name_of(cls)} has malformed arguments")
    return cls(*_decode(args, classes), **_decode(kwargs, classes))


def _check_tree(model, record, classes):
    tree = [[path, classes.name_of(type(m))] for path, m in model.named_modules()]
    saved = [entry[:2] for entry in record["tree"]]
    if tree != saved:
        diff = next((f"'{a[0]}': saved {b}, rebuilt {a}" for a, b in zip(tree, saved) if a != b),
                    f"saved {len(saved)} modules, rebuilt {len(tree)}")
        raise ValueError(f"the rebuilt {classes.name_of(type(model))} differs from the saved "
                         f"one ({diff}); was the module changed after it was constructed?")


def rebuild_module(record, device=None, safe_globals=None):
    """The module a ``module_record`` describes, with its state loaded.

    ``safe_globals``: ``{qualified name: class}`` of the user's classes this load may
    construct (``minigrad.load`` passes the current allowlist); nn's own are always allowed.
    """
    if not isinstance(record, dict) or not isinstance(record.get("tree"), list):
        raise ValueError("the module record is malformed")
    classes = _Classes(safe_globals)
    try:
        model = _construct(record, classes)
    except MemoryError:
        raise ValueError(f"constructing {record.get('class')} with the recorded arguments "
                         "needs more memory than there is") from None
    _check_tree(model, record, classes)
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
    def __minigrad_rebuild__(record, device=None, safe_globals=None):
        return rebuild_module(record, device, safe_globals)
