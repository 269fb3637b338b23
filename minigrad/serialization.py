"""``minigrad.save`` / ``minigrad.load``: checkpoints as ``.npz`` files, without pickle.

    minigrad.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": 1200},
                  "ckpt.npz")
    ckpt = minigrad.load("ckpt.npz")
    model.load_state_dict(ckpt["model"])

    minigrad.save(model, "model.npz")      # a whole nn module: its class tree and state
    model = minigrad.load("model.npz")     # rebuilt from classes registered in nn

    minigrad.save(model, f)                # your own class: written as "model.RNNModel"
    with minigrad.serialization.safe_globals([RNNModel]):
        model = minigrad.load(f)           # rebuilt only because you passed the class

A whole module is saved as its class names, constructor arguments and state, never as
code. ``nn``'s own classes are always rebuilt; a class of your own (any other ``Module``
subclass) is written as its qualified name, ``f"{cls.__module__}.{cls.__qualname__}"``,
and ``load`` rebuilds it only when that name is the name of a class you allowlisted:

- ``with safe_globals([RNNModel, ...]):`` allows the classes inside the block, in this
  thread only (as ``no_grad``); the previous allowlist comes back when the block ends,
  even on an exception.
- ``add_safe_globals([RNNModel, ...])`` allows them in every thread until
  ``clear_safe_globals()``; ``get_safe_globals()`` lists what this thread may rebuild.

The name in the file is only compared with the allowlisted classes' names: no module is
ever imported by a name read from a file, so a file naming ``os.system`` or an unknown
class is refused without running or importing anything. (PyTorch's functions of the same
names allowlist what its unpickler may build; its lists may hold functions such as
``torch.nn.functional.relu``, which load accepts and ignores: it constructs modules only.)

The file is an ordinary NumPy ``.npz`` archive: every array is stored under its path in
the nested object (``model/encoder.weight``), and one extra entry holds a small JSON
description of the nesting (dicts, lists, tuples, numbers, strings, None, and for a whole
module its class names and constructor arguments). ``path`` may also be an open binary
file object, as with ``torch.save`` / ``torch.load``.

Loading never runs code from the file (no pickle) and is bounded: before allocating
anything it checks every array's declared size against the file's real size and against
``max_bytes``, accepts only numeric and boolean arrays in uncompressed members with plain
names, and limits how deeply the structure may nest. Every problem is a ``ValueError``
naming the file and what is wrong.

Saving to a path writes a temporary file in the same folder and renames it over ``path``
at the end (``os.replace`` is atomic): a crash mid-save leaves the old checkpoint intact.
A failed save removes its temporary file; one left by a killed process is removed by the
next save of the same path.
"""
from __future__ import annotations

import contextlib
import glob
import io
import json
import math
import os
import sys
import tempfile
import threading
import zipfile
from collections import OrderedDict

from . import backend
from .tensor import Tensor

STRUCTURE_KEY = "__minigrad_structure__"
FORMAT = "minigrad-checkpoint"
VERSION = 1
DEFAULT_MAX_BYTES = 4 * 2**30      # what load() may allocate unless told more
MAX_DEPTH = 100                    # nesting of dicts/lists/tuples/modules
MAX_STRUCTURE_BYTES = 64 * 2**20   # the JSON description
MAX_HEADER_BYTES = 10_000          # one .npy header
_SEP = "/"
_KINDS = "biufc"                   # bool, int, uint, float, complex


class _Refused(ValueError):
    """A problem load() found and can name (the message is the problem)."""


