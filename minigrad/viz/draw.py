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
from .flow import ColorScale, legend_label, measure_edge_gradients, norm
from .graph_walk import walk

MODES = ("forward", "backward", "flow")
GROUPS = ("timestep", "module", None)
REVERSED = {"LR": "RL", "RL": "LR", "TB": "BT", "BT": "TB"}
ACROSS = {"LR": "TB", "RL": "TB", "TB": "LR", "BT": "LR"}   # data direction when time runs so


def draw_graph(root, *, mode="forward", group="timestep", collapse=False, show_values=False,
               show_grads=False, max_nodes=None, rankdir="LR"):
    """Draw the graph that produced ``root`` (a Tensor, usually the loss).

    Args:
        mode: ``"forward"`` (ops and tensors as recorded), ``"backward"`` (one node per
            backward function, edges the way gradients travel, ``.grad +=`` nodes for the
            leaves) or ``"flow"`` (forward picture, edges coloured by the gradient norm that
            crossed them; runs its own backward pass and changes no ``.grad``).
        group: ``"timestep"`` (a cluster per unrolled step), ``"module"`` (a cluster per
            module path) or ``None`` (flat).
        collapse: draw each (module, time step) as one box.
        show_values: add the values of leaves (and the root) to their labels (a few
            numbers, or mean and std).
        show_grads: add the ``.grad`` of leaves (and the root) to their labels.
        max_nodes: draw at most this many nodes (those nearest the root) and say in a note
            what was left out.
        rankdir: the direction time runs on the page (``"LR"``: left to right). The
            backward picture keeps time running the same way, so its arrows point back.

    Returns:
        ``graphviz.Digraph``: ``.source`` is the DOT text (the same for the same graph),
        ``.render(path, format="svg")`` writes a file, Jupyter shows it inline.
    """
    if mode not in MODES:
        raise ValueError(f"draw_graph: mode must be one of {MODES}, got {mode!r}")
    if group not in GROUPS:
        raise ValueError(f"draw_graph: group must be one of {GROUPS}, got {group!r}")
    if rankdir not in REVERSED:
        raise ValueError(f"draw_graph: rankdir must be one of {tuple(REVERSED)}, got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be a positive int or None, got {max_nodes!r}")

    graph = walk(root, keep_objects=(mode == "flow"), show_values=show_values,
                 show_grads=show_grads)
    gradients = None
    if mode == "flow":
        try:
            gradients = measure_edge_gradients(root, graph)
        finally:
            graph.objects = None  # the records must not keep the graph alive
    if collapse:
        graph = collapse_graph(graph, gradients)
    elif gradients is not None:
        for edge in graph.edges:
            g = gradients.get((edge.src, edge.src_out, edge.dst))
            edge.norm = None if g is None else norm(g)
    gradients = None
    graph, note = truncate(graph, max_nodes)

    return _Picture(graph, group, rankdir, backward=(mode == "backward"), flow=(mode == "flow"),
                    note=note).build()


