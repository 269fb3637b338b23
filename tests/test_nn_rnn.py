"""nn.RNN / nn.LSTM / nn.GRU: gradients against finite differences, parity with PyTorch,
graph tags per time step, the per-step states they keep, long sequences, truncated BPTT
and a small language model that learns."""
import numpy as np
import pytest

import minigrad
import nn
from minigrad.ops.rnn_cells import LSTMCellFunction

from conftest import randn64

LAYERS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def _make(kind, *args, **kwargs):
    return LAYERS[kind](*args, **kwargs)


def _state(kind, LD, B, H, rng):
    if kind == "lstm":
        return (randn64(LD, B, H, rng=rng), randn64(LD, B, H, rng=rng))
    return randn64(LD, B, H, rng=rng)


def _outputs(kind, result):
    output, state = result
    return [output, *state] if kind == "lstm" else [output, state]


CONFIGS = [
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True, with_state=True),
]


@pytest.mark.parametrize("graph", ["steps", "gates", "layer"])
@pytest.mark.parametrize("config", CONFIGS, ids=["2layers", "bidirectional", "2layers-bi-bf-h0"])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_layer_gradcheck(kind, config, graph):
    """d(output, h_n[, c_n]) / d(input, h_0[, c_0], every parameter) against central differences."""
    config = dict(config)
    with_state = config.pop("with_state", False)
    layer = _make(kind, 2, 2, graph=graph, **config).double()
    rng = np.random.default_rng(4)
    T, B = 3, 2
    x = randn64(B, T, 2, rng=rng) if config.get("batch_first") else randn64(T, B, 2, rng=rng)
    LD = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    state = _state(kind, LD, B, 2, rng) if with_state else None
    states = [] if state is None else (list(state) if kind == "lstm" else [state])
    params = list(layer.parameters())

    def fn(x, *rest):
        s = None
        if states:
            s = tuple(rest[:2]) if kind == "lstm" else rest[0]
        return _outputs(kind, layer(x, s))

    assert minigrad.gradcheck(fn, [x, *states, *params])


def test_relu_rnn_and_no_bias_gradcheck():
    layer = nn.RNN(2, 3, nonlinearity="relu", bias=False).double()
    x = randn64(4, 2, 2)
    assert minigrad.gradcheck(lambda x, *p: layer(x)[0], [x, *layer.parameters()])


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_gates_steps_and_layer_modes_agree(kind):
    results = []
    for graph in ("steps", "gates", "layer"):
        minigrad.manual_seed(3)
        layer = _make(kind, 3, 4, num_layers=2, bidirectional=True, graph=graph).double()
        x = randn64(5, 2, 3)
        outs = _outputs(kind, layer(x))
        sum(((o * o).sum() for o in outs), minigrad.tensor(0.0, dtype=minigrad.float64)).backward()
        results.append([o.numpy() for o in outs] + [x.grad.numpy()] +
                       [p.grad.numpy() for p in layer.parameters()])
    for a, b, c in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)
        np.testing.assert_array_equal(c, a)     # the same arithmetic, in the same order


# ---------------------------------------------------------------------------
# PyTorch parity
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_parity_with_pytorch(kind, dtype):
    """A PyTorch layer's state dict (as numpy) loads unchanged; outputs, final states and
    every parameter's gradient match."""
    torch = pytest.importorskip("torch")
    torch_cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    torch.manual_seed(0)
    reference = torch_cls(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    layer = _make(kind, 3, 5, num_layers=2, bidirectional=True, batch_first=True)
    if dtype == "float64":
        reference, layer = reference.double(), layer.double()
    state_dict = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    assert list(state_dict) == [name for name, _ in layer.named_parameters()]
    layer.load_state_dict(state_dict)

    x = np.random.default_rng(0).standard_normal((2, 6, 3)).astype(dtype)
    h0 = np.random.default_rng(1).standard_normal((4, 2, 5)).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    xm = minigrad.tensor(x, requires_grad=True)
    if kind == "lstm":
        ours = _outputs(kind, layer(xm, (minigrad.tensor(h0), minigrad.tensor(0.5 * h0))))
        theirs = _outputs(kind, reference(xt, (torch.tensor(h0), torch.tensor(0.5 * h0))))
    else:
        ours = _outputs(kind, layer(xm, minigrad.tensor(h0)))
        theirs = _outputs(kind, reference(xt, torch.tensor(h0)))
    weights = [np.random.default_rng(i).standard_normal(o.shape).astype(dtype)
               for i, o in enumerate(ours)]
    sum((o * minigrad.tensor(w)).sum() for o, w in zip(ours, weights)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(theirs, weights)).backward()

    pairs = [(o.numpy(), t.detach().numpy()) for o, t in zip(ours, theirs)]
    pairs.append((xm.grad.numpy(), xt.grad.numpy()))
    torch_params = dict(reference.named_parameters())
    pairs += [(p.grad.numpy(), torch_params[name].grad.numpy())
              for name, p in layer.named_parameters()]
    # relative to each array's largest magnitude (elementwise ratios blow up near zero)
    worst = max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in pairs)
    print(f"{kind} {dtype}: max relative error vs torch {worst:.2e}")
    assert worst < (1e-12 if dtype == "float64" else 1e-5)