# ---------------------------------------------------------------------------
# The allowlist of the user's own module classes (safe_globals)
# ---------------------------------------------------------------------------
def _qualified_name(obj):
    """``model.RNNModel`` for a class (or function) ``obj``; None for an object without one."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if isinstance(module, str) and isinstance(qualname, str) \
        else None


def _allowlist_entries(entries, caller):
    """``[cls, (obj, "module.Name"), ...]`` as ``(name, obj)`` pairs, checked."""
    if isinstance(entries, (str, bytes)) or not hasattr(entries, "__iter__"):
        raise TypeError(f"minigrad.serialization.{caller}: expected a list of classes, got "
                        f"{entries!r}")
    pairs = []
    for i, entry in enumerate(entries):
        if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str):
            pairs.append((entry[1], entry[0]))
        elif _qualified_name(entry) is not None and not isinstance(entry, tuple):
            pairs.append((_qualified_name(entry), entry))
        else:
            raise TypeError(f"minigrad.serialization.{caller}: entry {i} is {entry!r} (a "
                            f"{type(entry).__name__}); expected a class itself, or a pair "
                            "(class, \"module.Name\") — never a name alone")
    return tuple(pairs)


class _SafeGlobals:
    """What ``load`` may rebuild besides nn's own classes: the process-wide list of
    ``add_safe_globals`` and, per thread, the classes of the ``safe_globals`` blocks it is
    inside (``threading.local``)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.process_wide = ()                       # ((name, obj), ...)
        self.local = threading.local()

    def in_this_thread(self):
        return getattr(self.local, "pairs", ())

    def add(self, pairs):
        with self._lock:
            self.process_wide = self.process_wide + pairs

    def clear(self):
        with self._lock:
            self.process_wide = ()

    def by_name(self):
        """{qualified name: obj} for a load in this thread (the later entry wins)."""
        return dict(self.process_wide + self.in_this_thread())


_SAFE_GLOBALS = _SafeGlobals()


def safe_globals(safe_globals):
    """Allow ``load`` to rebuild these classes of your own, inside this block, in this
    thread::

        with minigrad.serialization.safe_globals([RNNModel]):
            model = minigrad.load(f)

    Entries are the classes themselves (matched by ``module.qualname``) or pairs
    ``(cls, "module.Name")`` for a class saved under another name. Blocks nest; each
    restores the allowlist it found, even when the block raises. A thread started inside
    the block is not inside it.
    """
    return _allowing(_allowlist_entries(safe_globals, "safe_globals"))


@contextlib.contextmanager
def _allowing(pairs):
    previous = _SAFE_GLOBALS.in_this_thread()
    _SAFE_GLOBALS.local.pairs = previous + pairs
    try:
        yield
    finally:
        _SAFE_GLOBALS.local.pairs = previous


def add_safe_globals(safe_globals):
    """Allow ``load`` to rebuild these classes in every thread from now on (until
    ``clear_safe_globals()``); entries as for ``safe_globals``."""
    _SAFE_GLOBALS.add(_allowlist_entries(safe_globals, "add_safe_globals"))


def clear_safe_globals():
    """Forget every class ``add_safe_globals`` allowed (``safe_globals`` blocks keep theirs)."""
    _SAFE_GLOBALS.clear()


def get_safe_globals():
    """What ``load`` may rebuild in this thread besides nn's classes: the process-wide
    entries, then those of the ``safe_globals`` blocks around this call."""
    return [obj if name == _qualified_name(obj) else (obj, name)
            for name, obj in _SAFE_GLOBALS.process_wide + _SAFE_GLOBALS.in_this_thread()]


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


