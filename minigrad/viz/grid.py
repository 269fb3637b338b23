"""The time × layer grid of an unrolled picture, told to ``dot`` with its own tools.

    loss side      [ shared weights, drawn once: W_hh … ]          (rank=max band)
                   head, loss …
    layer 1 row    feeder  [l1, t=0] [l1, t=1] [l1, t=2] …
    layer 0 row    feeder  [l0, t=0] [l0, t=1] [l0, t=2] …
    input side     t = 0     t = 1     t = 2   …                    (the time axis)

- one cluster per (layer, step): a *cell*; a layer is the module path of the step's ops
  ("rnn.l0"), and rows are ordered by the data (the layer nearest the input first);
- every row has a row of anchors, one per step, in one ``rank=same`` subgraph joined by
  invisible edges (dot keeps such a row in order), each anchor tied to its cell by a
  heavy invisible edge: the cells line up in columns at the anchors' even pitch. The first
  row's anchors are the visible time axis ("t = 0"), the others are invisible;
- the op that hands a row its inputs for all steps at once (the ``unbind`` after the input
  projection that a layer hoists out of its loop) sits in the anchor row, before t = 0: the
  projection is drawn once, at the start of its row, and marked "all T steps at once";
- weights used by more than one step sit in a band of their own on the loss side
  (``rank=max``), in a row, and their edges do not pull the layout (``constraint=false``).

Nothing here knows about nn: rows, steps and feeders come from the walked records.
"""
from __future__ import annotations

from . import styles


class Grid:
    """Which node goes where: cells, rows, feeders, shared weights."""

    def __init__(self, graph):
        self.graph = graph
        self.by_index = {n.index: n for n in graph.nodes}
        self.cells = {}                         # (module, step) -> [node indices]
        for n in sorted(graph.nodes, key=lambda n: n.index):
            if n.step is not None:
                self.cells.setdefault((n.module, n.step), []).append(n.index)
        self.steps = sorted({step for _, step in self.cells})
        self.rows = self._rows()
        self.shared = self._shared_leaves()
        self.feeders = self._feeders()
        self.row_of_leaf = self._rows_of_leaves()
        self.lifted = self._lifted_leaves()

    def step_of(self, index):
        return self.by_index[index].step

    def _rows(self):
        """Module paths of the cells, the one nearest the input first (met last from the root)."""
        deepest = {}
        for (module, _), members in self.cells.items():
            deepest[module] = max(deepest.get(module, -1), max(members))
        return sorted(deepest, key=lambda m: -deepest[m])

    def _shared_leaves(self):
        """Leaves used in more than one step: {index: "param" or "data"}."""
        used = {}
        for e in self.graph.edges:
            src, dst = self.by_index[e.src], self.by_index[e.dst]
            if src.kind in ("param", "leaf") and dst.step is not None:
                used.setdefault(e.src, set()).add(dst.step)
        return {i: ("param" if self.by_index[i].kind == "param" else "data")
                for i, steps in used.items() if len(steps) > 1}

    def _rows_of_leaves(self):
        """{shared leaf: the row whose cells use it most}: its band sits at that row's start."""
        uses = {}
        for e in self.graph.edges:
            dst = self.by_index[e.dst]
            if e.src in self.shared and dst.step is not None:
                uses.setdefault(e.src, {}).setdefault(dst.module, 0)
                uses[e.src][dst.module] += 1
        return {i: max(sorted(by_row, key=str), key=by_row.get) for i, by_row in uses.items()}

    def _lifted_leaves(self):
        """{shared leaf: its consumer in the first step} for leaves that feed a step's later
        ops (W_hy into the read-out): drawn beside that op, left of the first column, so
        their edges run across the columns at that height."""
        first = self.steps[0] if self.steps else None
        lifted = {}
        for i in self.shared:
            row = self.row_of_leaf.get(i)
            if row is None or (row, first) not in self.cells:
                continue
            entry = self.first_node((row, first))
            heads = [e.dst for e in self.graph.edges if e.src == i and self.by_index[e.dst].step == first]
            if heads and entry not in heads:
                lifted[i] = heads[0]
        return lifted

    def _feeders(self):
        """{row: op node outside the steps with an edge into most of the row's steps}."""
        feeders, taken = {}, set()
        for row in self.rows:
            reach = {}
            for e in self.graph.edges:
                src, dst = self.by_index[e.src], self.by_index[e.dst]
                if src.kind == "op" and src.step is None and dst.step is not None and dst.module == row:
                    reach.setdefault(e.src, set()).add(dst.step)
            best = max(sorted(reach), key=lambda i: len(reach[i]), default=None)
            if best is not None and len(reach[best]) > 1 and best not in taken:
                feeders[row] = best
                taken.add(best)
        return feeders

    def first_node(self, cell):
        """The cell's node that no other node of the cell feeds (its first op)."""
        members = self.cells[cell]
        inside = {e.dst for e in self.graph.edges if e.src in members and e.dst in members}
        return next((i for i in reversed(members) if i not in inside), members[-1])

    def last_node(self, cell):
        """The cell's node that feeds no other node of the cell (its last op)."""
        members = self.cells[cell]
        feeding = {e.src for e in self.graph.edges if e.src in members and e.dst in members}
        return next((i for i in members if i not in feeding), members[0])

    def crosses_steps(self, e):
        a, b = self.step_of(e.src), self.step_of(e.dst)
        return a is not None and b is not None and a != b

    def loose(self, e):
        """Edges that must not decide the ranks: from a shared leaf, or between steps (else
        every step would start one rank after the one before: a staircase)."""
        return e.src in self.shared or self.crosses_steps(e)


