"""minigrad.viz reads the graph only through its public API.

Pictures, gradient flow and the explorer are tools any user could write: they may read a
node's ``inputs``, ``display_label``, ``module_path`` ... and a tensor's ``output_index`` or
``is_parameter``, never an attribute starting with ``_`` of an object they do not own
(``fn._retained``, ``root._out_idx``), and ``minigrad`` never imports ``nn``.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
VIZ_FILES = sorted((ROOT / "minigrad" / "viz").glob("*.py"))
MINIGRAD_FILES = sorted((ROOT / "minigrad").rglob("*.py"))


def private_reads(tree):
    """(line, text) of every ``obj._name`` where obj is not ``self`` / ``cls``."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        yield node.lineno, ast.unparse(node)


def nn_imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            if name == "nn" or name.startswith("nn."):
                yield node.lineno, name


@pytest.mark.parametrize("path", VIZ_FILES, ids=lambda p: p.name)
def test_viz_reads_no_private_attribute_of_other_objects(path):
    offenders = list(private_reads(ast.parse(path.read_text())))
    assert not offenders, f"{path.name} reads private attributes: {offenders}"


def test_minigrad_never_imports_nn():
    offenders = [(p.relative_to(ROOT).as_posix(), line, name) for p in MINIGRAD_FILES
                 for line, name in nn_imports(ast.parse(p.read_text()))]
    assert not offenders, offenders


def test_the_scans_catch_offenders():
    bad = ast.parse("import nn\nfrom nn.modules import Module\nx = fn._retained\n"
                    "y = self._ok\nz = t.__class__\nw = root._out_idx\n")
    assert [line for line, _ in private_reads(bad)] == [3, 6]
    assert [name for _, name in nn_imports(bad)] == ["nn", "nn.modules"]
