"""The gradient of a recurrent layer's shared weight W_hh, summed over all its time steps.

Every step of a layer multiplies its previous state by the same W_hh, so

    dL/dW_hh = Σ_t d hw_tᵀ h_{t-1}      (d hw_t: (B, G), h_{t-1}: (B, H))

and one stacked (G, T·B) @ (T·B, H) matmul computes the whole sum, as cuDNN and the
hand-written NumPy reference do. Both one-node recordings use it: the steps of
``graph="steps"`` (each cell step leaves its d hw_t in a ``SequenceWeightGrad``) and the
whole-layer node of ``graph="layer"`` (``summed_weight_grads`` after its loop).
"""
from __future__ import annotations

from .. import backend
from .outer_product import weight_grad


def summed_weight_grads(dhw, h_prev):
    """(dL/dW_hh, dL/db_hh) = (Σ_t d hw_tᵀ h_{t-1}, Σ_t Σ_b d hw_t) for d hw (T, B, G) and
    h_{t-1} stacked (T·B, H): the whole sequence in one matmul."""
    rows = dhw.reshape(-1, dhw.shape[-1])                   # (T·B, G)
    return weight_grad(rows, h_prev), rows.sum(axis=0)


class SequenceWeightGrad:
    """The gradient of W_hh (and b_hh) over all steps of one layer, as one matmul.

    Summed step by step the sum above is T small matmuls and T accumulations of a (G, H)
    array. Instead a layer gives one of these to all the steps of a direction: each step's
    backward stores its d hw_t and h_{t-1} here, and the first step of the sequence, which
    backward reaches last, hands the whole sum to W_hh (the other steps hand W_hh nothing).
    A backward run with ``split_shared=True`` (what a per-edge gradient picture asks for)
    bypasses it: every step then hands its own share along its own edge.
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
