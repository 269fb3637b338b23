"""``draw_graph``: the recorded graph as a ``graphviz.Digraph``.

Three pictures of the same graph::

    forward   x_t, h_{t-1} --> matmul --> + --> tanh --> h_t ...    the graph as recorded
    backward  ∂L/∂L=1 --> sum backward --> tanh backward --> ...      gradients, leaves last
    flow      the forward picture, each edge coloured and sized by log10 ||dL/dx||

With ``group="timestep"`` every unrolled step is one cluster ("t = 3"), in order along
``rankdir``, and a weight shared by all steps (W_hh) is drawn once, outside the clusters,
with an edge into every step: the "same weights at every time step" of the lecture.
"""
from __future__ import annotations

import html

import graphviz

from . import styles
from .collapse import collapse as collapse_graph, truncate
from .flow import ColorScale, add_legend, measure_edge_gradients, norm
from .fold import fold
from .graph_walk import walk
from .grid import Grid, add_axes, anchor_name, cell_cluster_name

MODES = ("forward", "backward", "flow")
GROUPS = ("timestep", "module", None)
REVERSED = {"LR": "RL", "RL": "LR", "TB": "BT", "BT": "TB"}
ACROSS = {"LR": "BT", "RL": "BT", "TB": "LR", "BT": "LR"}   # data direction when time runs so
AUTO = "auto"


def draw_graph(root, *, mode="forward", group="timestep", collapse=False, show_values=False,
               show_grads=False, max_nodes=None, max_steps=AUTO, rankdir="LR"):
    """Draw the graph that produced ``root`` (a Tensor, usually the loss).

    Args:
        mode: ``"forward"`` (ops and tensors as recorded), ``"backward"`` (one node per
            backward function, edges the way gradients travel, ``.grad +=`` nodes for the
            leaves) or ``"flow"`` (forward picture, edges coloured by the gradient norm that
            crossed them; runs its own backward pass and changes no ``.grad``).
        group: ``"timestep"`` (the time × layer grid: a cell per layer and step),
            ``"module"`` (a cluster per module path) or ``None`` (flat).
        collapse: draw each (module, time step) as one box.
        show_values: add the values of leaves (and the root) to their labels (a few
            numbers, or mean and std).
        show_grads: add the ``.grad`` of leaves (and the root) to their labels.
        max_nodes: draw at most this many nodes (those nearest the root) and say in a note
            what was left out.
        max_steps: draw at most this many time steps: the first and last ones in full and
            the middle folded into one "t = a..b" box per layer (in flow mode its edges
            carry the folded steps' summed gradient). ``"auto"`` (default) keeps a
            picture within about 3 : 1 (10 steps collapsed, 6 otherwise); ``None`` draws all.
        rankdir: the direction time runs on the page (``"LR"``: left to right).

    Returns:
        ``graphviz.Digraph``: ``.source`` is the DOT text (the same for the same graph),
        ``.render(path, format="svg", cleanup=True)`` writes a file, Jupyter shows it inline.
        A node of the recorded graph is ``n<index>`` in the DOT text, the index being the
        order in which a breadth-first walk from the root meets it (``n0`` is the root's node).
    """
    if mode not in MODES:
        raise ValueError(f"draw_graph: mode must be one of {MODES}, got {mode!r}")
    if group not in GROUPS:
        raise ValueError(f"draw_graph: group must be one of {GROUPS}, got {group!r}")
    if rankdir not in REVERSED:
        raise ValueError(f"draw_graph: rankdir must be one of {tuple(REVERSED)}, got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be a positive int or None, got {max_nodes!r}")
    if max_steps == AUTO:
        max_steps = 10 if collapse else 6
    elif max_steps is not None and (not isinstance(max_steps, int) or isinstance(max_steps, bool)
                                    or max_steps < 2):
        raise ValueError(f"draw_graph: max_steps must be an int >= 2, 'auto' or None, got {max_steps!r}")

    graph = walk(root, keep_objects=(mode == "flow"), show_values=show_values,
                 show_grads=show_grads)
    gradients = None
    if mode == "flow":
        try:
            gradients = measure_edge_gradients(root, graph)
        finally:
            graph.objects = None  # the records must not keep the graph alive
    graph, gradients, folded = fold(graph, max_steps, gradients)
    if collapse:
        graph = collapse_graph(graph, gradients)
    elif gradients is not None:
        for edge in graph.edges:
            g = gradients.get((edge.src, edge.src_out, edge.dst))
            edge.norm = None if g is None else norm(g)
    gradients = None
    graph, note = truncate(graph, max_nodes)

    return _Picture(graph, group, rankdir, backward=(mode == "backward"), flow=(mode == "flow"),
                    note=note, folded=folded).build()


