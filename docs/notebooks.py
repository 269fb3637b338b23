"""Every tutorial as a Jupyter notebook, made from its Markdown page (the one source).

    python docs/notebooks.py --out notebooks/            # the student notebooks
    python docs/notebooks.py --out solved/ --solved      # exercises filled in from docs/solutions/

The Markdown tutorials are the source of truth: ``jupytext`` turns each ```python block into
a code cell and the prose into Markdown cells, and the images the page shows are embedded
as cell attachments, so a downloaded notebook is complete on its own. An exercise is a
code block with a line ``# Exercise: NAME``; in it, ``def NAME(...)`` up to its
``raise NotImplementedError`` is what the student writes. The solved build replaces that
with ``docs/solutions/NAME.py`` (what CI executes, so every checker sees a right answer).
The docs site (``docs/hooks.py``) offers each student notebook for download.
"""
from __future__ import annotations

import argparse
import base64
import os
import re

DOCS = os.path.dirname(os.path.abspath(__file__))
TUTORIALS = os.path.join(DOCS, "tutorials")
SOLUTIONS = os.path.join(DOCS, "solutions")
EXERCISE = re.compile(r"^# Exercise: (\w+)", re.M)
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
MIME = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif"}
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def tutorial_pages():
    """The tutorial Markdown files, in order."""
    return sorted(os.path.join(TUTORIALS, f) for f in os.listdir(TUTORIALS) if f.endswith(".md"))


def notebook_name(page):
    return os.path.splitext(os.path.basename(page))[0] + ".ipynb"


def exercises_in(page):
    """Names of the exercises a tutorial page holds, in order."""
    with open(page, encoding="utf-8") as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)
    return [m.group(1) for m in map(EXERCISE.search, blocks) if m]


def solve(source, name):
    """The exercise cell with the student's part replaced by the solution's file."""
    with open(os.path.join(SOLUTIONS, f"{name}.py"), encoding="utf-8") as f:
        answer = f.read().strip("\n") + "\n"
    pattern = re.compile(rf"def {name}\(.*?raise NotImplementedError\n", re.S)
    if not pattern.search(source + "\n"):
        raise ValueError(f"exercise {name}: the cell has no 'def {name}(...) ... "
                         "raise NotImplementedError' for the student to fill in")
    return pattern.sub(lambda _: answer, source + "\n", count=1).rstrip("\n")


def _attach_images(cell, page):
    """Embed the images a Markdown cell links to, so the notebook needs no other file."""
    attachments = {}

    def embed(match):
        alt, target = match.groups()
        path = os.path.normpath(os.path.join(os.path.dirname(page), target))
        mime = MIME.get(os.path.splitext(path)[1].lower())
        if target.startswith(("http:", "https:")) or mime is None or not os.path.exists(path):
            return match.group(0)
        key = os.path.basename(path)
        with open(path, "rb") as f:
            attachments[key] = {mime: base64.b64encode(f.read()).decode("ascii")}
        return f"![{alt}](attachment:{key})"

    cell.source = IMAGE.sub(embed, cell.source)
    if attachments:
        cell["attachments"] = attachments


def _shell_block_as_text(cell):
    """jupytext makes a ```bash block a ``%%bash`` cell; the tutorials' shell commands are
    long runs to copy into a terminal, so they stay text in the notebook."""
    import nbformat

    magic, _, body = cell.source.partition("\n")
    language = magic[2:].split()[0] if len(magic) > 2 else ""
    return nbformat.v4.new_markdown_cell(f"```{language}\n{body}\n```")


def to_notebook(page, solved=False):
    """The notebook of one tutorial page (``nbformat`` v4)."""
    import jupytext
    import nbformat

    with open(page, encoding="utf-8") as f:
        notebook = jupytext.reads(f.read(), fmt="md")
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and cell.source.startswith("%%"):
            notebook.cells[index] = cell = _shell_block_as_text(cell)
        if cell.cell_type == "markdown":
            _attach_images(cell, page)
            continue
        match = EXERCISE.search(cell.source)
        if solved and match:
            cell.source = solve(cell.source, match.group(1))
    source = os.path.relpath(page, os.path.dirname(DOCS))
    intro = nbformat.v4.new_markdown_cell(
        f"*This notebook is made from `{source}` of minigrad"
        + (" with the exercises solved" if solved else "")
        + ". It needs the `minigrad` and `nn` packages importable: run it from a clone of the "
        "repository after `pip install -e .`, or install the package first.*")
    notebook.cells.insert(0, intro)
    notebook.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    nbformat.validate(notebook)
    return notebook


def write_all(out_dir, solved=False, pages=None):
    """Write every tutorial's notebook into ``out_dir``; return their paths."""
    import nbformat

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for page in pages or tutorial_pages():
        path = os.path.join(out_dir, notebook_name(page))
        nbformat.write(to_notebook(page, solved), path)
        paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build the tutorials' notebooks.")
    parser.add_argument("--out", default="notebooks", help="folder for the .ipynb files")
    parser.add_argument("--solved", action="store_true", help="fill in the exercises' solutions")
    args = parser.parse_args(argv)
    for path in write_all(args.out, args.solved):
        print(path)


if __name__ == "__main__":
    main()
