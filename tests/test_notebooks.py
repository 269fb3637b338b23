"""Every tutorial is also a notebook, made from its Markdown page, and runs top to bottom.

The solved notebooks (exercises filled in from docs/solutions/) are executed in a real
Jupyter kernel, so each exercise's checker sees a right answer pass; the student notebooks
hold the exercise skeletons and none of the solutions.
"""
import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "docs"))
import notebooks  # noqa: E402

if os.environ.get("CI"):        # CI installs the [notebooks] extra: a missing one is a failure
    import ipykernel  # noqa: F401
    import jupytext  # noqa: F401
    import nbclient
else:
    nbclient = pytest.importorskip("nbclient", reason="the [notebooks] extra (nbclient, "
                                   "ipykernel, jupytext) is not installed")
    pytest.importorskip("jupytext", reason="the [notebooks] extra is not installed")
    pytest.importorskip("ipykernel", reason="the [notebooks] extra is not installed")

PAGES = notebooks.tutorial_pages()


def outputs_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", "") if isinstance(out.get("text", ""), str) else "".join(out["text"]))
        parts.append(str(out.get("data", {}).get("text/plain", "")))
        if out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "".join(parts)


@pytest.mark.parametrize("page", PAGES, ids=os.path.basename)
def test_the_solved_notebook_runs_top_to_bottom(page, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = notebooks.to_notebook(page, solved=True)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    text = "".join(outputs_text(c) for c in notebook.cells if c.cell_type == "code")
    for name in notebooks.exercises_in(page):
        assert f"✓ {name}:" in text, f"{os.path.basename(page)}: exercise {name} did not pass"


def test_every_exercise_is_in_a_tutorial_and_has_a_solution():
    from minigrad import exercises
    found = [name for page in PAGES for name in notebooks.exercises_in(page)]
    assert sorted(found) == sorted(exercises.EXERCISES)
    for name in found:
        assert os.path.exists(os.path.join(notebooks.SOLUTIONS, f"{name}.py"))
        assert exercises.EXERCISES[name].tutorial in " ".join(PAGES)


def test_student_notebooks_hold_the_skeletons_not_the_solutions(tmp_path):
    paths = notebooks.write_all(str(tmp_path))
    assert sorted(os.path.basename(p) for p in paths) == sorted(
        notebooks.notebook_name(p) for p in PAGES)
    lstm = json.load(open(tmp_path / "06-lstm-gru.ipynb", encoding="utf-8"))
    code = "".join("".join(c["source"]) for c in lstm["cells"] if c["cell_type"] == "code")
    with open(os.path.join(notebooks.SOLUTIONS, "lstm_cell.py"), encoding="utf-8") as f:
        answer = f.read().strip()
    assert "raise NotImplementedError" in code and answer not in code
    assert lstm["metadata"]["kernelspec"]["name"] == "python3"


def test_images_are_embedded_so_a_downloaded_notebook_is_complete(tmp_path):
    nb = notebooks.to_notebook(os.path.join(notebooks.TUTORIALS, "03-vanilla-rnn.md"))
    attached = [c for c in nb.cells if c.cell_type == "markdown" and c.get("attachments")]
    assert attached and "attachment:hello_forward.svg" in attached[0].source
    assert "image/svg+xml" in attached[0]["attachments"]["hello_forward.svg"]


def test_solve_refuses_a_cell_without_the_skeleton():
    with pytest.raises(ValueError, match="exercise lstm_cell: the cell has no 'def lstm_cell"):
        notebooks.solve("# Exercise: lstm_cell\nprint(1)\n", "lstm_cell")
