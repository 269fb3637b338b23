"""Values and gradients against PyTorch (skipped when torch is not installed)."""
import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def check_op(shapes, torch_fn, mg_fn, positive=False, atol=1e-10):
    """Run both on the same float64 inputs; compare outputs and every input's gradient."""
    rng = np.random.default_rng(len(shapes) * 100 + sum(len(s) for s in shapes))
    arrays = [rng.standard_normal(s) for s in shapes]
    if positive:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    mx = [minigrad.tensor(a, requires_grad=True, dtype=minigrad.float64) for a in arrays]
    ty, my = torch_fn(*tx), mg_fn(*mx)
    np.testing.assert_allclose(my.numpy(), ty.detach().numpy(), atol=atol)
    g = rng.standard_normal(ty.shape)
    ty.backward(torch.tensor(g))
    my.backward(minigrad.tensor(g, dtype=minigrad.float64))
    for t, m in zip(tx, mx):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), atol=atol)


@pytest.mark.parametrize("shapes,torch_fn,mg_fn", [
    ([(2, 3), (3,)], lambda a, b: a * b + a / (b * b + 1), lambda a, b: a * b + a / (b * b + 1)),
    ([(2, 3, 4), (4, 5)], lambda a, b: a @ b, lambda a, b: a @ b),
    ([(1, 4), (4, 3)], lambda a, b: a @ b, lambda a, b: a @ b),
    ([(3, 4)], lambda a: a.max(1).values, lambda a: a.max(1).values),
    ([(3, 4)], lambda a: a.var(0), lambda a: a.var(0)),
    ([(3, 4)], lambda a: torch.log_softmax(a, 1), lambda a: a.log_softmax(1)),
    ([(3, 4)], lambda a: torch.softmax(a, 0), lambda a: a.softmax(0)),
    ([(3, 4)], lambda a: a.sigmoid() * a.tanh().relu(), lambda a: a.sigmoid() * a.tanh().relu()),
    ([(3, 4)], lambda a: a.clamp(-0.3, 0.4), lambda a: a.clamp(-0.3, 0.4)),
    ([(4, 3)], lambda a: a[[0, 0, 3], 1:], lambda a: a[[0, 0, 3], 1:]),
    ([(2, 6)], lambda a: torch.cat(a.chunk(3, 1)[::-1], 0), lambda a: minigrad.cat(a.chunk(3, 1)[::-1], 0)),
    ([(2, 3)], lambda a: torch.stack(a.unbind(1), 0).permute(1, 0), lambda a: minigrad.stack(a.unbind(1), 0).permute(1, 0)),
])
def test_values_and_gradients_match_torch(shapes, torch_fn, mg_fn):
    check_op(shapes, torch_fn, mg_fn)


def test_pow_forms_match_torch():
    check_op([(3,), (3,)], lambda a, b: a ** b + 2.0 ** b + a ** 3, lambda a, b: a ** b + 2.0 ** b + a ** 3,
             positive=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_torch(reduction):
    target = np.array([[1, -100, 2], [0, 1, -100]])  # (N=2, d1=3)
    tt = torch.tensor(target)
    check_op([(2, 4, 3)],
             lambda x: torch.nn.functional.cross_entropy(x, tt, reduction=reduction),
             lambda x: minigrad.cross_entropy(x, target, reduction=reduction))


def test_double_backward_matches_torch():
    a = np.random.default_rng(0).standard_normal((3, 4))
    t = torch.tensor(a, requires_grad=True)
    m = minigrad.tensor(a, requires_grad=True, dtype=minigrad.float64)
    tg, = torch.autograd.grad(torch.log_softmax(t.tanh(), 1)[:, 0].sum(), t, create_graph=True)
    mg, = minigrad.grad(m.tanh().log_softmax(1)[:, 0].sum(), m, create_graph=True)
    np.testing.assert_allclose(mg.numpy(), tg.detach().numpy(), atol=1e-12)
    (tg ** 2).sum().backward()
    (mg ** 2).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), atol=1e-10)
