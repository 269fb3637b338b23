"""The product of a column (m, 1) and a row (1, n): a matmul whose inner dimension is 1.

Backward meets it wherever one row went through a matrix: dL/dW = gyᵀ x for y = x Wᵀ with
a batch of one (``nn.Linear`` on one example, a recurrent layer at B=1 and T=1), and
dL/dW = gy hᵀ for the matrix-vector product W h of min-char-rnn's every step::

    (gyᵀ x)_ij = gy_i x_j          one product per entry, nothing summed

NumPy's ``matmul`` does not hand this shape to BLAS: it runs its own loop, 7x slower than
``numpy.dot`` at (100, 1) @ (1, 100), which calls BLAS's gemm. Both round each entry once,
so they give the same bits (``tests/test_outer_product.py``). The broadcast
``column * row`` gives the same values too, but in twice ``dot``'s time at (100, 1) @
(1, 100) (and it keeps the sign of a −0.0 product, which both products make +0.0).
"""
from __future__ import annotations

from .. import backend


def outer_product(column, row):
    """``column @ row`` for column (m, 1) and row (1, n) arrays, as BLAS computes it."""
    return backend.get_array_module(column).dot(column, row)


def weight_grad(dy, x):
    """dL/dW for y = x Wᵀ: dyᵀ x for dy (N, out), x (N, in); with one row (N = 1) an
    ``outer_product``."""
    if dy.shape[0] == 1:
        return outer_product(dy.T, x)
    return dy.T @ x