# ---------------------------------------------------------------------------
# Shapes, states, names
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_shapes_and_unbatched_input(kind):
    layer = _make(kind, 3, 4, num_layers=2, bidirectional=True)
    x = minigrad.randn(5, 2, 3)
    outs = _outputs(kind, layer(x))
    assert outs[0].shape == (5, 2, 8)
    assert all(s.shape == (4, 2, 4) for s in outs[1:])
    single = _outputs(kind, layer(x[:, 0]))
    assert single[0].shape == (5, 8) and all(s.shape == (4, 4) for s in single[1:])
    for a, b in zip(single, outs):
        np.testing.assert_allclose(a.numpy(), b.numpy()[:, 0] if b is outs[0] else b.numpy()[:, 0],
                                   rtol=1e-5, atol=1e-6)
    layer.batch_first = True
    assert layer(minigrad.randn(2, 5, 3))[0].shape == (2, 5, 8)


def test_parameter_names_follow_pytorch():
    names = [n for n, _ in nn.GRU(3, 4, num_layers=2, bidirectional=True).named_parameters()]
    expected = []
    for k in range(2):
        for suffix in ("", "_reverse"):
            expected += [f"weight_ih_l{k}{suffix}", f"weight_hh_l{k}{suffix}",
                         f"bias_ih_l{k}{suffix}", f"bias_hh_l{k}{suffix}"]
    assert names == expected
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert lstm.weight_ih_l1.shape == (16, 8) and lstm.weight_hh_l0_reverse.shape == (16, 4)
    assert [n for n, _ in nn.RNN(3, 4, bias=False).named_parameters()] == ["weight_ih_l0",
                                                                          "weight_hh_l0"]
    assert repr(nn.LSTM(3, 4, 2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"


def test_hidden_states_are_the_graph_tensors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = minigrad.randn(6, 2, 3)
    output, (h_n, c_n) = lstm(x)
    assert len(lstm.hidden_states) == len(lstm.cell_states) == 6
    assert all(h.shape == (2, 4) for h in lstm.hidden_states)
    np.testing.assert_array_equal(np.stack([h.numpy() for h in lstm.hidden_states]), output.numpy())
    np.testing.assert_array_equal(lstm.cell_states[-1].numpy(), c_n.numpy()[1])
    loss = output[-1].sum()
    grads = minigrad.grad(loss, lstm.hidden_states)
    # the loss reads only the last state directly; earlier states reach it through the
    # recurrence, and the gradient reaching h_t is what a gradient-flow plot shows
    np.testing.assert_array_equal(grads[-1].numpy(), np.ones((2, 4), dtype=np.float32))
    assert all(g is not None and g.shape == (2, 4) for g in grads)
    assert np.abs(grads[0].numpy()).sum() > 0


def test_each_step_is_tagged_with_layer_path_and_time_step():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(3, 4, num_layers=2, bidirectional=True)

        def forward(self, x):
            return self.encoder(x)[0]

    T = 4
    output = Model()(minigrad.randn(T, 2, 3))
    steps = {}
    stack, seen = [output.grad_fn], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, LSTMCellFunction):
            steps.setdefault(node.scope[0], []).append(node.scope[1])
        stack.extend(p[0] for p in node.parents if p is not None and p[1] >= 0)
    assert sorted(steps) == ["encoder.l0", "encoder.l0_reverse", "encoder.l1", "encoder.l1_reverse"]
    assert all(sorted(ts) == list(range(T)) for ts in steps.values())


def test_gate_level_step_nodes_all_carry_their_step_and_top_level_path_is_class_name():
    gru = nn.GRU(3, 4, graph="gates")
    output, h_n = gru(minigrad.randn(3, 2, 3))
    by_step = {}
    stack, seen = [h_n.grad_fn], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        by_step.setdefault(node.scope, []).append(node.label or node.name())
        stack.extend(p[0] for p in node.parents if p is not None and p[1] >= 0)
    assert {("gru.l0", t) for t in range(3)} <= set(by_step)
    # each step is a gate-level graph: sigmoids, a tanh, the products of the update
    for t in range(3):
        labels = by_step[("gru.l0", t)]
        assert labels.count("σ") == 2 and "tanh" in labels
    # outside the steps: the hoisted input projection and the stacking of h_n
    assert set(by_step) - {("gru.l0", t) for t in range(3)} <= {("gru.l0", None), ("gru", None)}


def test_long_sequence_backpropagates_without_recursion():
    lstm = nn.LSTM(2, 3)
    output, _ = lstm(minigrad.randn(2000, 1, 2))
    output[-1].sum().backward()
    assert np.isfinite(lstm.weight_hh_l0.grad.numpy()).all()


def test_float32_stays_float32_through_the_layer():
    gru = nn.GRU(3, 4, num_layers=2)
    x = minigrad.randn(5, 2, 3)
    output, h_n = gru(x)
    output.sum().backward()
    assert output.dtype == h_n.dtype == minigrad.float32
    assert all(p.grad.dtype == minigrad.float32 for p in gru.parameters())


def test_dropout_between_layers_only_while_training():
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = minigrad.randn(4, 2, 3)
    a, b = lstm(x)[0].numpy(), lstm(x)[0].numpy()
    assert not np.allclose(a, b)
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].numpy(), lstm(x)[0].numpy())
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.GRU(3, 4, dropout=0.2)