class _Picture:
    """Turns plain records (see graph_walk) into DOT statements."""

    def __init__(self, graph, group, time_direction, backward=False, flow=False, note=None):
        self.graph, self.group, self.time_direction = graph, group, time_direction
        self.backward, self.flow, self.note = backward, flow, note
        self.by_index = {n.index: n for n in graph.nodes}
        # Time layout: step clusters side by side along time_direction, the data flowing
        # across it inside each step (inputs and weights first, loss last), as the
        # lecture's unrolled picture. Otherwise the data flows along time_direction.
        self.timed = group == "timestep" and any(n.step is not None for n in graph.nodes)
        direction = ACROSS[time_direction] if self.timed else time_direction
        self.rankdir = REVERSED[direction] if backward else direction
        self.shared = self._shared_leaves() if self.timed else {}

    def build(self):
        graph_attr = {**styles.GRAPH, "rankdir": self.rankdir}
        if self.timed:
            graph_attr.update(styles.TIME_LAYOUT)
        dot = graphviz.Digraph(name="minigrad", graph_attr=graph_attr,
                               node_attr=styles.NODE_DEFAULT, edge_attr=styles.EDGE_DEFAULT)
        statements = {n.index: self._node_statement(n) for n in self.graph.nodes}
        self._place(dot, statements)
        if self.timed:
            self._order_steps(dot)
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
        if node.is_root:
            style = styles.NODE["root"]
        elif node.kind == "op" and node.names:
            style = styles.NODE["named"]
        else:
            style = styles.NODE[node.kind]
        lines = [f"<b>{_esc(node.label)}</b>"]
        if node.kind == "cell":
            lines = self._cell_lines(node)
        elif node.names:
            lines.append(_esc(", ".join(node.names.values())))
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
        if node.kind in ("param", "leaf"):
            consumers = sum(1 for e in self.graph.edges if e.src == node.index)
            lines = [f"<b>{_esc(node.label)}.grad +=</b>", _detail(_shapes_text(node.shapes))]
            if consumers > 1:
                lines.append(_detail(f"sum of {consumers} gradients"))
            lines += self._extra_lines(node)
            return f"n{node.index}", _html(lines), styles.BACKWARD_NODE["accumulate"]
        label = node.label if node.kind == "op" else node.label
        lines = [f"<b>{_esc(label)}</b> backward"]
        if node.kind == "cell" and node.n_ops > 1:
            lines.append(_detail(f"{node.n_ops} ops"))
        lines.append(_detail(_shapes_text(node.shapes)))
        style = styles.BACKWARD_NODE["cell" if node.kind == "cell" else "op"]
        return f"n{node.index}", _html(lines), style

    def _place(self, dot, statements):
        """Put each node at top level or in its cluster (clusters built bottom-up, no recursion)."""
        clusters = {}       # key -> (parent key or None, label, style, [node indices])
        placement = {}      # node index -> cluster key or None
        if self.group == "timestep":
            modules_per_step = {}
            for n in self.graph.nodes:
                if n.step is not None:
                    modules_per_step.setdefault(n.step, {})[n.module] = None
            for step in sorted(modules_per_step):
                style = styles.CLUSTER["step_collapsed" if self._collapsed() else "step"]
                clusters[("t", step)] = (None, "" if self._collapsed() else f"t = {step}", style, [])
                modules = list(modules_per_step[step])
                if len(modules) > 1:
                    for module in modules:
                        clusters[("t", step, module)] = (("t", step), module or "", styles.CLUSTER["module"], [])
            for n in self.graph.nodes:
                if n.step is None:
                    placement[n.index] = None
                elif len(modules_per_step[n.step]) > 1:
                    placement[n.index] = ("t", n.step, n.module)
                else:
                    placement[n.index] = ("t", n.step)
        elif self.group == "module":
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
                if n.kind in ("op", "cell"):
                    owner = n.module
                elif n.kind == "param" and "." in n.label:
                    owner = n.label.rsplit(".", 1)[0]
                placement[n.index] = ("m", owner) if owner in paths else None
        else:
            placement = {n.index: None for n in self.graph.nodes}

        for index in sorted(placement):
            key = placement[index]
            if key is not None:
                clusters[key][3].append(index)
        built = {}
        for key in sorted(clusters, key=lambda k: (-len(k) if k[0] == "t" else -k[1].count("."), _sort_key(k))):
            parent, label, style, members = clusters[key]
            sub = graphviz.Digraph(name=_cluster_name(key), graph_attr={**style, "label": label})
            for index in members:
                name, label_html, node_style = statements[index]
                sub.node(name, label_html, **node_style)
            for child_key in sorted((k for k in built if clusters[k][0] == key), key=_sort_key):
                sub.subgraph(built[child_key])
            built[key] = sub
        for index in sorted(placement):
            if placement[index] is None:
                name, label_html, node_style = statements[index]
                dot.node(name, label_html, **node_style)
        for key in sorted((k for k in clusters if clusters[k][0] is None), key=_sort_key):
            dot.subgraph(built[key])

    def _collapsed(self):
        return any(n.kind == "cell" for n in self.graph.nodes)

    # -- layout ------------------------------------------------------------------
    def _steps(self):
        """{step: [node indices]} in time order."""
        steps = {}
        for n in sorted(self.graph.nodes, key=lambda n: n.index):
            if n.step is not None:
                steps.setdefault(n.step, []).append(n.index)
        return dict(sorted(steps.items()))

    def _shared_leaves(self):
        """Leaves (weights) used in more than one time step: drawn once, in a row of their
        own before the steps (after them in the backward picture), with an edge into
        every step that uses them."""
        used = {}
        for e in self.graph.edges:
            src, dst = self.by_index[e.src], self.by_index[e.dst]
            if src.kind in ("param", "leaf") and dst.step is not None:
                used.setdefault(e.src, set()).add(dst.step)
        return {i for i, steps in used.items() if len(steps) > 1}

    def _edge(self, dot, tail, head, e, attrs):
        """One edge; an edge into another time step does not pull the layout and is laid
        out from its head (drawn with dir=back), so it runs as a short diagonal between
        neighbouring columns instead of looping around them."""
        if self._loose(e):
            attrs["constraint"] = "false"
        if self._crosses_steps(e):
            attrs["dir"] = "back"
            tail, head = head, tail
        dot.edge(tail, head, **attrs)

    def _crosses_steps(self, e):
        src, dst = self.by_index[e.src], self.by_index[e.dst]
        return self.timed and src.step is not None and dst.step is not None and src.step != dst.step

    def _loose(self, e):
        """Edges that must not decide the layout: into another time step, or from a shared
        weight. Without this every step would start where the previous one ended."""
        return e.src in self.shared or self._crosses_steps(e)

    def _order_steps(self, dot):
        """Line the step clusters up in time order.

        A row of invisible marks, one per step, joined by invisible same-rank edges
        (which dot keeps in order), each mark tied to the first op of its step; the shared
        weights sit in the same row, before the steps."""
        steps = self._steps()
        inside = set()
        for e in self.graph.edges:
            if self.by_index[e.src].step == self.by_index[e.dst].step:
                inside.add(e.dst)
        anchors = {t: next((i for i in nodes if i not in inside), nodes[0]) for t, nodes in steps.items()}
        order = list(steps)
        if self.time_direction in ("RL", "BT"):
            order.reverse()
        marks = [f"time{t}" for t in order]
        half = len(marks) // 2   # the shared weights sit above the middle of the sequence
        row = marks[:half] + [f"n{i}" for i in sorted(self.shared)] + marks[half:]
        with dot.subgraph(name="time_axis") as axis:
            axis.attr(rank="sink" if self.backward else "source")
            for t in order:
                axis.node(f"time{t}", "", shape="point", style="invis", width="0", height="0")
            for i in sorted(self.shared):
                axis.node(f"n{i}")
            for a, b in zip(row, row[1:]):
                axis.edge(a, b, style="invis")
        ties = [(f"time{t}", f"n{anchors[t]}") for t in order]
        # What the loop reads from before it starts (an input projection for all steps)
        # goes above the steps, not beside them.
        before = self._before_steps()
        for e in self.graph.edges:
            dst = self.by_index[e.dst]
            if e.src in before and dst.step is not None:
                tie = (f"n{e.src}", f"n{anchors[dst.step]}")
                if tie not in ties:
                    ties.append(tie)
        for tail, head in ties:
            dot.edge(*((head, tail) if self.backward else (tail, head)), style="invis")

    def _before_steps(self):
        """Op nodes outside the steps that no step's result flows into."""
        after = {n.index for n in self.graph.nodes if n.step is not None}
        consumers = {}
        for e in self.graph.edges:
            consumers.setdefault(e.src, []).append(e.dst)
        stack = list(after)
        while stack:
            for d in consumers.get(stack.pop(), ()):
                if d not in after:
                    after.add(d)
                    stack.append(d)
        return {n.index for n in self.graph.nodes if n.kind == "op" and n.index not in after}

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
            if scale is not None:
                if e.norm is None or e.norm == 0:
                    attrs.update(styles.EDGE["no_gradient"])
                    attrs["tooltip"] = "no gradient"
                else:
                    attrs.update(color=scale.color(e.norm), penwidth=f"{scale.penwidth(e.norm):.2f}",
                                 tooltip=f"‖grad‖ = {e.norm:.3g}")
            self._edge(dot, f"n{e.src}", f"n{e.dst}", e, attrs)
        if scale is not None:
            dot.node("legend", legend_label(scale), **styles.NODE["legend"])

    def _backward_edges(self, dot):
        root = next((n for n in self.graph.nodes if n.is_root), None)
        if root is not None and root.kind != "param" and root.kind != "leaf":
            name = next(iter(root.names.values()), "L")
            dot.node("seed", _html([f"<b>∂{_esc(name)}/∂{_esc(name)} = 1</b>"]), **styles.BACKWARD_NODE["seed"])
            dot.edge("seed", f"n{root.index}", **styles.EDGE["gradient"])
        for e in self.graph.edges:
            src = self.by_index[e.src]
            kind = "accumulate" if src.kind in ("param", "leaf") else "gradient"
            attrs = dict(styles.EDGE[kind])
            self._edge(dot, f"n{e.dst}", f"n{e.src}", e, attrs)

    def _note(self, dot):
        dot.node("truncated", _html([_esc(line) for line in self.note.split("\n")]), **styles.NODE["note"])
        for direction, index in self.graph.cut:
            forward = ("truncated", f"n{index}") if direction == "in" else (f"n{index}", "truncated")
            if self.backward:
                forward = forward[::-1]
            dot.edge(*forward, **styles.EDGE["truncated"])


