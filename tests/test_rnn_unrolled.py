"""graph="steps": one node per time step in the graph, the whole chain run as one loop in
backward when nothing watches a single step (minigrad/ops/rnn_unrolled.py).

The specification: the graph is the unrolled one (unbind → a cell node per step → stack);
backward through the whole chain at once gives the very bits each step gives when it runs
on its own (what an edge_hook, retain_grad or grad(hidden_states) makes happen); ordinary
training takes the one-loop path; the step caches are freed after backward, and a graph
nobody runs backward through is freed without waiting for the garbage collector."""
import gc
import weakref

import numpy as np
import pytest

import minigrad
import nn
from minigrad.autograd import run_backward
from minigrad.ops import rnn_unrolled

from conftest import randn64

KINDS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def layer(kind, **kwargs):
    minigrad.manual_seed(2)
    return KINDS[kind](3, 4, dtype=minigrad.float64, **kwargs)


def loss_of(kind, model, x, use=("output",)):
    """A loss on the parts of the result named in ``use``: the output, the final state(s),
    or one hidden state taken from ``model.hidden_states``."""
    out, state = model(x)
    states = state if kind == "lstm" else (state,)
    weights = minigrad.tensor(np.linspace(-1, 1, out.array.size).reshape(out.shape))
    loss = (out * weights).sum() if "output" in use else 0
    if "state" in use:
        loss = loss + sum((s ** 2).sum() for s in states)
    if "hidden" in use:
        loss = loss + (model.hidden_states[1] ** 3).sum()
    return loss


def gradients(kind, model, x, use=("output",), one_by_one=False):
    """d loss / d (x, every parameter); ``one_by_one``: every step runs its own backward
    (an edge_hook watches every edge, so the engine may not run the chain as one)."""
    for p in [x, *model.parameters()]:
        p.grad = None
    loss = loss_of(kind, model, x, use)
    hook = (lambda parent, node, g: None) if one_by_one else None
    run_backward([loss], [None], edge_hook=hook)
    return [p.grad.numpy().copy() for p in [x, *model.parameters()]]


@pytest.fixture
def whole_runs(monkeypatch):
    """Counts the backward passes that ran a segment as one loop."""
    count = [0]
    original = rnn_unrolled.UnrolledSegment.backward_whole

    def counting(self, *args):
        result = original(self, *args)
        count[0] += result is not None
        return result
    monkeypatch.setattr(rnn_unrolled.UnrolledSegment, "backward_whole", counting)
    return count


def test_the_graph_is_the_unrolled_loop():
    lstm = nn.LSTM(2, 3)
    out, _ = lstm(minigrad.randn(4, 1, 2))
    stack = out.grad_fn
    assert stack.display_label == "stack" and len(stack.inputs) == 4
    steps = [source for source, _ in stack.inputs]
    assert [s.time_step for s in steps] == [0, 1, 2, 3]
    assert {s.display_label for s in steps} == {"LSTM cell"}
    assert all(s.module_path == "lstm.l0" for s in steps)
    for t in range(1, 4):                       # h and c come from the step before
        assert steps[t].inputs[5] == (steps[t - 1], 0) and steps[t].inputs[6] == (steps[t - 1], 1)
    unbinds = {s.inputs[0][0] for s in steps}
    assert len(unbinds) == 1 and unbinds.pop().display_label == "unbind"
    assert [s.inputs[0][1] for s in steps] == [0, 1, 2, 3]
    assert lstm.hidden_states[2].grad_fn is steps[2] and lstm.cell_states[2].output_index == 1


CONFIGS = [(kind, config) for kind in KINDS
           for config in ({}, {"num_layers": 2, "bidirectional": True}, {"bias": False})]
CONFIGS.append(("rnn", {"nonlinearity": "relu"}))


@pytest.mark.parametrize("kind, config", CONFIGS, ids=[f"{k}-{c}" for k, c in CONFIGS])
def test_the_chain_as_one_loop_gives_the_bits_of_each_step_on_its_own(kind, config, whole_runs):
    model = layer(kind, **config)
    x = randn64(5, 2, 3)
    together = gradients(kind, model, x)
    assert whole_runs[0] == model.num_layers * model.num_directions
    alone = gradients(kind, model, x, one_by_one=True)
    assert whole_runs[0] == model.num_layers * model.num_directions   # the hook kept it step by step
    for a, b in zip(together, alone):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("use", [("output", "state"), ("state",), ("output", "hidden")],
                         ids=["output+final-state", "final-state-only", "output+hidden-state"])
