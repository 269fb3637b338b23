"""Long sequences: draw the first and last steps in full, fold the middle into one box.

    t = 0   t = 1   t = 2   [ … t = 3..46 (44 steps) … ]   t = 47   t = 48   t = 49

``fold(graph, max_steps)`` keeps ``max_steps`` steps (half at each end) and replaces every
node of the middle steps of one module (one layer) by a single ``"fold"`` node. An edge into
or out of the folded steps becomes an edge into or out of that box; in flow mode it carries
the gradient the folded steps exchanged with the rest: gradients of one tensor add up
(W_hh's share from every folded step: ||Σ_t g_t||), different tensors combine as one long
vector (h and c of the last folded step), as in ``collapse``.
"""
from __future__ import annotations


from .graph_walk import VizEdge, VizGraph, VizNode


def folded_range(steps, max_steps):
    """(first, last) folded step, or None when ``steps`` (sorted) fit in ``max_steps``."""
    if max_steps is None or len(steps) <= max_steps:
        return None
    head = (max_steps + 1) // 2
    tail = max_steps - head
    return steps[head], steps[len(steps) - tail - 1]


def fold(graph, max_steps, gradients=None):
    """Return (graph, gradients, (first, last) or None).

    ``gradients`` ({(src, src_out, dst): array}, flow mode) is returned re-keyed for the
    folded graph: each tensor leaving the box is one output of the box (so ``collapse``
    still tells h from c), and gradients of one tensor into the box add up.
    """
    steps = sorted({n.step for n in graph.nodes if n.step is not None})
    span = folded_range(steps, max_steps)
    if span is None:
        return graph, gradients, None
    first, last = span
    n_steps = sum(1 for s in steps if first <= s <= last)
    box_of, boxes = {}, {}
    next_index = max(n.index for n in graph.nodes) + 1
    for node in graph.nodes:
        if node.step is not None and first <= node.step <= last:
            if node.module not in boxes:
                boxes[node.module] = VizNode(
                    index=next_index, kind="fold", label=f"t = {first}..{last}",
                    names={0: f"{n_steps} steps folded"}, module=node.module, step=first, n_ops=0)
                next_index += 1
            boxes[node.module].n_ops += node.n_ops
            box_of[node.index] = boxes[node.module].index
    nodes = [n for n in graph.nodes if n.index not in box_of] + list(boxes.values())
    edges, folded = _fold_edges(graph, box_of, gradients)
    return VizGraph(nodes=nodes, edges=edges, cut=graph.cut), folded, span


def _fold_edges(graph, box_of, gradients):
    """Edges of the folded graph and their gradients."""
    edges, seen, outputs = [], {}, {}   # outputs: (box, original src, src_out) -> box output
    folded = {} if gradients is not None else None
    for edge in graph.edges:
        s, d = box_of.get(edge.src, edge.src), box_of.get(edge.dst, edge.dst)
        if s == d and edge.src in box_of:
            continue                                   # inside the folded steps
        out = edge.src_out
        if edge.src in box_of:
            out = outputs.setdefault((s, edge.src, edge.src_out), len([k for k in outputs if k[0] == s]))
        key = (s, out, d)
        if key not in seen:
            seen[key] = VizEdge(src=s, src_out=out, dst=d, shape=edge.shape)
            edges.append(seen[key])
        if folded is not None:
            g = gradients.get((edge.src, edge.src_out, edge.dst))
            if g is not None:
                folded[key] = g if key not in folded else folded[key] + g
    return edges, folded
