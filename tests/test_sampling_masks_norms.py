"""What the lecture's programs reach for once ported from PyTorch: ``F.one_hot`` (the
min-char-rnn input x_t), ``multinomial`` (sampling the next character), ``masked_fill``
(hiding positions from soft attention) and ``norm`` (gradient norms). Values follow the
definitions and PyTorch; gradients follow finite differences."""
import re

import numpy as np
import pytest

import minigrad
import nn.functional as F
from tests.conftest import randn64

try:
    import torch
except ImportError:  # the PyTorch comparisons skip; the behaviour tests still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# -- one_hot ---------------------------------------------------------------------------------
def test_one_hot_puts_a_single_one_at_each_index():
    idx = np.array([[0, 3], [2, 2]])
    code = F.one_hot(minigrad.tensor(idx), 5)
    assert code.shape == (2, 2, 5) and code.dtype == minigrad.int64
    np.testing.assert_array_equal(code.numpy(), np.eye(5, dtype=np.int64)[idx])
    assert F.one_hot(minigrad.tensor([1, 4])).shape == (2, 5)       # num_classes=-1: max + 1


def test_a_one_hot_row_times_the_weights_is_the_embedding_lookup():
    # the lecture's x_t W_xh with a one-hot x_t picks row char_t: what nn.Embedding does
    w = randn64(6, 4)
    chars = minigrad.tensor([3, 0, 5])
    np.testing.assert_array_equal((F.one_hot(chars, 6).double() @ w).numpy(),
                                  F.embedding(chars, w).numpy())


@needs_torch
def test_one_hot_matches_pytorch():
    idx = np.array([[1, 0, 2], [2, 2, 0]])
    expected = torch.nn.functional.one_hot(torch.tensor(idx), 4).numpy()
    np.testing.assert_array_equal(F.one_hot(minigrad.tensor(idx), 4).numpy(), expected)


@pytest.mark.parametrize("indices, classes, error, message", [
    (np.array([0.0, 1.0]), 3, TypeError, "one_hot: needs integer class indices, got dtype float64"),
    (np.array([0, 3]), 3, ValueError, "one_hot: class index 3 is out of range for num_classes=3"),
    (np.array([-1, 2]), 3, ValueError, "one_hot: class index -1 is out of range for num_classes=3"),
    (np.array([], dtype=np.int64), -1, ValueError, "one_hot: cannot infer num_classes"),
    (np.array([0]), -2, ValueError, "one_hot: num_classes must be a non-negative int or -1, got -2"),
])
def test_one_hot_refuses_what_it_cannot_encode(indices, classes, error, message):
    with pytest.raises(error, match=re.escape(message)):
        F.one_hot(minigrad.tensor(indices), classes)


# -- multinomial -----------------------------------------------------------------------------
def test_multinomial_with_replacement_draws_each_index_in_proportion_to_its_weight():
    minigrad.manual_seed(0)
    weights = np.array([2.0, 0.0, 5.0, 3.0])          # unnormalised, one impossible category
    n = 20000
    drawn = minigrad.multinomial(minigrad.tensor(weights), n, replacement=True)
    assert drawn.shape == (n,) and drawn.dtype == minigrad.int64
    counts = np.bincount(drawn.numpy(), minlength=4)
    p = weights / weights.sum()
    assert counts[1] == 0
    assert np.all(np.abs(counts - n * p) <= 5 * np.sqrt(n * p * (1 - p)) + 1e-9)


