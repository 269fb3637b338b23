"""One-node recurrent cell steps (``graph="steps"``): one graph node per time step, with a
hand-derived backward.

A cell step written with ordinary ops (``nn.LSTMCell(..., graph="gates")``) records about
twenty nodes: two matmuls, the bias adds, a chunk, three sigmoids, two tanhs and the
products of the update. Drawn, that is the lesson; run, it is twenty Python calls per
step forward and twenty more backward. The Functions here record the whole step as
one node (drawn as one box labelled "LSTM cell") and compute its backward directly on
arrays, from the derivatives written out in each class's docstring.

Inputs of every one-node cell step, in order (``None`` where absent)::

    x, w_ih, b_ih, w_hh, b_hh, h [, c]

    xw = x @ w_ihᵀ + b_ih        (skipped when w_ih is None: x is then the input
                                  projection already computed, as nn.LSTM does for all
                                  T steps with one matmul before its time loop)
    hw = h @ w_hhᵀ + b_hh

and each cell turns (xw, hw, h [, c]) into its new state. The shared linear part of
backward (gradients of x, h, the weights and biases from d xw and d hw) lives in the
base class; each cell adds its own gate algebra.

The backward runs on arrays; when ``create_graph=True`` asks for a graph of the backward,
the step's backward is recorded instead as a node that recomputes the step with gate-level
ops (``rnn_cells_double.py``), so second derivatives work as with ``graph="gates"``.
"""
from __future__ import annotations

from .. import backend
from ..function import _INPUT, _OTHER, Function
from ..grad_mode import STATE
from ..tensor import Tensor, plain
from . import rnn_arithmetic, rnn_cells_double, rnn_kernels
from .outer_product import weight_grad


class CellStepFunction(Function):
    """Shared forward projections and linear backward of the one-node cell steps.

    ``weight_grad=(SequenceWeightGrad, t)`` (given by the layers) defers W_hh's and
    b_hh's gradient to one matmul over the whole sequence.
    """

    n_state = 1  # h, or (h, c) for the LSTM

    def __init__(self, weight_grad=None):
        self.weight_grad = weight_grad

    def forward(self, x, w_ih, b_ih, w_hh, b_hh, h, c=None):
        if not (x.dtype == w_hh.dtype == h.dtype) or (w_ih is not None and w_ih.dtype != x.dtype):
            raise TypeError(f"dtypes differ: input {x.dtype}, hidden state {h.dtype}, weights "
                            f"{w_hh.dtype}; convert one of them (e.g. module.double())")
        if w_ih is not None:
            xw = x @ w_ih.T
            if b_ih is not None:
                xw += b_ih
        else:
            xw = x if b_ih is None else x + b_ih
        hw = h @ w_hh.T
        if b_hh is not None:
            hw += b_hh
        self.save_for_backward(w_ih, w_hh)   # version-checked: an optimizer step before
                                             # backward would make the gradient stale
        self.step_inputs = (x, w_ih, b_ih, w_hh, b_hh, h, c)  # x, h for backward; all seven
                                                              # for a recorded double backward
        return self.cell_forward(xw, hw, h, c)

    def backward(self, *grads):
        if STATE.grad_enabled:  # create_graph=True: record the backward so it can be differentiated
            self.saved_tensors  # noqa: B018 - the version check of the weights
            return rnn_cells_double.recorded_step_backward(self, self.gate_step, grads)
        w_ih, w_hh = self.saved_arrays                # version-checked, not wrapped
        inputs = self.step_inputs
        x, h = inputs[0], inputs[5]
        gys = [None if g is None else g.array for g in grads]
        need = [p is not None for p in self.parents]  # needs_input_grad, without the property
        sequence = None
        if self.weight_grad is not None and not STATE.split_shared and (need[3] or need[4]):
            sequence, t = self.weight_grad
        out = None if sequence is None else sequence.slot(t, h, w_hh.shape[0])
        dxw, dhw, dh, dc = self.cell_backward(h, *gys, out=out)
        gx = gw_ih = gb_ih = gw_hh = gb_hh = None
        if w_ih is not None:
            if need[0]:
                gx = dxw @ w_ih
            if need[1]:
                gw_ih = plain(weight_grad(dxw, x))
        elif need[0]:
            gx = dxw
        if need[2]:
            gb_ih = plain(dxw.sum(axis=0))
        if sequence is not None:
            sequence.add(t, h)
            if t == sequence.first:
                gw, gb = sequence.total()
                gw_hh = plain(gw) if need[3] else None
                gb_hh = plain(gb) if need[4] else None
        else:
            if need[3]:
                gw_hh = plain(weight_grad(dhw, h))
            if need[4]:
                gb_hh = plain(dhw.sum(axis=0))
        gh = None
        if need[5]:
            gh = dhw @ w_hh
            if dh is not None:
                gh += dh
            gh = plain(gh)
        result = (None if gx is None else plain(gx), gw_ih, gb_ih, gw_hh, gb_hh, gh)
        if self.n_state == 2:
            result += (plain(dc) if need[6] and dc is not None else None,)
        return result

    def _link_saved(self, inputs, outputs, tensors):
        """The saved arrays are the weights, inputs 1 and 3 (w_ih, w_hh): their version-check
        entries are made directly instead of by searching the inputs, once per time step."""
        self._saved_entries = [_weight_entry(inputs[1]), _weight_entry(inputs[3])]

    def release(self):
        super().release()
        self.cache = self.step_inputs = None
        if self._segment is not None:      # one of a layer's steps, run on its own
            self._segment.step_released()