def cell_cluster_name(grid, module, step):
    if len(grid.rows) == 1:
        return f"cluster_t{step}"
    return f"cluster_t{step}_{_safe(module)}"


def anchor_name(grid, row, step):
    k = grid.rows.index(row)
    return f"time{step}" if k == 0 else f"time{step}_r{k}"


def add_axes(dot, grid, time_reversed, folded=None, collapsed=False):
    """Anchor rows, ties from anchors to cells, the shared-weight band."""
    order = list(grid.steps)
    if time_reversed:
        order.reverse()
    for k, row in enumerate(grid.rows):
        with dot.subgraph(name=f"axis_r{k}") as axis:
            axis.attr(rank="same")
            chain = []
            if len(grid.rows) > 1:
                axis.node(f"row_r{k}", row or "", **styles.NODE["row_label"])
                chain.append(f"row_r{k}")
            leaves = [i for i in sorted(grid.shared) if grid.row_of_leaf.get(i, grid.rows[0]) == row
                      and i not in grid.lifted]
            for i in leaves:
                axis.node(f"n{i}")
            chain += [f"n{i}" for i in leaves]
            if row in grid.feeders:
                axis.node(f"n{grid.feeders[row]}")
                chain.append(f"n{grid.feeders[row]}")
            for t in order:
                name = anchor_name(grid, row, t)
                if (row, t) not in grid.cells:
                    continue
                visible = k == 0 and not collapsed         # a collapsed box says its t itself
                label = _axis_label(t, folded) if visible else ""
                axis.node(name, label, **styles.NODE["axis" if visible else "anchor"])
                chain.append(name)
            for a, b in zip(chain, chain[1:]):
                axis.edge(a, b, style="invis", weight="4")
        for t in order:
            if (row, t) not in grid.cells:
                continue
            ties = [(anchor_name(grid, row, t), f"n{grid.first_node((row, t))}")]
            if k > 0 and (grid.rows[k - 1], t) in grid.cells:      # columns line up across rows
                ties.append((f"n{grid.last_node((grid.rows[k - 1], t))}", anchor_name(grid, row, t)))
            for tie in ties:
                dot.edge(*tie, style="invis", weight="20")
        for leaf, head in sorted(grid.lifted.items()):
            if grid.row_of_leaf[leaf] == row:
                with dot.subgraph(name=f"lifted_{leaf}") as beside:
                    beside.attr(rank="same")
                    beside.node(f"n{leaf}")
                    beside.node(f"n{head}")
        firsts = [f"n{grid.first_node((row, t))}" for t in order if (row, t) in grid.cells]
        with dot.subgraph(name=f"cells_r{k}") as cells:     # the cells of a row, in time order
            cells.attr(rank="same")
            for a, b in zip(firsts, firsts[1:]):
                cells.edge(a, b, style="invis")


def _axis_label(t, folded):
    if folded is not None and t == folded[0]:
        return f"t = {folded[0]}..{folded[1]}"
    return f"t = {t}"


def _safe(text):
    return "".join(c if c.isalnum() else "_" for c in str(text))