def _output_name(node, index):
    """Name of a multi-output node's output (an LSTM cell's "h" / "c"), or None."""
    if node.kind != "op" or len(node.shapes) < 2 or index < 0:
        return None
    names = styles.OUTPUT_NAMES.get(node.label)
    return names[index] if names and index < len(names) else None


def _sort_key(key):
    return tuple((0, k, "") if isinstance(k, int) else (1, 0, str(k)) for k in key)


def _cluster_name(key):
    if key[0] == "t":
        name = f"cluster_t{key[1]}"
        return name if len(key) == 2 else f"{name}_{_safe(key[2])}"
    return f"cluster_m_{_safe(key[1])}"


def _safe(text):
    return "".join(c if c.isalnum() else "_" for c in str(text))


def _shapes_text(shapes):
    texts = [_shape_text(s) for s in shapes]
    if len(texts) > 2 and len(set(texts)) == 1:
        return f"{len(texts)} × {texts[0]}"
    return ", ".join(texts)


def _shape_text(shape):
    return "scalar" if len(shape) == 0 else "(" + ", ".join(str(d) for d in shape) + ")"


def _esc(text):
    return html.escape(str(text), quote=False)


def _detail(text):
    attrs = " ".join(f'{k}="{v}"' for k, v in styles.DETAIL_FONT.items())
    return f"<font {attrs}>{text}</font>"


def _html(lines):
    return "<" + "<br/>".join(lines) + ">"