class _Picture:
    """Turns plain records (see graph_walk) into DOT statements."""

    def __init__(self, graph, group, time_direction, backward=False, flow=False, note=None,
                 folded=None):
        self.graph, self.group, self.time_direction = graph, group, time_direction
        self.backward, self.flow, self.note, self.folded = backward, flow, note, folded
        self.by_index = {n.index: n for n in graph.nodes}
        # Time layout: the time × layer grid (grid.py); the data flows across time, from
        # the inputs to the loss. Otherwise the data flows along time_direction.
        self.timed = group == "timestep" and any(n.step is not None for n in graph.nodes)
        self.grid = Grid(graph) if self.timed else None
        direction = ACROSS[time_direction] if self.timed else time_direction
        self.rankdir = direction          # the backward picture only turns the arrows round
        self.shared = self.grid.shared if self.timed else {}

    def build(self):
        graph_attr = {**styles.GRAPH, "rankdir": self.rankdir}
        if self.timed:
            graph_attr.update(styles.TIME_LAYOUT)
        dot = graphviz.Digraph(name="minigrad", graph_attr=graph_attr,
                               node_attr=styles.NODE_DEFAULT, edge_attr=styles.EDGE_DEFAULT)
        statements = {n.index: self._node_statement(n) for n in self.graph.nodes}
        if self.timed:
            self._place_grid(dot, statements)
            add_axes(dot, self.grid, self.time_direction in ("RL", "BT"), self.folded,
                     collapsed=self._collapsed())
        else:
            self._place(dot, statements)
        if self.backward:
            self._backward_edges(dot)
        else:
            self._forward_edges(dot)
        if self.note is not None:
            self._note(dot)
        return dot

    # -- nodes -------------------------------------------------------------------
    def _node_statement(self, node):
        if self.backward:
            return self._backward_node(node)
        if node.kind == "fold":
            lines = [f"<b>… {_esc(node.label)} …</b>", _esc(node.names[0]),
                     _detail(f"{node.n_ops} ops not drawn")]
            return f"n{node.index}", _html(lines), styles.NODE["fold"]
        if node.is_root:
            style = styles.NODE["root"]
        elif node.kind == "op" and node.names:
            style = styles.NODE["named"]
        else:
            style = styles.NODE[node.kind]
        lines = [f"<b>{_esc(node.label)}</b>"]
        if node.kind == "cell":
            lines = self._cell_lines(node)
        elif node.kind == "op" and node.names:
            lines = [f"<b>{', '.join(_math(n) for n in node.names.values())}</b> = {_esc(node.label)}"]
        if node.kind == "op" and self.timed and node.index in self.grid.feeders.values():
            lines.append(_detail("all T steps at once"))
        lines.append(_detail(_shapes_text(node.shapes)))
        lines += self._extra_lines(node)
        return f"n{node.index}", _html(lines), style

    def _cell_lines(self, node):
        lines = [f"<b>t = {node.step}</b>", _esc(node.label)]
        if node.n_ops > 1:
            lines.append(_detail(f"{node.n_ops} ops"))
        if node.names:
            lines.append(_esc(", ".join(node.names.values())))
        return lines

    def _extra_lines(self, node):
        lines = []
        if node.values is not None:
            lines.append(_detail(f"value {node.values}"))
        if node.grad is not None:
            lines.append(_detail(f"grad {node.grad}"))
        return lines

    def _backward_node(self, node):
        if node.kind == "fold":
            lines = [f"<b>… {_esc(node.label)} …</b> backward", _esc(node.names[0])]
            return f"n{node.index}", _html(lines), styles.NODE["fold"]
        if node.kind in ("param", "leaf"):
            consumers = sum(1 for e in self.graph.edges if e.src == node.index)
            lines = [f"<b>{_esc(node.label)}.grad +=</b>", _detail(_shapes_text(node.shapes))]
            if consumers > 1:
                lines.append(_detail(f"sum of {consumers} gradients"))
            lines += self._extra_lines(node)
            return f"n{node.index}", _html(lines), styles.BACKWARD_NODE["accumulate"]
        lines = [f"<b>{_esc(node.label)}</b> backward"]
        if node.kind == "cell" and node.n_ops > 1:
            lines.append(_detail(f"{node.n_ops} ops"))
        lines.append(_detail(_shapes_text(node.shapes)))
        style = styles.BACKWARD_NODE["cell" if node.kind == "cell" else "op"]
        return f"n{node.index}", _html(lines), style

    def _place_grid(self, dot, statements):
        """A cluster per (layer, step) cell; everything else at top level."""
        grid = self.grid
        placed = set()
        for module, step in sorted(grid.cells, key=lambda c: (c[1], grid.rows.index(c[0]))):
            one_box = self._collapsed() or len(grid.cells[(module, step)]) == 1
            style = styles.CLUSTER["step_collapsed" if one_box else "step"]   # no frame round one box
            name = cell_cluster_name(grid, module, step)
            with dot.subgraph(name=name, graph_attr={**style, "label": ""}) as cell:
                cell.attr(tooltip=f"{module or ''} t = {step}".strip())
                for index in grid.cells[(module, step)]:
                    node_name, label_html, node_style = statements[index]
                    cell.node(node_name, label_html, **node_style)
                    placed.add(index)
        for index in sorted(statements):
            if index not in placed:
                node_name, label_html, node_style = statements[index]
                dot.node(node_name, label_html, **node_style)

    def _place(self, dot, statements):
        """Module clusters (group="module") or flat: clusters built bottom-up, no recursion."""
        clusters = {}       # key -> (parent key or None, label, style, [node indices])
        placement = {n.index: None for n in self.graph.nodes}
        if self.group == "module":
            paths = {}
            for n in self.graph.nodes:
                if n.kind in ("op", "cell") and n.module:
                    parts = n.module.split(".")
                    for k in range(1, len(parts) + 1):
                        paths[".".join(parts[:k])] = None
            for path in sorted(paths):
                parent = path.rsplit(".", 1)[0] if "." in path else None
                clusters[("m", path)] = (("m", parent) if parent else None, path, styles.CLUSTER["module"], [])
            for n in self.graph.nodes:
                owner = None
                if n.kind in ("op", "cell", "fold"):
                    owner = n.module
                elif n.kind == "param" and "." in n.label:
                    owner = n.label.rsplit(".", 1)[0]
                placement[n.index] = ("m", owner) if owner in paths else None
        for index in sorted(placement):
            key = placement[index]
            if key is not None:
                clusters[key][3].append(index)
        built = {}
        for key in sorted(clusters, key=lambda k: (-k[1].count("."), k[1])):
            parent, label, style, members = clusters[key]
            sub = graphviz.Digraph(name=f"cluster_m_{_safe(key[1])}", graph_attr={**style, "label": label})
            for index in members:
                name, label_html, node_style = statements[index]
                sub.node(name, label_html, **node_style)
            for child_key in sorted((k for k in built if clusters[k][0] == key), key=lambda k: k[1]):
                sub.subgraph(built[child_key])
            built[key] = sub
        for index in sorted(placement):
            if placement[index] is None:
                name, label_html, node_style = statements[index]
                dot.node(name, label_html, **node_style)
        for key in sorted((k for k in clusters if clusters[k][0] is None), key=lambda k: k[1]):
            dot.subgraph(built[key])

    def _collapsed(self):
        return any(n.kind == "cell" for n in self.graph.nodes)

    # -- edges -------------------------------------------------------------------
    def _edge(self, dot, tail, head, e, attrs):
        """One edge, written tail -> head as the forward graph runs (so forward, backward
        and flow pictures share one layout); the backward picture turns its arrow round.
        An edge from a shared weight or into another step does not decide the ranks
        (grid.loose); one into another step is written from the later step to the earlier
        (drawn with dir=back): dot orders the columns best that way."""
        backwards = self.backward
        if self.timed and self.grid.loose(e):
            attrs["constraint"] = "false"
        if self.timed and self.grid.crosses_steps(e) and self._step(tail) < self._step(head):
            tail, head = head, tail
            backwards = not backwards
        if backwards:
            attrs["dir"] = "back"
        dot.edge(tail, head, **attrs)

    def _step(self, name):
        return self.by_index[int(name[1:])].step

    def _forward_edges(self, dot):
        scale = None
        if self.flow:
            scale = ColorScale([e.norm for e in self.graph.edges])
        for e in self.graph.edges:
            src = self.by_index[e.src]
            attrs = dict(styles.EDGE["param" if src.kind in ("param", "leaf") else "data"])
            name = _output_name(src, e.src_out)
            if name:
                attrs.update(label=name, **styles.EDGE_LABEL)
            if _is_cell_state(src, e.src_out):
                attrs.update(styles.EDGE["cell_state"])
            if scale is not None:
                if e.norm is None or e.norm == 0:
                    attrs.update(styles.EDGE["no_gradient"])
                    attrs["tooltip"] = "no gradient"
                else:
                    attrs.update(color=scale.color(e.norm), penwidth=f"{scale.penwidth(e.norm):.2f}",
                                 tooltip=f"‖grad‖ = {e.norm:.3g}")
            self._edge(dot, f"n{e.src}", f"n{e.dst}", e, attrs)
        if scale is not None:
            entries = add_legend(dot, scale)
            if self.timed:          # the key sits under the time axis, not beside the grid
                first = self.grid.steps[-1 if self.time_direction in ("RL", "BT") else 0]
                middle = entries[len(entries) // 2]
                dot.edge(middle, anchor_name(self.grid, self.grid.rows[0], first), style="invis",
                         weight="0")

    def _backward_edges(self, dot):
        root = next((n for n in self.graph.nodes if n.is_root), None)
        if root is not None and root.kind != "param" and root.kind != "leaf":
            name = next(iter(root.names.values()), "L")
            dot.node("seed", _html([f"<b>∂{_esc(name)}/∂{_esc(name)} = 1</b>"]), **styles.BACKWARD_NODE["seed"])
            dot.edge(f"n{root.index}", "seed", dir="back", **styles.EDGE["gradient"])
        for e in self.graph.edges:
            src = self.by_index[e.src]
            kind = "accumulate" if src.kind in ("param", "leaf") else "gradient"
            attrs = dict(styles.EDGE[kind])
            self._edge(dot, f"n{e.src}", f"n{e.dst}", e, attrs)

    def _note(self, dot):
        dot.node("truncated", _html([_esc(line) for line in self.note.split("\n")]), **styles.NODE["note"])
        for direction, index in self.graph.cut:
            forward = ("truncated", f"n{index}") if direction == "in" else (f"n{index}", "truncated")
            dot.edge(*forward, **styles.EDGE["truncated"], **({"dir": "back"} if self.backward else {}))


def _is_cell_state(node, index):
    """True for the LSTM's cell state c_t: an output named "c" (by the gate-level step or
    the one-node cell's output names)."""
    if node.names.get(index) == "c" or node.names.get(index, "").startswith("c_"):
        return True
    return _output_name(node, index) == "c"


def _output_name(node, index):
    """Name of a multi-output node's output (an LSTM cell's "h" / "c"), or None."""
    if node.kind != "op" or len(node.shapes) < 2 or index < 0:
        return None
    names = styles.OUTPUT_NAMES.get(node.label)
    return names[index] if names and index < len(names) else None


def _safe(text):
    return "".join(c if c.isalnum() else "_" for c in str(text))


def _shapes_text(shapes):
    texts = [_shape_text(s) for s in shapes]
    if len(texts) > 2 and len(set(texts)) == 1:
        return f"{len(texts)} × {texts[0]}"
    return ", ".join(texts)


def _shape_text(shape):
    return "scalar" if len(shape) == 0 else "(" + ", ".join(str(d) for d in shape) + ")"


def _math(name):
    """A tensor name with its subscript set as one: "c_t" -> c<sub>t</sub>, "W_hh" -> W<sub>hh</sub>."""
    base, sep, sub = str(name).partition("_")
    return _esc(base) + (f"<sub>{_esc(sub)}</sub>" if sep and sub and base else _esc(sep + sub))


def _esc(text):
    return html.escape(str(text), quote=False)


def _detail(text):
    attrs = " ".join(f'{k}="{v}"' for k, v in styles.DETAIL_FONT.items())
    return f"<font {attrs}>{text}</font>"


def _html(lines):
    return "<" + "<br/>".join(lines) + ">"
