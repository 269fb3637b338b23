"""A whole recurrent layer (one direction, all T steps) as one graph node.

``nn.LSTM(..., graph="layer")`` (and ``nn.GRU``, ``nn.RNN``) runs each layer's time
loop inside one Function. The loops themselves (``rnn_loops.py`` on the CPU; on a GPU the
LSTM's whole-sequence kernels, the GRU's and RNN's cell kernels step by step,
``rnn_kernels.py``) are also what the default ``graph="steps"`` runs
(``rnn_unrolled.py``), which then records a node per step around them; here no step is
recorded at all: one node, one pair of output tensors, one engine visit per layer.

The price is the picture: the graph holds one box per layer, not one per step, so the
unrolled drawings and per-step gradient arrows need the default ``graph="steps"`` (one
node per step) or ``graph="gates"`` (every gate). ``layer.hidden_states`` are still graph
tensors (slices of this node's output) that a loss may use, but the recurrence runs
inside the node, so the gradient reaching h_t through later steps (what a
gradient-flow plot reads) is not visible from outside it.

Forward, for t = 0 … T−1 (T−1 … 0 when ``reverse``)::

    hw_t = h_{t-1} W_hhᵀ (+ b_hh for the GRU; the LSTM's and RNN's b_hh is in xw)
    h_t [, c_t] = cell(xw_t, hw_t, h_{t-1} [, c_{t-1}])

Backward runs the same steps in the opposite order. The gradient reaching h_t is the
sum of what the layer's output hands it and what step t+1 sends back, d h_t =
d out_t + d hw_{t+1} W_hh; then

    dL/dW_hh = Σ_t d hw_tᵀ h_{t-1}     one (G, T·B) @ (T·B, H) matmul after the loop
    dL/d xw  = d hw (LSTM, RNN: the same buffer) or the cell's own d xw (GRU)
"""
from __future__ import annotations

from .. import backend
from ..function import Function
from ..grad_mode import STATE
from ..tensor import plain
from . import rnn_kernels, rnn_loops
from .rnn_cells import GRUCellFunction, LSTMCellFunction, RNNCellFunction
from .rnn_weight_grads import summed_weight_grads

_CELLS = {"LSTM": lambda: LSTMCellFunction(), "GRU": lambda: GRUCellFunction(),
          "RNN_TANH": lambda: RNNCellFunction("tanh"), "RNN_RELU": lambda: RNNCellFunction("relu")}


