"""Only the backend imports NumPy or CuPy; nobody else applies NumPy to tensor data.

A scan of the source (``ast``) of ``minigrad/`` and ``nn/``:

1. ``import numpy`` / ``import cupy`` (or ``from ... import``) only in the backends.
2. The host NumPy module (``backend.host_numpy()``, ``backend.numpy``) only in the files
   listed below, each with the host-side job it does there.
3. Even there, a NumPy call must not take tensor data (``x.array``, ``p.grad.array``) unless
   it first went through ``backend.to_host(...)``: on a GPU that is a device array, which
   NumPy cannot read.

The dynamic proof is ``test_backend_checked.py``; this catches the same mistakes in code
no test happens to run.
"""
import ast
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PACKAGES = ("minigrad", "nn")
ARRAY_LIBRARIES = {"numpy", "cupy", "cupyx"}

# The array backends themselves: they are where NumPy and CuPy live.
BACKENDS = {"minigrad/backend.py", "minigrad/testing/checked_backend.py"}

# Files allowed to use the host NumPy module, and the host-side job they use it for.
HOST_NUMPY = {
    "minigrad/gradcheck.py": "finite-difference bookkeeping on host copies (to_host)",
    "minigrad/serialization.py": "writing/reading .npz files from host copies",
    "minigrad/ops/promotion.py": "isinstance check for NumPy scalars (Python numbers)",
    "minigrad/viz/gradient_flow.py": "norms of host copies for plots",
    "minigrad/viz/flow.py": "edge widths from host copies of gradient norms",
    "minigrad/viz/graph_walk.py": "value summaries of host copies for graph labels",
    "minigrad/viz/explore_record.py": "running sums and norms of host copies of gradients",
    "minigrad/viz/explore_pack.py": "float16 / uint8 encoding of host copies for the page",
    "minigrad/viz/explore.py": "stacking host copies of states for the text explorer",
    "examples/lecture_figures.py": "a one-off QR of a host random matrix to build the demo's orthogonal W_hh",
    "minigrad/exercises/compare.py": "comparing host copies of a student's answer with the reference",
    "minigrad/exercises/registry.py": "random exercise inputs made on the host, the sampled index from a host cumsum",
    "minigrad/exercises/checker.py": "random projections and zero gradients made on the host",
    "nn/modules/linear.py": "empty host arrays filled by nn.init, moved by Module.to",
    "nn/modules/sparse.py": "empty host arrays filled by nn.init, moved by Module.to",
    "nn/modules/conv.py": "initial weights made on the host, moved by Module.to",
    "nn/modules/normalization.py": "initial weights and running statistics made on the host",
    "nn/init.py": "a one-off QR decomposition at initialisation, on a host copy",
}


def source_files():
    for package in PACKAGES:
        for folder, _, names in os.walk(os.path.join(ROOT, package)):
            for name in sorted(names):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    yield os.path.relpath(path, ROOT).replace(os.sep, "/"), path


FILES = sorted(source_files())


def parse(path):
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), filename=path)


def imported_array_libraries(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ARRAY_LIBRARIES:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in ARRAY_LIBRARIES:
                yield node.lineno, node.module


def is_host_numpy(node, aliases):
    """``backend.host_numpy()``, ``backend.numpy`` or a name bound to one of them."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "host_numpy"
    if isinstance(node, ast.Attribute) and node.attr == "numpy":
        return isinstance(node.value, ast.Name) and node.value.id == "backend"
    return isinstance(node, ast.Name) and node.id in aliases


def host_numpy_uses(tree):
    aliases = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
               and is_host_numpy(node.value, ()) for target in node.targets
               if isinstance(target, ast.Name)}
    for node in ast.walk(tree):
        if is_host_numpy(node, aliases) and not isinstance(node, ast.Name):
            yield node.lineno, node
    yield from ((node.lineno, node) for node in ast.walk(tree)
                if isinstance(node, ast.Name) and node.id in aliases)


def tensor_data_reads(node):
    """``.array`` attribute reads under ``node``, except inside ``to_host(...)``."""
    if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "to_host":
        return
    if isinstance(node, ast.Attribute) and node.attr in ("array", "data"):
        yield node
    for child in ast.iter_child_nodes(node):
        yield from tensor_data_reads(child)


def numpy_calls_on_tensor_data(tree):
    aliases = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
               and is_host_numpy(node.value, ()) for target in node.targets
               if isinstance(target, ast.Name)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        root = node.func
        while isinstance(root, ast.Attribute) and not is_host_numpy(root, aliases):
            root = root.value
        if not is_host_numpy(root, aliases):
            continue
        arguments = list(node.args) + [k.value for k in node.keywords]
        if any(True for a in arguments for _ in tensor_data_reads(a)):
            yield node.lineno, ast.unparse(node)


def test_the_scan_sees_the_packages():
    names = {name for name, _ in FILES}
    assert "minigrad/backend.py" in names and "minigrad/tensor.py" in names
    assert any(name.startswith("nn/") for name in names)


@pytest.mark.parametrize("name,path", FILES, ids=[name for name, _ in FILES])
def test_only_backends_import_array_libraries(name, path):
    if name in BACKENDS:
        return
    found = list(imported_array_libraries(parse(path)))
    assert not found, (f"{name} imports {[m for _, m in found]} (lines {[n for n, _ in found]}): "
                       "get the array module with backend.get_array_module(x) instead")


@pytest.mark.parametrize("name,path", FILES, ids=[name for name, _ in FILES])
def test_host_numpy_only_where_listed(name, path):
    if name in BACKENDS or name in HOST_NUMPY:
        return
    lines = sorted({n for n, _ in host_numpy_uses(parse(path))})
    assert not lines, (f"{name} uses the host NumPy module (lines {lines}): tensor math must use "
                       "xp = backend.get_array_module(x); if this is host-side bookkeeping, add "
                       "the file to HOST_NUMPY with the reason")


@pytest.mark.parametrize("name,path", FILES, ids=[name for name, _ in FILES])
def test_host_numpy_never_takes_tensor_data(name, path):
    if name in BACKENDS:
        return
    found = list(numpy_calls_on_tensor_data(parse(path)))
    assert not found, (f"{name} applies host NumPy to tensor data: {found}. On a GPU that is a "
                       "device array: use xp = backend.get_array_module(x), or backend.to_host first")


def test_the_scan_catches_offenders():
    bad = ast.parse("import numpy as np\nfrom cupy import asarray\n"
                    "np2 = backend.host_numpy()\ny = np2.exp(x.array)\nz = backend.numpy.log(t.grad.array)\n"
                    "ok = np2.abs(backend.to_host(x.array))\n")
    assert [m for _, m in imported_array_libraries(bad)] == ["numpy", "cupy"]
    assert [n for n, _ in numpy_calls_on_tensor_data(bad)] == [4, 5]
    assert {n for n, _ in host_numpy_uses(bad)} == {3, 4, 5, 6}
