"""A recurrent layer recorded one node per time step (``graph="steps"``), run as one.

The graph of ``nn.LSTM(graph="steps")`` is the lecture's unrolled picture: an ``unbind``
node cuts the input projection xw (T, B, G) into steps and one cell-step node per t turns
(xw_t, h_{t-1} [, c_{t-1}]) into h_t [, c_t], tagged with its time step::

    xw ──unbind──► xw_0 ──► [cell t=0] ──h_0──► [cell t=1] ──h_1──► … ──► [cell t=T−1]

Those are the nodes pictures draw, ``retain_grad`` and ``grad(loss, layer.hidden_states)``
reach, and a per-edge gradient picture (``edge_hook``) watches. Making them one at a time
with ``Function.__call__`` and walking them one at a time in backward is what a Python
framework pays per step (about 20 µs here before this file: nothing beside a large
matmul, half the step at min-char-rnn's size, B=1, H=100). So here:

- **forward** runs the whole time loop at once on arrays (``RecurrentSequence.forward_loop``,
  the very loop of ``graph="layer"``) and then records the nodes the unrolled loop would
  have recorded, each with its parents, its cache and its output tensors, directly;
- **backward**: the engine meets the last step first. When every gradient from outside the
  layer has reached its step and nobody watches the single edges (no ``edge_hook``, no
  ``retain_grad`` on a step, no ``create_graph``, no ``split_shared``, no ``grad(inputs=)``
  of a step's output), ``UnrolledSegment.backward_whole`` runs the whole chain as one loop
  (``RecurrentSequence.backward_loop``). Otherwise every step runs its own backward.

Both ways each step runs the same ``cell_backward`` on the same arrays, and W_hh's
gradient is the same one matmul over the sequence (``rnn_weight_grads.py``), so the
gradients are bit-for-bit the same either way (``tests/test_rnn_unrolled.py``).
"""
from __future__ import annotations

import weakref

from ..function import _OTHER
from ..grad_mode import STATE
from ..tensor import Tensor, plain
from .join import Stack, Unbind
from .rnn_cells import GRUCellFunction, LSTMCellFunction, RNNCellFunction, _weight_entry
from .rnn_sequence import RecurrentSequence
from .rnn_weight_grads import SequenceWeightGrad, summed_weight_grads

_CELL_CLASSES = {"LSTM": LSTMCellFunction, "GRU": GRUCellFunction,
                 "RNN_TANH": RNNCellFunction, "RNN_RELU": RNNCellFunction}


def _parent(x):
    """The ``parents`` entry Function.__call__ makes for input ``x`` when recording."""
    if not isinstance(x, Tensor) or not x.requires_grad:
        return None
    return (x, -1) if x.grad_fn is None else (x.grad_fn, x._out_idx)


def record_steps(mode, xw, w_hh, b_hh, h, c=None, reverse=False):
    """One layer in one direction over all T steps, recorded one node per step.

    ``xw`` (T, B, G): the input projection of every step (``x W_ihᵀ + b``); ``w_hh``,
    ``b_hh`` (GRU only; else None), ``h`` (and ``c`` for the LSTM) the initial state (B, H).
    Returns ``(output, hs, cs)``: the layer's output ``stack(hs, 0)`` (T, B, H) and the lists
    of the T h_t (and c_t) tensors in time order (cs None but for the LSTM). The nodes are
    tagged with the scope active here and their time step.
    """
    sequence = RecurrentSequence(mode, reverse=reverse)
    arrays = [None if a is None else a.array for a in (xw, w_hh, b_hh, h, c)]
    sequence.check_dtypes(arrays[0], arrays[1], arrays[3])
    hs, cs = sequence.forward_loop(*arrays)
    parents = [_parent(a) for a in (xw, w_hh, b_hh, h, c)]
    T = hs.shape[0]
    if not STATE.grad_enabled or not any(p is not None for p in parents):
        return (plain(hs.copy()),
                [plain(hs[t]) for t in range(T)],
                None if cs is None else [plain(cs[t]) for t in range(T)])
    segment = UnrolledSegment(sequence, hs, parents)
    hs_out, cs_out = segment.record(xw, w_hh, arrays, cs)
    return segment.record_output(hs_out), hs_out, cs_out


