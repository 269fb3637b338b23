"""Every non-recurrent layer: float64 finite-difference gradchecks of its inputs and
parameters, shapes, modes (train/eval) and input checking."""
import numpy as np
import pytest

import minigrad
import nn
from nn import functional as F
from conftest import randn64


def check_module(module, x, **kwargs):
    """Gradcheck a module's output w.r.t. its input and every parameter, in float64."""
    module.double()
    params = list(module.parameters())

    def fn(x, *ps):
        return module(x)

    inputs = [x] + params
    assert minigrad.gradcheck(fn, inputs, **kwargs)


def test_linear_gradcheck_and_shapes():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    check_module(layer, randn64(5, 4))
    check_module(nn.Linear(4, 3), randn64(2, 5, 4))          # leading dims
    check_module(nn.Linear(4, 3, bias=False), randn64(4))    # one vector, no bias


def test_linear_init_bounds_follow_pytorch():
    layer = nn.Linear(100, 50)
    bound = 1 / np.sqrt(100)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound                      # actually spans the range
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound    # std of U(-a, a) = a/√3


def test_linear_double_backward():
    layer = nn.Linear(3, 2).double()
    x = randn64(4, 3)
    y = (layer(x).tanh() ** 2).sum()
    gx, = minigrad.grad(y, [x], create_graph=True)
    assert minigrad.gradcheck(lambda x: minigrad.grad((layer(x).tanh() ** 2).sum(), [x],
                                                      create_graph=True)[0], [x])
    assert gx.grad_fn is not None


def test_linear_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match=r"\(2, 5\).*5 features.*expects 4"):
        nn.Linear(4, 3)(minigrad.randn(2, 5))


def test_embedding_gradcheck_with_repeated_indices():
    emb = nn.Embedding(5, 3).double()
    idx = minigrad.tensor([[0, 2, 2], [4, 0, 2]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    assert minigrad.gradcheck(lambda w: F.embedding(idx, w), [emb.weight])


def test_embedding_grad_accumulates_rows_by_hand():
    emb = nn.Embedding(4, 2).double()
    idx = np.array([1, 3, 1, 1])
    g = np.arange(8.0).reshape(4, 2)
    emb(minigrad.tensor(idx)).backward(minigrad.tensor(g))
    expected = np.zeros((4, 2))
    np.add.at(expected, idx, g)
    np.testing.assert_array_equal(emb.weight.grad.numpy(), expected)


def test_embedding_double_backward():
    w = randn64(4, 3)
    idx = minigrad.tensor([0, 3, 3])
    assert minigrad.gradcheck(
        lambda w: minigrad.grad((F.embedding(idx, w) ** 3).sum(), [w], create_graph=True)[0], [w])


def test_embedding_index_error_names_index_and_size():
    emb = nn.Embedding(10, 2)
    with pytest.raises(IndexError, match=r"index 12 .*num_embeddings=10"):
        emb(minigrad.tensor([1, 12]))
    with pytest.raises(IndexError, match=r"index -1 "):
        emb(minigrad.tensor([-1, 2]))
    with pytest.raises(TypeError, match="integers"):
        emb(minigrad.tensor([1.0]))


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((1, 2), (1, 0))])
def test_conv2d_gradcheck(stride, padding):
    conv = nn.Conv2d(2, 3, (3, 2), stride=stride, padding=padding)
    check_module(conv, randn64(2, 2, 5, 4))


def test_conv2d_output_shape_and_errors():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    assert conv(minigrad.randn(2, 3, 9, 7)).shape == (2, 8, 5, 4)
    with pytest.raises(ValueError, match="3 channels"):
        conv(minigrad.randn(2, 4, 9, 7))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        nn.Conv2d(1, 1, 5)(minigrad.randn(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="create_graph"):
        x = randn64(1, 3, 5, 5)
        minigrad.grad(conv.double()(x).sum(), [x], create_graph=True)


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), (2, 1, 0)])
def test_max_pool2d_gradcheck(kernel, stride, padding):
    # distinct values so the maximum of each window is unique and the function smooth there
    rng = np.random.default_rng(3)
    x = minigrad.tensor(rng.permutation(2 * 3 * 6 * 5).reshape(2, 3, 6, 5) * 0.1,
                        requires_grad=True, dtype=minigrad.float64)
    assert minigrad.gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding), [x], eps=1e-4)


