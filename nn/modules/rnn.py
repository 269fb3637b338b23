"""Recurrent layers ``nn.RNN``, ``nn.LSTM``, ``nn.GRU``: a cell, unrolled over a sequence.

The forward pass is the plain loop of the lecture's unrolled picture::

    for t in range(T):
        h_t = cell(x_t, h_{t-1})        # the same weights at every step

so the graph of a T-step sequence holds T cell steps, tagged ``("lstm.l0", t)`` (module
path, layer, time step) for pictures and per-step gradients. Two things make it fast
without changing what it computes:

- the input projection x_t W_ihᵀ + b does not depend on h, so it is computed for all
  T steps with one matmul before the loop (one node, ``ops/rnn_input_projection.py``) and
  cut into steps with one ``unbind`` node; each step then only multiplies h_{t-1} by W_hh;
- each step is one graph node (``graph="steps"``, the default), and the steps are made
  and run as one array loop (``ops/rnn_unrolled.py``): backward runs the whole chain at
  once unless something watches a single step. ``graph="gates"`` records every gate (see
  ``recording.py`` for the three modes).

``graph="layer"`` records each layer's whole time loop as one node
(``minigrad/ops/rnn_sequence.py``): the same loops, no node per step, at the price of the
per-step picture and of per-step gradients (``hidden_states`` are then slices of the
output: graph tensors a loss may use, but the recurrence is inside the node).

Parameter names, shapes, initialisation and return values are PyTorch's, so a PyTorch
state dict (as NumPy arrays) loads unchanged.
"""
from __future__ import annotations

import warnings

from minigrad import backend
from minigrad.grad_mode import NO_STEP, graph_scope
from minigrad.ops.join import cat, stack, unbind
from minigrad.ops.rnn_input_projection import InputProjection
from minigrad.ops.rnn_unrolled import record_steps
from minigrad.ops.rnn_sequence import RecurrentSequence
from minigrad.tensor import Tensor, plain

from ..functional import check_input, dropout
from ..utils.rnn import PackedSequence
from . import factory_kwargs
from .module import Module
from .recording import GRAPH_MODES, resolve_graph
from .rnn_packed import last_states, reversed_within, run_packed
from .rnn_cells import _init_uniform, _parameter, _scope_path, gru_step, lstm_step, rnn_step

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _zeros(shape, like):
    xp = backend.get_array_module(like.array)
    return plain(xp.zeros(shape, dtype=like.dtype))


