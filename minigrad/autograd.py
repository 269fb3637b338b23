"""The backward engine: reverse-mode differentiation over the recorded graph.

    loss.backward()  ==  for each node, from the loss back to the leaves:
                             gx_i = node.backward(gy)   (the chain rule, one op at a time)
                             add gx_i to what input i has received so far

A node runs only after every node that consumes its outputs has handed it a gradient,
so it sees the full sum. The graph is walked with an explicit stack (no recursion), so
an unrolled sequence of any length backpropagates.
"""
from __future__ import annotations

from . import backend
from .function import Function
from .grad_mode import STATE
from .tensor import Tensor


def _discover(root_nodes):
    """Count, for each node reachable from the roots, how many edges lead into it."""
    dependencies = {}
    stack = list(root_nodes)
    seen = set(stack)
    while stack:
        node = stack.pop()
        for parent in node.parents:
            if parent is None or parent[1] < 0:  # no gradient needed, or a leaf tensor
                continue
            source = parent[0]
            dependencies[source] = dependencies.get(source, 0) + 1
            if source not in seen:
                seen.add(source)
                stack.append(source)
    return dependencies


class _GradSum:
    """Accumulates the gradients reaching one place; adds in place once it owns the array."""

    __slots__ = ("value", "owned")

    def __init__(self, value):
        self.value = value
        self.owned = False

    def add(self, g, create_graph):
        if create_graph:
            self.value = self.value + g
        elif self.owned:
            self.value.array += g.array
        else:
            self.value = Tensor._make(_sum(self.value.array, g.array), None, 0, False)
            self.owned = True


def _sum(a, b):
    """a + b as an array (NumPy gives a scalar when both are 0-d)."""
    return backend.wrap_scalar(a + b, a)


def _ones_like_root(root):
    if root.array.size != 1:
        raise RuntimeError(f"backward(): grad can be created implicitly only for a scalar output, "
                           f"but the output has shape {tuple(root.shape)}; pass gradient= "
                           f"(a tensor of that shape)")
    xp = backend.get_array_module(root.array)
    return Tensor._make(xp.ones(root.shape, dtype=root.dtype), None, 0, False)


