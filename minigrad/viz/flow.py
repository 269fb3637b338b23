"""Flow mode: how large is the gradient that crosses each edge of the forward graph?

    for every edge  parent --x--> node :   ||dL/dx||  as handed from node back to parent

Measured with one backward pass through ``minigrad.autograd.run_backward`` with an
``edge_hook``, asking for the gradients of the leaves (``inputs=``), so no ``.grad`` of
any tensor changes and the graph stays usable (``retain_graph=True``). ``split_shared=True``
has every recurrent step hand over its own share of W_hh's gradient, so each W_hh edge
shows what crossed it (a layer otherwise sums the sequence's share in one matmul). Colours map
``log10`` of the norm onto a colour scale (cold = vanishing, hot = exploding).
"""
from __future__ import annotations

import math

from minigrad import backend
from minigrad.tensor import Tensor

from . import styles
from .backward_pass import observe_backward


def measure_edge_gradients(root, graph):
    """{(src, src_out, dst): summed gradient (host array)} for the edges of ``graph``.

    ``graph`` must come from ``walk(root, keep_objects=True)``.
    """
    objects = graph.objects
    number = {id(obj): i for i, obj in enumerate(objects)}
    leaves = [obj for obj in objects if isinstance(obj, Tensor)]
    if root.grad_fn is None or not leaves:
        return {}
    gradients = {}

    def hook(parent, node, gx):
        key = (number[id(parent[0])], parent[1], number[id(node)])
        g = backend.to_host(gx.array)
        total = gradients.get(key)
        gradients[key] = g.copy() if total is None else total + g

    observe_backward(root, leaves, hook, "draw_graph(mode='flow')")
    return gradients


def norm(array):
    np = backend.host_numpy()
    return float(np.sqrt(np.sum(np.square(np.asarray(array, dtype=np.float64)))))


class ColorScale:
    """Maps a gradient norm to an edge colour and width on a log10 scale.

    The scale spans whole decades (at least two), and its colours are a perceptually
    uniform colour map (``styles.FLOW_COLORMAP``, viridis: readable in grey and by
    colour-blind viewers), pale and thin for a vanishing gradient, dark and thick for a
    large one, so each decade is a visibly different colour.
    """

    def __init__(self, norms):
        logs = [math.log10(n) for n in norms if n is not None and n > 0 and math.isfinite(n)]
        if logs:
            self.lo, self.hi = math.floor(min(logs)), math.ceil(max(logs))
        else:
            self.lo, self.hi = -1, 0
        if self.hi - self.lo < 2:
            self.lo = self.hi - 2
        self._cmap = _colormap()

    def position(self, value):
        return min(1.0, max(0.0, (math.log10(value) - self.lo) / (self.hi - self.lo)))

    def color(self, value):
        return self._cmap(self.position(value))

    def penwidth(self, value):
        thin, thick = styles.FLOW_PENWIDTH
        return thin + (thick - thin) * self.position(value)

    def ticks(self):
        """Values shown in the legend, from the largest down: decades, at most 7 of them."""
        stride = max(1, math.ceil((self.hi - self.lo) / 6))
        return [10.0 ** v for v in range(self.hi, self.lo - 1, -stride)]


def _colormap():
    """matplotlib's colour map when matplotlib is there, else the same map's samples."""
    lo, hi = styles.FLOW_COLORMAP_RANGE          # position 0 (small) -> hi, 1 (large) -> lo
    try:
        from matplotlib import colormaps
        from matplotlib.colors import to_hex
        cmap = colormaps[styles.FLOW_COLORMAP]
        return lambda x: to_hex(cmap(hi + (lo - hi) * x))
    except ImportError:
        palette = styles.FLOW_FALLBACK_PALETTE
        return lambda x: palette[min(len(palette) - 1, int(x * len(palette)))]


def _decade(value):
    exponent = round(math.log10(value))
    return "1" if exponent == 0 else f"10<sup>{exponent}</sup>"


def add_legend(dot, scale, title="‖gradient‖ crossing the edge"):
    """The colour key, drawn with real edges: one short edge per decade, in that decade's
    colour and width, beside its value, and a dashed one for "no gradient", in one row.
    Returns the names of its value nodes."""
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label=title, labelloc="b", **styles.CLUSTER["legend"])
        entries = [(f"{_decade(v)}", {"color": scale.color(v), "penwidth": f"{scale.penwidth(v):.2f}"})
                   for v in reversed(scale.ticks())]
        entries.append(("zero / none", dict(styles.EDGE["no_gradient"])))
        with legend.subgraph() as row:
            row.attr(rank="same")
            previous = None
            for k, (text, attrs) in enumerate(entries):
                tail, head = f"legend{k}_from", f"legend{k}"
                row.node(tail, "", shape="point", width="0.01", height="0.01", color="white")
                row.node(head, f"<{text}>", shape="plaintext", fontsize="10", margin="0.02,0")
                row.edge(tail, head, arrowhead="none", minlen="1", tooltip=f"legend: {text}", **attrs)
                if previous is not None:
                    row.edge(previous, tail, style="invis")
                previous = head
    return [f"legend{k}" for k in range(len(entries))]
