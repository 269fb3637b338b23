"""Every function reads on one screen: under ~80 lines (the house style, /work/shared/STYLE.md).

A scan of the source (``ast``): a function's length runs from its ``def`` line to its last
line, docstring and comments included. The example mains read top to bottom (config, data,
model, one training loop, pictures) with their pieces in named functions beside them.
"""
import ast
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FOLDERS = ("minigrad", "nn", "examples")
LIMIT = 80


def python_files():
    for folder in FOLDERS:
        for path, _, names in os.walk(os.path.join(ROOT, folder)):
            for name in sorted(names):
                if name.endswith(".py"):
                    yield os.path.relpath(os.path.join(path, name), ROOT).replace(os.sep, "/")


def long_functions(source):
    """(name, first line, length) of every function (methods and nested ones too) longer
    than ``LIMIT`` lines."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > LIMIT:
                yield node.name, node.lineno, length


def test_the_scan_finds_a_long_function():
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    assert [name for name, _, _ in long_functions(f"def f():\n{body}\n")] == ["f"]
    assert list(long_functions("def g():\n    return 1\n")) == []


@pytest.mark.parametrize("path", sorted(python_files()))
def test_every_function_is_under_80_lines(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        found = list(long_functions(f.read()))
    assert not found, ", ".join(f"{path}:{line} {name} is {n} lines (limit {LIMIT})"
                                for name, line, n in found)
