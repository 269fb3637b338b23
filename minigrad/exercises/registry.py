"""The exercises: what the student writes, the inputs it is tried on, and the reference.

Each ``Exercise`` says how to call the student's function (``signature``), makes random
float64 inputs (``make_inputs(rng, batch)``), and computes the right answer with the
library's own code (``reference``). ``differentiable`` exercises are written with minigrad
ops, so the checker also compares gradients; the others return numbers (BPTT by hand, a
sampled index) and are compared as values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import minigrad
from minigrad import backend
from minigrad.ops.rnn_cells import GRUCellFunction, LSTMCellFunction, RNNCellFunction
from minigrad.ops.softmax import softmax
from minigrad.tensor import Tensor


@dataclass(frozen=True)
class Exercise:
    name: str
    tutorial: str
    summary: str
    signature: str
    outputs: tuple                 # names of the returned values, in order
    make_inputs: Callable          # (rng, batch) -> {argument: value}
    reference: Callable            # (**inputs) -> outputs (a tuple)
    differentiable: bool = True
    batches: tuple = (1, 3)


def _leaf(rng, *shape, scale=0.5):
    """A float64 leaf that requires grad, N(0, scale²)."""
    array = rng.standard_normal(shape) * scale
    return minigrad.tensor(array, dtype=minigrad.float64, requires_grad=True)


def _cell_inputs(gates, with_c=False, I=3, H=4):
    def make(rng, batch):
        inputs = {"x": _leaf(rng, batch, I), "h": _leaf(rng, batch, H)}
        if with_c:
            inputs["c"] = _leaf(rng, batch, H)
        inputs.update(w_ih=_leaf(rng, gates * H, I), w_hh=_leaf(rng, gates * H, H),
                      b_ih=_leaf(rng, gates * H), b_hh=_leaf(rng, gates * H))
        return inputs
    return make


def _rnn_step_reference(x, h, w_ih, w_hh, b_ih, b_hh):
    return (RNNCellFunction("tanh")(x, w_ih, b_ih, w_hh, b_hh, h),)


def _lstm_reference(x, h, c, w_ih, w_hh, b_ih, b_hh):
    return LSTMCellFunction()(x, w_ih, b_ih, w_hh, b_hh, h, c)


def _gru_reference(x, h, w_ih, w_hh, b_ih, b_hh):
    return (GRUCellFunction()(x, w_ih, b_ih, w_hh, b_hh, h),)


# -- BPTT by hand: numbers in, numbers out --------------------------------------------
def _bptt_inputs(rng, batch, T=3, I=2, H=3):
    return {"xs": rng.standard_normal((T, batch, I)), "h0": rng.standard_normal((batch, H)),
            "w_ih": rng.standard_normal((H, I)) * 0.5, "w_hh": rng.standard_normal((H, H)) * 0.5,
            "b": rng.standard_normal(H) * 0.5, "dh": rng.standard_normal((T, batch, H))}


def _bptt_reference(xs, h0, w_ih, w_hh, b, dh):
    """h_t = tanh(x_t W_ihᵀ + h_{t-1} W_hhᵀ + b), L = Σ_t Σ dh_t ⊙ h_t, by autograd."""
    as_leaf = lambda a: minigrad.tensor(a, dtype=minigrad.float64, requires_grad=True)  # noqa: E731
    w_ih_t, w_hh_t, b_t, h0_t = as_leaf(w_ih), as_leaf(w_hh), as_leaf(b), as_leaf(h0)
    h, loss = h0_t, 0.0
    for t in range(len(xs)):
        x = minigrad.tensor(xs[t], dtype=minigrad.float64)
        h = (x @ w_ih_t.T + h @ w_hh_t.T + b_t).tanh()
        loss = loss + (h * minigrad.tensor(dh[t], dtype=minigrad.float64)).sum()
    return minigrad.grad(loss, [w_ih_t, w_hh_t, b_t, h0_t])


# -- temperature sampling ---------------------------------------------------------------
def _sampling_inputs(rng, batch):
    temperature = (0.5, 1.0, 2.0)[batch % 3]
    return {"logits": minigrad.tensor(rng.standard_normal(6) * 2, dtype=minigrad.float64),
            "temperature": temperature, "u": float(rng.uniform())}


def _sampling_reference(logits, temperature, u):
    """p = softmax(logits / T); the index is the first i with p_0 + … + p_i > u."""
    probs = softmax(logits / temperature, 0)
    cumulative = backend.to_host(probs.array).cumsum()
    index = int((cumulative <= u).sum())
    return probs, min(index, len(cumulative) - 1)


# -- truncated BPTT -----------------------------------------------------------------------
def _tbptt_inputs(rng, batch, T=7, I=2, H=3):
    inputs = _cell_inputs(1, I=I, H=H)(rng, batch)
    inputs["xs"] = minigrad.tensor(rng.standard_normal((T, batch, I)), dtype=minigrad.float64)
    inputs["h0"] = minigrad.tensor(rng.standard_normal((batch, H)) * 0.5, dtype=minigrad.float64)
    del inputs["x"], inputs["h"]
    inputs["k"] = 3
    return inputs


def _tbptt_reference(xs, h0, w_ih, w_hh, b_ih, b_hh, k):
    """Chunks of k steps; each chunk's loss Σ_t Σ h_t² backpropagates k steps at most."""
    h, total = h0, None
    for start in range(0, len(xs), k):
        loss = 0.0
        for t in range(start, min(start + k, len(xs))):
            h = (xs[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh).tanh()
            loss = loss + (h ** 2).sum()
        g, = minigrad.grad(loss, [w_hh])
        total = g if total is None else total + g
        h = h.detach()
    return total, h


EXERCISES = {e.name: e for e in (
    Exercise("rnn_step", "03-vanilla-rnn", "one vanilla RNN step, h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)",
             "rnn_step(x, h, w_ih, w_hh, b_ih, b_hh) -> h_next", ("h_next",),
             _cell_inputs(1), _rnn_step_reference),
    Exercise("bptt_by_hand", "04-bptt", "the gradients of three RNN steps, computed by hand with NumPy",
             "bptt_by_hand(xs, h0, w_ih, w_hh, b, dh) -> (d_w_ih, d_w_hh, d_b, d_h0)",
             ("d_w_ih", "d_w_hh", "d_b", "d_h0"), _bptt_inputs, _bptt_reference,
             differentiable=False),
    Exercise("lstm_cell", "06-lstm-gru", "one LSTM step, gates stacked i, f, g, o",
             "lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh) -> (h_next, c_next)", ("h_next", "c_next"),
             _cell_inputs(4, with_c=True), _lstm_reference),
    Exercise("gru_cell", "06-lstm-gru", "one GRU step in PyTorch's form, gates stacked r, z, n",
             "gru_cell(x, h, w_ih, w_hh, b_ih, b_hh) -> h_next", ("h_next",),
             _cell_inputs(3), _gru_reference),
    Exercise("temperature_sampling", "07-char-lm",
             "softmax(logits / T) and the index drawn by a uniform number u",
             "temperature_sampling(logits, temperature, u) -> (probs, index)", ("probs", "index"),
             _sampling_inputs, _sampling_reference, differentiable=False, batches=(0, 1, 2, 3)),
    Exercise("truncated_bptt", "07-char-lm",
             "BPTT in chunks of k steps, the state carried over but cut from the graph",
             "truncated_bptt(xs, h0, w_ih, w_hh, b_ih, b_hh, k) -> (grad_w_hh, h_last)",
             ("grad_w_hh", "h_last"), _tbptt_inputs, _tbptt_reference, differentiable=False),
)}


def is_tensor(value):
    return isinstance(value, Tensor)
