"""The backward engine: reverse-mode differentiation over the recorded graph.

    loss.backward()  ==  for each node, from the loss back to the leaves:
                             gx_i = node.backward(gy)   (the chain rule, one op at a time)
                             add gx_i to what input i has received so far

A node runs only after every node that consumes its outputs has handed it a gradient,
so it sees the full sum. The graph is walked with an explicit stack (no recursion), so
an unrolled sequence of any length backpropagates.

The loop in ``_walk`` is the whole algorithm; the helpers around it are its edges:
where a gradient is handed on and summed (``_hand_on``, ``_Sums``), the check of what a
node's backward hands back (``_checked_gradient``), the delivery to ``inputs=``
(``_Delivery``) and to tensors that called ``retain_grad()`` (``_set_retained``), and the
write into a leaf's ``.grad`` (``write_leaf_grad``), the one place a backward touches ``.grad``.

Two entries: ``run_backward`` takes every option (``_run_general``); ``Tensor.backward``
without ``create_graph``, the call of every training step, goes to ``backward_one``, which
sets up only what one root with no options needs, and runs a graph that is a single node on
leaves (``(x * w).backward(g)``) without the walk's bookkeeping at all. Each path is the
same arithmetic in the same order, so the gradients are the same bit for bit
(``tests/test_backward_one_node.py``).

One shortcut: the step nodes of a recurrent layer (``graph="steps"``) belong to an
``UnrolledSegment`` (``ops/rnn_unrolled.py``). When the walk reaches the segment and no
option asks to see single edges (``edge_hook``, ``create_graph``, ``split_shared``,
``inputs=`` of non-leaf tensors), the segment runs all its steps' backward as one loop and
hands on what the chain as a whole owes its inputs: the same numbers the steps would hand
on one by one.
"""
from __future__ import annotations

from . import backend
from .function import Function
from .grad_mode import STATE
from .tensor import Tensor, plain



def run_backward(roots, root_grads, retain_graph=False, create_graph=False,
                 inputs=None, edge_hook=None, split_shared=False):
    """Propagate ``root_grads`` from ``roots`` back through the graph.

    Without ``inputs``: accumulate into every reachable leaf's ``.grad`` (``Tensor.backward``)
    and into the ``.grad`` of tensors that called ``retain_grad()``.
    With ``inputs`` (tensors): return their gradients and touch no ``.grad`` at all
    (``minigrad.grad``, as ``torch.autograd.grad``).
    ``edge_hook(parent, node, gx)`` is called for every gradient handed along an edge
    (used by ``minigrad.viz`` to measure gradient flow).
    ``split_shared=True``: a recurrent layer recorded one node per step normally sums its
    W_hh gradient over the whole sequence in one matmul, handed over by the first step;
    with this option every step hands over its own share along its own edge (the same
    total, a little slower) — what a picture of the gradient on each edge needs.
    """
    if (inputs is None and edge_hook is None and not create_graph and not split_shared
            and len(roots) == 1 == len(root_grads)):
        return backward_one(roots[0], root_grads[0], retain_graph)   # the usual call
    return _run_general(roots, root_grads, retain_graph, create_graph, inputs, edge_hook,
                        split_shared)


def _run_general(roots, root_grads, retain_graph, create_graph, inputs, edge_hook,
                 split_shared):
    """``run_backward`` with every option: the set-up, the walk, the write-back."""
    root_grads = _checked_roots(roots, root_grads)
    delivery = None if inputs is None else _Delivery(inputs)
    # a gradient a built-in op made afresh may become a .grad as it is, unless someone
    # else may hold it too (edge_hook sees it, grad(inputs=) hands it back)
    sums = _Sums(create_graph, edge_hook is None and delivery is None)
    ready, dependencies = sums.seed(roots, root_grads)
    state = STATE
    previous_mode, previous_split = state.grad_enabled, state.split_shared
    state.grad_enabled = create_graph
    if split_shared is not previous_split:
        state.split_shared = split_shared
    whole_segments = (edge_hook is None and not create_graph and not split_shared
                      and (delivery is None or not delivery.outputs))
    try:
        _walk(ready, sums, dependencies, retain_graph, whole_segments, delivery, edge_hook)
    finally:
        state.grad_enabled = previous_mode
        if split_shared is not previous_split:
            state.split_shared = previous_split
    if delivery is not None:
        return delivery.results(sums.leaves, create_graph)
    if _write_leaf_grads(sums, create_graph):
        _after_grads_written(sums.leaves)
    return None