def _weight_entry(weight):
    """``Function._link_saved``'s entry for a saved input: the Tensor and its version."""
    if isinstance(weight, Tensor):
        vc = weight._vc
        return (_INPUT, weight, 0 if vc is None else vc[0])
    return (_OTHER, weight)


class RNNCellFunction(CellStepFunction):
    """Vanilla RNN step:  h' = φ(xw + hw),  φ = tanh or relu.

    Backward:  d pre = dh' ⊙ φ'(pre)  (1 − h'² for tanh, [h' > 0] for relu);
    d xw = d hw = d pre.
    """

    gate_step = staticmethod(rnn_cells_double.rnn_gates)
    nonlinearity, label = "tanh", "RNN cell (tanh)"    # what a relu cell sets for itself

    def __init__(self, nonlinearity="tanh", weight_grad=None):
        self.weight_grad = weight_grad
        if nonlinearity != RNNCellFunction.nonlinearity:
            self.nonlinearity = nonlinearity
            self.label = f"RNN cell ({nonlinearity})"

    def cell_forward(self, xw, hw, h, c, out=None):
        xp = backend.get_array_module(hw)
        self.cache = h_next = rnn_arithmetic.rnn_forward(xp, hw, xw, self.nonlinearity, out)
        return h_next

    def cell_backward(self, h, gh_next, out=None):
        h_next = self.cache
        xp = backend.get_array_module(h_next)
        dpre = rnn_arithmetic.rnn_factors(xp, h_next, self.nonlinearity,
                                          xp.empty_like(h_next) if out is None else out)
        dpre *= gh_next
        return dpre, dpre, None, None