def _final_state(states, direction, lengths):
    """A direction's h_n (or c_n): its state after its last step, the first in time for the
    reverse direction; with ``lengths`` (a packed batch) each sequence's own last step."""
    if lengths is not None:
        return last_states(states, lengths)
    return states[0] if direction else states[-1]


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (PyTorch's ``RNNBase``)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, graph="steps",
                 fused=None, dtype=None, device=None):
        super().__init__()
        name = type(self).__name__
        dtype, device = factory_kwargs.check(name, dtype, device)
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {value!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        graph = resolve_graph(name, graph, fused)
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} is applied between layers, so it has no "
                          "effect with num_layers=1", stacklevel=3)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        self.dropout, self.graph = float(dropout), graph
        self.num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                setattr(self, "weight_ih" + suffix, _parameter((gate_size, layer_input)))
                setattr(self, "weight_hh" + suffix, _parameter((gate_size, hidden_size)))
                if bias:
                    setattr(self, "bias_ih" + suffix, _parameter((gate_size,)))
                    setattr(self, "bias_hh" + suffix, _parameter((gate_size,)))
        self._top_states = ([], None)
        self.reset_parameters()
        factory_kwargs.place(self, dtype, device)

    @property
    def hidden_states(self):
        """The top layer's T hidden states h_t (B, H) of the last forward, forward direction:
        the graph's own tensors (for graph="layer", slices of the output made on first use)."""
        return self._states()[0]

    @property
    def cell_states(self):
        """The LSTM's T cell states c_t (B, H), as ``hidden_states`` (None for RNN and GRU)."""
        return self._states()[1]

    def _states(self):
        hs, cs = self._top_states
        if isinstance(hs, Tensor):                 # graph="layer": cut into steps once
            hs, cs = list(unbind(hs, 0)), (None if cs is None else list(unbind(cs, 0)))
            self._top_states = (hs, cs)
        return hs, cs

    def reset_parameters(self):
        """Every weight and bias ~ U(−1/√H, 1/√H), as PyTorch."""
        _init_uniform(self)

    def flatten_parameters(self):
        """No-op, for code written for PyTorch's cuDNN layers."""

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        if self.graph != "steps":
            s += f", graph={self.graph!r}"
        return s

    graph_modes = GRAPH_MODES

    def recorded_as(self, graph):
        """``with layer.recorded_as("steps"):`` records this layer as ``graph`` inside the
        block and restores it after (see ``nn.recorded_as``)."""
        from .recording import recorded_as
        return recorded_as(self, graph)

    def _weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        p = self._parameters
        return (p["weight_ih" + suffix], p["weight_hh" + suffix],
                p.get("bias_ih" + suffix), p.get("bias_hh" + suffix))

    # -- checking and shaping the arguments ---------------------------------------------
    def _check_input(self, input):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        shape = input.array.shape
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            layout = "(B, T, in)" if self.batch_first else "(T, B, in)"
            raise ValueError(f"{name}: expected input of shape {layout} or (T, in) with "
                             f"in={self.input_size}, got {tuple(input.shape)}")
        check_input(name, input, self._parameters["weight_ih_l0"])
        if shape[0 if len(shape) == 2 or not self.batch_first else 1] == 0:
            raise ValueError(f"{name}: the sequence is empty (input shape {tuple(input.shape)})")

    def _initial(self, state, x, unbatched, what):
        """The initial state (L·D, B, H) as a list of L·D tensors (B, H)."""
        LD, B, H = self.num_layers * self.num_directions, x.shape[1], self.hidden_size
        if state is None:
            return [_zeros((B, H), x) for _ in range(LD)]
        if not isinstance(state, Tensor):
            raise TypeError(f"{type(self).__name__}: {what} must be a Tensor, "
                            f"got {type(state).__name__}")
        expected = (LD, H) if unbatched else (LD, B, H)
        check_input(type(self).__name__, state, self.weight_ih_l0, what)
        if tuple(state.shape) != expected:
            raise ValueError(f"{type(self).__name__}: expected {what} of shape {expected} "
                             f"(num_layers * num_directions, {'' if unbatched else 'B, '}H), "
                             f"got {tuple(state.shape)}")
        if unbatched:
            state = state.reshape(LD, 1, H)
        return list(unbind(state, 0))

    # -- the forward pass ------------------------------------------------------------------
    def forward(self, input, hx=None):
        """Run the layers over the sequence.

        Args:
            input: (T, B, in), (B, T, in) when ``batch_first``, or unbatched (T, in).
            hx: initial state (num_layers * num_directions, B, H); for the LSTM a tuple
                (h_0, c_0). Zeros when omitted.

        Returns:
            ``(output, h_n)`` (``(output, (h_n, c_n))`` for the LSTM): output (T, B, D·H)
            (batch first if asked) holds the top layer's h_t for every t; h_n and c_n
            (num_layers * num_directions, B, H) the last state of every layer and direction.
        """
        if isinstance(input, PackedSequence):        # sequences of different lengths
            return run_packed(self, input, hx)
        self._check_input(input)
        unbatched = input.ndim == 2
        x = input.reshape(input.shape[0], 1, input.shape[1]) if unbatched else input
        if self.batch_first and not unbatched:
            x = x.transpose(0, 1)                               # (T, B, in)
        h0, c0 = self._initial_states(hx, x, unbatched)
        path = _scope_path(self)
        output, h_n, c_n = self._run_layers(x, h0, c0, path)
        with graph_scope(module=path):                          # the caller's time step, if any
            h_n = stack(h_n, 0)
            c_n = stack(c_n, 0) if c0 is not None else None
            if unbatched:
                output = output.reshape(output.shape[0], output.shape[2])
                h_n = h_n.reshape(h_n.shape[0], h_n.shape[2])
                c_n = c_n.reshape(c_n.shape[0], c_n.shape[2]) if c0 is not None else None
            elif self.batch_first:
                output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if c0 is not None else (output, h_n)

    def _initial_states(self, hx, x, unbatched):
        """(h_0, c_0) as lists of L·D tensors (B, H); c_0 is None but for the LSTM."""
        if self.mode != "LSTM":
            return self._initial(hx, x, unbatched, "hx"), None
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of two tensors")
        return (self._initial(None if hx is None else hx[0], x, unbatched, "h_0"),
                self._initial(None if hx is None else hx[1], x, unbatched, "c_0"))

    def _run_layers(self, x, h0, c0, path, lengths=None):
        """Every layer, bottom up, each direction tagged ``path.l{layer}[_reverse]``:
        (the top layer's output (T, B, D·H), [h_n], [c_n]) with one h_n (c_n) per layer
        and direction; with ``lengths`` (a packed batch) each sequence's state at its own
        last step, the reverse direction reading each sequence from its own end."""
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                scope = f"{path}.l{layer}" + ("_reverse" if direction else "")
                with graph_scope(module=scope, step=NO_STEP):
                    h, c = h0[index], None if c0 is None else c0[index]
                    if lengths is not None and direction:   # each sequence from its own end
                        output, hs, cs = self._run(reversed_within(x, lengths), layer, direction,
                                                   h, c, in_time_order=True)
                        output = reversed_within(output, lengths)
                    else:
                        output, hs, cs = self._run(x, layer, direction, h, c)
                    outputs.append(output)
                    h_n.append(_final_state(hs, direction, lengths))
                    if cs is not None:
                        c_n.append(_final_state(cs, direction, lengths))
                if layer == self.num_layers - 1 and direction == 0:   # not a submodule or parameter:
                    object.__setattr__(self, "_top_states", (hs, cs))  # skip Module.__setattr__
            dropped = self.dropout and self.training and layer < self.num_layers - 1
            if len(outputs) == 1 and not dropped:      # nothing to record between layers
                x = outputs[0]
                continue
            with graph_scope(module=f"{path}.l{layer}", step=NO_STEP):
                x = outputs[0] if len(outputs) == 1 else cat(outputs, 2)
                if dropped:
                    x = dropout(x, self.dropout)
        return x, h_n, c_n

    def _run(self, x, layer, direction, h, c, in_time_order=False):
        """One layer in one direction over all T steps: (its output (T, B, H), the h_t, the
        c_t or None), the states as lists in time order (as (T, B, H) tensors for
        graph="layer"). Runs inside the direction's scope; each step is tagged with its t.
        ``in_time_order``: the reverse direction's weights run t = 0 … T−1 (on an input
        already read backwards, as a packed batch is)."""
        w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
        backwards = bool(direction) and not in_time_order
        T, B, I = x.shape
        mode, graph = self.mode, self.graph
        # The input projection for all T steps at once, one node: (T, B, in) -> (T, B, G).
        # The LSTM and RNN add b_hh to the same pre-activation, so it joins b_ih there;
        # the GRU needs b_hn inside r ⊙ (W_hn h + b_hn), so its step keeps b_hh.
        if mode != "GRU":
            xw, b_hh = InputProjection()(x, w_ih, b_ih, b_hh), None
        else:
            xw = InputProjection()(x, w_ih, b_ih, None)
        if graph == "layer":                                     # one node: (T, B, H) out
            sequence_op = RecurrentSequence(mode, reverse=backwards)
            if mode == "LSTM":
                hs, cs = sequence_op(xw, w_hh, b_hh, h, c)
                return hs, hs, cs
            hs = sequence_op(xw, w_hh, b_hh, h)
            return hs, hs, None
        if graph == "steps":                  # one node per step, made and run as one loop
            return record_steps(mode, xw, w_hh, b_hh, h, c, reverse=backwards)
        xws = unbind(xw, 0)
        hs, cs = [None] * T, ([None] * T if mode == "LSTM" else None)
        steps = range(T - 1, -1, -1) if backwards else range(T)
        nonlinearity = "relu" if mode == "RNN_RELU" else "tanh"
        for t in steps:
            with graph_scope(step=t):
                if mode == "LSTM":
                    h, c = lstm_step(xws[t], h, c, None, w_hh, None, b_hh, graph)
                    cs[t] = c
                elif mode == "GRU":
                    h = gru_step(xws[t], h, None, w_hh, None, b_hh, graph)
                else:
                    h = rnn_step(xws[t], h, None, w_hh, None, b_hh, nonlinearity, graph)
            hs[t] = h
        return stack(hs, 0), hs, cs