def backward_one(root, grad, retain_graph=False):
    """``root.backward(grad)``: ``run_backward((root,), (grad,), retain_graph)`` with no other
    option, the call every training step makes, with only the set-up that case needs.

    One root, so its node is ready at once; no ``inputs``, ``edge_hook`` or ``create_graph``,
    so every gradient a built-in op made afresh may become a ``.grad`` as it is, and a
    recurrent layer's steps may run as one. A graph of one node on leaves (``x * w``) runs in
    ``_backward_on_leaves``; any other in ``_backward_graph``, the general path's walk and
    write-back. The same gradients either way, bit for bit.
    """
    node = root.grad_fn
    if node is None:  # a leaf root: its own gradient, through the general path
        return _run_general((root,), (grad,), retain_graph, False, None, None, False)
    if grad.__class__ is not Tensor or grad.array.shape != root.array.shape or not root.requires_grad:
        grad = _checked_root(root, grad)
    if node.n_outputs == 1:
        gys = [grad]
    else:
        gys = [None] * node.n_outputs
        gys[root._out_idx] = grad
    if not _backward_on_leaves(node, gys, retain_graph):
        _backward_graph(root, grad, gys, retain_graph)


def _backward_graph(root, grad, gys, retain_graph):
    """``backward_one`` for a graph of more than one node: seed, walk, write back."""
    modes = STATE.__dict__   # this thread's modes as a dict: one thread-local lookup
    if modes["split_shared"]:  # inside a split_shared backward: the general path resets it
        _run_general((root,), (grad,), retain_graph, False, None, None, False)
        return
    node = root.grad_fn
    sums = _Sums(False, True)
    sums.buffers[node] = gys
    dependencies = {}
    for parent in node.parents:
        if parent is not None and parent[1] >= 0:  # a node before it: count the edges
            dependencies = _discover((node,))
            break
    previous_mode = modes["grad_enabled"]
    modes["grad_enabled"] = False
    try:
        _walk([node], sums, dependencies, retain_graph, True, None, None)
    finally:
        modes["grad_enabled"] = previous_mode
    if _write_leaf_grads(sums, False):
        _after_grads_written(sums.leaves)


def _backward_on_leaves(node, gys, retain_graph):
    """The backward of a graph that is one node whose one or two inputs are different leaves
    (or need no gradient), and no tensor of it retains its grad: what ``_walk``, ``_hand_on``
    and ``_write_leaf_grads`` do for it, without their bookkeeping (each leaf gets one
    gradient; every gradient is checked before any ``.grad`` is written). Returns False, having
    done nothing, for any other graph. (``split_shared`` concerns only recurrent steps, which
    have more inputs, so it is not looked at here.)"""
    parents = node.parents
    if node._segment is not None or node._retained or not 0 < len(parents) <= 2:
        return False
    p0 = parents[0]
    p1 = parents[1] if len(parents) == 2 else None
    if p0 is not None and p0[1] >= 0 or p1 is not None and (
            p1[1] >= 0 or p0 is not None and p0[0] is p1[0]):   # a node before it, or x * x
        return False
    modes = STATE.__dict__   # this thread's modes as a dict: one thread-local lookup
    previous_mode = modes["grad_enabled"]
    modes["grad_enabled"] = False
    try:
        gxs = node.backward(gys[0]) if len(gys) == 1 else node.backward(*gys)
        if gxs.__class__ is not tuple:
            gxs = (gxs,)
        if len(gxs) != len(parents):
            _raise_gradient_count(node, gxs)
        if not retain_graph:
            node.release()
        # each gradient checked as _hand_on checks a leaf's: a Tensor of the leaf's shape
        g0 = None if p0 is None else gxs[0]
        if g0 is not None and (g0.__class__ is not Tensor or g0.array.shape != p0[0].array.shape):
            g0 = _checked_gradient(node, g0, p0[0].array.shape)
        g1 = None if p1 is None else gxs[1]
        if g1 is not None and (g1.__class__ is not Tensor or g1.array.shape != p1[0].array.shape):
            g1 = _checked_gradient(node, g1, p1[0].array.shape)
    finally:
        modes["grad_enabled"] = previous_mode
    new, hooked = node.new_grads, None
    if g0 is not None:
        hooked = _write_one_leaf(p0[0], g0, new)
    if g1 is not None:
        hooked = _write_one_leaf(p1[0], g1, new) or hooked
    if hooked:
        reached = [(p[0], g) for p, g in ((p0, g0), (p1, g1)) if g is not None]
        _after_grads_written({id(leaf): (leaf, g, new) for leaf, g in reached})
    return True


