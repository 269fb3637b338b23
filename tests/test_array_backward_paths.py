"""Ops whose backward runs on arrays when no graph of the gradient is wanted (a plain
``backward()``) must give the very bits of their Tensor-op backward (``create_graph=True``),
and the Tensor path must still differentiate again."""
import numpy as np
import pytest

import minigrad
import nn.functional as F


def _gradients(make_output, inputs, gy, create_graph):
    out = make_output()
    return [g.array for g in minigrad.grad(out, inputs, minigrad.tensor(gy), create_graph=create_graph)]


@pytest.mark.parametrize("x_shape", [(25, 100), (1, 100), (3, 5, 100), (100,)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_plain_backward_is_bitwise_the_graph_backward(x_shape, bias, dtype):
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal(x_shape).astype(dtype), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal((7, 100)).astype(dtype), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(7).astype(dtype), requires_grad=True) if bias else None
    inputs = [x, w] + ([b] if bias else [])
    gy = rng.standard_normal(x_shape[:-1] + (7,)).astype(dtype)
    plain = _gradients(lambda: F.linear(x, w, b), inputs, gy, create_graph=False)
    graph = _gradients(lambda: F.linear(x, w, b), inputs, gy, create_graph=True)
    for p, g in zip(plain, graph):
        assert p.dtype == g.dtype and p.shape == g.shape
        assert p.tobytes() == g.tobytes()


@pytest.mark.parametrize("a_shape,b_shape", [
    ((5,), (5,)), ((4, 5), (5,)), ((5,), (5, 3)), ((4, 5), (5, 3)), ((1, 5), (5, 3)),
    ((2, 4, 5), (2, 5, 3)), ((2, 4, 5), (5, 3)), ((4, 5), (2, 5, 3)), ((5,), (2, 5, 3)),
    ((2, 4, 5), (5,)), ((2, 1, 4, 5), (3, 5, 2)), ((1, 5), (5,)), ((4, 5), (5, 1)),
])
@pytest.mark.parametrize("needs", ["both", "a", "b"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matmul_plain_backward_is_bitwise_the_graph_backward(a_shape, b_shape, needs, dtype):
    rng = np.random.default_rng(3)
    a = minigrad.tensor(rng.standard_normal(a_shape).astype(dtype), requires_grad=needs != "b")
    b = minigrad.tensor(rng.standard_normal(b_shape).astype(dtype), requires_grad=needs != "a")
    inputs = [t for t in (a, b) if t.requires_grad]
    gy = rng.standard_normal(np.matmul(a.numpy(), b.numpy()).shape).astype(dtype)
    plain = _gradients(lambda: a @ b, inputs, gy, create_graph=False)
    graph = _gradients(lambda: a @ b, inputs, gy, create_graph=True)
    for p, g, x in zip(plain, graph, inputs):
        assert p.dtype == g.dtype == x.dtype and p.shape == g.shape == x.shape
        assert p.tobytes() == g.tobytes()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matmul_outer_product_gradients_are_the_matmul_bits(dtype):
    """dL/dW of W h and of u W for one row u (inner dimension 1) are outer products: the very
    numbers numpy.matmul gives for them."""
    rng = np.random.default_rng(4)
    W = minigrad.tensor(rng.standard_normal((6, 5)).astype(dtype), requires_grad=True)
    h = minigrad.tensor(rng.standard_normal(5).astype(dtype), requires_grad=True)
    g = rng.standard_normal(6).astype(dtype)
    (W @ h).backward(minigrad.tensor(g))
    assert W.grad.numpy().tobytes() == np.matmul(g[:, None], h.numpy()[None, :]).tobytes()
    W.grad = None
    u = minigrad.tensor(rng.standard_normal((1, 6)).astype(dtype))       # one row: B = 1
    gu = rng.standard_normal((1, 5)).astype(dtype)
    (u @ W).backward(minigrad.tensor(gu))
    assert W.grad.numpy().tobytes() == np.matmul(u.numpy().T, gu).tobytes()


def test_matmul_plain_backward_of_a_matrix_times_a_vector_makes_no_nodes(monkeypatch):
    """W h, min-char-rnn's every step: its backward computes on arrays, calling no op."""
    W = minigrad.randn(4, 3, requires_grad=True)
    h = minigrad.randn(3, requires_grad=True)
    y = W @ h
    made = []
    monkeypatch.setattr(minigrad.Function, "__call__", lambda self, *a: made.append(self))
    y.backward(minigrad.ones(4))
    assert made == []
    np.testing.assert_allclose(W.grad.numpy(), np.outer(np.ones(4), h.numpy()), rtol=1e-6)
    np.testing.assert_allclose(h.grad.numpy(), W.numpy().sum(0), rtol=1e-6)


def test_linear_differentiates_twice():
    rng = np.random.default_rng(1)
    w = minigrad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(4), requires_grad=True)

    def weight_gradient_sum(x):                     # Σ dL/dW of L = Σ linear(x)², a function of x
        loss = (F.linear(x, w, b) ** 2).sum()
        gw, = minigrad.grad(loss, [w], create_graph=True)
        return gw.sum()

    x = minigrad.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert minigrad.gradcheck(weight_gradient_sum, [x])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_plain_backward_matches_the_graph_backward(reduction):
    rng = np.random.default_rng(2)
    logits = minigrad.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    target = rng.integers(0, 5, 6)
    target[0] = -100                                # ignored: adds no gradient
    make = lambda: F.cross_entropy(logits, minigrad.tensor(target), reduction=reduction)  # noqa: E731
    gy = rng.standard_normal(make().shape)
    plain, = _gradients(make, [logits], gy, create_graph=False)
    graph, = _gradients(make, [logits], gy, create_graph=True)
    assert np.allclose(plain, graph, rtol=1e-12, atol=1e-15)
    assert not plain[0].any()


def _assert_bitwise(plain, graph):
    for p, g in zip(plain, graph):
        assert p.dtype == g.dtype and p.shape == g.shape
        assert p.tobytes() == g.tobytes()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_char_lm_input_projection_plain_backward_is_bitwise_the_graph_backward(dtype):
    # embedding -> reshape -> @ W_ihᵀ (a permute) -> + (b_ih + b_hh) (a sum_to) -> reshape,
    # with repeated token indices (the scatter-add accumulates)
    rng = np.random.default_rng(3)
    table = minigrad.tensor(rng.standard_normal((9, 6)).astype(dtype), requires_grad=True)
    w_ih = minigrad.tensor(rng.standard_normal((8, 6)).astype(dtype), requires_grad=True)
    b_ih = minigrad.tensor(rng.standard_normal(8).astype(dtype), requires_grad=True)
    b_hh = minigrad.tensor(rng.standard_normal(8).astype(dtype), requires_grad=True)
    idx = minigrad.tensor(np.array([[1, 4], [4, 0], [8, 1], [1, 1], [2, 3]]))

    def make():
        x = F.embedding(idx, table)                                  # (5, 2, 6)
        xw = x.reshape(10, 6) @ w_ih.T
        return (xw + (b_ih + b_hh)).reshape(5, 2, 8)

    gy = rng.standard_normal((5, 2, 8)).astype(dtype)
    inputs = [table, w_ih, b_ih, b_hh]
    _assert_bitwise(_gradients(make, inputs, gy, create_graph=False),
                    _gradients(make, inputs, gy, create_graph=True))


@pytest.mark.parametrize("make_output, shape", [
    (lambda x: x.permute(2, 0, 1) * 1.0, (2, 3, 4)),
    (lambda x: x.transpose(0, 2) * 1.0, (2, 3, 4)),
    (lambda x: x.reshape(6, 4) * 1.0, (2, 3, 4)),
    (lambda x: x.unsqueeze(1).squeeze(1) * 1.0, (2, 3, 4)),
    (lambda x: x.expand(5, 2, 3, 4) * 1.0, (2, 3, 4)),
    (lambda x: x.expand(2, 3, 4) + minigrad.zeros(7, 2, 3, 4), (2, 1, 4)),
    (lambda x: x + minigrad.zeros(2, 3, 4), (3, 1)),
])
def test_shape_ops_plain_backward_is_bitwise_the_graph_backward(make_output, shape):
    rng = np.random.default_rng(4)
    x = minigrad.tensor(rng.standard_normal(shape), requires_grad=True)
    out_shape = make_output(x).shape
    gy = rng.standard_normal(out_shape)
    _assert_bitwise(_gradients(lambda: make_output(x), [x], gy, create_graph=False),
                    _gradients(lambda: make_output(x), [x], gy, create_graph=True))


def test_embedding_plain_backward_gives_a_fresh_table_gradient_and_differentiates_twice():
    rng = np.random.default_rng(5)
    table = minigrad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    idx = np.array([3, 3, 0, 3])
    gy = rng.standard_normal((4, 3))
    plain, = _gradients(lambda: F.embedding(idx, table), [table], gy, create_graph=False)
    expected = np.zeros((4, 3))
    for n, i in enumerate(idx):
        expected[i] += gy[n]
    assert np.allclose(plain, expected, rtol=1e-15, atol=0)
    graph, = _gradients(lambda: F.embedding(idx, table), [table], gy, create_graph=True)
    assert plain.tobytes() == graph.tobytes()

    c = minigrad.tensor(rng.standard_normal((4, 3)))

    def weighted_gradient(t):                          # d/dt of Σ c ⊙ dL/dtable, L = Σ e(t)²
        loss = (F.embedding(idx, t) ** 2).sum()
        g, = minigrad.grad(loss, [t], create_graph=True)
        return (g * c).sum()

    assert minigrad.gradcheck(weighted_gradient, [table])



@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("spatial", [False, True])
def test_cross_entropy_without_ignored_targets_gives_the_bits_of_the_masked_path(reduction,
                                                                                 create_graph,
                                                                                 spatial):
    # ignore_index=-100 lies outside the targets' range: no mask is made. ignore_index=3 lies
    # inside it (but no target is 3): the masked path runs. Both must give the same bits.
    rng = np.random.default_rng(6)
    shape = (7, 5, 2) if spatial else (7, 5)                  # (N, C, d1) or (N, C)
    logits = minigrad.tensor(rng.standard_normal(shape).astype("float32"), requires_grad=True)
    target = np.array([0, 4, 2, 4, 1, 0, 2])
    target = minigrad.tensor(np.stack([target, target[::-1]], 1) if spatial else target)
    results = []
    for ignore_index in (-100, 3):
        loss = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction=reduction)
        gy = minigrad.tensor(np.linspace(0.5, 1.5, loss.array.size).astype("float32")
                             .reshape(loss.shape))
        g, = minigrad.grad(loss, [logits], gy, create_graph=create_graph)
        results.append((loss.array, g.array))
    _assert_bitwise(results[0], results[1])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_stack_and_unbind_plain_backward_is_bitwise_the_graph_backward(dim):
    # unbind's pieces are used unevenly (one twice, one not at all: a zero gradient), then
    # stacked back, as a recurrent layer's time loop does
    rng = np.random.default_rng(7)
    x = minigrad.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)

    def make():
        pieces = minigrad.unbind(x, dim)
        used = [p * 2.0 for p in pieces[:-1]] + [pieces[0]]
        return minigrad.stack(used, dim)

    out_shape = make().shape
    gy = rng.standard_normal(out_shape)
    _assert_bitwise(_gradients(make, [x], gy, create_graph=False),
                    _gradients(make, [x], gy, create_graph=True))
