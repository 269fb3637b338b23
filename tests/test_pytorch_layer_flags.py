"""Layer flags PyTorch programs pass: ``nn.Embedding(padding_idx=)`` (captioning and VQA pad
their token sequences) and ``inplace=`` of ``nn.ReLU`` / ``nn.Dropout`` (every torchvision-
style CNN encoder). Each does what PyTorch's does, or what the docstring says where minigrad
differs on purpose."""
import re

import numpy as np
import pytest

import minigrad
import nn
import nn.functional as F
from tests.conftest import randn64

try:
    import torch
except ImportError:  # the PyTorch comparisons skip; the behaviour tests still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


# -- padding_idx -----------------------------------------------------------------------------
def test_the_padding_row_starts_at_zero_and_stays_there_through_training():
    minigrad.manual_seed(0)
    emb = nn.Embedding(6, 4, padding_idx=0)
    assert np.all(emb.weight.numpy()[0] == 0) and np.any(emb.weight.numpy()[1:] != 0)
    opt = minigrad.optim.Adam(emb.parameters(), lr=0.1)
    tokens = minigrad.tensor([[3, 0, 0], [1, 2, 0]])               # two padded sequences
    for _ in range(3):
        opt.zero_grad()
        (emb(tokens) ** 2).sum().backward()
        assert np.all(emb.weight.grad.numpy()[0] == 0)
        opt.step()
    assert np.all(emb.weight.numpy()[0] == 0)


def test_padding_idx_counts_from_the_end_and_shows_in_the_repr():
    emb = nn.Embedding(5, 2, padding_idx=-1)
    assert emb.padding_idx == 4 and repr(emb) == "Embedding(5, 2, padding_idx=4)"


@needs_torch
def test_padding_idx_gradients_match_pytorch():
    table = np.random.default_rng(0).standard_normal((5, 3))
    tokens = np.array([[0, 2, 2], [4, 0, 1]])
    g = np.random.default_rng(1).standard_normal((2, 3, 3))
    tw = torch.tensor(table, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(tokens), tw, padding_idx=2).backward(torch.tensor(g))
    mw = minigrad.tensor(table, requires_grad=True)
    F.embedding(minigrad.tensor(tokens), mw, padding_idx=2).backward(minigrad.tensor(g))
    np.testing.assert_array_equal(mw.grad.numpy(), tw.grad.numpy())


def test_padding_idx_second_derivatives_follow_finite_differences():
    tokens = minigrad.tensor([[0, 2, 2], [1, 0, 2]])

    def table_gradient(w):      # d/dW of a loss whose gradient is itself differentiated
        loss = (F.embedding(tokens, w, padding_idx=2) ** 3).sum()
        return minigrad.grad(loss, [w], create_graph=True)[0]
    assert minigrad.gradcheck(table_gradient, [randn64(4, 3)])


@pytest.mark.parametrize("padding_idx", [5, -6, 1.0, True])
def test_a_padding_idx_outside_the_table_is_refused(padding_idx):
    with pytest.raises(ValueError, match=re.escape("Embedding: padding_idx must be an int in [-5, 5) "
                                                   "(num_embeddings=5), got")):
        nn.Embedding(5, 2, padding_idx=padding_idx)


# -- inplace ---------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [nn.ReLU(inplace=True), nn.Dropout(0.5, inplace=True)])
def test_inplace_overwrites_the_input_where_nothing_is_recorded(layer):
    minigrad.manual_seed(3)
    x = minigrad.randn(4, 5)
    before = x.numpy().copy()
    minigrad.manual_seed(4)
    y = layer(x)
    minigrad.manual_seed(4)
    expected = type(layer)(*([0.5] if isinstance(layer, nn.Dropout) else []))(minigrad.tensor(before))
    assert y is x and x._version == 1
    np.testing.assert_array_equal(x.numpy(), expected.numpy())


def test_inplace_in_a_recorded_graph_gives_pytorch_values_and_gradients():
    a = np.random.default_rng(2).standard_normal((3, 4))
    mx = minigrad.tensor(a, requires_grad=True)
    hidden = mx * 2.0
    out = nn.ReLU(inplace=True)(hidden)
    assert out is not hidden and np.array_equal(hidden.numpy(), a * 2.0)   # history not rewritten
    out.sum().backward()
    np.testing.assert_array_equal(mx.grad.numpy(), np.where(a > 0, 2.0, 0.0))
    if torch is not None:
        tx = torch.tensor(a, requires_grad=True)
        tout = torch.nn.ReLU(inplace=True)(tx * 2.0)
        tout.sum().backward()
        np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
        np.testing.assert_array_equal(mx.grad.numpy(), tx.grad.numpy())


def test_inplace_on_a_leaf_that_requires_grad_is_refused_as_in_pytorch():
    leaf = minigrad.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape("relu(inplace=True): a leaf tensor that "
                                                     "requires grad cannot be changed in place")):
        F.relu(leaf, inplace=True)


def test_the_inplace_flag_shows_in_the_repr():
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Dropout(0.1, inplace=True)) == "Dropout(p=0.1, inplace=True)"
