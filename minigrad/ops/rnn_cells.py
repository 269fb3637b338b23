"""Fused recurrent cells: one graph node per time step, with a hand-derived backward.

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

The backward runs on arrays, so it cannot be differentiated again: asking for
``create_graph=True`` through a one-node cell step raises and points at ``graph="gates"``.
"""
from __future__ import annotations

from .. import backend, backend_kernels
from ..function import Function
from ..grad_mode import STATE
from ..tensor import Tensor


def _sigmoid_(a):
    """σ(a) in place, in the overflow-free form σ(a) = ½ (1 + tanh(a / 2))."""
    xp = backend.get_array_module(a)
    a *= 0.5
    xp.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


def _weight_grad(dy, x):
    """dL/dW for y = x Wᵀ: dyᵀ x. With one row (B=1) a broadcast outer product, which
    NumPy runs far faster than a matmul whose inner dimension is 1."""
    if dy.shape[0] == 1:
        return dy.reshape(-1, 1) * x
    return dy.T @ x


def summed_weight_grads(dhw, h_prev):
    """(dL/dW_hh, dL/db_hh) = (Σ_t d hw_tᵀ h_{t-1}, Σ_t Σ_b d hw_t) for d hw (T, B, G) and
    h_{t-1} stacked (T·B, H): the whole sequence in one matmul."""
    rows = dhw.reshape(-1, dhw.shape[-1])                   # (T·B, G)
    return _weight_grad(rows, h_prev), rows.sum(axis=0)


def _wrap(array):
    return Tensor._make(array, None, 0, False)


class SequenceWeightGrad:
    """The gradient of W_hh (and b_hh) over all steps of one layer, as one matmul.

    Every step of a layer uses the same W_hh, so

        dL/dW_hh = Σ_t d hw_tᵀ h_{t-1}      (d hw_t: (B, G), h_{t-1}: (B, H))

    Summed step by step that is T small matmuls and T accumulations of a (G, H) array;
    stacked it is one (G, T·B) @ (T·B, H) matmul, as cuDNN and the hand-written NumPy
    reference compute it. A layer gives one of these to all the steps of a direction:
    each step's backward stores its d hw_t and h_{t-1} here, and the first step of the
    sequence, which backward reaches last, hands the whole sum to W_hh (the other
    steps hand W_hh nothing; the flow picture, ``minigrad/viz/flow.py``, switches this
    off for its own backward pass so that each W_hh edge shows its step's share).
    """

    __slots__ = ("T", "first", "dhw", "h", "filled")

    def __init__(self, T, first):
        self.T, self.first = T, first   # first: the step that runs first forward (0, or T-1 reversed)
        self.dhw, self.h, self.filled = None, [None] * T, 0

    def slot(self, t, h, width):
        """Where step t's backward writes its d hw_t (B, G): row t of one (T, B, G) buffer,
        so no step's gradient is copied again before the sum."""
        if self.dhw is None:
            xp = backend.get_array_module(h)
            self.dhw = xp.empty((self.T, h.shape[0], width), dtype=h.dtype)
        return self.dhw[t]

    def add(self, t, h):
        """Step t's d hw_t is in its slot; record the h_{t-1} it multiplies."""
        self.h[t] = h
        self.filled += 1

    def total(self):
        """(dL/dW_hh, dL/db_hh) summed over the steps stored so far; then starts afresh."""
        dhw, hs = self.dhw, self.h
        xp = backend.get_array_module(dhw)
        if self.filled < self.T:        # steps no gradient reached contribute nothing
            like = next(h for h in hs if h is not None)
            for t in range(self.T):
                if hs[t] is None:
                    dhw[t] = 0
                    hs[t] = xp.zeros_like(like)
        gw, gb = summed_weight_grads(dhw, xp.concatenate(hs, axis=0))
        self.dhw, self.h, self.filled = None, [None] * self.T, 0
        return gw, gb


class _FusedCell(Function):
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
        self.x_h = (x, h)                    # backward would make the gradient stale
        return self.cell_forward(xw, hw, h, c)

    def backward(self, *grads):
        if STATE.grad_enabled:
            raise RuntimeError(
                f"{self.label}: a one-node cell step computes its backward on arrays and cannot be "
                "differentiated again (create_graph=True was requested). Build the layer or "
                "cell with graph='gates' for double backward.")
        w_ih, w_hh = self.saved_arrays                # version-checked, not wrapped
        x, h = self.x_h
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
                gw_ih = _wrap(_weight_grad(dxw, x))
        elif need[0]:
            gx = dxw
        if need[2]:
            gb_ih = _wrap(dxw.sum(axis=0))
        if sequence is not None:
            sequence.add(t, h)
            if t == sequence.first:
                gw, gb = sequence.total()
                gw_hh = _wrap(gw) if need[3] else None
                gb_hh = _wrap(gb) if need[4] else None
        else:
            if need[3]:
                gw_hh = _wrap(_weight_grad(dhw, h))
            if need[4]:
                gb_hh = _wrap(dhw.sum(axis=0))
        gh = None
        if need[5]:
            gh = dhw @ w_hh
            if dh is not None:
                gh += dh
            gh = _wrap(gh)
        result = (None if gx is None else _wrap(gx), gw_ih, gb_ih, gw_hh, gb_hh, gh)
        if self.n_state == 2:
            result += (_wrap(dc) if need[6] and dc is not None else None,)
        return result

    def release(self):
        super().release()
        self.cache = self.x_h = None


