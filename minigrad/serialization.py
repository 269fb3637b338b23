"""``minigrad.save`` / ``minigrad.load``: checkpoints as ``.npz`` files, without pickle.

    minigrad.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": 1200},
                  "ckpt.npz")
    ckpt = minigrad.load("ckpt.npz")
    model.load_state_dict(ckpt["model"])

The file is an ordinary NumPy ``.npz`` archive: every array is stored under its path in
the nested object (``model/encoder.weight``), and one extra entry holds a small JSON
description of the nesting (dicts, lists, tuples, numbers, strings, None). Loading
uses ``allow_pickle=False``, so a checkpoint from an untrusted source cannot run code.

Saving writes a temporary file in the same folder and renames it over ``path`` at the
end (``os.replace`` is atomic): a crash mid-save leaves the old checkpoint intact.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import OrderedDict

from . import backend
from .tensor import Tensor

STRUCTURE_KEY = "__minigrad_structure__"
FORMAT = "minigrad-checkpoint"
VERSION = 1
_SEP = "/"


# ---------------------------------------------------------------------------
# Flattening: object -> (JSON description, {name: array})
# ---------------------------------------------------------------------------
def _encode_key(key, where):
    if isinstance(key, bool) or key is None:
        return ["o", key]
    if isinstance(key, str):
        return ["s", key]
    if isinstance(key, int):
        return ["i", key]
    if isinstance(key, float):
        return ["f", key]
    raise TypeError(f"minigrad.save: dict key {key!r} at '{where or '<root>'}' has type "
                    f"{type(key).__name__}; keys must be str, int, float, bool or None")


def _flatten(obj, path, arrays):
    where = path or "<root>"
    if isinstance(obj, Tensor) or backend.is_array(obj):
        kind = "tensor" if isinstance(obj, Tensor) else "array"
        array = backend.to_host(obj.array if isinstance(obj, Tensor) else obj)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"minigrad.save: array at '{where}' has dtype {array.dtype}; only "
                            "numeric and boolean arrays can be saved")
        name = path or "array"
        while name in arrays or name == STRUCTURE_KEY:
            name += "~"
        arrays[name] = array
        return {"t": kind, "name": name}
    if isinstance(obj, backend.host_numpy().generic):
        return _flatten(backend.host_numpy().asarray(obj), path, arrays) | {"scalar": True}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"t": "value", "v": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            child = f"{path}{_SEP}{key}" if path else str(key)
            items.append([_encode_key(key, where), _flatten(value, child, arrays)])
        return {"t": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, f"{path}{_SEP}{i}" if path else str(i), arrays)
                 for i, v in enumerate(obj)]
        return {"t": "tuple" if isinstance(obj, tuple) else "list", "items": items}
    raise TypeError(f"minigrad.save: cannot save an object of type {type(obj).__name__} at "
                    f"'{where}' (supported: Tensor, array, dict, list, tuple, int, float, str, "
                    "bool, None)")


def _unflatten(spec, arrays, device, path):
    kind = spec.get("t")
    if kind in ("tensor", "array"):
        array = arrays[spec["name"]]
        if spec.get("scalar"):
            return array[()]
        if kind == "array":
            return array
        return Tensor(array, device=device)
    if kind == "value":
        return spec["v"]
    if kind in ("dict", "odict"):
        out = OrderedDict() if kind == "odict" else {}
        for (_tag, key), child in spec["items"]:
            out[key] = _unflatten(child, arrays, device, path)
        return out
    if kind in ("list", "tuple"):
        items = [_unflatten(child, arrays, device, path) for child in spec["items"]]
        return tuple(items) if kind == "tuple" else items
    raise ValueError(f"minigrad.load: {path} has an unknown entry of kind {kind!r} in its "
                     "structure description")


# ---------------------------------------------------------------------------
# Writing and reading
# ---------------------------------------------------------------------------
def _write_npz(fileobj, arrays):
    """Write the arrays as an uncompressed .npz archive into an open binary file."""
    backend.host_numpy().savez(fileobj, **arrays)


def save(obj, path):
    """Save ``obj`` (a state dict, or nested dicts/lists of Tensors, arrays and plain
    values) to ``path`` as a ``.npz`` archive, atomically.

    Tensors come back as Tensors (on the CPU unless ``load(..., device=)``), NumPy arrays
    as arrays, OrderedDicts as OrderedDicts, tuples as tuples.
    """
    np = backend.host_numpy()
    path = os.fspath(path)
    arrays = {}
    spec = _flatten(obj, "", arrays)
    description = json.dumps({"format": FORMAT, "version": VERSION, "root": spec})
    arrays[STRUCTURE_KEY] = np.frombuffer(description.encode("utf-8"), dtype=np.uint8)

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def load(path, device=None):
    """Read a checkpoint written by ``save``. Never unpickles anything.

    Args:
        path: the file.
        device: put the loaded Tensors on this device (default: CPU).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a complete minigrad checkpoint (corrupt, truncated,
            or another kind of file); the message names the path.
    """
    np = backend.host_numpy()
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise ValueError("it holds a single array, not an .npz archive")
            if STRUCTURE_KEY not in archive.files:
                raise ValueError(f"it has no '{STRUCTURE_KEY}' entry (not written by minigrad.save)")
            arrays = {name: archive[name] for name in archive.files}
        description = json.loads(bytes(arrays.pop(STRUCTURE_KEY)).decode("utf-8"))
        if description.get("format") != FORMAT:
            raise ValueError(f"unknown format {description.get('format')!r}")
        if description.get("version", 0) > VERSION:
            raise ValueError(f"it was written by a newer minigrad (format version "
                             f"{description['version']} > {VERSION})")
        return _unflatten(description["root"], arrays, device, path)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, UnicodeDecodeError,
            TypeError, AttributeError) as error:
        raise ValueError(f"minigrad.load: cannot read '{path}': it is corrupt, truncated or not a "
                         f"minigrad checkpoint ({type(error).__name__}: {error})") from error
