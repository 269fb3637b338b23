"""The documentation is part of the product: README's and every tutorial's code runs as
written, and the site builds with ``mkdocs build --strict`` (broken links and missing
references fail)."""
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


def test_readme_code_runs_as_written_from_an_empty_folder(tmp_path):
    """README's python blocks, in a fresh interpreter whose working folder is empty (as a
    newcomer pastes them); blocks that render pictures need graphviz's ``dot``."""
    code = "\n".join(python_blocks(os.path.join(ROOT, "README.md")))
    assert code, "README.md has no python code"
    if ".render(" in code and shutil.which("dot") is None:
        pytest.skip("README's code renders with graphviz's `dot`, which is not installed")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"README's code failed:\n{result.stderr}\n{code}"
    assert "(8, 8)" in result.stdout
    assert sorted(os.listdir(tmp_path)) == ["rnn_flow.svg"]         # cleanup=True: no DOT file


def test_readme_picture_is_made_by_make_figures():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    with open(os.path.join(ROOT, "docs", "make_figures.py"), encoding="utf-8") as f:
        make_figures = f.read()
    pictures = re.findall(r"!\[[^\]]*\]\(docs/img/([\w.]+)\.svg\)", readme)
    assert pictures == ["readme_rnn_flow"]
    assert '{"readme_rnn_flow": namespace["graph"]}' in make_figures
    with open(os.path.join(ROOT, "docs", "img", "readme_rnn_flow.svg"), encoding="utf-8") as f:
        svg = f.read()
    assert "t = 4" in svg and "t = 5" not in svg and "(8, 8)" in svg   # the snippet's T=5, H=8


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


GRAPH_PAGE = os.path.join(ROOT, "docs", "api", "graph.md")


def test_the_graph_api_page_example_runs_and_prints_what_the_page_shows(capsys):
    """docs/api/graph.md shows one user-written picture (a per-time-step table read through
    the public graph API); its code runs as written and prints the table the page shows."""
    with open(GRAPH_PAGE, encoding="utf-8") as f:
        text = f.read()
    code, = python_blocks(GRAPH_PAGE)
    shown = re.search(r"It prints.*?```text\n(.*?)```", text, flags=re.S).group(1)
    namespace = {"__name__": "__doc_example__"}
    exec(compile(code, "docs/api/graph.md", "exec"), namespace)
    assert capsys.readouterr().out == shown
    rows, gate_rows = namespace["rows"], namespace["gate_rows"]
    assert sorted(rows) == sorted(gate_rows) == list(range(6))
    assert all(ops == ["LSTM cell"] for ops, _ in rows.values())
    assert all(len(ops) > 1 for ops, _ in gate_rows.values())
    shares, gate_shares = namespace["shares"], namespace["gate_shares"]
    for t in shares:
        assert abs(shares[t] - gate_shares[t]).max().item() < 1e-12


def test_the_graph_api_page_is_in_the_navigation():
    with open(os.path.join(ROOT, "mkdocs.yml"), encoding="utf-8") as f:
        assert "api/graph.md" in f.read()
