"""RNNCell, LSTMCell, GRUCell: gradients against finite differences, one step against the
equations computed by hand in NumPy, graph="steps" == graph="gates", and their argument handling."""
import math

import numpy as np
import pytest

import minigrad
import nn
from minigrad.ops.rnn_cells import GRUCellFunction, LSTMCellFunction, RNNCellFunction

from conftest import randn64

CELLS = [
    ("rnn_tanh", lambda graph: nn.RNNCell(3, 4, graph=graph)),
    ("rnn_relu", lambda graph: nn.RNNCell(3, 4, nonlinearity="relu", graph=graph)),
    ("lstm", lambda graph: nn.LSTMCell(3, 4, graph=graph)),
    ("gru", lambda graph: nn.GRUCell(3, 4, graph=graph)),
]


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _state(kind, B, rng):
    h = randn64(B, 4, rng=rng)
    if kind == "lstm":
        return (h, randn64(B, 4, rng=rng))
    return h


def _flat(out):
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("graph", ["steps", "gates"])
@pytest.mark.parametrize("kind,make", CELLS)
@pytest.mark.parametrize("B", [2, 1])
def test_cell_gradcheck(kind, make, graph, B):
    """d(outputs)/d(x, state, every parameter) match central differences (float64)."""
    cell = make(graph).double()
    rng = np.random.default_rng(3)
    x = randn64(B, 3, rng=rng)
    state = _state(kind, B, rng)
    states = list(state) if isinstance(state, tuple) else [state]
    params = list(cell.parameters())

    def fn(x, *rest):
        s = tuple(rest[:2]) if kind == "lstm" else rest[0]
        return cell(x, s)

    assert minigrad.gradcheck(fn, [x, *states, *params])


@pytest.mark.parametrize("kind,make", CELLS)
def test_steps_equal_gates(kind, make):
    """Same outputs and same gradients for input, state and every parameter."""
    results = []
    for graph in ("steps", "gates"):
        minigrad.manual_seed(5)
        cell = make(graph).double()
        rng = np.random.default_rng(7)
        x = randn64(3, 3, rng=rng)
        state = _state(kind, 3, rng)
        out = _flat(cell(x, state))
        loss = sum(((o * o).sum() if i == 0 else o.sum()) for i, o in enumerate(out))
        loss.backward()
        leaves = [x] + (list(state) if isinstance(state, tuple) else [state]) + list(cell.parameters())
        results.append(([o.numpy() for o in out], [t.grad.numpy() for t in leaves]))
    (out_f, g_f), (out_u, g_u) = results
    for a, b in zip(out_f + g_f, out_u + g_u):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_a_steps_cell_is_one_node_with_a_label():
    x, h, c = minigrad.randn(2, 3), minigrad.randn(2, 4), minigrad.randn(2, 4)
    h1, c1 = nn.LSTMCell(3, 4)(x, (h, c))
    assert h1.grad_fn is c1.grad_fn and isinstance(h1.grad_fn, LSTMCellFunction)
    assert h1.grad_fn.label == "LSTM cell"
    assert isinstance(nn.GRUCell(3, 4)(x, h).grad_fn, GRUCellFunction)
    assert nn.RNNCell(3, 4, nonlinearity="relu")(x, h).grad_fn.label == "RNN cell (relu)"
    assert isinstance(nn.RNNCell(3, 4)(x, h).grad_fn, RNNCellFunction)


def _weights(cell):
    return [p.numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]