def test_layer_argument_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"in=3"):
        lstm(minigrad.randn(5, 2, 6))
    with pytest.raises(ValueError, match=r"h_0 of shape \(2, 2, 4\)"):
        lstm(minigrad.randn(5, 2, 3), (minigrad.zeros(1, 2, 4), minigrad.zeros(2, 2, 4)))
    with pytest.raises(TypeError, match="tuple"):
        lstm(minigrad.randn(5, 2, 3), minigrad.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=1.5)


# ---------------------------------------------------------------------------
# Truncated BPTT and training
# ---------------------------------------------------------------------------
def test_detach_state_cuts_nested_states_from_the_graph():
    lstm = nn.LSTM(2, 3)
    _, state = lstm(minigrad.randn(4, 1, 2))
    detached = nn.detach_state(state)
    assert isinstance(detached, tuple) and all(s.grad_fn is None and not s.requires_grad
                                               for s in detached)
    np.testing.assert_array_equal(detached[0].numpy(), state[0].numpy())
    assert nn.detach_state(None) is None
    assert isinstance(nn.detach_state([state[0]]), list)
    with pytest.raises(TypeError):
        nn.detach_state("h")


def test_truncated_bptt_carries_the_state_across_chunks():
    lstm = nn.LSTM(2, 3)
    data = minigrad.randn(12, 1, 2)
    state, full = None, lstm(data)[0].numpy()
    outputs = []
    for start in range(0, 12, 4):
        output, state = lstm(data[start:start + 4], state)
        output.sum().backward()         # would fail on the freed previous chunk if not cut
        state = nn.detach_state(state)
        outputs.append(output.numpy())
    np.testing.assert_allclose(np.concatenate(outputs), full, rtol=1e-5, atol=1e-6)