class RecurrentSequence(Function):
    """One layer, one direction, all T steps.

    Inputs ``xw (T, B, G), w_hh (G, H), b_hh (G,) or None, h_0 (B, H)[, c_0 (B, H)]``;
    outputs ``hs (T, B, H)`` (and ``cs (T, B, H)`` for the LSTM) in time order, also when
    the layer runs backwards in time. ``mode``: "LSTM", "GRU", "RNN_TANH" or "RNN_RELU".
    """

    whole = None          # the forward's whole-sequence buffers (rnn_loops.py), None on a GPU
    kernel_cache = None   # on a GPU, the LSTM's: what lstm_sequence_backward reads

    def __init__(self, mode, reverse=False):
        self.mode, self.reverse = mode, reverse
        self.cell = _CELLS[mode]()
        self.label = f"{self.cell.label} × T" + (" (reversed)" if reverse else "")

    def forward(self, xw, w_hh, b_hh, h, c=None):
        self.check_dtypes(xw, w_hh, h)
        hs, cs = self.forward_loop(xw, w_hh, b_hh, h, c)
        # version-checked: an optimizer step (or an in-place change of the output) before
        # backward raises
        self.save_for_backward(w_hh, hs)
        return (hs, cs) if c is not None else hs

    @staticmethod
    def check_dtypes(xw, w_hh, h):
        if not (xw.dtype == w_hh.dtype == h.dtype):
            raise TypeError(f"dtypes differ: input projection {xw.dtype}, hidden state {h.dtype}, "
                            f"weights {w_hh.dtype}; convert one of them (e.g. module.double())")

    def forward_loop(self, xw, w_hh, b_hh, h, c=None):
        """The time loop on arrays: (hs, cs or None); keeps each step's cache in
        ``self.caches`` (time order, what a one-node cell keeps as ``cell.cache``) and the
        whole-sequence buffers in ``self.whole`` for ``backward_loop``. On the CPU
        ``rnn_loops.py``; on a GPU the LSTM's whole-sequence kernels (one cuBLAS call on row
        offsets and one launch per step, no allocation in the loop; their buffers in
        ``self.kernel_cache``), the GRU and RNN one cell step at a time."""
        xp = backend.get_array_module(xw)
        order, self.h0 = self._steps(xw.shape[0]), h
        if rnn_kernels.on_gpu(xw):
            if self.mode == "LSTM" and b_hh is None:     # nn.LSTM folds b_hh into xw
                hs, cs, self.kernel_cache = rnn_kernels.lstm_sequence_forward(
                    xw, w_hh, h, c, self.reverse)
                self.caches = rnn_kernels.lstm_step_caches(self.kernel_cache, self.reverse)
                return hs, cs
            return self._forward_per_step(xp, xw, w_hh, b_hh, h, c, order)
        cs = None
        if self.mode == "LSTM":
            hs, cs, self.caches, self.whole = rnn_loops.lstm_forward(xp, xw, w_hh, b_hh, h, c, order)
        elif self.mode == "GRU":
            hs, self.caches, self.whole = rnn_loops.gru_forward(xp, xw, w_hh, b_hh, h, order)
        else:
            hs, self.caches, self.whole = rnn_loops.rnn_forward(
                xp, xw, w_hh, b_hh, h, self.cell.nonlinearity, order)
        return hs, cs

    def _forward_per_step(self, xp, xw, w_hh, b_hh, h, c, order):
        T = xw.shape[0]
        lstm = c is not None
        hs = xp.empty((T,) + h.shape, dtype=h.dtype)
        cs = xp.empty((T,) + h.shape, dtype=h.dtype) if lstm else None
        caches, cell = [None] * T, self.cell
        w_hh_t = (w_hh.T if rnn_kernels.on_gpu(w_hh)      # the CPU loops' W_hhᵀ (rnn_loops.py)
                  else rnn_loops.transposed_weight(xp, w_hh, h.shape[0]))
        for t in order:
            hw = h @ w_hh_t
            if b_hh is not None:
                hw += b_hh
            if lstm:
                h, c = cell.cell_forward(xw[t], hw, h, c, out=(hs[t], cs[t]))
            else:
                h = cell.cell_forward(xw[t], hw, h, None, out=hs[t])
            caches[t] = cell.cache
        self.caches, self.whole = caches, None
        return hs, cs

    def _steps(self, T):
        return range(T - 1, -1, -1) if self.reverse else range(T)

    def backward(self, g_hs, g_cs=None):
        if STATE.grad_enabled:
            raise RuntimeError(
                f"{self.label}: graph='layer' computes its backward on arrays and cannot be "
                "differentiated again (create_graph=True was requested). Use graph='gates'.")
        w_hh, hs = self.saved_arrays
        g_hs = None if g_hs is None else g_hs.array
        g_cs = None if g_cs is None else g_cs.array
        return self._parameter_grads(*self.backward_loop(w_hh, hs, g_hs, g_cs))

    def backward_loop(self, w_hh, hs, g_hs, g_cs=None):
        """The time loop of backward on arrays, last step first. ``g_hs[t]`` / ``g_cs[t]``:
        the gradient arriving at h_t / c_t from outside the layer (None: none did; g_hs itself
        may be None). Returns (d xw (T, B, G), d hw (T, B, G), h_{t-1} (T, B, H), d h_0, d c_0)."""
        xp = backend.get_array_module(hs)
        if self.kernel_cache is not None:                               # the LSTM on a GPU
            da, previous, dh, dc = rnn_kernels.lstm_sequence_backward(
                self.kernel_cache, _whole(xp, g_hs, hs), _whole(xp, g_cs, hs), w_hh, self.reverse)
            return da, da, previous, dh, dc
        order = self._steps(hs.shape[0])
        if self.whole is None:                                          # on a GPU
            previous = rnn_loops.previous_states(xp, hs, self.h0, order)
            return self._backward_per_step(xp, w_hh, hs, g_hs, g_cs, order, previous)
        dc = None
        if self.mode == "LSTM":
            dxw, dh, dc = rnn_loops.lstm_backward(xp, self.whole, w_hh, g_hs, g_cs, order)
            dhw = dxw
        elif self.mode == "GRU":                                        # h_{t-1}, time order
            previous = rnn_loops.previous_states(xp, hs, self.h0, order)
            dxw, dhw, dh = rnn_loops.gru_backward(xp, self.whole, previous, w_hh, g_hs, order)
            return dxw, dhw, previous, dh, dc
        else:
            dxw, dh = rnn_loops.rnn_backward(xp, hs, w_hh, g_hs, self.cell.nonlinearity, order)
            dhw = dxw
        previous = rnn_loops.previous_states(xp, hs, self.h0, order)    # h_{t-1}, time order
        return dxw, dhw, previous, dh, dc

    def _backward_per_step(self, xp, w_hh, hs, g_hs, g_cs, order, previous):
        T, B, _ = hs.shape
        lstm, gru = self.mode == "LSTM", self.mode == "GRU"
        dhw_all = xp.empty((T, B, w_hh.shape[0]), dtype=hs.dtype)
        dxw_all = xp.empty_like(dhw_all) if gru else dhw_all
        caches, cell = self.caches, self.cell
        dh = dc = None
        for t in reversed(order):
            gh = rnn_loops.plus(None if g_hs is None else g_hs[t], dh)
            gc = rnn_loops.plus(None if g_cs is None else g_cs[t], dc) if lstm else None
            if gh is None and gc is None:                     # nothing reached this step
                dhw_all[t] = 0
                dxw_all[t] = 0
                continue
            cell.cache = caches[t]
            if lstm:
                dxw, dhw, dh_direct, dc = cell.cell_backward(previous[t], gh, gc, out=dhw_all[t])
            else:
                dxw, dhw, dh_direct, _ = cell.cell_backward(previous[t], gh, out=dhw_all[t])
            if gru:
                dxw_all[t] = dxw
            dh = dhw @ w_hh
            if dh_direct is not None:
                dh += dh_direct
        return dxw_all, dhw_all, previous, dh, dc

    def _parameter_grads(self, dxw_all, dhw_all, previous, dh, dc):
        """The gradients of the inputs from each step's d xw and d hw and the state
        gradients left at the start of the sequence."""
        xp = backend.get_array_module(dhw_all)
        h0 = previous[-1 if self.reverse else 0]
        g_w_hh, g_b_hh = summed_weight_grads(dhw_all, previous.reshape(-1, h0.shape[-1]))
        states = (dh, dc) if self.mode == "LSTM" else (dh,)
        grads = (dxw_all, g_w_hh, g_b_hh) + tuple(xp.zeros_like(h0) if g is None else g
                                                  for g in states)
        return tuple(plain(g) if need else None for g, need in zip(grads, self.needs_input_grad))

    def free_buffers(self):
        """Let go of what forward kept for the backward loops (the initial state and the
        whole-sequence buffers; the per-step caches are the steps' or ``self.caches``)."""
        self.h0 = self.whole = self.kernel_cache = None

    def release(self):
        super().release()
        self.free_buffers()
        self.caches = self.cell.cache = None


def _whole(xp, grads, like):
    """The gradients arriving at every step as one array shaped like ``like`` (T, B, H) and of
    its dtype, zero where none arrived; ``grads`` is such an array already (perhaps of
    another dtype: a float64 tensor met downstream), a list in time order with None where
    nothing arrived, or None."""
    if grads is None:
        return None
    if not isinstance(grads, list):
        return grads.astype(like.dtype, copy=False)
    if all(g is None for g in grads):
        return None
    whole = xp.zeros(like.shape, dtype=like.dtype)
    for t, g in enumerate(grads):
        if g is not None:
            whole[t] = g
    return whole