def _write_one_leaf(leaf, g, new):
    """``write_leaf_grad(leaf, g, new, False)``; returns the leaf's post-accumulate-grad hooks
    (None or empty when it has none)."""
    write_leaf_grad(leaf, g, new, False)
    try:   # the slot a leaf made to require grad has (one lookup, no getattr default)
        return leaf._post_accumulate_grad_hooks
    except AttributeError:   # requires_grad set as an attribute: no hook slot, no hooks
        return None


def _walk(ready, sums, dependencies, retain_graph, whole_segments, delivery, edge_hook):
    """The loop: run each ready node's backward and hand its input gradients on, until no
    node is ready (``run_backward`` explains the options)."""
    buffers, owned = sums.buffers, sums.owned
    while ready:
        node = ready.pop()
        if whole_segments and node._segment is not None:   # a recurrent layer's steps
            whole = node._segment.backward_whole(node, sums, dependencies, retain_graph)
            if whole is not None:
                _hand_on(whole[0], whole[1], sums, dependencies, ready, None)
                continue
        gys = buffers.pop(node, None)   # sums.take(node), inlined
        if gys is None:  # no gradient reached this node: its inputs get none either
            gxs = (None,) * len(node.parents)
        else:
            if owned:
                for g in gys:
                    owned.discard(id(g))
            if delivery is not None:
                delivery.outputs_of(node, gys)
            elif node._retained:
                _set_retained(node, gys)
            # _call_backward, inlined (one output: no argument unpacking)
            gxs = node.backward(gys[0]) if len(gys) == 1 else node.backward(*gys)
            if gxs.__class__ is not tuple:
                gxs = (gxs,)
            if len(gxs) != len(node.parents):
                _raise_gradient_count(node, gxs)
        if not retain_graph:
            node.release()
        _hand_on(node, gxs, sums, dependencies, ready, edge_hook)


def _call_backward(node, gys):
    """The node's input gradients as a tuple, one per input (what the loop above does)."""
    gxs = node.backward(*gys)
    if gxs.__class__ is not tuple:
        gxs = (gxs,)
    if len(gxs) != len(node.parents):
        _raise_gradient_count(node, gxs)
    return gxs


def _raise_gradient_count(node, gxs):
    raise RuntimeError(f"{node.name()}.backward returned {len(gxs)} gradients, but "
                       f"the op has {len(node.parents)} inputs")


def _hand_on(node, gxs, sums, dependencies, ready, edge_hook):
    """Add each input gradient to what its source has received; a source node whose last
    consumer has now run is ready."""
    buffers = sums.buffers
    new = node.new_grads and sums.trust_new
    i = 0
    for parent in node.parents:   # zip(node.parents, gxs), written out: it runs once per edge
        gx = gxs[i]
        i += 1
        if parent is None:
            continue
        source, index = parent
        if index < 0:  # a leaf tensor
            if gx is not None:
                if gx.__class__ is not Tensor or gx.array.shape != source.array.shape:
                    gx = _checked_gradient(node, gx, source.array.shape)
                if edge_hook is not None:
                    edge_hook(parent, node, gx)
                leaves, key = sums.leaves, id(source)
                entry = leaves.get(key)
                if entry is None:
                    leaves[key] = [source, gx, new]
                else:
                    sums.add(entry, 1, gx)
            continue
        if gx is not None:
            expected = source.out_shapes[index]
            if gx.__class__ is not Tensor or gx.array.shape != expected:
                gx = _checked_gradient(node, gx, expected)
            if edge_hook is not None:
                edge_hook(parent, node, gx)
            slots = buffers.get(source)
            if slots is None:
                n = source.n_outputs
                slots = buffers[source] = [None] if n == 1 else [None] * n
            if slots[index] is None:
                slots[index] = gx
            else:
                sums.add(slots, index, gx)
        remaining = dependencies[source] - 1
        dependencies[source] = remaining
        if remaining == 0:
            ready.append(source)


