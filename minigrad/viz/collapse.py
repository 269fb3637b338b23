"""Shrinking a walked graph for drawing: one box per cell-step, and ``max_nodes``.

``collapse`` turns every (module, time step) group of ops into one ``"cell"`` node, so an
unrolled sequence of 50 or 200 steps is a readable chain of boxes. ``truncate`` keeps the
first ``max_nodes`` nodes (those nearest the loss) and describes the rest in a note.
"""
from __future__ import annotations

import math
from collections import Counter

from .graph_walk import VizEdge, VizGraph, VizNode


def collapse(graph, gradients=None):
    """Merge the ops of each (module, step) into one node. Leaves and unscoped ops stay.

    ``gradients`` ({(src, src_out, dst): array}, flow mode) become edge norms: gradients of
    the same tensor into one box add up (that is its gradient), and different tensors
    crossing between the same two boxes (LSTM's h and c) combine as one long vector.
    """
    group_of, cells, members = {}, {}, {}
    by_index = {n.index: n for n in graph.nodes}
    for node in graph.nodes:
        if node.kind == "op" and node.step is not None:
            key = (node.module, node.step)
            if key not in cells:
                cells[key] = node.index
                members[key] = []
            group_of[node.index] = cells[key]
            members[key].append(node)
        else:
            group_of[node.index] = node.index

    outgoing = {}   # cell index -> {output shape: None} of tensors leaving it
    names = {}      # cell index -> names of the tensors leaving it
    crossing = {}   # (S, D) -> {(src, src_out): summed gradient or None}
    order = []
    for edge in graph.edges:
        s, d = group_of[edge.src], group_of[edge.dst]
        if s == d:
            continue
        if (s, d) not in crossing:
            crossing[(s, d)] = {}
            order.append((s, d))
        source_key = (edge.src, edge.src_out)
        g = gradients.get((edge.src, edge.src_out, edge.dst)) if gradients else None
        previous = crossing[(s, d)].get(source_key)
        crossing[(s, d)][source_key] = g if previous is None else (previous if g is None else previous + g)
        outgoing.setdefault(s, {})[edge.shape] = None
        name = by_index[edge.src].names.get(edge.src_out)
        if name and s != edge.src:
            names.setdefault(s, {})[name] = None

    nodes = []
    for node in graph.nodes:
        if group_of[node.index] != node.index:
            continue
        if node.kind != "op" or node.step is None:
            nodes.append(node)
            continue
        key = (node.module, node.step)
        ops = members[key]
        counts = Counter(op.label for op in ops)
        label = ops[0].label if len(ops) == 1 else (node.module or "cell")
        nodes.append(VizNode(
            index=node.index, kind="cell", label=label,
            shapes=tuple(outgoing.get(node.index, {})) or ops[0].shapes,
            names={i: n for i, n in enumerate(names.get(node.index, {}))},
            module=node.module, step=node.step, is_root=any(op.is_root for op in ops),
            n_ops=len(ops), op_counts=dict(sorted(counts.items()))))

    edges = []
    for s, d in order:
        sources = crossing[(s, d)]
        shape = by_index[next(iter(sources))[0]].shapes
        edge = VizEdge(src=s, src_out=-2, dst=d, shape=shape[0] if shape else ())
        if gradients is not None:
            from .flow import norm
            present = [norm(g) for g in sources.values() if g is not None]
            edge.norm = math.sqrt(sum(n * n for n in present)) if present else None
        edges.append(edge)
    return VizGraph(nodes=nodes, edges=edges)


def truncate(graph, max_nodes):
    """Keep the ``max_nodes`` nodes met first from the root; return (graph, note text or None)."""
    if max_nodes is None or len(graph.nodes) <= max_nodes:
        return graph, None
    if max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be at least 1, got {max_nodes}")
    ordered = sorted(graph.nodes, key=lambda n: n.index)
    kept, dropped = ordered[:max_nodes], ordered[max_nodes:]
    counts = Counter()
    for node in dropped:
        if node.kind == "cell":
            counts[f"{node.label} cell-step"] += 1
        elif node.kind in ("param", "leaf"):
            counts["leaf tensor"] += 1
        else:
            counts[node.label] += 1
    steps = sorted({n.step for n in dropped if n.step is not None})
    parts = ", ".join(f"{c} {label}" for label, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
    if len(counts) > 6:
        parts += ", …"
    note = f"… {len(dropped)} more nodes not drawn (max_nodes={max_nodes})\n{parts}"
    if steps:
        note += f"\nfrom time steps {steps[0]}–{steps[-1]}" if len(steps) > 1 else f"\nfrom time step {steps[0]}"
    kept_ids = {n.index for n in kept}
    edges = [e for e in graph.edges if e.src in kept_ids and e.dst in kept_ids]
    cut = []   # ("in", dst) for kept consumers of dropped nodes, ("out", src) for kept producers
    seen = set()
    for e in graph.edges:
        if e.src in kept_ids and e.dst not in kept_ids:
            key = ("out", e.src)
        elif e.dst in kept_ids and e.src not in kept_ids:
            key = ("in", e.dst)
        else:
            continue
        if key not in seen:
            seen.add(key)
            cut.append(key)
    return VizGraph(nodes=kept, edges=edges, cut=cut), note