def _check_root_grad(root, grad):
    if grad is None:
        return _ones_like_root(root)
    if not isinstance(grad, Tensor):
        grad = Tensor(grad, dtype=root.dtype)
    if grad.array.shape != root.array.shape:
        raise ValueError(f"backward(): gradient has shape {tuple(grad.shape)} but the output has "
                         f"shape {tuple(root.shape)}")
    return grad


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
    for root in roots:
        if not root.requires_grad:
            raise RuntimeError("backward(): the tensor does not require grad and has no grad_fn "
                               "(was it computed under no_grad, or from tensors without "
                               "requires_grad=True?)")
    root_grads = [_check_root_grad(r, g) for r, g in zip(roots, root_grads)]

    # Where results go: leaf tensors by identity, non-leaf tensors by (node, output index).
    wanted_leaves, wanted_outputs, results = {}, {}, None
    if inputs is not None:
        results = [None] * len(inputs)
        for i, t in enumerate(inputs):
            if not t.requires_grad:
                raise RuntimeError(f"grad(): input {i} (shape {tuple(t.shape)}) does not require grad")
            if t.grad_fn is None:
                wanted_leaves.setdefault(id(t), []).append(i)
            else:
                wanted_outputs.setdefault((id(t.grad_fn), t._out_idx), []).append(i)

    buffers = {}        # node -> [ _GradSum or None per output ]; made when a gradient arrives
    leaf_sums = {}      # id(leaf) -> (leaf, _GradSum)
    start_nodes = []
    for root, g in zip(roots, root_grads):
        if root.grad_fn is None:
            _accumulate_leaf(leaf_sums, root, g, create_graph)
            continue
        node = root.grad_fn
        slots = buffers.get(node)
        if slots is None:
            slots = buffers[node] = [None] * node.n_outputs
            start_nodes.append(node)
        _add_to_slot(slots, root._out_idx, g, create_graph)

    dependencies = _discover(start_nodes)
    ready = [n for n in start_nodes if n not in dependencies]

    previous_mode, previous_split = STATE.grad_enabled, STATE.split_shared
    STATE.grad_enabled, STATE.split_shared = create_graph, split_shared
    try:
        while ready:
            node = ready.pop()
            parents = node.parents
            slots = buffers.pop(node, None)
            if slots is None:  # no gradient reached this node: its inputs get none either
                gxs = (None,) * len(parents)
            else:
                grads = [None if s is None else s.value for s in slots]
                if wanted_outputs:
                    _deliver_to_wanted(node, grads, wanted_outputs, results)
                if node._retained and inputs is None:
                    _set_retained(node, grads)
                gxs = node.backward(*grads)
                if type(gxs) is not tuple:
                    gxs = (gxs,)
                if len(gxs) != len(parents):
                    raise RuntimeError(f"{node.name()}.backward returned {len(gxs)} gradients, but "
                                       f"the op has {len(parents)} inputs")
            if not retain_graph:
                node.release()
            for parent, gx in zip(parents, gxs):
                if parent is None:
                    continue
                source, index = parent
                if gx is not None:
                    if not isinstance(gx, Tensor):
                        gx = Tensor._make(backend.as_array(gx), None, 0, False)
                    expected = source.array.shape if index < 0 else source.out_shapes[index]
                    if gx.array.shape != expected:
                        raise RuntimeError(f"{node.name()}.backward returned a gradient of shape "
                                           f"{tuple(gx.shape)} for an input of shape {tuple(expected)}")
                    if edge_hook is not None:
                        edge_hook(parent, node, gx)
                    if index < 0:
                        _accumulate_leaf(leaf_sums, source, gx, create_graph)
                        continue
                    source_slots = buffers.get(source)
                    if source_slots is None:
                        source_slots = buffers[source] = [None] * source.n_outputs
                    _add_to_slot(source_slots, index, gx, create_graph)
                elif index < 0:
                    continue
                remaining = dependencies[source] - 1
                dependencies[source] = remaining
                if remaining == 0:
                    ready.append(source)
    finally:
        STATE.grad_enabled, STATE.split_shared = previous_mode, previous_split

    if inputs is not None:
        for leaf_id, (leaf, total) in leaf_sums.items():
            for i in wanted_leaves.get(leaf_id, ()):
                g = total.value if create_graph else total.value.detach()
                results[i] = _as_dtype_of(leaf, g)
        return tuple(results)
    for leaf, total in leaf_sums.values():
        g = _as_dtype_of(leaf, total.value)
        if create_graph:
            leaf.grad = g if leaf.grad is None else leaf.grad + g
        elif leaf.grad is not None:
            leaf.grad = Tensor._make(_sum(leaf.grad.array, g.array), None, 0, False)
        else:  # a gradient array may be shared (x + y hands gy to both): keep a private copy
            leaf.grad = Tensor._make(g.array if total.owned else g.array.copy(), None, 0, False)
    _after_grads_written(leaf_sums)
    return None


# -- Hooks: code that acts once gradients are written (DistributedDataParallel) -------------
def _after_grads_written(leaf_sums):
    """Call every leaf's post-accumulate-grad hooks, in the order gradients reached the
    leaves (about the reverse of the forward order), then the callbacks they queued."""
    outer, STATE.backward_callbacks = STATE.backward_callbacks, []
    try:
        for leaf, _ in leaf_sums.values():
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


def _add_to_slot(slots, index, g, create_graph):
    total = slots[index]
    if total is None:
        slots[index] = _GradSum(g)
    else:
        total.add(g, create_graph)


def _as_dtype_of(leaf, g):
    """The gradient in the leaf's dtype (float32 x float64 ops hand back float64 gradients)."""
    if g.array.dtype == leaf.array.dtype:
        return g
    if STATE.grad_enabled or g.requires_grad:
        return g.to(leaf.array.dtype)
    return Tensor._make(g.array.astype(leaf.array.dtype), None, 0, False)


def _accumulate_leaf(leaf_sums, leaf, g, create_graph):
    entry = leaf_sums.get(id(leaf))
    if entry is None:
        leaf_sums[id(leaf)] = (leaf, _GradSum(g))
    else:
        entry[1].add(g, create_graph)


def _deliver_to_wanted(node, grads, wanted_outputs, results):
    if not wanted_outputs:
        return
    for index, g in enumerate(grads):
        for i in wanted_outputs.get((id(node), index), ()):
            results[i] = g


def _set_retained(node, grads):
    retained = node._retained
    if not retained:
        return
    for index, ref in retained.items():
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
