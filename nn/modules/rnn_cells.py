"""Recurrent cells: one time step of a vanilla RNN, an LSTM and a GRU.

A cell maps (input, state) to the next state. Run it in a loop and the graph grows
one step per call, which is what "unrolling" means::

    cell = nn.LSTMCell(10, 20)
    h, c = minigrad.zeros(3, 20), minigrad.zeros(3, 20)
    for t in range(T):
        with minigrad.graph_scope(step=t):     # tag the step's nodes with t (for pictures)
            h, c = cell(x[t], (h, c))

``graph="steps"`` (the default) records each step as one graph node with a hand-derived
backward (``minigrad/ops/rnn_cells.py``); ``graph="gates"`` builds the step from ordinary
ops (matmuls, sigmoids, products), so the picture shows every gate. Both compute the
same numbers and gradients (``recording.py`` lists the modes).

The step functions below (``rnn_step``, ``lstm_step``, ``gru_step``) are shared with the
layers ``nn.RNN/LSTM/GRU`` recorded gate by gate, which call them once per time step with
the input projection ``x W_ihᵀ + b`` computed for all steps beforehand (``w_ih=None``);
their one-node steps are made by ``minigrad/ops/rnn_unrolled.py``.
"""
from __future__ import annotations

import math

from minigrad import backend
from minigrad.factory import zeros
from minigrad.grad_mode import current_scope, graph_scope
from minigrad.ops import rnn_cells as cell_ops
from minigrad.tensor import Tensor, plain

from . import factory_kwargs
from ..functional import check_input
from .module import Module, Parameter
from .recording import resolve_graph

CELL_GRAPH_MODES = ("gates", "steps")


# ---------------------------------------------------------------------------
# One step, written with ordinary ops (graph="gates") or as one node (graph="steps")
# ---------------------------------------------------------------------------
def _project(x, w_ih, b_ih):
    """x W_ihᵀ + b_ih, or x itself when w_ih is None (already projected)."""
    if w_ih is None:
        return x if b_ih is None else x + b_ih
    xw = x @ w_ih.T
    return xw if b_ih is None else xw + b_ih