def _checked_gradient(node, gx, expected):
    """A gradient a backward returned, as a Tensor of its input's shape (or a clear error)."""
    if not isinstance(gx, Tensor):
        gx = plain(backend.as_array(gx))
    if gx.array.shape != expected:
        raise RuntimeError(f"{node.name()}.backward returned a gradient of shape "
                           f"{tuple(gx.shape)} for an input of shape {tuple(expected)}")
    return gx


class _Sums:
    """The gradients received so far: per node one slot per output, per leaf one slot.

    A slot holds the first gradient as it came (often an array shared with another slot:
    ``x + y`` hands the same gy to both); the second one makes a new array the engine
    owns (``owned``), and later ones are added into it in place.
    A leaf's entry is ``[leaf, gradient, new]``: ``new`` when the gradient is the first one,
    as made afresh by a built-in op's backward (``Function.new_grads``) that nobody else
    holds, so it may become the leaf's ``.grad`` without a copy.
    """

    __slots__ = ("create_graph", "trust_new", "buffers", "leaves", "owned")

    def __init__(self, create_graph, trust_new=False):
        self.create_graph = create_graph
        self.trust_new = trust_new and not create_graph
        self.buffers = {}   # node -> [gradient or None per output]; made when one arrives
        self.leaves = {}    # id(leaf) -> [leaf, gradient, new]
        self.owned = set()  # ids of the sums made here (their arrays may be written in place)

    def seed(self, roots, root_grads):
        """Put the root gradients in place; returns (ready nodes, dependency counts)."""
        if len(roots) == 1 == len(root_grads):  # one root (Tensor.backward): ready at once
            root, g = roots[0], root_grads[0]
            node = root.grad_fn
            if node is None:
                self.add_to_leaf(root, g)
                return [], {}
            slots = self.buffers[node] = [None] * node.n_outputs
            slots[root._out_idx] = g
            for parent in node.parents:
                if parent is not None and parent[1] >= 0:  # a node before it: walk the graph
                    return [node], _discover((node,))
            return [node], {}  # one node, on leaves only (x * w): nothing to walk
        start_nodes = []
        for root, g in zip(roots, root_grads):
            node = root.grad_fn
            if node is None:
                self.add_to_leaf(root, g)
                continue
            slots = self.buffers.get(node)
            if slots is None:
                slots = self.buffers[node] = [None] * node.n_outputs
                start_nodes.append(node)
            if slots[root._out_idx] is None:
                slots[root._out_idx] = g
            else:
                self.add(slots, root._out_idx, g)
        dependencies = _discover(start_nodes)
        return [n for n in start_nodes if n not in dependencies], dependencies

    def add(self, slots, index, g):
        """slots[index] += g (the slot already holds a gradient)."""
        total = slots[index]
        if self.create_graph:
            slots[index] = total + g
        elif id(total) in self.owned:
            total.array += g.array
        else:
            a = total.array
            summed = a + g.array
            if summed.__class__ is not a.__class__:  # a NumPy scalar (0-d): _sum's work, inlined
                summed = backend.wrap_scalar(summed, a)
            total = slots[index] = plain(summed)
            self.owned.add(id(total))

    def add_to_leaf(self, leaf, g, new=False):
        entry = self.leaves.get(id(leaf))
        if entry is None:
            self.leaves[id(leaf)] = [leaf, g, new and self.trust_new]
        else:
            self.add(entry, 1, g)

    def take(self, node):
        """The gradients of the node's outputs (None where none arrived), or None if none
        did; they leave the engine's ownership (backward may hand them on as they are)."""
        slots = self.buffers.pop(node, None)
        if slots is not None and self.owned:
            for g in slots:
                self.owned.discard(id(g))
        return slots

    def owns(self, g):
        return id(g) in self.owned