class LSTMCellFunction(CellStepFunction):
    """LSTM step, gates stacked i, f, g, o (PyTorch's order)::

        i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)      a = xw + hw   (B, 4H)
        c' = f ⊙ c + i ⊙ g
        h' = o ⊙ tanh(c')

    Backward, from dh' and dc' (the gradient arriving along the cell state)::

        do = dh' ⊙ tanh(c')
        dc = dc' + dh' ⊙ o ⊙ (1 − tanh²(c'))       the uninterrupted path through c
        di = dc ⊙ g,  df = dc ⊙ c,  dg = dc ⊙ i,  d c_prev = dc ⊙ f
        da = [di ⊙ i(1−i), df ⊙ f(1−f), dg ⊙ (1−g²), do ⊙ o(1−o)],   d xw = d hw = da
    """

    label = "LSTM cell"
    n_state = 2
    n_outputs = 2          # (h', c'), as Function.__call__ would set it
    gate_step = staticmethod(rnn_cells_double.lstm_gates)

    def cell_forward(self, xw, hw, h, c, out=None):
        """(h', c'); written into ``out = (h_out, c_out)`` when given."""
        if rnn_kernels.on_gpu(hw):             # on a GPU: one kernel for the update
            h_next, c_next, self.cache = rnn_kernels.lstm_forward(xw, hw, c, out)
            return h_next, c_next
        xp = backend.get_array_module(hw)
        h_out, c_out = (None, None) if out is None else out
        constants = rnn_arithmetic.lstm_constants(xp, c.shape[1], hw.dtype)
        h_next, c_next, tanh_c = rnn_arithmetic.lstm_forward(xp, hw, xw, c, constants,
                                                             c_out, None, h_out)
        self.cache = (hw, c, tanh_c)                  # hw now holds the gates i, f, g, o
        return h_next, c_next

    def cell_backward(self, h, gh_next, gc_next, out=None):
        """(d xw, d hw, d h direct, d c_prev); d xw = d hw is written into ``out`` (C-contiguous)
        when given."""
        gates, c, tanh_c = self.cache
        if rnn_kernels.on_gpu(gates):          # on a GPU: one kernel for the update
            da, dc_prev = rnn_kernels.lstm_backward(gates, c, tanh_c, gh_next, gc_next, out)
            return da, da, None, dc_prev
        xp = backend.get_array_module(gates)
        B, H = c.shape
        da = xp.empty_like(gates) if out is None else out
        K_c = xp.empty_like(tanh_c)
        rnn_arithmetic.lstm_factors(xp, gates, c, tanh_c, da, K_c)
        dc_prev = rnn_arithmetic.lstm_backward(da.reshape(B, 4, H), K_c, gates[:, H:2 * H],
                                               gh_next, gc_next)
        return da, da, None, dc_prev


class GRUCellFunction(CellStepFunction):
    """GRU step in PyTorch's form, gates stacked r, z, n::

        r = σ(xw_r + hw_r),  z = σ(xw_z + hw_z)
        n = tanh(xw_n + r ⊙ hw_n)               hw_n = W_hn h + b_hn
        h' = (1 − z) ⊙ n + z ⊙ h

    Backward, from dh'::

        dn = dh' ⊙ (1 − z),  dz = dh' ⊙ (h − n),  d h (direct) = dh' ⊙ z
        dn_pre = dn ⊙ (1 − n²),  dr = dn_pre ⊙ hw_n
        d xw = [dr ⊙ r(1−r), dz ⊙ z(1−z), dn_pre]
        d hw = [dr ⊙ r(1−r), dz ⊙ z(1−z), dn_pre ⊙ r]
    """

    label = "GRU cell"
    gate_step = staticmethod(rnn_cells_double.gru_gates)

    def cell_forward(self, xw, hw, h, c, out=None):
        """h', written into ``out`` when given."""
        if rnn_kernels.on_gpu(hw):             # on a GPU: one kernel for the update
            h_next, self.cache = rnn_kernels.gru_forward(xw, hw, h, out)
            return h_next
        xp = backend.get_array_module(hw)
        h_next, n = rnn_arithmetic.gru_forward(xp, hw, xw, h, None, out)
        self.cache = (hw, n)                          # hw now holds r, z and hw_n
        return h_next

    def cell_backward(self, h, gh_next, out=None):
        """(d xw, d hw, d h direct, None); d hw is written into ``out`` (C-contiguous) when given."""
        if rnn_kernels.on_gpu(gh_next):
            rz, n, hw_n = self.cache
            dxw, dhw, dh = rnn_kernels.gru_backward(rz, n, hw_n, h, gh_next, out)
            return dxw, dhw, dh, None
        rz_hw, n = self.cache
        xp = backend.get_array_module(n)
        B, H = n.shape
        dxw = xp.empty_like(rz_hw)
        dhw = xp.empty_like(rz_hw) if out is None else out
        rnn_arithmetic.gru_factors(xp, rz_hw, n, h, dxw, dhw)
        dh = rnn_arithmetic.gru_backward(dxw.reshape(B, 3, H), dhw.reshape(B, 3, H),
                                         rz_hw[:, H:2 * H], gh_next)
        return dxw, dhw, dh, None
