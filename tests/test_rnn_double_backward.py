"""Second derivatives through the default recurrent graph (graph="steps"): each one-node
step records its backward (minigrad/ops/rnn_cells_double.py) when create_graph=True asks.
Checked by finite differences of the gradient (gradgradcheck) in float64, and against the
gate-level graph (graph="gates"), which differentiates ordinary ops."""
import numpy as np
import pytest

import minigrad
import nn
from tests.conftest import randn64

LAYERS = [nn.RNN, nn.LSTM, nn.GRU]
CELLS = [nn.RNNCell, nn.LSTMCell, nn.GRUCell]


def layer(cls, graph, **kwargs):
    minigrad.manual_seed(3)
    return cls(2, 3, graph=graph, dtype=minigrad.float64, **kwargs)


def first_and_second(model, x):
    """dL/d(x, params) with L = Σ output², and d(Σ ‖g‖²)/d(x, params)."""
    out = model(x)[0]
    wrt = [x] + list(model.parameters())
    firsts = minigrad.grad((out ** 2).sum(), wrt, create_graph=True)
    penalty = sum((g ** 2).sum() for g in firsts)
    seconds = minigrad.grad(penalty, wrt)
    return [g.numpy() for g in firsts], [g.numpy() for g in seconds]


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True}, {"bias": False}])
def test_steps_second_derivatives_equal_the_gate_graphs(cls, kwargs):
    x = randn64(4, 2, 2)
    steps = first_and_second(layer(cls, "steps", **kwargs), x)
    gates = first_and_second(layer(cls, "gates", **kwargs), x)
    for a, b in zip(steps[0] + steps[1], gates[0] + gates[1]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("cls", LAYERS)
def test_gradgradcheck_through_a_steps_layer(cls):
    model = layer(cls, "steps")
    params = list(model.parameters())

    def input_gradient(x, *ps):
        out = model(x)[0]
        return minigrad.grad((out.tanh() ** 2).sum(), [x], create_graph=True)[0]

    assert minigrad.gradcheck(input_gradient, [randn64(3, 2, 2)] + params)


@pytest.mark.parametrize("cls", CELLS)
def test_gradgradcheck_through_a_steps_cell(cls):
    minigrad.manual_seed(4)
    cell = cls(2, 3, dtype=minigrad.float64)

    def weight_gradient(x, *ps):
        h = cell(x)
        h = h[0] if isinstance(h, tuple) else h
        return minigrad.grad((h ** 3).sum(), [cell.weight_hh], create_graph=True)[0]

    assert minigrad.gradcheck(weight_gradient, [randn64(2, 2)] + list(cell.parameters()))


def test_layer_graph_still_refuses_with_a_clear_message():
    model = layer(nn.GRU, "layer")
    x = randn64(3, 1, 2)
    with pytest.raises(RuntimeError, match="graph='gates'"):
        minigrad.grad(model(x)[0].sum(), [x], create_graph=True)


def test_an_optimizer_step_before_double_backward_is_detected():
    model = layer(nn.LSTM, "steps")
    x = randn64(3, 1, 2)
    out = model(x)[0]
    with minigrad.no_grad():
        model.weight_hh_l0.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        minigrad.grad(out.sum(), [x], create_graph=True)
