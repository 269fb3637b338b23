"""``explore``: one HTML page to watch a real backward pass, step by step.

    page = minigrad.viz.explore(loss, states=lstm.hidden_states)
    page.save("explore.html")          # one self-contained file: open it from disk
    page                               # in Jupyter: shown inline

What the page holds (all inline: no network, no server, no build step):

- the graph ``draw_graph(loss)`` draws (graphviz's SVG), with pan and zoom; click a node to
  see its label, op, module path, time step, shape, dtype, value and gradient;
- a stepper over the engine's *actual* backward order, recorded here in Python with
  ``run_backward(..., edge_hook=...)`` (see ``explore_record``): at step k the nodes whose
  gradient has arrived are lit, the edge just crossed shows its ||gradient||, and the bar
  chart of ||∂L/∂h_t|| fills in from the last step to the first;
- the gradient flow of several runs (RNN / LSTM / GRU) on one log axis;
- with ``text``: a hidden-state explorer (a unit's activation under each character; select
  text to rank the units that match, as LSTMVis does);
- with ``attention``: per generated word, its attention map over the image grid.

The page's code is plain JavaScript in ``minigrad/viz/explorer/explorer.js``; its API is
``window.minigradExplorer`` (see docs/api/viz.md).
"""
from __future__ import annotations

import html
import json
import re
from importlib import resources

from minigrad.tensor import Tensor

from .draw import draw_graph
from .explore_pack import json_number, image_payload, maps_payload, tensor_payload, units_payload
from .explore_record import record_backward
from .graph_walk import walk


def explore(root, *, states=None, text=None, activations=None, cells=None, flows=None,
            attention=None, tensors=None, title="minigrad explorer", max_cells=4096,
            max_text=1000):
    """Build the explorer page for the graph that produced ``root`` (usually the loss).

    Args:
        root: a Tensor of the recorded graph; the backward pass starts there with ones.
        states: T tensors of the graph (``layer.hidden_states``): the bar chart shows
            ||∂L/∂h_t|| for them (``gradient_flow(root, states)``), filling in as the
            stepper walks back. Their values also appear in the node panel.
        text: a string; with ``activations`` (or ``states`` of the same length) the page
            shows the hidden-state explorer over it (at most ``max_text`` characters).
        activations: (len(text), H) array, or ``{name: array}`` (e.g. ``{"c": ..., "h": ...}``):
            one row per character. Default: the values of ``states`` (batch row 0).
        cells: ``{feature: [(unit, r), ...]}`` found by an interpretable-cells search; shown
            as preselected choices.
        flows: ``{label: norms}`` of other runs (``gradient_flow`` of an RNN, a GRU ...) drawn
            with this one in the comparison chart.
        attention: ``{"words": [...], "maps": (words, rows, cols), "image": (H, W, 3)}``
            (image optional): one attention map per generated word.
        tensors: more graph tensors (a list, or ``{name: tensor}``) whose values the node
            panel shows (only leaves, ``root`` and ``states`` are known otherwise).
        max_cells: at most this many numbers per heatmap (larger ones are thinned).

    Returns:
        ``Explorer``: ``.save(path)``, ``.html`` (the page), ``.data`` (what it shows).
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"explore: root must be a Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        raise ValueError(f"explore: root (shape {tuple(root.shape)}) does not require grad, "
                         "so there is no backward pass to show (made under no_grad?)")
    states = _tensor_list("states", states)
    extra = _named_tensors(tensors)
    if not isinstance(max_cells, int) or max_cells < 1:
        raise ValueError(f"explore: max_cells must be a positive int, got {max_cells!r}")

    graph = walk(root, keep_objects=True)
    try:
        record = record_backward(root, graph.objects)
        number = {id(obj): i for i, obj in enumerate(graph.objects)}
        leaves = [(obj.name, obj) for obj in graph.objects if isinstance(obj, Tensor)]
        known = _values(root, states, leaves + list(extra.values()), number)
    finally:
        graph.objects = number = leaves = None   # the page's data must not keep the graph
    data = {
        "title": str(title),
        "nodes": _nodes(graph, record, known, max_cells),
        "edges": [[e.src, e.src_out, e.dst] for e in graph.edges],
        "events": [[s, o, d, json_number(n)] for s, o, d, n in record.events],
        "flow": _flow(states, known, record),
        "flows": _flows(flows),
        "text": _text(text, activations, states, cells, max_text),
        "attention": _attention(attention),
    }
    return Explorer(data, _svg(root))


class Explorer:
    """The explorer page: ``save(path)`` writes it, Jupyter shows it (``_repr_html_``)."""

    def __init__(self, data, svg):
        self.data = data
        self.html = _page(data, svg)

    def save(self, path):
        """Write the page to ``path`` (UTF-8) and return the path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)
        return path

    def _repr_html_(self):
        """The page in an ``<iframe srcdoc>``: its script and ids stay out of the notebook."""
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                'style="width:100%;height:720px;border:1px solid #ccc"></iframe>')

    def __repr__(self):
        n = len(self.data["nodes"])
        return f"Explorer({n} nodes, {len(self.data['events'])} backward steps, {len(self.html):,} bytes)"