def test_multinomial_without_replacement_draws_distinct_indices_in_sequential_law():
    # P(first = i) = w_i;  P(second = j) = sum_i w_i w_j / (1 - w_i)  (draw, remove, draw again)
    minigrad.manual_seed(1)
    p = np.array([0.5, 0.3, 0.2, 0.0])
    rows = 20000
    drawn = minigrad.multinomial(minigrad.tensor(np.tile(p, (rows, 1))), 2).numpy()
    assert drawn.shape == (rows, 2)
    assert np.all(drawn[:, 0] != drawn[:, 1]) and not np.any(drawn == 3)
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(3) if i != j) for j in range(4)])
    for column, law in ((0, p), (1, second)):
        counts = np.bincount(drawn[:, column], minlength=4)
        assert np.all(np.abs(counts - rows * law) <= 5 * np.sqrt(rows * law * (1 - law)) + 1e-9)
    assert sorted(minigrad.multinomial(minigrad.tensor(p), 3).tolist()) == [0, 1, 2]


def test_multinomial_is_seeded_and_samples_a_softmax_as_a_char_lm_does():
    logits = minigrad.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
    runs = []
    for _ in range(2):
        minigrad.manual_seed(42)
        runs.append(logits.softmax(-1).multinomial(1).tolist())
    assert runs[0] == runs[1] and len(runs[0]) == 2 and len(runs[0][0]) == 1


@pytest.mark.parametrize("weights, n, replacement, message", [
    ([0.5, -0.1, 0.6], 1, True, "finite, non-negative weights with a positive sum"),
    ([0.0, 0.0], 1, True, "finite, non-negative weights with a positive sum"),
    ([0.5, float("nan")], 1, True, "finite, non-negative weights with a positive sum"),
    ([0.5, 0.0, 0.5], 3, False, "cannot draw num_samples=3 distinct categories without "
                                "replacement from a row with only 2 positive weights"),
    ([0.5, 0.5], 0, True, "num_samples must be a positive int, got 0"),
    ([[[0.5, 0.5]]], 1, True, "input must be a float tensor of 1 or 2 dimensions, got shape (1, 1, 2)"),
])
def test_multinomial_refuses_a_distribution_it_cannot_sample(weights, n, replacement, message):
    with pytest.raises(ValueError, match="multinomial: .*" + re.escape(message)):
        minigrad.multinomial(minigrad.tensor(weights), n, replacement=replacement)


# -- masked_fill -----------------------------------------------------------------------------
def test_masked_fill_replaces_where_the_mask_is_true_and_passes_the_gradient_elsewhere():
    x = randn64(3, 4)
    mask = x.numpy() > 0.3
    y = x.masked_fill(minigrad.tensor(mask), -2.5)
    np.testing.assert_array_equal(y.numpy(), np.where(mask, -2.5, x.numpy()))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (~mask).astype(float))
    assert minigrad.gradcheck(lambda a: a.masked_fill(minigrad.tensor(mask), 1.0).tanh(), [randn64(3, 4)])


def test_masked_fill_broadcasts_the_mask_and_keeps_the_input_dtype():
    scores = minigrad.randn(2, 3, 4)
    valid = minigrad.tensor([True, True, False, True])                 # one mask for every row
    weights = scores.masked_fill(~valid, float("-inf")).softmax(-1)    # attention hides position 2
    assert weights.dtype == minigrad.float32
    np.testing.assert_array_equal(weights.numpy()[..., 2], 0.0)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-6)
    ints = minigrad.tensor([1, 2, 3]).masked_fill(minigrad.tensor([False, True, False]), 7.9)
    assert ints.dtype == minigrad.int64 and ints.tolist() == [1, 7, 3]      # cast, as PyTorch


@needs_torch
def test_masked_fill_matches_pytorch():
    a = np.random.default_rng(3).standard_normal((3, 4))
    mask = np.array([True, False, False, True])
    expected = torch.tensor(a).masked_fill(torch.tensor(mask), 0.25).numpy()
    np.testing.assert_array_equal(minigrad.tensor(a).masked_fill(minigrad.tensor(mask), 0.25).numpy(),
                                  expected)