def rnn_step(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", graph="steps"):
    """h' = φ(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), φ = tanh or relu."""
    if graph != "gates":
        return cell_ops.RNNCellFunction(nonlinearity)(x, w_ih, b_ih, w_hh, b_hh, h)
    pre = _project(x, w_ih, b_ih) + h @ w_hh.T
    if b_hh is not None:
        pre = pre + b_hh
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def lstm_step(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, graph="steps"):
    """(h', c') of one LSTM step (gates stacked i, f, g, o)."""
    if graph != "gates":
        return cell_ops.LSTMCellFunction()(x, w_ih, b_ih, w_hh, b_hh, h, c)
    gates = _project(x, w_ih, b_ih) + h @ w_hh.T       # (B, 4H)
    if b_hh is not None:
        gates = gates + b_hh
    i, f, g, o = gates.chunk(4, dim=1)                  # each (B, H)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c_next = f * c + i * g
    h_next = o * c_next.tanh()
    _name_gates(i=i, f=f, g=g, o=o, c_t=c_next, h_t=h_next)
    return h_next, c_next


def gru_step(x, h, w_ih, w_hh, b_ih=None, b_hh=None, graph="steps"):
    """h' of one GRU step (gates stacked r, z, n; PyTorch's form)."""
    if graph != "gates":
        return cell_ops.GRUCellFunction()(x, w_ih, b_ih, w_hh, b_hh, h)
    x_r, x_z, x_n = _project(x, w_ih, b_ih).chunk(3, dim=1)    # each (B, H)
    hw = h @ w_hh.T
    if b_hh is not None:
        hw = hw + b_hh
    h_r, h_z, h_n = hw.chunk(3, dim=1)
    r = (x_r + h_r).sigmoid()
    z = (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    h_next = (1 - z) * n + z * h
    _name_gates(r=r, z=z, n=n, h_t=h_next)
    return h_next


def _name_gates(**tensors):
    """Name the gate tensors after the cell's equations, for pictures (``i``, ``f``, ``c_t``)."""
    for name, tensor in tensors.items():
        tensor.name = name


# ---------------------------------------------------------------------------
# The cell modules
# ---------------------------------------------------------------------------
def _scope_path(module):
    """The dotted path this module's nodes are tagged with; a top-level module (path "")
    uses its class name in lower case ("lstm"), so its nodes still say what made them."""
    scope = current_scope()
    return (scope[0] if scope is not None else "") or type(module).__name__.lower()


def _init_uniform(module):
    """Every weight and bias ~ U(−1/√H, 1/√H), as PyTorch initialises recurrent layers."""
    k = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        xp = backend.get_array_module(p.array)
        p.array = backend.random_uniform(p.shape, p.dtype, -k, k, xp=xp)


def _parameter(shape):
    """A float32 parameter of this shape (values set by ``_init_uniform``)."""
    return Parameter(zeros(*shape, dtype=backend.float32))


class RNNCellBase(Module):
    """Parameters ``weight_ih`` (G·H, in), ``weight_hh`` (G·H, H), ``bias_ih``, ``bias_hh``
    (G·H,), G the number of stacked gates (1 RNN, 4 LSTM, 3 GRU)."""

    num_chunks = 1

    graph_modes = CELL_GRAPH_MODES

    def __init__(self, input_size, hidden_size, bias=True, graph="steps", fused=None, dtype=None,
                 device=None):
        super().__init__()
        dtype, device = factory_kwargs.check(type(self).__name__, dtype, device)
        graph = resolve_graph(type(self).__name__, graph, fused, CELL_GRAPH_MODES)
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive integer, "
                                 f"got {value!r}")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.bias, self.graph = bias, graph
        G = self.num_chunks * hidden_size
        self.weight_ih = _parameter((G, input_size))
        self.weight_hh = _parameter((G, hidden_size))
        if bias:
            self.bias_ih = _parameter((G,))
            self.bias_hh = _parameter((G,))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        factory_kwargs.place(self, dtype, device)

    def reset_parameters(self):
        _init_uniform(self)

    def recorded_as(self, graph):
        """``with cell.recorded_as("gates"):`` records this cell as ``graph`` inside the
        block and restores it after (see ``nn.recorded_as``)."""
        from .recording import recorded_as
        return recorded_as(self, graph)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if self.graph != "steps":
            s += f", graph={self.graph!r}"
        return s

    # -- shared argument handling ---------------------------------------------------------
    def _batched(self, x):
        """(B, in) as is, (in,) as (1, in); returns (x, was_unbatched)."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got {type(x).__name__}")
        check_input(type(self).__name__, x, self.weight_ih)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input of shape (B, {self.input_size}) "
                             f"or ({self.input_size},), got {tuple(x.shape)}")
        return (x.reshape(1, -1), True) if x.ndim == 1 else (x, False)

    def _state(self, s, x, unbatched, what="hx"):
        """The state as (B, H): zeros when None, (H,) lifted to (1, H) for unbatched input."""
        B, H = x.shape[0], self.hidden_size
        if s is None:
            xp = backend.get_array_module(x.array)
            return plain(xp.zeros((B, H), dtype=x.dtype))
        expected = (H,) if unbatched else (B, H)
        check_input(type(self).__name__, s, self.weight_ih, what)
        if tuple(s.shape) != expected:
            raise ValueError(f"{type(self).__name__}: {what} has shape {tuple(s.shape)}, expected "
                             f"{expected} for input of shape "
                             f"{(self.input_size,) if unbatched else (B, self.input_size)}")
        return s.reshape(1, H) if unbatched else s

    def _call_step(self, step, *args, **kwargs):
        """Run ``step`` with nodes tagged (path, step); a top-level cell is tagged by class name."""
        with graph_scope(module=_scope_path(self)):
            return step(*args, **kwargs)


class RNNCell(RNNCellBase):
    """Elman RNN cell (the lecture's vanilla RNN)::

        h_t = tanh(W_hh h_{t-1} + W_xh x_t)           lecture
        h'  = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)     here (rows are batch items)

    ``nonlinearity="relu"`` uses relu instead of tanh.

    Args:
        input_size: size of x (B, in).
        hidden_size: size of h (B, H).
        bias: add ``bias_ih`` and ``bias_hh``.
        graph: ``"steps"`` one graph node per step (fast, the default) or ``"gates"``, the
            step built from ordinary ops (``fused=`` is the deprecated old name).

    ``cell(x, h=None) -> h'``; ``h`` defaults to zeros; x may be unbatched (in,).
    """

    num_chunks = 1

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", graph="steps",
                 fused=None, dtype=None, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; "
                             "expected 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, graph, fused, dtype, device)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, unbatched = self._batched(input)
        h = self._state(hx, x, unbatched)
        h_next = self._call_step(rnn_step, x, h, self.weight_ih, self.weight_hh, self.bias_ih,
                                 self.bias_hh, self.nonlinearity, self.graph)
        return h_next.reshape(self.hidden_size) if unbatched else h_next


class LSTMCell(RNNCellBase):
    """Long short-term memory cell. Gates from one matmul each of x and h, stacked i, f, g, o::

        i = σ(W_ii x + b_ii + W_hi h + b_hi)     input gate: how much to write
        f = σ(W_if x + b_if + W_hf h + b_hf)     forget gate: how much to keep
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)  gate gate: what to write
        o = σ(W_io x + b_io + W_ho h + b_ho)     output gate: how much to reveal
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ tanh(c_t)

    The cell state c only meets an elementwise product with f on its way back in time,
    which is why gradients flow through an LSTM over many more steps than through a
    vanilla RNN.

    ``cell(x, (h, c)=None) -> (h', c')``; the state defaults to zeros. Parameters
    ``weight_ih`` (4H, in), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh`` (4H,).
    """

    num_chunks = 4

    def forward(self, input, hx=None):
        x, unbatched = self._batched(input)
        if hx is None:
            h = c = self._state(None, x, unbatched)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTMCell: the state must be a tuple (h, c) of two tensors")
            h = self._state(hx[0], x, unbatched, "h")
            c = self._state(hx[1], x, unbatched, "c")
        h_next, c_next = self._call_step(lstm_step, x, h, c, self.weight_ih, self.weight_hh,
                                         self.bias_ih, self.bias_hh, self.graph)
        if unbatched:
            return h_next.reshape(self.hidden_size), c_next.reshape(self.hidden_size)
        return h_next, c_next


class GRUCell(RNNCellBase):
    """Gated recurrent unit, in PyTorch's form, gates stacked r, z, n::

        r  = σ(W_ir x + b_ir + W_hr h + b_hr)          reset gate
        z  = σ(W_iz x + b_iz + W_hz h + b_hz)          update gate ("keep" gate here)
        n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))  candidate state
        h' = (1 − z) ⊙ n + z ⊙ h

    The lecture writes the same unit as::

        h~_t = tanh(W [r_t ⊙ h_{t-1}, x_t])
        h_t  = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h~_t

    so the lecture's z_t is 1 − z here (PyTorch's z says how much of the old state to
    keep, the lecture's how much of the new), and h~_t is n. One more difference: here
    the reset gate multiplies W_hn h + b_hn, after the matmul, where the lecture resets
    h_{t-1} before it; this is PyTorch's (and cuDNN's) choice, kept so weights move
    between the two.

    ``cell(x, h=None) -> h'``. Parameters ``weight_ih`` (3H, in), ``weight_hh`` (3H, H),
    ``bias_ih``, ``bias_hh`` (3H,).
    """

    num_chunks = 3

    def forward(self, input, hx=None):
        x, unbatched = self._batched(input)
        h = self._state(hx, x, unbatched)
        h_next = self._call_step(gru_step, x, h, self.weight_ih, self.weight_hh, self.bias_ih,
                                 self.bias_hh, self.graph)
        return h_next.reshape(self.hidden_size) if unbatched else h_next
