"""The affine map of a fully connected layer: y = x Wᵀ + b (``nn.Linear``, ``F.linear``).

One node for the whole map, so the picture of a layer shows one box, not a matmul and an
add; its backward is three matrix products, and differentiates again (it is written with
tensor ops).
"""
from __future__ import annotations

from ..function import Function


class Linear(Function):
    """y = x Wᵀ + b for x (..., in), W (out, in), b (out,).

    dL/dx = gy W;   dL/dW = gyᵀ x (summed over all leading dims);   dL/db = Σ gy.
    """

    label = "linear"

    def forward(self, x, weight, bias=None):
        self.save_for_backward(x, weight)
        y = x @ weight.T
        if bias is not None:
            y = y + bias
        return y

    def backward(self, gy):
        x, weight = self.saved_tensors
        needs = self.needs_input_grad
        gx = gy @ weight if needs[0] else None
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            gy2 = gy.reshape(-1, gy.shape[-1])                      # (N, out)
            if needs[1]:
                gw = gy2.T @ x.reshape(-1, x.shape[-1])             # (out, in)
            if len(needs) > 2 and needs[2]:
                gb = gy2.sum(0)                                     # (out,)
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)