def test_every_way_gradients_reach_the_steps_gives_the_same_bits(kind, use):
    model = layer(kind, num_layers=2)
    x = randn64(4, 3, 3)
    together = gradients(kind, model, x, use)
    alone = gradients(kind, model, x, use, one_by_one=True)
    for a, b in zip(together, alone):
        np.testing.assert_array_equal(a, b)
    minigrad.manual_seed(2)
    gates = KINDS[kind](3, 4, num_layers=2, dtype=minigrad.float64, graph="gates")
    for a, b in zip(together, gradients(kind, gates, x, use)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_retain_grad_on_a_hidden_state_runs_the_steps_one_by_one(whole_runs):
    model = layer("lstm")
    x = randn64(4, 2, 3)
    expected = gradients("lstm", model, x)
    out, _ = model(x)
    h1 = model.hidden_states[1]
    h1.retain_grad()
    weights = minigrad.tensor(np.linspace(-1, 1, out.array.size).reshape(out.shape))
    x.grad = None
    for p in model.parameters():
        p.grad = None
    (out * weights).sum().backward()
    assert whole_runs[0] == 1                   # the first, unwatched backward only
    np.testing.assert_array_equal(x.grad.numpy(), expected[0])
    assert h1.grad is not None and h1.grad.shape == (2, 4)
    again = minigrad.grad(loss_of("lstm", model, x), model.hidden_states[1])[0]
    np.testing.assert_array_equal(again.numpy(), h1.grad.numpy())


def test_retain_graph_runs_the_chain_twice_and_then_frees_it(whole_runs):
    model = layer("gru")
    x = randn64(3, 2, 3)
    loss = loss_of("gru", model, x)
    loss.backward(retain_graph=True)
    first = model.weight_hh_l0.grad.numpy().copy()
    loss.backward()
    assert whole_runs[0] == 2
    np.testing.assert_array_equal(model.weight_hh_l0.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_weights_changed_in_place_before_the_chain_runs_raise():
    model = layer("rnn")
    loss = loss_of("rnn", model, randn64(3, 2, 3))
    model.weight_hh_l0.data.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_backward_frees_the_caches_of_every_step():
    model = layer("lstm")
    loss = loss_of("lstm", model, randn64(6, 2, 3))
    segment = model.hidden_states[0].grad_fn._segment
    buffers = weakref.ref(segment.sequence.whole[0])
    loss.backward()
    assert all(h.grad_fn.cache is None for h in model.hidden_states)
    assert buffers() is None                    # the (T, B, 4H) gate buffer is gone


def test_a_graph_nobody_runs_backward_through_is_freed_at_once():
    model = layer("lstm")
    gc.disable()
    try:
        out, state = model(randn64(6, 2, 3))
        buffers = weakref.ref(out.grad_fn._segment.sequence.whole[0])
        del out, state
        model._top_states = ([], None)          # the layer's own reference to its states
        assert buffers() is None                # no reference cycle keeps the caches
    finally:
        gc.enable()


def test_long_sequences_run_as_one_chain(whole_runs):
    model = nn.LSTM(2, 3)
    out, _ = model(minigrad.randn(3000, 1, 2, requires_grad=True))
    out.sum().backward()
    assert whole_runs[0] == 1 and model.weight_hh_l0.grad is not None


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_every_gradient_written_without_a_copy_is_its_own_array(kind):
    """The segment, the input projection, Linear and Embedding hand fresh gradients that
    become .grad as they are; no two .grad (b_ih's and b_hh's, which are equal) share memory."""
    embedding, head = nn.Embedding(7, 3), nn.Linear(4, 7)
    model = KINDS[kind](3, 4)
    out, _ = model(embedding(minigrad.tensor(np.arange(10).reshape(5, 2) % 7)))
    nn.functional.cross_entropy(head(out.reshape(10, 4)), minigrad.tensor(np.arange(10) % 7)).backward()
    grads = [p.grad.array for m in (embedding, model, head) for p in m.parameters()]
    for i, a in enumerate(grads):
        for b in grads[i + 1:]:
            assert not np.shares_memory(a, b)
    if kind != "gru":     # b_ih and b_hh enter the same sum: the same gradient, twice
        np.testing.assert_array_equal(model.bias_ih_l0.grad.numpy(), model.bias_hh_l0.grad.numpy())


def _edges_into(root):
    """The textbook count: for every node reachable from ``root``, the edges leading into it."""
    counts, stack, seen = {}, [root], {root}
    while stack:
        for parent in stack.pop().inputs:
            if parent is None or parent[1] < 0:
                continue
            counts[parent[0]] = counts.get(parent[0], 0) + 1
            if parent[0] not in seen:
                seen.add(parent[0])
                stack.append(parent[0])
    return counts


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("use", [("output",), ("output", "state"), ("state",), ("output", "hidden")])
def test_the_engine_counts_a_layers_edges_without_walking_its_steps(kind, use):
    from minigrad.autograd import _discover
    model = layer(kind, num_layers=2, bidirectional=True)
    h0 = randn64(4, 2, 4)                        # initial states that need a gradient too
    start = (h0, randn64(4, 2, 4)) if kind == "lstm" else h0
    out, state = model(randn64(5, 2, 3), start)
    states = state if kind == "lstm" else (state,)
    loss = out.sum() if "output" in use else 0
    if "state" in use:
        loss = loss + sum((s ** 2).sum() for s in states)
    if "hidden" in use:
        loss = loss + (model.hidden_states[1] ** 3).sum()
    assert _discover([loss.grad_fn]) == _edges_into(loss.grad_fn)
