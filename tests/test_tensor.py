"""Tensor construction, dtype rules and forward values of every op against NumPy."""
import numpy as np
import pytest

import minigrad

RNG = np.random.default_rng(7)


def arr(*shape):
    return RNG.standard_normal(shape)


def t(a, **kw):
    return minigrad.tensor(a, dtype=minigrad.float64, **kw)


# -- construction and dtypes ------------------------------------------------------------
def test_dtype_rules_follow_pytorch():
    assert minigrad.tensor(1.5).dtype == minigrad.float32
    assert minigrad.tensor([1.0, 2.0]).dtype == minigrad.float32
    assert minigrad.tensor(np.ones(2)).dtype == minigrad.float64      # NumPy float64 stays
    assert minigrad.tensor(np.ones(2, np.float32)).dtype == minigrad.float32
    assert minigrad.tensor([1, 2]).dtype == minigrad.int64
    assert minigrad.tensor(np.arange(3, dtype=np.int32)).dtype == minigrad.int64
    assert minigrad.tensor([1, 2], dtype=minigrad.float64).dtype == minigrad.float64
    assert minigrad.tensor([True, False]).dtype == minigrad.bool_


def test_python_numbers_never_promote():
    x = minigrad.ones(3)
    assert (x * 2.0).dtype == minigrad.float32
    assert (x + np.float64(1.0)).dtype == minigrad.float32
    assert (2 ** x).dtype == minigrad.float32
    assert (minigrad.tensor([1, 2]) * 0.5).dtype == minigrad.float32   # int op float -> float32
    assert (minigrad.tensor([1, 2]) + minigrad.ones(2)).dtype == minigrad.float32
    assert (x + minigrad.ones(3, dtype=minigrad.float64)).dtype == minigrad.float64


