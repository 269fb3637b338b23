"""Optimizers: each step checked against its update formula computed by hand in NumPy,
parity with torch.optim over several steps, state_dict round trips."""
import numpy as np
import pytest

import minigrad
from minigrad import optim
import nn

GRADS = [np.array([[0.5, -1.0], [2.0, 0.1]]), np.array([[-0.3, 0.2], [1.0, -2.0]]),
         np.array([[0.0, 0.4], [-0.5, 0.9]])]
P0 = np.array([[1.0, -2.0], [0.5, 3.0]])


def run_steps(make, grads=GRADS):
    p = nn.Parameter(P0.copy())
    opt = make([p])
    history = []
    for g in grads:
        p.grad = minigrad.tensor(g.copy())
        opt.step()
        history.append(p.numpy().copy())
    return history, p, opt


def test_sgd_plain():
    history, _, _ = run_steps(lambda ps: optim.SGD(ps, lr=0.1))
    p = P0.copy()
    for g, got in zip(GRADS, history):
        p = p - 0.1 * g
        np.testing.assert_allclose(got, p, rtol=1e-12)


def test_sgd_momentum_and_weight_decay():
    lr, mu, wd = 0.1, 0.9, 0.01
    history, _, _ = run_steps(lambda ps: optim.SGD(ps, lr=lr, momentum=mu, weight_decay=wd))
    p, v = P0.copy(), None
    for g, got in zip(GRADS, history):
        d = g + wd * p
        v = d if v is None else mu * v + d
        p = p - lr * v
        np.testing.assert_allclose(got, p, rtol=1e-12)


def test_adam_with_bias_correction():
    lr, (b1, b2), eps, wd = 0.01, (0.8, 0.95), 1e-6, 0.1
    history, _, opt = run_steps(lambda ps: optim.Adam(ps, lr=lr, betas=(b1, b2), eps=eps,
                                                      weight_decay=wd))
    p, m, v = P0.copy(), 0.0, 0.0
    for t, (g, got) in enumerate(zip(GRADS, history), start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(got, p, rtol=1e-12)
    # the very first Adam step moves every element by about lr, whatever its gradient's scale
    first, _, _ = run_steps(lambda ps: optim.Adam(ps, lr=0.01), grads=[GRADS[0] * 1000])
    np.testing.assert_allclose(np.abs(first[0] - P0), 0.01, rtol=1e-5)


def test_adagrad_min_char_rnn_rule():
    lr, eps = 0.1, 1e-10
    history, _, _ = run_steps(lambda ps: optim.Adagrad(ps, lr=lr))
    p, s = P0.copy(), np.zeros_like(P0)
    for g, got in zip(GRADS, history):
        s = s + g * g
        p = p - lr * g / (np.sqrt(s) + eps)
        np.testing.assert_allclose(got, p, rtol=1e-12)


def test_step_skips_parameters_without_grad_and_bumps_version():
    a, b = nn.Parameter(P0.copy()), nn.Parameter(P0.copy())
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = minigrad.tensor(np.ones((2, 2)))
    version = a._version
    opt.step()
    np.testing.assert_array_equal(b.numpy(), P0)
    np.testing.assert_array_equal(a.numpy(), P0 - 1)
    assert a._version > version
    opt.zero_grad()
    assert a.grad is None


def test_step_after_use_in_graph_is_detected():
    w = nn.Parameter(np.array([2.0]))
    y = (w * w).sum()
    w.grad = minigrad.tensor(np.array([1.0]))
    optim.SGD([w], lr=0.5).step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([nn.Parameter(P0)], lr=-1)
    with pytest.raises(TypeError, match="iterable"):
        optim.Adam(nn.Parameter(P0))


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.Adam(ps, lr=0.01),
                                  lambda ps: optim.Adagrad(ps, lr=0.1)])
def test_state_dict_round_trip_continues_identically(make, tmp_path):
    # run 2 steps, save, then 1 more; a fresh optimizer loaded from the save must match
    history, p, opt = run_steps(make, GRADS[:2])
    path = tmp_path / "opt.npz"
    minigrad.save({"param": p.detach(), "optim": opt.state_dict()}, path)
    p.grad = minigrad.tensor(GRADS[2].copy())
    opt.step()
    expected = p.numpy().copy()

    ckpt = minigrad.load(path)
    q = nn.Parameter(ckpt["param"].numpy().copy())
    fresh = make([q])
    fresh.load_state_dict(ckpt["optim"])
    q.grad = minigrad.tensor(GRADS[2].copy())
    fresh.step()
    np.testing.assert_array_equal(q.numpy(), expected)


def test_load_state_dict_shape_mismatch_changes_nothing():
    _, _, opt = run_steps(lambda ps: optim.Adam(ps, lr=0.01), GRADS[:1])
    other = optim.Adam([nn.Parameter(np.zeros(3))], lr=0.5)
    with pytest.raises(ValueError, match=r"exp_avg.*\(2, 2\).*\(3,\)"):
        other.load_state_dict(opt.state_dict())
    assert other.state == {} and other.param_groups[0]["lr"] == 0.5


def test_param_groups_have_their_own_lr():
    a, b = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = b.grad = minigrad.tensor(np.ones(1))
    opt.step()
    assert a.item() == pytest.approx(-0.1) and b.item() == pytest.approx(-1.0)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
                                         ("Adam", dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.01)),
                                         ("Adagrad", dict(lr=0.1))])
def test_parity_with_torch_optim(name, kwargs):
    torch = pytest.importorskip("torch", reason="parity with torch.optim needs torch")
    ours = nn.Linear(3, 2).double()
    theirs = torch.nn.Linear(3, 2).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    opt_ours = getattr(optim, name)(ours.parameters(), **kwargs)
    opt_theirs = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
        opt_ours.zero_grad()
        opt_theirs.zero_grad()
        nn.functional.mse_loss(ours(minigrad.tensor(x)), minigrad.tensor(y)).backward()
        torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        opt_ours.step()
        opt_theirs.step()
    for (k, v), (_, w) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(v.numpy(), w.numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