def _discover(root_nodes):
    """Count, for each node reachable from the roots, how many edges lead into it."""
    dependencies = {}
    stack = list(root_nodes)
    roots = set(stack) if len(stack) > 1 else ()  # a root reached from another is not pushed again
    while stack:
        for parent in stack.pop().parents:
            if parent is None or parent[1] < 0:  # no gradient needed, or a leaf tensor
                continue
            source = parent[0]
            count = dependencies.get(source)
            if count is None:  # first edge into source: walk on from it (once)
                dependencies[source] = 1
                if source not in roots:
                    segment = source._segment   # a layer's output: count its steps at once
                    if segment is None or not segment.count_edges(source, dependencies, stack, roots):
                        stack.append(source)
            else:
                dependencies[source] = count + 1
    return dependencies


def _sum(a, b):
    """a + b as an array (NumPy gives a scalar when both are 0-d)."""
    return backend.wrap_scalar(a + b, a)


def _checked_roots(roots, root_grads):
    """The gradient to start from at each root: the one given, or 1 for a scalar output."""
    if len(roots) == 1 == len(root_grads):  # Tensor.backward: one root, often a gradient given
        root, grad = roots[0], root_grads[0]
        if grad.__class__ is Tensor and root.requires_grad and grad.array.shape == root.array.shape:
            return (grad,)
    checked = []
    for root, grad in zip(roots, root_grads):
        if grad.__class__ is Tensor and root.requires_grad and grad.array.shape == root.array.shape:
            checked.append(grad)  # the usual case: a Tensor of the root's shape
        else:
            checked.append(_checked_root(root, grad))
    return checked


def _checked_root(root, grad):
    if not root.requires_grad:
        raise RuntimeError("backward(): the tensor does not require grad and has no grad_fn "
                           "(was it computed under no_grad, or from tensors without "
                           "requires_grad=True?)")
    if grad is None:
        if root.array.size != 1:
            raise RuntimeError(f"backward(): grad can be created implicitly only for a scalar "
                               f"output, but the output has shape {tuple(root.shape)}; pass "
                               f"gradient= (a tensor of that shape)")
        xp = backend.get_array_module(root.array)
        grad = plain(xp.ones(root.shape, dtype=root.dtype))
    elif not isinstance(grad, Tensor):
        grad = Tensor(grad, dtype=root.dtype)
    if grad.array.shape != root.array.shape:
        raise ValueError(f"backward(): gradient has shape {tuple(grad.shape)} but the output "
                         f"has shape {tuple(root.shape)}")
    return grad


def _as_dtype_of(leaf, g):
    """The gradient in the leaf's dtype (float32 x float64 ops hand back float64 gradients)."""
    if g.array.dtype == leaf.array.dtype:
        return g
    if STATE.grad_enabled or g.requires_grad:
        return g.to(leaf.array.dtype)
    return plain(g.array.astype(leaf.array.dtype))


def _write_leaf_grads(sums, create_graph):
    """Every reached leaf's write-back; True when one of them has post-accumulate-grad hooks."""
    hooked = False
    owned = sums.owned
    for leaf, g, new in sums.leaves.values():
        write_leaf_grad(leaf, g, new or id(g) in owned, create_graph)
        if not hooked and getattr(leaf, "_post_accumulate_grad_hooks", None):
            hooked = True
    return hooked


def write_leaf_grad(leaf, g, owned, create_graph):
    """The leaf write-back: ``leaf.grad += g`` once per backward, after the whole graph ran.

    ``owned``: g's array was made by the engine or an op's backward for this leaf alone (else
    it may be shared, ``x + y`` hands gy to both, and gy is the caller's, so the first
    ``.grad`` is a private copy). A plain Tensor around an array nobody else holds becomes
    the ``.grad`` itself. A gradient of another dtype (float32 x float64 ops hand back
    float64) is converted to the leaf's, a copy made here.
    """
    array = g.array
    if array.dtype is not leaf.array.dtype and array.dtype != leaf.array.dtype:
        g = _as_dtype_of(leaf, g)
        array, owned = g.array, True
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    elif leaf.grad is not None:
        leaf.grad = plain(_sum(leaf.grad.array, array))
    elif owned and g.grad_fn is None and g._vc is None and not g.requires_grad:
        leaf.grad = g
    else:
        leaf.grad = plain(array if owned else array.copy())