def is_plain_member_name(name):
    """A name that cannot mean a path outside an archive: '/'-separated non-empty parts,
    none '.' or '..', no backslash, drive colon or control character."""
    if not name or name.startswith("/") or any(c in name for c in "\\:") or \
            any(ord(c) < 32 for c in name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def _array_name(path, arrays):
    name = path if is_plain_member_name(path) else f"array{len(arrays)}"
    while name in arrays or name == STRUCTURE_KEY:
        name += "~"
    return name


def _flatten(obj, path, arrays, depth=0):
    where = path or "<root>"
    if depth > MAX_DEPTH:
        raise ValueError(f"minigrad.save: the object is nested deeper than {MAX_DEPTH} levels "
                         f"at '{where}'")
    if isinstance(obj, Tensor) or backend.is_array(obj):
        kind = "tensor" if isinstance(obj, Tensor) else "array"
        array = backend.to_host(obj.array if isinstance(obj, Tensor) else obj)
        if array.dtype.kind not in _KINDS:
            raise TypeError(f"minigrad.save: array at '{where}' has dtype {array.dtype}; only "
                            "numeric and boolean arrays can be saved")
        name = _array_name(path or "array", arrays)
        arrays[name] = array
        return {"t": kind, "name": name}
    if isinstance(obj, backend.host_numpy().generic):
        return _flatten(backend.host_numpy().asarray(obj), path, arrays, depth) | {"scalar": True}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"t": "value", "v": obj}
    if hasattr(type(obj), "__minigrad_record__"):       # an nn.Module: class tree + state
        return {"t": "module", "record": _flatten(obj.__minigrad_record__(), path, arrays,
                                                  depth + 1)}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            child = f"{path}{_SEP}{key}" if path else str(key)
            items.append([_encode_key(key, where), _flatten(value, child, arrays, depth + 1)])
        return {"t": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, f"{path}{_SEP}{i}" if path else str(i), arrays, depth + 1)
                 for i, v in enumerate(obj)]
        return {"t": "tuple" if isinstance(obj, tuple) else "list", "items": items}
    raise TypeError(f"minigrad.save: cannot save an object of type {type(obj).__name__} at "
                    f"'{where}' (supported: Tensor, array, nn.Module, dict, list, tuple, int, "
                    "float, str, bool, None)")


