"""MkDocs hooks: a site that works offline, and a notebook to download for every tutorial.

- Math is rendered at build time: the ``$$…$$`` blocks (marked up by ``pymdownx.arithmatex``)
  become MathML with ``latex2mathml``, which browsers draw natively — no MathJax from a CDN,
  no script at view time, no raw LaTeX when the network is off.
- Each tutorial page gets a "Download notebook" link, and the notebooks themselves are
  built into the site (``docs/notebooks.py``, from the same Markdown).
"""
from __future__ import annotations

import html
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import notebooks  # noqa: E402

MATH = re.compile(r'<(div|span) class="arithmatex">\s*\\[\[(](.*?)\\[\])]\s*</\1>', re.S)


def _to_mathml(match):
    from latex2mathml.converter import convert
    tag, tex = match.group(1), html.unescape(match.group(2))
    display = "block" if tag == "div" else "inline"
    return f'<{tag} class="math">{convert(tex.strip(), display=display)}</{tag}>'


def on_page_content(content, page, config, files):
    return MATH.sub(_to_mathml, content)


def _tutorial_notebook(page):
    src = page.file.src_uri
    if src.startswith("tutorials/") and src.endswith(".md"):
        return notebooks.notebook_name(src)
    return None


def on_page_markdown(markdown, page, config, files):
    name = _tutorial_notebook(page)
    if name is None:
        return markdown
    depth = page.file.dest_uri.count("/")
    href = "../" * depth + f"notebooks/{name}"
    link = (f'<p class="notebook-link"><a href="{href}" download>Download this tutorial as a '
            f'Jupyter notebook</a> (the exercises\' solutions are in <code>docs/solutions/</code>)</p>')
    title, _, rest = markdown.partition("\n")
    return f"{title}\n\n{link}\n{rest}" if title.startswith("# ") else f"{link}\n\n{markdown}"


def on_post_build(config):
    notebooks.write_all(os.path.join(config["site_dir"], "notebooks"))