def _tensor_list(name, tensors):
    tensors = list(tensors) if tensors is not None else []
    for t, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"explore: {name}[{t}] must be a Tensor, got {type(x).__name__}")
    return tensors


def _named_tensors(tensors):
    if tensors is None:
        return {}
    items = tensors.items() if isinstance(tensors, dict) else ((None, t) for t in tensors)
    named = {}
    for k, (name, t) in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"explore: tensors[{name if name is not None else k}] must be a "
                            f"Tensor, got {type(t).__name__}")
        named[id(t)] = (name, t)
    return named


def _values(root, states, named, number):
    """{(node index, output): (host array, dtype, name)} for the tensors whose values we hold:
    the root, the states, the leaves and the ``tensors`` asked for (``named``)."""
    from minigrad import backend
    known = {}
    pairs = [(None, root)] + [(f"h[{t}]", h) for t, h in enumerate(states)] + list(named)
    for name, t in pairs:
        owner = t.grad_fn if t.grad_fn is not None else t
        index = number.get(id(owner))
        if index is None:
            continue
        out = t.output_index if t.grad_fn is not None else -1
        known.setdefault((index, out), (backend.to_host(t.array), str(t.dtype), name))
    return known


def _nodes(graph, record, known, max_cells):
    """One record per walked node: what the side panel and the stepper show."""
    first_grad = {}
    for k, (src, _, _, _) in enumerate(record.events):
        first_grad.setdefault(src, k)
    nodes = []
    for n in graph.nodes:
        leaf = n.kind in ("param", "leaf")
        outs = [-1] if leaf else list(range(len(n.shapes)))
        value = known.get((n.index, outs[0]))
        grads, running, dtype = [], {}, value[1] if value else None
        share = max(64, max_cells // len(outs))     # unbind's T outputs share one budget
        for out in outs:
            g = record.grads.get((n.index, out))
            grads.append(None if g is None else tensor_payload(g, share))
            dtype = dtype or record.dtypes.get((n.index, out))
            steps = record.running.get((n.index, out), [])
            if len(steps) > 1:
                running[str(out)] = [[k, json_number(v)] for k, v in steps]
        nodes.append({
            "id": n.index, "kind": n.kind, "label": n.label, "root": n.is_root,
            "shapes": [list(s) for s in n.shapes], "names": {str(k): v for k, v in n.names.items()},
            "module": n.module, "step": n.step, "dtype": dtype,
            "value": None if value is None else tensor_payload(value[0], max_cells),
            "grads": grads, "running": running,
            "lit_at": -1 if n.is_root else first_grad.get(n.index),
        })
    return nodes


def _flow(states, known, record):
    """Per state h_t: the graph output it is, and its gradient norm after each event."""
    if not states:
        return None
    rows = []
    for t, h in enumerate(states):
        key = next((k for k, v in known.items() if v[2] == f"h[{t}]"), None)
        series = record.running.get(key, []) if key else []
        rows.append({"t": t, "node": key[0] if key else None, "out": key[1] if key else None,
                     "series": [[k, json_number(v)] for k, v in series],
                     "final": json_number(series[-1][1]) if series else 0.0})
    return rows


def _flows(flows):
    if not flows:
        return {}
    out = {}
    for label, norms in flows.items():
        values = [float(v) for v in (norms.tolist() if hasattr(norms, "tolist") else norms)]
        out[str(label)] = values
    return out


def _text(text, activations, states, cells, max_text):
    """The hidden-state explorer's data, or None without text."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"explore: text must be a str, got {type(text).__name__}")
    from minigrad import backend
    np = backend.host_numpy()
    if activations is None:
        if len(states) != len(text):
            raise ValueError(f"explore: text has {len(text)} characters but states has "
                             f"{len(states)} steps; pass activations=(len(text), H) or "
                             "states of the same length")
        activations = {"h": np.stack([np.asarray(backend.to_host(h.array)).reshape(
            -1, h.shape[-1])[0] for h in states])}
    elif not isinstance(activations, dict):
        activations = {"h": activations}
    kinds = {}
    for name, acts in activations.items():
        acts = np.asarray(acts)
        if acts.ndim != 2 or acts.shape[0] != len(text):
            raise ValueError(f"explore: activations[{name!r}] must have shape ({len(text)}, H) "
                             f"for a text of {len(text)} characters, got {acts.shape}")
        kinds[str(name)] = units_payload(acts[:max_text])
    found = {str(f): [[int(u), float(r)] for u, r in units] for f, units in (cells or {}).items()}
    return {"chars": text[:max_text], "kinds": kinds, "cells": found}


def _attention(attention):
    if attention is None:
        return None
    words = [str(w) for w in attention["words"]]
    maps = maps_payload(attention["maps"])
    if maps["shape"][0] != len(words):
        raise ValueError(f"explore: attention has {len(words)} words but "
                         f"{maps['shape'][0]} maps")
    image = attention.get("image")
    return {"words": words, "maps": maps,
            "image": None if image is None else image_payload(image)}


def _svg(root, fallback_seconds=60):
    """The forward picture as inline SVG (no XML prolog), or None without graphviz's dot.

    dot cannot rank some step layouts ("trouble in init_rank"); then the flat layout is
    tried, for at most ``fallback_seconds`` (a large flat graph can take dot many minutes),
    and without a picture the page says so and its other panels still work.
    """
    import shutil
    import subprocess
    dot = shutil.which("dot")
    if dot is None:
        return None
    for group, limit in (("timestep", None), (None, fallback_seconds)):
        # every step drawn (no folding): the stepper lights the very nodes backward visits
        source = draw_graph(root, group=group, max_steps=None).source
        try:
            done = subprocess.run([dot, "-Tsvg"], input=source.encode("utf-8"),
                                  capture_output=True, timeout=limit)
        except subprocess.TimeoutExpired:
            return None
        if done.returncode == 0:
            svg = done.stdout.decode("utf-8")
            svg = svg[svg.index("<svg"):]
            return re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return None


def _asset(name):
    return resources.files("minigrad.viz").joinpath("explorer", name).read_text(encoding="utf-8")


def _page(data, svg):
    """page.html with the style, the script, the SVG and the data put in."""
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    graph = svg if svg is not None else (
        '<p class="missing">No picture of the graph: graphviz\'s <code>dot</code> is not '
        "installed (bash scripts/install_dot.sh) or could not lay this graph out in time. "
        "The stepper, the node list and the other panels still work.</p>")
    parts = {"STYLE": _asset("explorer.css"), "TITLE": html.escape(data["title"]),
             "SVG": graph, "DATA": payload, "SCRIPT": _asset("explorer.js")}
    # one pass: text put in (a user's passage, say) is never searched for placeholders
    return re.sub(r"\{\{(STYLE|TITLE|SVG|DATA|SCRIPT)\}\}", lambda m: parts[m.group(1)],
                  _asset("page.html"))
