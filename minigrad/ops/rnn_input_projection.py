"""The input projection of a recurrent layer, for all T steps at once, as one node.

Every step's pre-activation has a part that does not depend on the state::

    xw_t = x_t W_ihᵀ + b_ih (+ b_hh for the LSTM and the RNN, which add it to the same sum)

so a layer computes it for the whole sequence with one (T·B, I) @ (I, G) matmul before its
time loop, as cuDNN and the hand-written NumPy reference do. Written with ordinary ops that
is a reshape, a transpose, a matmul and two bias adds, five nodes and five backward calls
around one matmul; here it is one node, drawn as "x W_ihᵀ + b".

Backward, with g = dL/d xw reshaped to (T·B, G)::

    dL/dx    = g W_ih                      (T·B, I), reshaped back to (T, B, I)
    dL/dW_ih = gᵀ x                        (G, I)
    dL/db_ih = dL/db_hh = Σ_rows g         (G,)
"""
from __future__ import annotations

from ..function import Function
from ..grad_mode import STATE
from ..tensor import plain
from .outer_product import weight_grad


class InputProjection(Function):
    """``InputProjection()(x, w_ih, b_ih, b_hh) -> xw``: x (T, B, I), w_ih (G, I), biases (G,)
    or None; xw (T, B, G)."""

    label = "x W_ihᵀ + b"
    new_grads = True      # a plain backward makes each gradient afresh, one per input

    def forward(self, x, w_ih, b_ih, b_hh):
        T, B, I = x.shape
        xw = x.reshape(T * B, I) @ w_ih.T
        if b_ih is not None:
            xw += b_ih if b_hh is None else b_ih + b_hh
        elif b_hh is not None:
            xw += b_hh
        self.save_for_backward(x, w_ih)
        return xw.reshape(T, B, w_ih.shape[0])

    def backward(self, gy):
        need = [p is not None for p in self.parents]
        if STATE.grad_enabled:       # create_graph=True: the same sums as recorded ops
            x, w_ih = self.saved_tensors
            g = gy.reshape(-1, gy.shape[-1])
            gx = (g @ w_ih).reshape(x.shape) if need[0] else None
            gw = g.T @ x.reshape(-1, x.shape[-1]) if need[1] else None
            gb = g.sum(0) if need[2] or need[3] else None
        else:
            x, w_ih = self.saved_arrays
            g = gy.array.reshape(-1, gy.shape[-1])
            gx = plain((g @ w_ih).reshape(x.shape)) if need[0] else None
            gw = plain(weight_grad(g, x.reshape(-1, x.shape[-1]))) if need[1] else None
            gb = g.sum(axis=0) if need[2] or need[3] else None
            gb_ih = plain(gb) if need[2] else None
            gb_hh = (plain(gb.copy() if need[2] else gb)) if need[3] else None  # not shared
            return gx, gw, gb_ih, gb_hh
        return gx, gw, gb if need[2] else None, gb if need[3] else None

