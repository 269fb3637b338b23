"""Walk the recorded graph once and copy what a picture needs into plain records.

It reads only the public graph API (``node.inputs``, ``node.display_label``,
``node.output_shapes``, ``node.output_names``, ``node.module_path``, ``node.time_step``,
``tensor.output_index``, ``tensor.is_parameter``): a picture of your own can do the same.

The walk starts at the root's node and follows ``node.inputs`` with an explicit queue
(breadth first, so an unrolled sequence of any length is fine and the nodes nearest the
loss come first). Every node and leaf gets a number in the order it is met; the picture
names its nodes by these numbers, never by ``id()``, so the same graph always gives the
same DOT text.

The records hold strings, numbers and shapes only. ``objects`` (the live nodes and leaves,
by number) is kept only when asked for (flow mode needs it to run backward) and is dropped
by the caller before it returns, so drawing never keeps a graph alive.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from minigrad.tensor import Tensor


@dataclass
class VizNode:
    """One box of the picture: an op, a leaf tensor, or (collapsed) one cell-step."""

    index: int                 # order of discovery from the root (0 = the root's node)
    kind: str                  # "op", "param", "leaf" or "cell"
    label: str                 # op label ("tanh", "LSTM cell") or a leaf's name
    shapes: tuple = ()         # output shapes (one per output)
    names: dict = field(default_factory=dict)  # {output index: tensor name}
    module: str | None = None  # dotted module path from the node's scope
    step: int | None = None    # unrolled time step from the node's scope
    is_root: bool = False
    n_ops: int = 1             # ops drawn as this box (collapsed cells hold several)
    op_counts: dict = field(default_factory=dict)  # collapsed cells: {op label: count}
    values: str | None = None  # summary of the data (leaves and the root), for show_values
    grad: str | None = None    # summary of .grad (leaves), for show_grads


@dataclass
class VizEdge:
    """A tensor going from ``src`` (output ``src_out``) into ``dst``: forward direction."""

    src: int
    src_out: int               # output index of src (-1 for a leaf)
    dst: int
    shape: tuple = ()
    norm: float | None = None  # flow mode: norm of the gradient that crossed this edge


@dataclass
class VizGraph:
    nodes: list                # VizNode, by index
    edges: list                # VizEdge, de-duplicated, in discovery order
    objects: list | None = None  # live nodes / leaf tensors by index (flow mode only)
    cut: list = field(default_factory=list)  # after truncate: ("in", dst) / ("out", src)


def _summary(array):
    """A short text for a tensor's values: the numbers when few, else mean and std."""
    from minigrad import backend
    np = backend.host_numpy()
    a = np.asarray(backend.to_host(array), dtype=np.float64)
    if a.size <= 4:
        return np.array2string(a.ravel(), precision=3, separator=", ")
    return f"μ={a.mean():.3g} σ={a.std():.3g}"


def walk(root, *, keep_objects=False, show_values=False, show_grads=False):
    """Records for every node and leaf reachable from ``root`` (a Tensor)."""
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: root must be a Tensor, got {type(root).__name__}")
    nodes, edges, objects = [], [], []
    number = {}          # id(node or leaf) -> index; live only during the walk
    seen_edges = set()

    def add_leaf(tensor):
        index = len(nodes)
        number[id(tensor)] = index
        objects.append(tensor)
        is_param = tensor.is_parameter
        nodes.append(VizNode(
            index=index, kind="param" if is_param else "leaf",
            label=tensor.name or ("parameter" if is_param else "tensor"),
            shapes=(tuple(tensor.shape),),
            values=_summary(tensor.array) if show_values else None,
            grad=(_summary(tensor.grad.array) if tensor.grad is not None else "None")
            if show_grads else None))
        return index

    def add_op(fn):
        index = len(nodes)
        number[id(fn)] = index
        objects.append(fn)
        nodes.append(VizNode(
            index=index, kind="op", label=fn.display_label,
            shapes=tuple(tuple(s) for s in fn.output_shapes),
            names=dict(sorted(fn.output_names.items())),
            module=fn.module_path, step=fn.time_step))
        return index

    if root.grad_fn is None:
        add_leaf(root)
        nodes[0].is_root = True
        if show_values:
            nodes[0].values = _summary(root.array)
    else:
        queue = deque([root.grad_fn])
        add_op(root.grad_fn)
        nodes[0].is_root = True
        if show_values:
            nodes[0].values = _summary(root.array)
        if root.name and root.output_index not in nodes[0].names:
            nodes[0].names[root.output_index] = root.name
        while queue:
            fn = queue.popleft()
            dst = number[id(fn)]
            for parent in fn.inputs:
                if parent is None:
                    continue
                source, out = parent
                src = number.get(id(source))
                if src is None:
                    if out < 0:
                        src = add_leaf(source)
                    else:
                        src = add_op(source)
                        queue.append(source)
                if (src, out, dst) in seen_edges:
                    continue
                seen_edges.add((src, out, dst))
                shape = nodes[src].shapes[0] if out < 0 else nodes[src].shapes[out]
                edges.append(VizEdge(src=src, src_out=out, dst=dst, shape=shape))
    return VizGraph(nodes=nodes, edges=edges, objects=objects if keep_objects else None)