def test_factories():
    minigrad.manual_seed(3)
    a = minigrad.randn(2, 3)
    minigrad.manual_seed(3)
    b = minigrad.randn((2, 3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.shape == (2, 3) and a.dtype == minigrad.float32
    r = minigrad.rand(1000)
    assert 0 <= r.numpy().min() and r.numpy().max() < 1
    np.testing.assert_array_equal(minigrad.zeros(2, 2).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(minigrad.ones(3, dtype=minigrad.float64).numpy(), np.ones(3))
    assert minigrad.ones(3, dtype=minigrad.float64).dtype == minigrad.float64
    np.testing.assert_array_equal(minigrad.arange(5).numpy(), np.arange(5))
    assert minigrad.arange(5).dtype == minigrad.int64
    assert minigrad.arange(0, 1, 0.25).dtype == minigrad.float32
    z = minigrad.zeros_like(a, requires_grad=True)
    assert z.shape == a.shape and z.requires_grad and z.is_leaf
    assert minigrad.ones_like(a).numpy().sum() == 6
    assert minigrad.randn(2, requires_grad=True).requires_grad


def test_tensor_attributes():
    x = minigrad.tensor(arr(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.device == "cpu" and x.is_leaf
    assert x.grad is None and x.grad_fn is None and len(x) == 2 and x.numel() == 6
    assert isinstance(x.numpy(), np.ndarray) and isinstance(x.array, np.ndarray)
    assert minigrad.tensor([[2.5]]).item() == 2.5
    assert float(minigrad.tensor(1.5)) == 1.5 and int(minigrad.tensor(3)) == 3
    x.name = "x"
    assert x.name == "x"
    assert "requires_grad=True" in repr(x)
    y = x * 2
    assert "grad_fn=<Mul>" in repr(y)


def test_comparisons_make_no_graph():
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in [(x > 1.5, [0, 1, 1]), (x <= 2, [1, 1, 0]), (x == 2, [0, 1, 0]),
                             (x != 2, [1, 0, 1]), (x < x, [0, 0, 0]), (x >= 3, [0, 0, 1])]:
        assert result.dtype == minigrad.bool_ and result.grad_fn is None
        np.testing.assert_array_equal(result.numpy(), np.array(expected, bool))


def test_to_dtype_and_casts():
    x = minigrad.tensor([1.7, -2.2])
    assert x.to(minigrad.float64).dtype == minigrad.float64
    assert x.double().dtype == minigrad.float64 and x.double().float().dtype == minigrad.float32
    np.testing.assert_array_equal(x.long().numpy(), [1, -2])
    assert x.to("cpu") is x


def test_int_cast_of_a_graph_tensor_has_no_gradient():
    x = minigrad.tensor([1.7, -2.2], requires_grad=True)
    i = x.long()
    assert i.dtype == minigrad.int64 and not i.requires_grad


# -- forward values against NumPy ---------------------------------------------------------
A, B, P = arr(2, 3), arr(3), np.abs(arr(2, 3)) + 0.1

FORWARD = [
    ("add", lambda x, y: x + y, lambda a, b: a + b),
    ("radd", lambda x, y: 1.5 + x, lambda a, b: 1.5 + a),
    ("sub", lambda x, y: x - y, lambda a, b: a - b),
    ("rsub", lambda x, y: 1 - y, lambda a, b: 1 - b),
    ("mul", lambda x, y: x * y, lambda a, b: a * b),
    ("div", lambda x, y: x / (y * y + 1), lambda a, b: a / (b * b + 1)),
    ("rdiv", lambda x, y: 2 / (x * x + 1), lambda a, b: 2 / (a * a + 1)),
    ("neg", lambda x, y: -x, lambda a, b: -a),
    ("pow", lambda x, y: x ** 2, lambda a, b: a ** 2),
    ("rpow", lambda x, y: 2 ** x, lambda a, b: 2 ** a),
    ("matmul_vec", lambda x, y: x @ y, lambda a, b: a @ b),
    ("matmul_mat", lambda x, y: x @ x.T, lambda a, b: a @ a.T),
    ("exp", lambda x, y: x.exp(), lambda a, b: np.exp(a)),
    ("tanh", lambda x, y: x.tanh(), lambda a, b: np.tanh(a)),
    ("sigmoid", lambda x, y: x.sigmoid(), lambda a, b: 1 / (1 + np.exp(-a))),
    ("relu", lambda x, y: x.relu(), lambda a, b: np.maximum(a, 0)),
    ("abs", lambda x, y: abs(x), lambda a, b: np.abs(a)),
    ("clamp", lambda x, y: x.clamp(-0.5, 0.5), lambda a, b: np.clip(a, -0.5, 0.5)),
    ("sum", lambda x, y: x.sum(), lambda a, b: a.sum()),
    ("sum1", lambda x, y: x.sum(1, keepdim=True), lambda a, b: a.sum(1, keepdims=True)),
    ("mean", lambda x, y: x.mean(-1), lambda a, b: a.mean(-1)),
    ("var", lambda x, y: x.var(0), lambda a, b: a.var(0, ddof=1)),
    ("var_biased", lambda x, y: x.var(unbiased=False), lambda a, b: a.var()),
    ("max", lambda x, y: x.max(), lambda a, b: a.max()),
    ("max1", lambda x, y: x.max(1).values, lambda a, b: a.max(1)),
    ("argmax", lambda x, y: x.max(1).indices, lambda a, b: a.argmax(1)),
    ("min0", lambda x, y: x.min(0, keepdim=True)[0], lambda a, b: a.min(0, keepdims=True)),
    ("argmax_fn", lambda x, y: x.argmax(1), lambda a, b: a.argmax(1)),
    ("reshape", lambda x, y: x.reshape(3, 2), lambda a, b: a.reshape(3, 2)),
    ("T", lambda x, y: x.T, lambda a, b: a.T),
    ("permute", lambda x, y: x.unsqueeze(0).permute(2, 0, 1), lambda a, b: a[None].transpose(2, 0, 1)),
    ("expand", lambda x, y: y.expand(2, 3), lambda a, b: np.broadcast_to(b, (2, 3))),
    ("getitem", lambda x, y: x[:, [2, 0]], lambda a, b: a[:, [2, 0]]),
    ("where", lambda x, y: minigrad.where(x > 0, x, y), lambda a, b: np.where(a > 0, a, b)),
    ("cat", lambda x, y: minigrad.cat([x, x], 1), lambda a, b: np.concatenate([a, a], 1)),
    ("stack", lambda x, y: minigrad.stack([y, y], 1), lambda a, b: np.stack([b, b], 1)),
    ("softmax", lambda x, y: x.softmax(1), lambda a, b: np.exp(a) / np.exp(a).sum(1, keepdims=True)),
    ("log_softmax", lambda x, y: minigrad.log_softmax(x, 0),
     lambda a, b: a - np.log(np.exp(a).sum(0, keepdims=True))),
]


@pytest.mark.parametrize("name,mg,ref", FORWARD, ids=[f[0] for f in FORWARD])
def test_forward_matches_numpy(name, mg, ref):
    out = mg(t(A), t(B))
    np.testing.assert_allclose(out.numpy(), ref(A, B), rtol=1e-12, atol=1e-12)


def test_log_and_sqrt_forward():
    np.testing.assert_allclose(t(P).log().numpy(), np.log(P))
    np.testing.assert_allclose(minigrad.sqrt(t(P)).numpy(), np.sqrt(P))


def test_split_chunk_unbind_values():
    a = arr(5, 4)
    pieces = t(a).split(2)
    assert [p.shape for p in pieces] == [(2, 4), (2, 4), (1, 4)]
    np.testing.assert_array_equal(pieces[2].numpy(), a[4:])
    assert [p.shape for p in t(a).chunk(2, 1)] == [(5, 2), (5, 2)]
    rows = t(a).unbind(0)
    assert len(rows) == 5 and rows[3].shape == (4,)
    np.testing.assert_array_equal(rows[3].numpy(), a[3])
    assert [p.shape for p in t(a).split([1, 3], 1)] == [(5, 1), (5, 3)]


def test_softmax_is_stable_for_large_logits():
    x = minigrad.tensor([[1000.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(x.softmax(1).numpy(), [[0.5, 0.5, 0.0]])
    np.testing.assert_allclose(x.log_softmax(1).numpy()[0, :2], np.log([0.5, 0.5]), rtol=1e-6)
    assert np.isfinite(minigrad.cross_entropy(x, [2]).item())
    assert x.sigmoid().numpy().tolist() == [[1.0, 1.0, 0.0]]


def test_cross_entropy_forward_values():
    logits = arr(4, 3)
    target = np.array([0, 2, 1, 2])
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    per = -logp[np.arange(4), target]
    ce = minigrad.cross_entropy
    np.testing.assert_allclose(ce(t(logits), target).item(), per.mean())
    np.testing.assert_allclose(ce(t(logits), target, reduction="sum").item(), per.sum())
    np.testing.assert_allclose(ce(t(logits), target, reduction="none").numpy(), per)
    ignored = np.array([0, -100, 1, -100])
    np.testing.assert_allclose(ce(t(logits), ignored).item(), per[[0, 2]].mean() * 0 +
                               (-logp[0, 0] - logp[2, 1]) / 2)
    np.testing.assert_allclose(ce(t(logits), [0, 1, 1, 1], ignore_index=1).item(), -logp[0, 0])


def test_cross_entropy_nd_matches_flattened():
    logits = arr(2, 3, 4)             # (N, C, d1)
    target = RNG.integers(0, 3, (2, 4))
    flat = logits.transpose(0, 2, 1).reshape(-1, 3)
    a = minigrad.cross_entropy(t(logits), target, reduction="none")
    b = minigrad.cross_entropy(t(flat), target.reshape(-1), reduction="none")
    assert a.shape == (2, 4)
    np.testing.assert_allclose(a.numpy().reshape(-1), b.numpy())


def test_zero_dim_results_are_arrays():
    x = minigrad.tensor(arr(3), dtype=minigrad.float64)
    for y in (x.sum(), x[0], x.max(), x.mean(), (x @ x), x.unbind(0)[1]):
        assert isinstance(y.array, np.ndarray) and y.shape == ()