class RNNCellFunction(_FusedCell):
    """Vanilla RNN step:  h' = φ(xw + hw),  φ = tanh or relu.

    Backward:  d pre = dh' ⊙ φ'(pre)  (1 − h'² for tanh, [h' > 0] for relu);
    d xw = d hw = d pre.
    """

    def __init__(self, nonlinearity="tanh", weight_grad=None):
        self.weight_grad = weight_grad
        self.nonlinearity = nonlinearity
        self.label = f"RNN cell ({nonlinearity})"

    def cell_forward(self, xw, hw, h, c, out=None):
        pre = hw
        pre += xw
        xp = backend.get_array_module(pre)
        out = pre if out is None else out
        if self.nonlinearity == "tanh":
            h_next = xp.tanh(pre, out=out)
        else:
            h_next = xp.maximum(pre, 0, out=out)
        self.cache = h_next
        return h_next

    def cell_backward(self, h, gh_next, out=None):
        h_next = self.cache
        slope = 1 - h_next * h_next if self.nonlinearity == "tanh" else h_next > 0
        dpre = backend.get_array_module(h_next).multiply(gh_next, slope, out=out)
        return dpre, dpre, None, None


class LSTMCellFunction(_FusedCell):
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

    def cell_forward(self, xw, hw, h, c, out=None):
        """(h', c'); written into ``out = (h_out, c_out)`` when given."""
        if backend_kernels.fused_for(hw):             # on a GPU: one kernel for the update
            h_next, c_next, self.cache = backend_kernels.lstm_forward(xw, hw, c, out)
            return h_next, c_next
        gates = hw
        gates += xw                                   # (B, 4H) pre-activations
        H = gates.shape[1] // 4
        xp = backend.get_array_module(gates)
        a_g = gates[:, 2 * H:3 * H].copy()
        _sigmoid_(gates)                              # i, f, o (one pass over all four)
        xp.tanh(a_g, out=gates[:, 2 * H:3 * H])       # g
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        h_out, c_out = (None, None) if out is None else out
        c_next = xp.multiply(f, c, out=c_out)
        c_next += i * g
        tanh_c = xp.tanh(c_next)
        h_next = xp.multiply(o, tanh_c, out=h_out)
        self.cache = (gates, c, tanh_c)
        return h_next, c_next

    def cell_backward(self, h, gh_next, gc_next, out=None):
        """(d xw, d hw, d h direct, d c_prev); d xw = d hw is written into ``out`` when given."""
        gates, c, tanh_c = self.cache
        if backend_kernels.fused_for(gates):          # on a GPU: one kernel for the update
            da, dc_prev = backend_kernels.lstm_backward(gates, c, tanh_c, gh_next, gc_next, out)
            return da, da, None, dc_prev
        H = gates.shape[1] // 4
        xp = backend.get_array_module(gates)
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        da = xp.empty_like(gates) if out is None else out   # d i, d f, d g, d o, then ⊙ σ' or tanh'
        if gh_next is not None:
            xp.multiply(gh_next, tanh_c, out=da[:, 3 * H:])             # do
            dc = gh_next * o
            dc *= 1 - tanh_c * tanh_c
            if gc_next is not None:
                dc += gc_next
        else:
            da[:, 3 * H:] = 0
            dc = gc_next
        xp.multiply(dc, g, out=da[:, :H])                              # di
        xp.multiply(dc, c, out=da[:, H:2 * H])                         # df
        xp.multiply(dc, i, out=da[:, 2 * H:3 * H])                     # dg
        dc_prev = dc * f
        slope = 1 - gates                             # σ' = s (1 − s) for i, f, o ...
        slope *= gates
        slope[:, 2 * H:3 * H] = 1 - g * g             # ... and tanh' = 1 − g² for g
        da *= slope
        return da, da, None, dc_prev


class GRUCellFunction(_FusedCell):
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

    def cell_forward(self, xw, hw, h, c, out=None):
        """h', written into ``out`` when given."""
        if backend_kernels.fused_for(hw):             # on a GPU: one kernel for the update
            h_next, self.cache = backend_kernels.gru_forward(xw, hw, h, out)
            return h_next
        H = hw.shape[1] // 3
        xp = backend.get_array_module(hw)
        rz = xw[:, :2 * H] + hw[:, :2 * H]
        _sigmoid_(rz)
        r, z = rz[:, :H], rz[:, H:]
        hw_n = hw[:, 2 * H:]
        n = r * hw_n
        n += xw[:, 2 * H:]
        xp.tanh(n, out=n)
        h_next = xp.subtract(h, n, out=out)           # (1 − z) n + z h  =  n + z (h − n)
        h_next *= z
        h_next += n
        self.cache = (rz, n, hw_n)
        return h_next

    def cell_backward(self, h, gh_next, out=None):
        """(d xw, d hw, d h direct, None); d hw is written into ``out`` when given."""
        rz, n, hw_n = self.cache
        if backend_kernels.fused_for(n):
            dxw, dhw, dh = backend_kernels.gru_backward(rz, n, hw_n, h, gh_next, out)
            return dxw, dhw, dh, None
        H = n.shape[1]
        xp = backend.get_array_module(n)
        r, z = rz[:, :H], rz[:, H:]
        dxw = xp.empty(n.shape[:1] + (3 * H,), dtype=n.dtype)
        dr, dz, dn = dxw[:, :H], dxw[:, H:2 * H], dxw[:, 2 * H:]
        xp.multiply(gh_next, 1 - z, out=dn)
        dn *= 1 - n * n
        xp.multiply(dn, hw_n, out=dr)
        dr *= r * (1 - r)
        xp.subtract(h, n, out=dz)
        dz *= gh_next
        dz *= z * (1 - z)
        if out is None:
            dhw = dxw.copy()
        else:
            dhw = out
            dhw[...] = dxw
        dhw[:, 2 * H:] *= r
        return dxw, dhw, gh_next * z, None


