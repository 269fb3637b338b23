"""The documentation is part of the product: every tutorial's code runs as written, and the
site builds with ``mkdocs build --strict`` (broken links and missing references fail)."""
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TUTORIALS = os.path.join(ROOT, "docs", "tutorials")
PAGES = sorted(f for f in os.listdir(TUTORIALS) if f.endswith(".md")) + ["../index.md"]


def python_blocks(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("page", PAGES)
def test_tutorial_code_runs_as_written(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(os.path.join(TUTORIALS, page))
    assert blocks, f"{page} has no python code"
    namespace = {"__name__": "__tutorial__"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{page}[block {i}]", "exec"), namespace)
        except Exception as error:  # pragma: no cover - the message is the point
            raise AssertionError(f"{page}, code block {i} failed: {error!r}\n{block}") from error


def test_every_tutorial_is_in_the_navigation():
    with open(os.path.join(ROOT, "mkdocs.yml"), encoding="utf-8") as f:
        nav = f.read()
    for page in PAGES[:-1]:
        assert f"tutorials/{page}" in nav


@pytest.mark.skipif(shutil.which("mkdocs") is None and not os.path.exists(
    os.path.join(os.path.dirname(sys.executable), "mkdocs")), reason="mkdocs is not installed")
def test_site_builds_strictly(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                             "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