def test_two_layer_lstm_language_model_learns():
    from nn import functional as F

    text = "hello world, hello minigrad. " * 4
    vocab = sorted(set(text))
    ids = np.array([vocab.index(ch) for ch in text])
    V, H, T = len(vocab), 32, 16

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, 16)
            self.lstm = nn.LSTM(16, H, num_layers=2)
            self.head = nn.Linear(H, V)

        def forward(self, x, state=None):
            output, state = self.lstm(self.embed(x), state)
            return self.head(output), state

    model = CharLM()
    optimizer = minigrad.optim.Adam(model.parameters(), lr=1e-2)
    starts = np.arange(0, len(ids) - T - 1, 7)
    x = minigrad.tensor(np.stack([ids[s:s + T] for s in starts], axis=1))          # (T, B)
    y = minigrad.tensor(np.stack([ids[s + 1:s + T + 1] for s in starts], axis=1))
    losses = []
    for _ in range(40):
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 2.5 and losses[-1] < 0.5 * losses[0], losses[::10]


# ---------------------------------------------------------------------------
# W_hh's gradient is summed over the sequence in one matmul (SequenceWeightGrad)
# ---------------------------------------------------------------------------
def _weight_grads(kind, graph, loss_fn, backward_twice=False):
    minigrad.manual_seed(11)
    layer = _make(kind, 3, 4, bidirectional=True, graph=graph).double()
    layer(randn64(5, 2, 3))
    loss = loss_fn(layer)
    loss.backward(retain_graph=backward_twice)
    if backward_twice:
        loss.backward()
    # the reverse direction's weights get no gradient from a loss on forward states
    return [p.grad.numpy() for p in layer.parameters() if p.grad is not None]


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_weight_gradient_when_backward_reaches_only_some_steps(kind):
    """A loss on h_2 alone: steps 3, 4 never run backward; the forward direction's W_hh
    gradient still sums exactly the steps that did (as the gate-level graph does)."""
    def loss_fn(layer):
        return (layer.hidden_states[2] ** 2).sum()
    node_level, gate_level = _weight_grads(kind, "steps", loss_fn), _weight_grads(kind, "gates", loss_fn)
    sequence = _weight_grads(kind, "layer", loss_fn)
    assert len(node_level) == len(gate_level) == len(sequence) == len(list(_make(kind, 3, 4).parameters()))
    for a, b, c in zip(node_level, gate_level, sequence):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(c, b, rtol=1e-12, atol=1e-14)


