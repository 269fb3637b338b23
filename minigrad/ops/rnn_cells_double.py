"""Double backward through a one-node recurrent cell step (``graph="steps"``).

A one-node step computes its backward on arrays (fast, but a dead end for
``create_graph=True``). When a graph of the backward is asked for, the step's backward is
recorded instead as a node of its own, ``CellStepGrad``:

    inputs:   the step's inputs  x, w_ih, b_ih, w_hh, b_hh, h [, c]   and the arriving  gh' [, gc']
    outputs:  the step's input gradients  gx, gw_ih, gb_ih, gw_hh, gb_hh, gh [, gc]

Both its forward and its backward recompute the step with gate-level Tensor ops (the same
algebra as ``graph="gates"``) on fresh leaves and differentiate that local graph: once for the
first derivatives, twice (with the incoming ``gg``) for the second. The local graph never
reaches beyond this one step, so the cost is that of one step's gates, and the results
equal those of ``graph="gates"`` to rounding.
"""
from __future__ import annotations

from .. import backend
from ..function import Function
from ..grad_mode import enable_grad
from ..tensor import Tensor, plain


# -- the three steps in gate-level ops (inputs in the one-node cell steps' order) ---------------------
def _project(a, w, b):
    a = a if w is None else a @ w.T
    return a if b is None else a + b


def rnn_gates(x, w_ih, b_ih, w_hh, b_hh, h, c=None, nonlinearity="tanh"):
    pre = _project(x, w_ih, b_ih) + _project(h, w_hh, b_hh)
    return (pre.tanh() if nonlinearity == "tanh" else pre.relu(),)


def lstm_gates(x, w_ih, b_ih, w_hh, b_hh, h, c, nonlinearity=None):
    i, f, g, o = (_project(x, w_ih, b_ih) + _project(h, w_hh, b_hh)).chunk(4, dim=1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_next.tanh(), c_next


def gru_gates(x, w_ih, b_ih, w_hh, b_hh, h, c=None, nonlinearity=None):
    x_r, x_z, x_n = _project(x, w_ih, b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = _project(h, w_hh, b_hh).chunk(3, dim=1)
    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return ((1 - z) * n + z * h,)


def _local_first_grads(cell_step, arrays, create_graph):
    """(leaves, first derivatives) of one step recomputed on fresh leaves of ``arrays``."""
    from ..autograd import grad
    leaves = [plain(a).requires_grad_(True) for a in arrays]
    with enable_grad():
        step_inputs, arriving = cell_step.unpack(leaves)
        outputs = cell_step.step(*step_inputs, nonlinearity=cell_step.nonlinearity)
        n_in = len(cell_step.slots)
        first = grad(list(outputs), leaves[:n_in], arriving, create_graph=create_graph,
                     allow_unused=True)
    return leaves, first


class CellStepGrad(Function):
    """The backward of one cell step as a node: differentiable once more.

    Inputs: the present (not None) step inputs, then one arriving gradient per step output.
    Outputs: the gradient of each present step input (zeros where it has none).
    """

    label = "cell step backward"

    def __init__(self, step, nonlinearity, slots):
        self.step, self.nonlinearity = step, nonlinearity
        self.slots = slots          # which of x, w_ih, b_ih, w_hh, b_hh, h, c are present

    def unpack(self, tensors):
        """The step's seven arguments (None where absent) and the arriving gradients."""
        args = [None] * 7
        for slot, t in zip(self.slots, tensors):
            args[slot] = t
        return args, list(tensors[len(self.slots):])

    def forward(self, *arrays):
        self.arrays = arrays
        _, first = _local_first_grads(self, arrays, create_graph=False)
        return tuple(a * 0 if g is None else g.array for g, a in zip(first, arrays))

    def backward(self, *ggs):
        from ..autograd import grad
        leaves, first = _local_first_grads(self, self.arrays, create_graph=True)
        pairs = [(g, gg) for g, gg in zip(first, ggs)
                 if g is not None and gg is not None and g.requires_grad]
        if not pairs:
            return (None,) * len(leaves)
        with enable_grad():
            seconds = grad([g for g, _ in pairs], leaves, [gg for _, gg in pairs],
                           allow_unused=True)
        return tuple(seconds)

    def release(self):
        super().release()
        self.arrays = None


def _graph_input(parent, array):
    """A Tensor for a node's input that stays connected to the graph."""
    if parent is None:
        return plain(array)
    source, index = parent
    return source if index < 0 else Tensor._make(array, source, index, True)


def recorded_step_backward(cell, step, grads):
    """The input gradients of a one-node ``cell`` step, recorded for double backward
    (``cell.step_inputs``: the seven input arrays, None where absent)."""
    slots = tuple(i for i, a in enumerate(cell.step_inputs) if a is not None)
    inputs = [_graph_input(cell.parents[i], cell.step_inputs[i]) for i in slots]
    arriving = []
    for g, shape in zip(grads, cell.out_shapes):
        if g is None:   # an output nothing used: a zero gradient of its shape
            g = plain(_zeros(shape, inputs[0].array))
        arriving.append(g)
    outputs = CellStepGrad(step, getattr(cell, "nonlinearity", None), slots)(*inputs, *arriving)
    result = [None] * len(cell.step_inputs)
    for slot, g in zip(slots, outputs):
        result[slot] = g if cell.parents[slot] is not None else None
    return tuple(result[:len(cell.parents)])


def _zeros(shape, like):
    return backend.get_array_module(like).zeros(shape, dtype=like.dtype)