def test_max_pool2d_values_by_hand():
    x = minigrad.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    y = nn.MaxPool2d(2)(x)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[5, 7], [13, 15]])
    y.sum().backward()
    expected = np.zeros((4, 4))
    expected[[1, 1, 3, 3], [1, 3, 1, 3]] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_flatten_and_activations():
    x = randn64(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    for act, ref in [(nn.Tanh(), np.tanh), (nn.ReLU(), lambda a: np.maximum(a, 0)),
                     (nn.Sigmoid(), lambda a: 1 / (1 + np.exp(-a)))]:
        np.testing.assert_allclose(act(x).numpy(), ref(x.numpy()), rtol=1e-12)
        assert minigrad.gradcheck(act, [randn64(3, 4)])
    assert minigrad.gradcheck(nn.Softmax(dim=1), [randn64(3, 4)])


def test_mse_loss_reductions():
    a, b = randn64(3, 4), randn64(3, 4, rng=np.random.default_rng(5))
    d = a.numpy() - b.numpy()
    np.testing.assert_allclose(F.mse_loss(a, b).item(), (d ** 2).mean())
    np.testing.assert_allclose(F.mse_loss(a, b, reduction="sum").item(), (d ** 2).sum())
    np.testing.assert_allclose(F.mse_loss(a, b, reduction="none").numpy(), d ** 2)
    assert minigrad.gradcheck(lambda a, b: F.mse_loss(a, b), [a, b])
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(a, b, reduction="avg")


# -- dropout ----------------------------------------------------------------------------------
def test_dropout_train_scales_and_eval_is_identity():
    drop = nn.Dropout(0.25)
    x = minigrad.ones(200, 100)
    y = drop(x).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)               # inverted dropout scaling
    assert abs(kept.mean() - 0.75) < 0.01
    drop.eval()
    assert drop(x) is x


def test_dropout_is_repeatable_with_manual_seed_and_gradchecks():
    drop = nn.Dropout(0.5)
    minigrad.manual_seed(7)
    a = drop(minigrad.ones(50)).numpy()
    minigrad.manual_seed(7)
    b = drop(minigrad.ones(50)).numpy()
    np.testing.assert_array_equal(a, b)

    def fn(x):
        minigrad.manual_seed(3)                                 # the same mask every call
        return drop(x)
    assert minigrad.gradcheck(fn, [randn64(4, 5)])


# -- normalisation ----------------------------------------------------------------------------
@pytest.mark.parametrize("make,shape", [(lambda: nn.BatchNorm1d(3), (4, 3)),
                                        (lambda: nn.BatchNorm1d(3), (4, 3, 2)),
                                        (lambda: nn.BatchNorm2d(3), (2, 3, 2, 3))])
def test_batchnorm_gradcheck_train_and_eval(make, shape):
    bn = make().double()
    with minigrad.no_grad():
        bn.weight.array[...] = [0.5, 1.5, -1.0]
        bn.bias.array[...] = [0.1, 0.0, -0.3]
    check_module(bn, randn64(*shape))
    bn.eval()
    bn.running_mean.array[...] = [0.2, -0.1, 0.3]
    bn.running_var.array[...] = [0.5, 2.0, 1.5]
    check_module(bn, randn64(*shape))


def test_batchnorm_running_stats_by_hand():
    bn = nn.BatchNorm2d(2).double()
    x = randn64(4, 2, 3, 3, requires_grad=False).numpy() * 3 + 1
    y = bn(minigrad.tensor(x)).numpy()
    mu = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y, (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5),
                               rtol=1e-10, atol=1e-12)
    n = 4 * 3 * 3
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mu)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * var * n / (n - 1))
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    y = bn(minigrad.tensor(x)).numpy()
    rm, rv = bn.running_mean.numpy(), bn.running_var.numpy()
    np.testing.assert_allclose(y, (x - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5))
    assert bn.num_batches_tracked.item() == 1                  # eval does not count


