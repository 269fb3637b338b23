"""Record one real backward pass, edge by edge, for the explorer's stepper.

The engine (``minigrad.autograd.run_backward``) calls ``edge_hook(parent, node, gx)`` each
time a node hands a gradient ``gx`` back along one of its input edges, in the order it
really runs. Writing those calls down gives the stepper its script::

    event k:  node --gx--> parent      (forward edge parent -> node, ||gx|| = norm)

and the running sum of the gradients reaching each tensor gives, after every event, how
much of its gradient has arrived: a shared weight (W_hh) receives one contribution per
time step, ∂L/∂W_hh = Σ_t ∂L_t/∂W_hh, and h_t's gradient is complete only once the steps
after t have handed theirs back (backpropagation through time).

Run with ``inputs=`` the leaves and ``retain_graph=True``: no ``.grad`` changes and the
graph can still be used. ``split_shared=True`` makes every recurrent step hand over its own
share of W_hh's gradient along its own edge.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from minigrad import backend
from minigrad.tensor import Tensor

from .backward_pass import observe_backward


@dataclass
class BackwardRecord:
    """What one backward pass did, keyed by the walk's node numbers."""

    events: list = field(default_factory=list)    # (src, src_out, dst, ||gx||) in engine order
    grads: dict = field(default_factory=dict)     # (index, out) -> summed gradient (host array)
    running: dict = field(default_factory=dict)   # (index, out) -> [(event k, ||sum so far||)]
    dtypes: dict = field(default_factory=dict)    # (index, out) -> dtype name of the gradient


def record_backward(root, objects):
    """Run backward from ``root`` (seed ones) and record every edge it crosses.

    ``objects`` are the live nodes and leaves by walk number
    (``graph_walk.walk(root, keep_objects=True).objects``).
    """
    np = backend.host_numpy()
    number = {id(obj): i for i, obj in enumerate(objects)}
    record = BackwardRecord()
    leaves = [obj for obj in objects if isinstance(obj, Tensor) and obj.requires_grad]
    record.grads[(0, root.output_index)] = np.ones(tuple(root.shape))
    record.dtypes[(0, root.output_index)] = str(root.dtype)
    if root.grad_fn is None or not leaves:
        return record

    def hook(parent, node, gx):
        target = (number[id(parent[0])], parent[1])
        g = np.asarray(backend.to_host(gx.array), dtype=np.float64)
        total = record.grads.get(target)
        total = g.copy() if total is None else total + g
        record.grads[target] = total
        record.dtypes[target] = str(gx.dtype)
        k = len(record.events)
        record.events.append((target[0], target[1], number[id(node)], _norm(np, g)))
        record.running.setdefault(target, []).append((k, _norm(np, total)))

    observe_backward(root, leaves, hook, "explore()")
    return record


def _norm(np, array):
    return float(np.sqrt(np.sum(np.square(array))))