# -- Hooks: code that acts once gradients are written (DistributedDataParallel) -------------
def _after_grads_written(leaf_sums):
    """Call every leaf's post-accumulate-grad hooks, in the order gradients reached the
    leaves (about the reverse of the forward order), then the callbacks they queued."""
    outer, STATE.backward_callbacks = STATE.backward_callbacks, []
    try:
        for leaf, _, _ in leaf_sums.values():
            hooks = getattr(leaf, "_post_accumulate_grad_hooks", None)
            if hooks:
                for hook in tuple(hooks.values()):
                    hook(leaf)
        callbacks = STATE.backward_callbacks
        while callbacks:
            callbacks.pop(0)()
    finally:
        STATE.backward_callbacks = outer


def queue_callback(callback):
    """Run ``callback()`` once, when the hooks of the backward now writing gradients are done
    (PyTorch's ``Variable._execution_engine.queue_callback``); only a post-accumulate-grad
    hook may call it."""
    if STATE.backward_callbacks is None:
        raise RuntimeError("queue_callback: can only be called from a post-accumulate-grad hook, "
                           "while a backward is writing gradients")
    STATE.backward_callbacks.append(callback)


class _Delivery:
    """Where ``grad(outputs, inputs)`` puts its results: leaves by identity, non-leaf
    tensors by (node, output index); no ``.grad`` is touched."""

    __slots__ = ("found", "leaves", "outputs")

    def __init__(self, inputs):
        self.found = [None] * len(inputs)
        self.leaves, self.outputs = {}, {}
        for i, t in enumerate(inputs):
            if not t.requires_grad:
                raise RuntimeError(f"grad(): input {i} (shape {tuple(t.shape)}) does not require grad")
            if t.grad_fn is None:
                self.leaves.setdefault(id(t), []).append(i)
            else:
                self.outputs.setdefault((id(t.grad_fn), t._out_idx), []).append(i)

    def outputs_of(self, node, gys):
        """A node is about to run: the gradients of its outputs are final."""
        if not self.outputs:
            return
        for index, g in enumerate(gys):
            for i in self.outputs.get((id(node), index), ()):
                self.found[i] = g

    def results(self, leaf_sums, create_graph):
        results = self.found
        for leaf_id, (leaf, total, _) in leaf_sums.items():
            for i in self.leaves.get(leaf_id, ()):
                g = total if create_graph else total.detach()
                results[i] = _as_dtype_of(leaf, g)
        return tuple(results)


def _set_retained(node, grads):
    """Tensors made by this node that called ``retain_grad()`` get their gradient."""
    for index, ref in node._retained.items():
        tensor = ref()
        g = grads[index]
        if tensor is not None and g is not None:
            g = g if STATE.grad_enabled else g.detach()
            tensor.grad = g if tensor.grad is None else tensor.grad + g


def backward(tensors, grad_tensors=None, retain_graph=False, create_graph=False):
    """``Tensor.backward`` for several outputs at once (their gradients add up)."""
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    run_backward(list(tensors), list(grad_tensors), retain_graph=retain_graph,
                 create_graph=create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, leaving every ``.grad`` untouched.

    As ``torch.autograd.grad``: returns a tuple with one Tensor per input; an input the
    outputs do not depend on raises, or gives None with ``allow_unused=True``.
    ``create_graph=True`` makes the results part of the graph, so they can be
    differentiated again.
    """
    if isinstance(outputs, Tensor):
        outputs = [outputs]
    single = isinstance(inputs, Tensor)
    if single:
        inputs = [inputs]
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(list(outputs), list(grad_outputs), retain_graph=retain_graph,
                           create_graph=create_graph, inputs=list(inputs))
    if not allow_unused and any(r is None for r in results):
        index = next(i for i, r in enumerate(results) if r is None)
        raise RuntimeError(f"grad(): input {index} (shape {tuple(inputs[index].shape)}) was not used "
                           "to compute the outputs; pass allow_unused=True to get None for it")
    return tuple(results)


__all__ = ["backward", "grad", "run_backward", "queue_callback", "Function"]