def test_weight_gradient_with_retain_graph_accumulates_twice():
    def loss_fn(layer):
        return (layer.hidden_states[-1] * layer.hidden_states[1]).sum()
    once = _weight_grads("lstm", "steps", loss_fn)
    twice = _weight_grads("lstm", "steps", loss_fn, backward_twice=True)
    gate_level = _weight_grads("lstm", "gates", loss_fn, backward_twice=True)
    sequence = _weight_grads("lstm", "layer", loss_fn, backward_twice=True)
    for a, b, c, d in zip(once, twice, gate_level, sequence):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b, c, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(d, c, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("graph", ["steps", "layer"])
def test_weights_changed_in_place_before_backward_raise(graph):
    lstm = nn.LSTM(3, 4, graph=graph)
    output, _ = lstm(minigrad.randn(3, 2, 3))
    with minigrad.no_grad():
        lstm.weight_hh_l0.sub_(0.1)     # an optimizer step between forward and backward
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        output.sum().backward()


# ---------------------------------------------------------------------------
# graph="layer": one node per layer and direction
# ---------------------------------------------------------------------------
def test_sequence_mode_records_one_node_per_layer_and_direction():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, graph="layer")
    output, _ = lstm(minigrad.randn(7, 2, 3))
    nodes = set()
    stack = [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in nodes:
            continue
        nodes.add(node)
        stack.extend(p[0] for p in node.parents if p is not None and p[1] != -1)
    labels = sorted(n.label for n in nodes if "× T" in str(n.label))
    assert labels == ["LSTM cell × T", "LSTM cell × T", "LSTM cell × T (reversed)",
                      "LSTM cell × T (reversed)"]
    assert sum("LSTM cell" == n.label for n in nodes) == 0
    assert repr(lstm) == "LSTM(3, 4, num_layers=2, bidirectional=True, graph='layer')"


def test_sequence_mode_hidden_states_are_slices_of_the_output_in_the_graph():
    """The per-step states are graph tensors (a loss may use them), but the recurrence runs
    inside one node: the gradient *reaching* h_t through later steps is not visible there,
    which is what graph="steps" is for."""
    grads = []
    for graph in ("steps", "layer"):
        minigrad.manual_seed(5)
        lstm = nn.LSTM(3, 4, graph=graph).double()
        x = randn64(6, 2, 3)
        output, (h_n, c_n) = lstm(x)
        np.testing.assert_array_equal(np.stack([h.numpy() for h in lstm.hidden_states]), output.numpy())
        np.testing.assert_array_equal(lstm.cell_states[-1].numpy(), c_n.numpy()[0])
        loss = (lstm.hidden_states[3] ** 2).sum() + lstm.cell_states[1].sum()
        loss.backward()
        grads.append([x.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_sequence_mode_loss_on_the_final_cell_state_alone():
    results = []
    for graph in ("gates", "layer"):
        minigrad.manual_seed(6)
        lstm = nn.LSTM(2, 3, graph=graph).double()
        x, c0 = randn64(4, 1, 2), randn64(1, 1, 3)
        _, (_, c_n) = lstm(x, (minigrad.zeros(1, 1, 3, dtype=minigrad.float64), c0))
        c_n.sum().backward()
        results.append([x.grad.numpy(), c0.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_graph_mode_errors_name_the_problem():
    with pytest.raises(ValueError, match="GRU: graph must be one of 'gates', 'steps', 'layer', got 'sequence'"):
        nn.GRU(2, 3, graph="sequence")
    with pytest.raises(ValueError, match="LSTMCell: graph must be one of 'gates', 'steps', got 'layer'"):
        nn.LSTMCell(2, 3, graph="layer")
    with pytest.raises(ValueError, match="fused must be True, False or 'sequence'.*got 'steps'"):
        nn.GRU(2, 3, fused="steps")
    gru = nn.GRU(2, 3, graph="layer").double()
    x = randn64(3, 1, 2)
    output, _ = gru(x)
    with pytest.raises(RuntimeError, match="cannot be differentiated again.*graph='gates'"):
        minigrad.grad(output.sum(), [x], create_graph=True)
    output, _ = gru(x)
    with minigrad.no_grad():
        output.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        output.sum().backward()


def test_sequence_mode_long_sequence_and_float32():
    rnn = nn.RNN(2, 3, graph="layer")
    output, h_n = rnn(minigrad.randn(3000, 1, 2))
    assert output.dtype == minigrad.float32 and h_n.dtype == minigrad.float32
    output[-1].sum().backward()
    assert rnn.weight_hh_l0.grad.dtype == minigrad.float32
    assert np.isfinite(rnn.weight_hh_l0.grad.numpy()).all()


def test_gradient_flow_refuses_the_steps_of_a_sequence_node():
    """Silent zeros would read as a vanished gradient: say why there is no per-step gradient."""
    lstm = nn.LSTM(3, 4, graph="layer")
    output, _ = lstm(minigrad.randn(5, 2, 3))
    with pytest.raises(ValueError, match="graph='layer'.*graph='steps'"):
        minigrad.viz.gradient_flow(output[-1].sum(), lstm.hidden_states)


@pytest.mark.parametrize("fused, graph", [(True, "steps"), (False, "gates"), ("sequence", "layer")])
def test_fused_is_the_deprecated_name_of_graph(fused, graph):
    with pytest.warns(DeprecationWarning, match=f"use graph={graph!r}"):
        layer = nn.LSTM(2, 3, fused=fused)
    assert layer.graph == graph
    with pytest.warns(DeprecationWarning):
        assert nn.GRUCell(2, 3, fused=False).graph == "gates"


def test_recorded_as_switches_every_recurrent_module_and_restores_them():
    model = nn.Sequential(nn.LSTM(2, 3, graph="layer"), nn.GRUCell(3, 3))
    with nn.recorded_as(model, "gates"):
        assert [model[0].graph, model[1].graph] == ["gates", "gates"]
    assert [model[0].graph, model[1].graph] == ["layer", "steps"]
    with model[0].recorded_as("steps"), pytest.raises(KeyError):
        assert model[0].graph == "steps"
        raise KeyError("an error inside the block")
    assert model[0].graph == "layer"
    with nn.recorded_as(model, "layer"):          # a cell is one step: it stays "steps"
        assert [model[0].graph, model[1].graph] == ["layer", "steps"]
    with pytest.raises(ValueError, match="recorded_as: graph must be one of"):
        with nn.recorded_as(model, "sequence"):
            pass
