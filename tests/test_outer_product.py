"""A matmul of inner dimension 1, column (m, 1) @ row (1, n), as backward computes it for
one row (``outer_product``): the bits of ``numpy.matmul``, and the path every one-row weight
gradient takes."""
import numpy as np
import pytest

import minigrad
import nn
from minigrad.ops.outer_product import outer_product


@pytest.mark.parametrize("m,n", [(1, 1), (3, 4), (65, 100), (100, 100), (400, 100), (7, 513)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_outer_product_is_bitwise_the_matmul(m, n, dtype):
    rng = np.random.default_rng(m * 1000 + n)
    column = (rng.standard_normal((m, 1)) * 10.0 ** rng.integers(-20, 20, (m, 1))).astype(dtype)
    row = rng.standard_normal((1, n)).astype(dtype)
    product = outer_product(column, row)
    assert product.dtype == np.dtype(dtype) and product.shape == (m, n)
    assert product.tobytes() == np.matmul(column, row).tobytes()
    np.testing.assert_array_equal(product, column * row)     # one rounding per entry


def test_outer_product_of_views_reads_their_strides():
    """A transposed row (what ``gyᵀ`` is) and a row cut from a larger array."""
    rng = np.random.default_rng(1)
    gy = rng.standard_normal((1, 9)).astype(np.float32)
    table = rng.standard_normal((4, 12)).astype(np.float32)
    np.testing.assert_array_equal(outer_product(gy.T, table[2:3, ::2]), gy.T * table[2:3, ::2])


def _counting(monkeypatch, module):
    calls = []
    real = module.outer_product

    def counted(column, row):
        calls.append((column.shape, row.shape))
        return real(column, row)

    monkeypatch.setattr(module, "outer_product", counted)
    return calls


def test_one_row_weight_gradients_take_the_outer_product(monkeypatch):
    """nn.Linear on one example, W h, and a recurrent layer's weights at B=1, T=1."""
    import minigrad.ops.arithmetic as arithmetic
    import minigrad.ops.outer_product as outer    # weight_grad's (Linear's, the RNN's)
    weight_calls, matmul_calls = _counting(monkeypatch, outer), _counting(monkeypatch, arithmetic)
    layer = nn.Linear(5, 3)
    layer(minigrad.randn(1, 5)).sum().backward()
    assert weight_calls == [((3, 1), (1, 5))]
    W = minigrad.randn(4, 6, requires_grad=True)
    (W @ minigrad.randn(6)).sum().backward()
    assert matmul_calls == [((4, 1), (1, 6))]
    weight_calls.clear()
    rnn = nn.RNN(5, 4)
    out, _ = rnn(minigrad.randn(1, 1, 5))
    out.sum().backward()
    assert sorted(weight_calls) == [((4, 1), (1, 4)), ((4, 1), (1, 5))]   # W_hh, W_ih