class UnrolledSegment:
    """The step nodes of one layer run (one direction), and how to run their backward as one.

    ``steps``: weak references to the cell-step nodes in the order forward ran them (the
    nodes hold the segment, not the other way round, so a graph nobody runs backward through
    is freed at once, with its caches); ``unbind``: the node that cut xw into steps (None
    when xw needs no gradient); ``last``: the step backward meets first (weakly, too);
    ``output``: the node stacking the h_t into the layer's output (weakly).
    """

    __slots__ = ("sequence", "hs", "parents", "steps", "unbind", "last", "output", "n_state",
                 "released")

    def __init__(self, sequence, hs, parents):
        self.sequence, self.hs, self.parents = sequence, hs, parents
        self.n_state = 2 if sequence.mode == "LSTM" else 1
        self.steps, self.unbind, self.last, self.output = [], None, None, None
        self.released = 0

    # -- forward: the nodes an unrolled loop would have made -----------------------------
    def record(self, xw, w_hh, arrays, cs):
        sequence, hs = self.sequence, self.hs
        xw_a, w_hh_a, b_hh_a, h_a, c_a = arrays
        T, B, G = xw_a.shape
        module = STATE.scope[0] if STATE.scope is not None else None
        x_parents = [None] * T
        if self.parents[0] is not None:
            self.unbind = _unbind_node(self.parents[0], xw_a, STATE.scope)
            x_parents = [(self.unbind, t) for t in range(T)]
        cell_class, lstm = _CELL_CLASSES[sequence.mode], cs is not None
        order = sequence._steps(T)
        saved, entries = (None, w_hh_a), [(_OTHER, None), _weight_entry(w_hh)]
        extra = _cell_attributes(sequence)
        weight_grad, caches = SequenceWeightGrad(T, order[0]), sequence.caches
        w_parent, b_parent, h_parent, c_parent = self.parents[1:5]
        xs, h_views = list(xw_a), list(hs)
        c_views = list(cs) if lstm else None
        out_shapes = ((B, hs.shape[2]),) * (2 if lstm else 1)
        h_prev, c_prev = h_a, c_a
        hs_out, cs_out = [None] * T, ([None] * T if lstm else None)
        new, steps, ref = object.__new__, self.steps, weakref.ref
        for t in order:      # each node as its constructor and Function.__call__ leave it
            node = new(cell_class)
            node._saved, node._saved_entries, node._segment = saved, entries, self
            if extra:
                for name, value in extra:
                    setattr(node, name, value)
            node.parents = ((x_parents[t], None, None, w_parent, b_parent, h_parent, c_parent)
                            if lstm else (x_parents[t], None, None, w_parent, b_parent, h_parent))
            node.scope, node.cache, node.weight_grad = (module, t), caches[t], (weight_grad, t)
            node.out_shapes = out_shapes
            node.step_inputs = (xs[t], None, None, w_hh_a, b_hh_a, h_prev, c_prev)
            h_prev = h_views[t]
            hs_out[t] = h = new(Tensor)               # Tensor._make(h_prev, node, 0, True), inlined
            h.array, h.requires_grad, h.grad_fn, h._out_idx = h_prev, True, node, 0
            h.grad = h._vc = h._name = None
            if lstm:
                c_prev = c_views[t]
                cs_out[t] = c = new(Tensor)
                c.array, c.requires_grad, c.grad_fn, c._out_idx = c_prev, True, node, 1
                c.grad = c._vc = c._name = None
                c_parent = (node, 1)
            h_parent = (node, 0)
            steps.append(ref(node))
        self.last = self.steps[-1]
        sequence.caches = None                       # the nodes hold them
        return hs_out, cs_out

    def record_output(self, hs_out):
        """The layer's output, ``stack(hs, 0)``, recorded as that node (one copy of hs)."""
        node = Stack(0)
        node.parents = tuple((h.grad_fn, 0) for h in hs_out)
        node.scope, node.out_shapes, node._segment = STATE.scope, (self.hs.shape,), self
        self.output = weakref.ref(node)
        return Tensor._make(self.hs.copy(), node, 0, True)

    # -- backward: the engine's walk, and the whole chain in one loop ---------------------
    def count_edges(self, node, dependencies, stack, roots):
        """The engine's dependency count (``autograd._discover``) from the layer's output
        stack ``node`` on, for the whole segment at once: each step has one edge from the
        stack and ``n_state`` from its successor, the unbind node one from every step, and
        the edges out of the chain (W_hh, b_hh from every step, h_0 [, c_0] from the first)
        are counted as the walk would, their sources pushed to be walked on. Returns False
        (walk as usual) unless ``node`` is the output and no step was reached before."""
        if node is not _alive(self.output):
            return False
        steps = [ref() for ref in self.steps]
        unbind = self.unbind
        if unbind is not None and unbind in dependencies:
            return False
        for step in steps:
            if step in dependencies or step in roots:
                return False
        T, internal = len(steps), 1 + self.n_state
        for step in steps:
            dependencies[step] = internal
        dependencies[steps[-1]] = 1
        edges = [(p, T) for p in self.parents[1:3] if p is not None and p[1] >= 0]
        edges += [(p, 1) for p in steps[0].parents[5:] if p is not None and p[1] >= 0]
        if unbind is not None:
            edges.append(((unbind, 0), T))
        for (source, _), k in edges:
            count = dependencies.get(source)
            if count is None:
                dependencies[source] = k
                if source not in roots:
                    stack.append(source)
            else:
                dependencies[source] = count + k
        return True


    def backward_whole(self, node, sums, dependencies, retain_graph):
        """Run every step's backward at once. ``node``, the one the engine is about to run,
        is the output's stack (then the gradient of the whole output (T, B, H) is all that
        reaches the steps) or the last step (every outside gradient has reached its step).
        Returns ``(edges, gradients)`` for the engine to hand on, or None: then each node
        runs on its own."""
        through_output = node is _alive(self.output)
        if not through_output and node is not self.last():
            return None
        steps = [ref() for ref in self.steps]           # alive: each is its successor's parent
        if not self._ready(steps, dependencies, sums.buffers, through_output):
            return None
        sequence, hs = self.sequence, self.hs
        order = sequence._steps(len(steps))
        if through_output:        # _ready saw that no step holds a gradient of its own
            g_hs, g_cs = sums.take(node)[0].array, None
        else:
            g_hs, g_cs = self._arrived(steps, order, sums)
        if sequence.whole is None and sequence.kernel_cache is None:   # GPU, cell by cell
            sequence.caches = [None] * len(steps)
            for t, step in zip(order, steps):
                sequence.caches[t] = step.cache
        w_hh = steps[0].saved_arrays[1]                 # the version check of W_hh
        if not retain_graph:      # before the loop: the steps' inputs (all of xw) go now
            self._release(steps, node if through_output else None)
        loop = sequence.backward_loop(w_hh, hs, g_hs, g_cs)
        sequence.caches = None
        if not retain_graph:
            sequence.free_buffers()
            self.hs = None
        gradients = self._gradients(*loop)
        return _Edges(self), gradients

    def _arrived(self, steps, order, sums):
        """The gradients waiting at each h_t (and c_t), in time order (None where none is)."""
        T = len(steps)
        g_hs, g_cs = [None] * T, ([None] * T if self.n_state == 2 else None)
        for t, step in zip(order, steps):
            slots = sums.take(step)
            if slots is not None:
                g_hs[t] = None if slots[0] is None else slots[0].array
                if g_cs is not None and slots[1] is not None:
                    g_cs[t] = slots[1].array
        return g_hs, g_cs

    def _ready(self, steps, dependencies, arrived, through_output):
        """Can the steps run as one now? Every step waits only for its successor (n_state
        edges; the last for none) and, when ``through_output``, for the output's stack, which
        is then the only gradient they get (none is waiting in ``arrived``); the unbind node
        waits only for the steps and has received nothing from elsewhere; no step keeps a
        gradient (``retain_grad``) or was freed; some gradient reaches a step."""
        if through_output:
            output = self.output()
            slots = arrived.get(output)
            if output._retained or slots is None or slots[0] is None:
                return False
        extra = 1 if through_output else 0
        for i, step in enumerate(steps):
            if step._retained or step._released:
                return False
            internal = self.n_state if i < len(steps) - 1 else 0
            if dependencies.get(step, 0) != internal + extra or (through_output and step in arrived):
                return False
        unbind = self.unbind        # waits only for the steps, and nothing else handed it a gradient
        if unbind is not None and (dependencies.get(unbind) != len(steps) or unbind in arrived):
            return False
        return through_output or any(step in arrived for step in steps)

    def _gradients(self, dxw_all, dhw_all, previous, dh, dc):
        """The gradients for the segment's edges out: xw, W_hh, b_hh, h_0 [, c_0]."""
        p = self.parents
        g_w = g_b = None
        if p[1] is not None or p[2] is not None:
            g_w, g_b = summed_weight_grads(dhw_all, previous.reshape(-1, previous.shape[-1]))
        grads = [dxw_all, g_w, g_b, dh, dc][:3 + self.n_state]
        return tuple(None if parent is None or g is None else plain(g)
                     for parent, g in zip(p, grads))

    def _release(self, steps, output):
        """What each node's ``release()`` does, for all the steps at once (the sequence's
        own buffers, which backward_loop still reads, go after it)."""
        for step in steps:
            step._saved, step._saved_entries, step._released = (), None, True
            step.cache = step.step_inputs = None
        for node in (output, self.unbind):
            if node is not None:
                node.release()
        self.released = len(steps)

    def step_released(self):
        """A step freed its arrays; once all have, the sequence's buffers go too."""
        self.released += 1
        if self.released >= len(self.steps):
            self.sequence.free_buffers()
            self.hs = None


