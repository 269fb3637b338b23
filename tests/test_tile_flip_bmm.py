"""``repeat`` (tiling), ``flip`` (a sequence read backwards) and ``bmm`` (attention's batched
products): values by their definitions and PyTorch, gradients by finite differences."""
import re

import numpy as np
import pytest

import minigrad
from tests.conftest import randn64

try:
    import torch
except ImportError:  # the PyTorch comparisons skip; the behaviour tests still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


@pytest.mark.parametrize("sizes", [(2, 3), (1, 1), (2, 1, 2), (3, 0)])
def test_repeat_tiles_as_numpy_tile_and_sums_the_copies_back(sizes):
    x = randn64(2, 3)
    np.testing.assert_array_equal(x.repeat(*sizes).numpy(), np.tile(x.numpy(), sizes))
    assert minigrad.gradcheck(lambda t: t.repeat(*sizes), [randn64(2, 3)])


def test_flip_reverses_the_given_dimensions_and_flips_the_gradient_back():
    x = randn64(2, 3, 4)
    np.testing.assert_array_equal(x.flip(1).numpy(), x.numpy()[:, ::-1])
    np.testing.assert_array_equal(minigrad.flip(x, (0, -1)).numpy(), x.numpy()[::-1, :, ::-1])
    assert minigrad.gradcheck(lambda t: t.flip((0, 2)) * t, [randn64(2, 3, 4)])


def test_bmm_multiplies_batch_by_batch():
    a, b = randn64(3, 2, 4), randn64(3, 4, 5)
    np.testing.assert_allclose(minigrad.bmm(a, b).numpy(), np.einsum("bij,bjk->bik", a.numpy(), b.numpy()),
                               rtol=1e-12)
    assert minigrad.gradcheck(minigrad.bmm, [randn64(2, 2, 3), randn64(2, 3, 2)])


@needs_torch
def test_repeat_flip_bmm_match_pytorch():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 2))
    ta, tb = torch.tensor(a), torch.tensor(b)
    ma, mb = minigrad.tensor(a), minigrad.tensor(b)
    np.testing.assert_array_equal(ma.repeat(2, 1, 3, 1).numpy(), ta.repeat(2, 1, 3, 1).numpy())
    np.testing.assert_array_equal(ma.flip([0, 2]).numpy(), ta.flip([0, 2]).numpy())
    np.testing.assert_allclose(ma.bmm(mb).numpy(), ta.bmm(tb).numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.repeat(2), ValueError, "repeat: needs a non-negative count for each of the 2 dimensions"),
    (lambda x: x.repeat(2, -1), ValueError, "repeat: needs a non-negative count"),
    (lambda x: x.flip(2), IndexError, "flip: dim 2 is out of range for a tensor with 2 dimensions"),
    (lambda x: minigrad.bmm(x, x), ValueError, "bmm: input must be a 3-D tensor (batch, rows, columns), got (2, 3)"),
    (lambda x: minigrad.bmm(x.reshape(1, 2, 3), x.reshape(1, 2, 3)), ValueError,
     "bmm: shapes (1, 2, 3) and (1, 2, 3) do not multiply"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call(randn64(2, 3))