def _unflatten(spec, arrays, device, depth=0):
    """The object a description stands for; ``arrays`` loses each entry it hands out, so
    no array can be referenced twice (save never does)."""
    if depth > MAX_DEPTH:
        raise _Refused(f"its structure is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(spec, dict):
        raise _Refused(f"its structure description has a {type(spec).__name__} where an "
                       "entry belongs")
    kind = spec.get("t")
    if kind in ("tensor", "array"):
        name = spec.get("name")
        if not isinstance(name, str) or name not in arrays:
            raise _Refused(f"its structure refers to an array {name!r} that the archive does "
                           "not hold (or refers to it twice)")
        array = arrays.pop(name)
        if spec.get("scalar"):
            return array[()]
        return array if kind == "array" else Tensor(array, device=device)
    if kind == "value":
        value = spec.get("v")
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise _Refused(f"its structure holds a value of type {type(value).__name__}")
        return value
    if kind in ("dict", "odict"):
        out = OrderedDict() if kind == "odict" else {}
        for (tag, key), child in spec["items"]:
            if tag not in "osif" or isinstance(key, (list, dict)):
                raise _Refused(f"its structure has a dict key of unknown kind {tag!r}")
            out[key] = _unflatten(child, arrays, device, depth + 1)
        return out
    if kind in ("list", "tuple"):
        items = [_unflatten(child, arrays, device, depth + 1) for child in spec["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "module":
        return _rebuild_module(_unflatten(spec["record"], arrays, device, depth + 1), device)
    raise _Refused(f"its structure has an entry of unknown kind {kind!r}")


def _rebuild_module(record, device):
    """Hand a module record to ``nn`` (minigrad never imports nn: it must be loaded)."""
    nn = sys.modules.get("nn")
    rebuild = getattr(getattr(nn, "Module", None), "__minigrad_rebuild__", None)
    if rebuild is None:
        name = record.get("class") if isinstance(record, dict) else None
        raise _Refused(f"it holds a whole module (nn.{name}); `import nn` before "
                       "minigrad.load so that it can be rebuilt")
    try:
        return rebuild(record, device=device, safe_globals=_SAFE_GLOBALS.by_name())
    except Exception as error:                    # a constructor refusing its arguments
        raise _Refused(f"its module cannot be rebuilt: {type(error).__name__}: {error}") \
            from error


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def _write_npz(fileobj, arrays):
    """Write the arrays as an uncompressed .npz archive into an open binary file."""
    fmt = backend.host_numpy().lib.format
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                fmt.write_array(member, array, allow_pickle=False)


def _temp_prefix(path):
    return "." + os.path.basename(path) + ".saving-"


def _pid_is_alive(pid):
    if os.name != "posix":
        return True                                  # (Windows' os.kill would end it)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True                                  # someone else's live process
    return True


def _remove_stale_temps(path):
    """Remove temporary files that killed saves of ``path`` left behind. A temp file is
    named after the process that writes it; one whose process is gone is stale. (Temps of
    this process are never stale: every save removes its own on failure.)"""
    folder = os.path.dirname(os.path.abspath(path))
    prefix = _temp_prefix(path)
    for temp in glob.glob(os.path.join(glob.escape(folder), glob.escape(prefix) + "*.tmp")):
        pid_text = os.path.basename(temp)[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if pid != os.getpid() and not _pid_is_alive(pid):
            try:
                os.remove(temp)
            except OSError:
                pass


def _save_to_path(arrays, path):
    _remove_stale_temps(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=".tmp",
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


def save(obj, f):
    """Save ``obj`` to ``f`` (a path, atomically, or an open binary file object) as a
    ``.npz`` archive.

    ``obj`` is a state dict, nested dicts/lists/tuples of Tensors, arrays and plain values,
    or a whole ``nn`` module (its class tree, constructor arguments and state; a class of
    your own is written as its qualified name, and ``load`` rebuilds it only inside
    ``safe_globals([cls])``). Tensors come back as Tensors (on the CPU unless
    ``load(..., device=)``), NumPy arrays as arrays, OrderedDicts as OrderedDicts, tuples
    as tuples.
    """
    np = backend.host_numpy()
    arrays = {}
    spec = _flatten(obj, "", arrays)
    description = json.dumps({"format": FORMAT, "version": VERSION, "root": spec})
    arrays[STRUCTURE_KEY] = np.frombuffer(description.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        _write_npz(f, arrays)
        return
    _save_to_path(arrays, os.fspath(f))


# ---------------------------------------------------------------------------
# Reading, bounded
# ---------------------------------------------------------------------------
def _check_members(archive, file_size, max_bytes):
    """Every member's declared size, checked against the file and ``max_bytes`` before
    anything is read. Members are stored uncompressed (as ``save`` writes them), so a
    member's bytes lie in the file: their sum cannot exceed its size."""
    infos, total, seen = archive.infolist(), 0, set()
    for info in infos:
        name = info.filename
        if not name.endswith(".npy") or not is_plain_member_name(name):
            raise _Refused(f"it has a member named {name!r} (not a plain '<name>.npy')")
        if name in seen:
            raise _Refused(f"it has two members named {name!r}")
        seen.add(name)
        if info.compress_type != zipfile.ZIP_STORED:
            raise _Refused(f"member {name!r} is compressed (method {info.compress_type}); "
                           "minigrad.save writes uncompressed members only")
        if info.file_size != info.compress_size or \
                info.header_offset + info.compress_size > file_size:
            raise _Refused(f"member {name!r} declares {info.file_size} bytes, more than the "
                           f"file's {file_size} bytes hold")
        total += info.file_size
    if total > file_size:
        raise _Refused(f"its members declare {total} bytes in all, more than the file's "
                       f"{file_size} bytes (overlapping members)")
    if total > max_bytes:
        raise _Refused(f"its arrays hold {total} bytes, more than max_bytes={max_bytes}; "
                       "pass minigrad.load(..., max_bytes=N) to allow a larger checkpoint")
    if STRUCTURE_KEY + ".npy" not in seen:
        raise _Refused(f"it has no '{STRUCTURE_KEY}' entry (not written by minigrad.save)")
    return infos


def _read_member(archive, info):
    """One .npy member as an array, after checking its header against its size."""
    np = backend.host_numpy()
    name = info.filename
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(member, max_header_size=MAX_HEADER_BYTES)
        if dtype.kind not in _KINDS or dtype.fields is not None or dtype.itemsize == 0:
            raise _Refused(f"member {name!r} has dtype {dtype}; only numeric and boolean "
                           "arrays are loaded")
        if not all(isinstance(n, int) and n >= 0 for n in shape):
            raise _Refused(f"member {name!r} has an invalid shape {shape!r}")
        count = math.prod(shape)
        data_bytes = info.file_size - member.tell()
        if count * dtype.itemsize != data_bytes:
            raise _Refused(f"member {name!r} declares shape {shape} of {dtype} "
                           f"({count * dtype.itemsize} bytes) but holds {data_bytes} bytes")
        array = np.empty(count, dtype=dtype)
        view = memoryview(array.view(np.uint8))
        filled = 0
        while filled < data_bytes:
            got = member.readinto(view[filled:])
            if not got:
                raise _Refused(f"member {name!r} is truncated")
            filled += got
    array = array.reshape(shape, order="F" if fortran_order else "C")
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def _read_description(array):
    if array.dtype != backend.host_numpy().uint8 or array.ndim != 1:
        raise _Refused(f"its '{STRUCTURE_KEY}' entry is not a byte string")
    if array.size > MAX_STRUCTURE_BYTES:
        raise _Refused(f"its structure description is {array.size} bytes, more than "
                       f"{MAX_STRUCTURE_BYTES}")
    try:
        description = json.loads(array.tobytes().decode("utf-8"))
    except RecursionError:
        raise _Refused(f"its structure is nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(description, dict):
        raise _Refused("its structure description is not a JSON object")
    if description.get("format") != FORMAT:
        raise _Refused(f"unknown format {description.get('format')!r}")
    version = description.get("version", 0)
    if not isinstance(version, int) or version > VERSION:
        raise _Refused(f"it was written by a newer minigrad (format version {version!r} > "
                       f"{VERSION})")
    return description


def _load_archive(fileobj, device, max_bytes):
    file_size = fileobj.seek(0, os.SEEK_END)
    fileobj.seek(0)
    if file_size > max_bytes:
        raise _Refused(f"it is {file_size} bytes, more than max_bytes={max_bytes}; pass "
                       "minigrad.load(..., max_bytes=N) to allow a larger checkpoint")
    with zipfile.ZipFile(fileobj) as archive:
        infos = _check_members(archive, file_size, max_bytes)
        arrays = {info.filename[:-len(".npy")]: _read_member(archive, info) for info in infos}
    description = _read_description(arrays.pop(STRUCTURE_KEY))
    return _unflatten(description.get("root"), arrays, device)


def _seekable(f, max_bytes):
    """``f`` itself when it can seek, else its bytes (at most ``max_bytes`` + 1) in memory."""
    try:
        if f.seekable():
            return f
    except (AttributeError, OSError, ValueError):
        pass
    return io.BytesIO(f.read(max_bytes + 1))


def load(f, device=None, max_bytes=DEFAULT_MAX_BYTES):
    """Read a checkpoint written by ``save``. Never unpickles or runs anything.

    Args:
        f: a path, or an open binary file object (read from its start).
        device: put the loaded Tensors on this device (default: CPU).
        max_bytes: refuse a checkpoint whose arrays would take more memory than this
            (default 4 GiB); raise it to load a larger one.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a complete minigrad checkpoint (corrupt, truncated,
            another kind of file, larger than ``max_bytes``, a module class neither nn's own
            nor allowlisted with ``safe_globals``); the message names the file and the problem.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"minigrad.load: max_bytes must be a non-negative int, got "
                         f"{max_bytes!r}")
    is_file_object = hasattr(f, "read")
    name = getattr(f, "name", "<file object>") if is_file_object else os.fspath(f)
    try:
        if is_file_object:
            return _load_archive(_seekable(f, max_bytes), device, max_bytes)
        with open(name, "rb") as fileobj:
            return _load_archive(fileobj, device, max_bytes)
    except FileNotFoundError:
        raise
    except _Refused as error:
        raise ValueError(f"minigrad.load: cannot read '{name}': {error}") from None
    except RecursionError:
        raise ValueError(f"minigrad.load: cannot read '{name}': its structure is nested too "
                         "deeply") from None
    except MemoryError:
        raise ValueError(f"minigrad.load: cannot read '{name}': not enough memory for its "
                         "arrays") from None
    except (ValueError, OSError, EOFError, KeyError, IndexError, zipfile.BadZipFile,
            UnicodeDecodeError, TypeError, AttributeError, OverflowError) as error:
        raise ValueError(f"minigrad.load: cannot read '{name}': it is corrupt, truncated or not a "
                         f"minigrad checkpoint ({type(error).__name__}: {error})") from error
