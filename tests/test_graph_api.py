"""The public, read-only graph API: what a user's own picture or tool reads from the graph.

A node (``tensor.grad_fn``) tells its ``inputs``, ``display_label``, ``output_shapes``,
``output_names``, ``module_path`` and ``time_step``; a tensor its ``output_index`` and
``is_parameter``. ``minigrad.autograd.run_backward(..., split_shared=True)`` hands every
recurrent step's share of W_hh's gradient along its own edge, and ``minigrad.grad`` never
writes a ``.grad``.
"""
import numpy as np

import minigrad
import nn
from minigrad.autograd import run_backward


def test_a_node_tells_its_inputs_label_shapes_and_names():
    w = nn.Parameter(minigrad.randn(3, 2))
    x = minigrad.randn(4, 3)
    y = x @ w
    y.name = "y"
    node = y.grad_fn
    assert node.display_label == "matmul"
    assert node.output_shapes == ((4, 2),) and node.num_outputs == 1
    assert node.output_names == {0: "y"}
    assert node.inputs[0] is None                   # x needs no gradient
    assert node.inputs[1][0] is w and node.inputs[1][1] == -1
    assert w.is_parameter and not x.is_parameter and not y.is_parameter
    assert y.output_index == 0


def test_multi_output_nodes_number_their_outputs():
    x = minigrad.randn(6, requires_grad=True)
    a, b, c = x.split(2)
    assert (a.output_index, b.output_index, c.output_index) == (0, 1, 2)
    assert a.grad_fn is c.grad_fn and a.grad_fn.num_outputs == 3


def test_nodes_carry_the_module_path_and_time_step_they_were_made_in():
    lstm = nn.LSTM(2, 3, num_layers=2)            # called at top level: path "lstm"
    out, _ = lstm(minigrad.randn(4, 1, 2))
    steps = set()
    stack, seen = [out.grad_fn], set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if fn.time_step is not None:
            steps.add((fn.module_path, fn.time_step))
        stack += [src for src, idx in filter(None, fn.inputs) if idx >= 0]
    assert steps == {(f"lstm.l{layer}", t) for layer in (0, 1) for t in range(4)}


def test_split_shared_hands_each_step_its_own_share_with_the_same_total():
    minigrad.manual_seed(0)
    lstm = nn.LSTM(2, 3).double()
    out, _ = lstm(minigrad.randn(5, 2, 2, dtype=minigrad.float64))
    loss = (out ** 2).sum()
    w = lstm.weight_hh_l0
    edges = {"summed": 0, "split": 0}

    for mode, split in (("summed", False), ("split", True)):
        def hook(parent, node, gx, mode=mode):
            if parent[0] is w:
                edges[mode] += 1
        total, = run_backward([loss], [None], retain_graph=True, inputs=[w], edge_hook=hook,
                              split_shared=split)
        edges[mode + "_total"] = total.numpy()
    assert edges["summed"] == 1 and edges["split"] == 5
    np.testing.assert_allclose(edges["split_total"], edges["summed_total"], rtol=1e-12)


def test_grad_writes_no_grad_not_even_on_retained_tensors():
    x = minigrad.randn(3, requires_grad=True)
    h = (x * 2).tanh()
    h.retain_grad()
    loss = h.sum()
    assert h.grad_fn.retains_grad == (0,)
    g, = minigrad.grad(loss, [x], retain_graph=True)
    assert g is not None and x.grad is None and h.grad is None
    loss.backward()
    assert x.grad is not None and h.grad is not None
