"""The affine map of a fully connected layer: y = x Wᵀ + b (``nn.Linear``, ``F.linear``).

One node for the whole map, so the picture of a layer shows one box, not a matmul and an
add; its backward is three matrix products, and differentiates again (it is written with
tensor ops).
"""
from __future__ import annotations

from ..function import Function
from ..grad_mode import STATE
from ..tensor import plain
from .outer_product import weight_grad


class Linear(Function):
    """y = x Wᵀ + b for x (..., in), W (out, in), b (out,).

    dL/dx = gy W;   dL/dW = gyᵀ x (summed over all leading dims);   dL/db = Σ gy.
    """

    label = "linear"
    new_grads = True      # a plain backward makes each gradient afresh, one per input

    def forward(self, x, weight, bias=None):
        self.save_for_backward(x, weight)
        y = x @ weight.T
        if bias is not None:
            if bias.dtype == y.dtype and bias.shape == y.shape[-1:]:
                y += bias              # y is the matmul's own new array: no second one
            else:
                y = y + bias
        return y

    def backward(self, gy):
        needs = self.needs_input_grad
        if not STATE.grad_enabled:  # no graph of the gradient wanted: the same maths on arrays
            x, weight = self.saved_arrays
            return _linear_backward_arrays(gy.array, x, weight, needs)
        x, weight = self.saved_tensors
        gx = gy @ weight if needs[0] else None
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            gy2 = gy.reshape(-1, gy.shape[-1])                      # (N, out)
            if needs[1]:
                gw = gy2.T @ x.reshape(-1, x.shape[-1])             # (out, in)
            if len(needs) > 2 and needs[2]:
                gb = gy2.sum(0)                                     # (out,)
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)


def _linear_backward_arrays(gy, x, weight, needs):
    """Linear.backward on arrays: the operations of the Tensor path (reshape, transpose,
    matmul, ``sum(axis=(0,))``) in the same order, so the same bits, without a Tensor per step.
    (``weight_grad`` is that matmul ``gyᵀ x``, for one row ``outer_product``: its bits.)"""
    gx = plain(gy @ weight) if needs[0] else None
    gw = gb = None
    has_bias = len(needs) > 2
    if needs[1] or (has_bias and needs[2]):
        gy2 = gy.reshape(-1, gy.shape[-1])
        if needs[1]:
            gw = plain(weight_grad(gy2, x.reshape(-1, x.shape[-1])))
        if has_bias and needs[2]:
            gb = plain(gy2.sum(axis=(0,), keepdims=False))
    return (gx, gw, gb) if has_bias else (gx, gw)