@pytest.mark.parametrize("graph", ["steps", "gates"])
def test_lstm_cell_step_against_the_equations(graph):
    cell = nn.LSTMCell(3, 4, graph=graph).double()
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    w_ih, w_hh, b_ih, b_hh = _weights(cell)
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = sigmoid(a[:, :4]), sigmoid(a[:, 4:8]), np.tanh(a[:, 8:12]), sigmoid(a[:, 12:])
    c_next = f * c + i * g
    h_next = o * np.tanh(c_next)
    h1, c1 = cell(minigrad.tensor(x), (minigrad.tensor(h), minigrad.tensor(c)))
    np.testing.assert_allclose(h1.numpy(), h_next, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c1.numpy(), c_next, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("graph", ["steps", "gates"])
def test_gru_cell_step_against_the_equations_and_the_lecture_form(graph):
    cell = nn.GRUCell(3, 4, graph=graph).double()
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    w_ih, w_hh, b_ih, b_hh = _weights(cell)
    xw, hw = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = sigmoid(xw[:, :4] + hw[:, :4])
    z = sigmoid(xw[:, 4:8] + hw[:, 4:8])
    n = np.tanh(xw[:, 8:] + r * hw[:, 8:])
    expected = (1 - z) * n + z * h
    # the lecture's form with its update gate z_lecture = 1 - z and h~ = n
    z_lecture = 1 - z
    lecture = (1 - z_lecture) * h + z_lecture * n
    got = cell(minigrad.tensor(x), minigrad.tensor(h)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, lecture, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("graph", ["steps", "gates"])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_step_against_the_equations(nonlinearity, graph):
    cell = nn.RNNCell(3, 4, nonlinearity=nonlinearity, graph=graph).double()
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    w_ih, w_hh, b_ih, b_hh = _weights(cell)
    pre = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    expected = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)
    got = cell(minigrad.tensor(x), minigrad.tensor(h)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind,make", CELLS)
def test_default_state_is_zeros_and_unbatched_input_works(kind, make):
    cell = make("steps")
    x = minigrad.randn(2, 3)
    zeros = minigrad.zeros(2, 4)
    default = _flat(cell(x))
    explicit = _flat(cell(x, (zeros, zeros) if kind == "lstm" else zeros))
    for a, b in zip(default, explicit):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    single = _flat(cell(x[0]))
    for a, b in zip(single, default):
        assert a.shape == (4,)
        np.testing.assert_allclose(a.numpy(), b.numpy()[0], rtol=1e-6)


def test_float32_stays_float32():
    cell = nn.LSTMCell(3, 4)
    x = minigrad.randn(2, 3)
    h, c = cell(x)
    (h.sum() + c.sum()).backward()
    assert h.dtype == c.dtype == minigrad.float32
    assert all(p.grad.dtype == minigrad.float32 for p in cell.parameters())


def test_init_is_uniform_in_one_over_sqrt_hidden_and_follows_manual_seed():
    minigrad.manual_seed(42)
    a = nn.GRUCell(5, 16)
    minigrad.manual_seed(42)
    b = nn.GRUCell(5, 16)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        assert p.dtype == minigrad.float32
        assert np.abs(p.numpy()).max() <= 1 / math.sqrt(16)
    assert [n for n, _ in a.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert a.weight_ih.shape == (48, 5) and a.weight_hh.shape == (48, 16)
    assert nn.LSTMCell(5, 16).weight_ih.shape == (64, 5)
    assert [n for n, _ in nn.RNNCell(5, 16, bias=False).named_parameters()] == ["weight_ih", "weight_hh"]


def test_step_nodes_and_gates_both_allow_double_backward():
    x = randn64(2, 3)
    cell = nn.LSTMCell(3, 4).double()
    second = {}
    for graph in ("steps", "gates"):
        cell.graph = graph
        cell.zero_grad()
        h, c = cell(x)
        gx, = minigrad.grad((h * h).sum(), [x], create_graph=True)
        gx.sum().backward()             # second order through the step's recorded backward
        second[graph] = cell.weight_ih.grad.numpy()
    np.testing.assert_allclose(second["steps"], second["gates"], rtol=1e-12, atol=1e-14)


def test_second_backward_without_retain_graph_raises():
    cell = nn.GRUCell(3, 4)
    h = cell(minigrad.randn(2, 3))
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        h.sum().backward()


def test_cell_nodes_are_tagged_with_module_path_and_step():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTMCell(3, 4)

    model = Model()
    h = c = minigrad.zeros(2, 4)
    steps = []
    for t in range(3):
        with minigrad.graph_scope(step=t):
            h, c = model.encoder(minigrad.randn(2, 3), (h, c))
        steps.append(h.grad_fn.scope)
    assert steps == [("encoder", 0), ("encoder", 1), ("encoder", 2)]
    # a top-level cell (no module path) is tagged with its class name
    cell = nn.GRUCell(3, 4)
    with minigrad.graph_scope(step=7):
        assert cell(minigrad.randn(2, 3)).grad_fn.scope == ("grucell", 7)


def test_cell_argument_errors():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTMCell(3, 0)
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        cell(minigrad.randn(2, 5))
    with pytest.raises(ValueError, match="h has shape"):
        cell(minigrad.randn(2, 3), (minigrad.randn(3, 4), minigrad.randn(2, 4)))
    with pytest.raises(TypeError, match="tuple"):
        cell(minigrad.randn(2, 3), minigrad.randn(2, 4))
    with pytest.raises(TypeError, match="dtype float64 but the parameters have dtype float32"):
        cell(minigrad.randn(2, 3, dtype=minigrad.float64))