def test_batchnorm_checks_its_input():
    with pytest.raises(ValueError, match="4 channels"):
        nn.BatchNorm1d(3)(minigrad.randn(2, 4))
    with pytest.raises(ValueError, match="4-d input"):
        nn.BatchNorm2d(3)(minigrad.randn(2, 3))
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(3)(minigrad.randn(1, 3))


def test_layernorm_gradcheck_and_values():
    ln = nn.LayerNorm(4).double()
    with minigrad.no_grad():
        ln.weight.array[...] = [1.0, 2.0, 0.5, -1.0]
        ln.bias.array[...] = [0.0, 0.1, 0.2, 0.3]
    x = randn64(3, 2, 4)
    xn = x.numpy()
    expected = (xn - xn.mean(-1, keepdims=True)) / np.sqrt(xn.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).numpy(), expected * ln.weight.numpy() + ln.bias.numpy(),
                               rtol=1e-10)
    check_module(ln, x)
    check_module(nn.LayerNorm((2, 4)), randn64(3, 2, 4))
    with pytest.raises(ValueError, match="normalized shape"):
        nn.LayerNorm(5)(x)


# -- init and clipping -------------------------------------------------------------------------
def test_init_functions_fill_in_place():
    w = nn.Parameter(np.zeros((64, 32), np.float64))
    version = w._version
    nn.init.xavier_uniform_(w)
    a = np.sqrt(6 / (64 + 32))
    assert np.abs(w.numpy()).max() <= a and w._version > version
    nn.init.normal_(w, 1.0, 0.1)
    assert abs(w.numpy().mean() - 1.0) < 0.01 and abs(w.numpy().std() - 0.1) < 0.01
    nn.init.uniform_(w, -2, 3)
    assert w.numpy().min() >= -2 and w.numpy().max() < 3
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert np.abs(w.numpy()).max() <= np.sqrt(2) * np.sqrt(3 / 32)
    nn.init.zeros_(w)
    assert not w.numpy().any()
    nn.init.ones_(w)
    assert (w.numpy() == 1).all()
    for shape in [(6, 6), (4, 9), (9, 4)]:
        q = nn.Parameter(np.zeros(shape, np.float64))
        nn.init.orthogonal_(q)
        m = q.numpy()
        gram = m @ m.T if shape[0] <= shape[1] else m.T @ m
        np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)


def test_init_is_repeatable_with_manual_seed():
    minigrad.manual_seed(11)
    a = nn.Linear(5, 4).weight.numpy().copy()
    minigrad.manual_seed(11)
    b = nn.Linear(5, 4).weight.numpy()
    np.testing.assert_array_equal(a, b)


def test_clip_grad_norm_and_value():
    a, b = nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros(2))
    a.grad = minigrad.tensor(np.array([3.0, 0.0, 0.0]))
    b.grad = minigrad.tensor(np.array([0.0, 4.0]))
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert isinstance(total, float) and total == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0, 0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([a, b], max_norm=10.0) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0, 0.8], rtol=1e-5)   # under the cap: untouched
    nn.utils.clip_grad_value_([a, b], 0.7)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0, 0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0, 0.7], rtol=1e-5)


def test_conv_pool_dropout_free_their_saved_arrays_and_see_inplace_changes():
    conv = nn.Conv2d(1, 2, 3)
    for make in (lambda x: conv(x), lambda x: F.max_pool2d(x, 2), lambda x: F.dropout(x, 0.5)):
        x = minigrad.randn(2, 1, 6, 6, requires_grad=True)
        loss = make(x).sum()
        loss.backward()
        with pytest.raises(RuntimeError, match="second time"):   # saved arrays were released
            loss.backward()
    loss = conv(minigrad.randn(2, 1, 6, 6)).sum()
    with minigrad.no_grad():
        conv.weight.mul_(2.0)                                      # an optimizer step too early
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