class RNN(RNNBase):
    """Multi-layer Elman RNN: for each layer and each t,

        h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)     (or relu)

    where x_t is the input for the first layer and the layer below's h_t above it
    (with dropout between layers while training, when ``dropout > 0``).

    Args:
        input_size: features of each input step.
        hidden_size: features of the hidden state h.
        num_layers: recurrent layers stacked on each other.
        nonlinearity: "tanh" or "relu".
        bias: use ``bias_ih_l{k}`` and ``bias_hh_l{k}``.
        batch_first: input and output are (B, T, ·) instead of (T, B, ·).
        dropout: probability of dropping each output of every layer but the last.
        bidirectional: add a layer running from t = T−1 down to 0 (``*_reverse``
            parameters); outputs are concatenated, forward first.
        graph: how the time loop is recorded: ``"steps"`` (default) one graph node per
            step (fast, drawn step by step; double backward recomputes each step's gates);
            ``"gates"`` every op of the step (for teaching); ``"layer"`` one node per layer
            and direction (fastest at small sizes; the graph no longer shows the steps; no
            double backward). ``fused=`` is the deprecated
            old name (True/False/"sequence").

    ``rnn(x, h_0=None) -> (output, h_n)``; see ``RNNBase.forward`` for shapes. After each
    call ``rnn.hidden_states`` holds the top layer's T hidden states (B, H), forward
    direction, the very tensors of the graph (for ``minigrad.grad(loss, rnn.hidden_states)``).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, graph="steps", fused=None,
                 dtype=None, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, graph, fused, dtype, device)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Multi-layer LSTM: for each layer and each t (gates stacked i, f, g, o)::

        i, f, g, o = σ, σ, tanh, σ of  x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ tanh(c_t)

    Arguments as ``nn.RNN`` (no nonlinearity). ``lstm(x, (h_0, c_0)=None) ->
    (output, (h_n, c_n))``. After each call ``lstm.hidden_states`` and ``lstm.cell_states``
    hold the top layer's T states h_t and c_t (B, H), forward direction, as graph tensors.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, graph="steps", fused=None, dtype=None,
                 device=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, graph, fused, dtype, device)


class GRU(RNNBase):
    """Multi-layer GRU: for each layer and each t (gates stacked r, z, n; PyTorch's form)::

        r = σ(x_t W_irᵀ + b_ir + h_{t-1} W_hrᵀ + b_hr)
        z = σ(x_t W_izᵀ + b_iz + h_{t-1} W_hzᵀ + b_hz)
        n = tanh(x_t W_inᵀ + b_in + r ⊙ (h_{t-1} W_hnᵀ + b_hn))
        h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}

    (the lecture's update gate is 1 − z: see ``nn.GRUCell``). Arguments as ``nn.RNN`` (no
    nonlinearity). ``gru(x, h_0=None) -> (output, h_n)``; ``gru.hidden_states`` as ``nn.RNN``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, graph="steps", fused=None, dtype=None,
                 device=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, graph, fused, dtype, device)