class _Edges:
    """The segment seen from outside, as the engine hands gradients on: one edge per input
    of the whole chain (xw, W_hh, b_hh, h_0 [, c_0]), in that order."""

    __slots__ = ("parents", "segment")
    new_grads = True      # every gradient it hands on was made by the loop, for one input

    def __init__(self, segment):
        self.segment = segment
        self.parents = tuple(segment.parents[:3 + segment.n_state])

    def name(self):
        return f"{self.segment.sequence.cell.name()} × {len(self.segment.steps)} steps"


def _alive(ref):
    return None if ref is None else ref()


def _unbind_node(parent, xw, scope):
    """The node ``unbind(xw, 0)`` would record (its output tensors are not needed: the steps
    point at the node)."""
    node = Unbind(0)
    node.in_shape, node.dtype = xw.shape, xw.dtype
    node.parents, node.scope = (parent,), scope
    node.n_outputs, node.out_shapes = xw.shape[0], (xw.shape[1:],) * xw.shape[0]
    return node


def _cell_attributes(sequence):
    """What the cell's constructor sets besides ``weight_grad``: a relu RNN's nonlinearity
    and label (a tanh cell, the LSTM's and the GRU's read their class's)."""
    cell = sequence.cell
    if isinstance(cell, RNNCellFunction) and cell.nonlinearity != RNNCellFunction.nonlinearity:
        return (("nonlinearity", cell.nonlinearity), ("label", cell.label))
    return ()