@pytest.mark.parametrize("mask, value, error, message", [
    (np.ones((3, 4)), 0.0, TypeError, "masked_fill: mask must be a bool tensor (e.g. x > 0), got dtype float64"),
    (np.ones((2, 4), bool), 0.0, ValueError, "masked_fill: mask of shape (2, 4) does not broadcast to the input's shape (3, 4)"),
    (np.ones(4, bool), "x", TypeError, "masked_fill: value must be a number, got str"),
    (np.ones(4, bool), minigrad.ones(2), ValueError, "masked_fill: value must be a number or a 0-d tensor"),
])
def test_masked_fill_names_a_bad_mask_or_value(mask, value, error, message):
    x = randn64(3, 4)
    with pytest.raises(error, match=re.escape(message)):
        x.masked_fill(minigrad.tensor(mask), value)


def test_masks_combine_with_not_and_or_as_in_pytorch():
    a, b = minigrad.tensor([True, False, True]), minigrad.tensor([True, True, False])
    assert (~a).tolist() == [False, True, False] and a.logical_not().tolist() == [False, True, False]
    assert (a & b).tolist() == [True, False, False] and (a | b).tolist() == [True, True, True]
    assert (a ^ b).tolist() == [False, True, True] and (a & True).tolist() == a.tolist()
    assert (minigrad.tensor([6, 3]) & minigrad.tensor([3, 1])).tolist() == [2, 1]    # bitwise on ints
    with pytest.raises(TypeError, match=re.escape("~: needs bool or integer tensors (masks such as x > 0), got float32")):
        ~minigrad.ones(2)
    with pytest.raises(TypeError, match=re.escape("&: needs bool or integer tensors")):
        a & 0.5


# -- norm ------------------------------------------------------------------------------------
@pytest.mark.parametrize("p, dim, keepdim", [
    ("fro", None, False), (2, 1, False), (2, (0, 2), True), (1, 0, False),
    (float("inf"), 2, False), (float("inf"), None, False),
])
def test_norm_matches_its_definition_and_finite_differences(p, dim, keepdim):
    x = randn64(2, 3, 4)
    a = x.numpy()
    axes = tuple(range(3)) if dim is None else (dim if isinstance(dim, tuple) else (dim,))
    expected = {"fro": lambda: np.sqrt((a * a).sum(axes, keepdims=keepdim)),
                2: lambda: np.sqrt((a * a).sum(axes, keepdims=keepdim)),
                1: lambda: np.abs(a).sum(axes, keepdims=keepdim),
                float("inf"): lambda: np.abs(a).max(axes, keepdims=keepdim)}[p]()
    np.testing.assert_allclose(x.norm(p, dim, keepdim).numpy(), expected, rtol=1e-12)
    assert minigrad.gradcheck(lambda t: minigrad.norm(t, p, dim, keepdim), [randn64(2, 3, 4)])


def test_norm_of_a_zero_vector_has_a_zero_gradient_as_in_pytorch():
    x = minigrad.zeros(2, 3, dtype=minigrad.float64, requires_grad=True)
    x.norm(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


def test_norm_differentiates_twice():
    # d/dx of ‖x‖'s gradient x/‖x‖ (a gradient penalty's second derivative)
    def gradient_of_norm(t):
        return minigrad.grad(t.norm(dim=1).sum(), [t], create_graph=True)[0]
    assert minigrad.gradcheck(gradient_of_norm, [randn64(2, 3)])


@needs_torch
def test_norm_matches_pytorch():
    a = np.random.default_rng(5).standard_normal((3, 4))
    tx, mx = torch.tensor(a, requires_grad=True), minigrad.tensor(a, requires_grad=True)
    (tx.norm(dim=0).sum() + tx.norm()).backward()
    (mx.norm(dim=0).sum() + mx.norm()).backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_norm_refuses_what_it_does_not_compute():
    with pytest.raises(ValueError, match=re.escape("norm: p=3 is not supported; expected 'fro', 2, 1 or float('inf')")):
        randn64(3).norm(3)
    with pytest.raises(TypeError, match="norm: needs a floating point Tensor, got int64"):
        minigrad.tensor([1, 2]).norm()
