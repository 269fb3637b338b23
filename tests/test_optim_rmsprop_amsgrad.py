"""RMSprop, and Adam's / AdamW's ``amsgrad``: step for step what ``torch.optim`` does with the
same float64 parameters and gradients, through a save and a load, and loud about bad
hyper-parameters."""
import numpy as np
import pytest

import minigrad
from minigrad import optim
import nn

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

SHAPES = [(3, 4), (4,), (), (2, 1, 3)]
STEPS = 10


def arrays(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


def gradients(steps=STEPS, seed=1, shrink=1.0, missing=None):
    """Per step, per parameter, a float64 gradient (scaled by ``shrink ** step``) or None."""
    rng = np.random.default_rng(seed)
    return [[None if missing and missing(t, i) else rng.standard_normal(s) * shrink ** t
             for i, s in enumerate(SHAPES)] for t in range(steps)]


def ours_after(make, grads, seed=0):
    params = [nn.Parameter(minigrad.tensor(a, dtype=minigrad.float64)) for a in arrays(seed)]
    opt = make(params)
    for row in grads:
        for p, g in zip(params, row):
            p.grad = None if g is None else minigrad.tensor(g.copy(), dtype=minigrad.float64)
        opt.step()
    return [p.numpy().copy() for p in params], opt


def torchs_after(name, kwargs, grads, seed=0):
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays(seed)]
    opt = getattr(torch.optim, name)(params, **kwargs)
    for row in grads:
        for p, g in zip(params, row):
            p.grad = None if g is None else torch.tensor(g.copy())
        opt.step()
    return [p.detach().numpy().copy() for p in params]


def assert_close(got, expected, rtol=1e-12):
    for i, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-15, err_msg=f"parameter {i}")


RMSPROP_CASES = {
    "plain": dict(),
    "momentum": dict(momentum=0.9),
    "centered": dict(centered=True),
    "weight_decay": dict(weight_decay=0.1),
    "momentum_centered": dict(momentum=0.9, centered=True),
    "everything": dict(lr=3e-3, alpha=0.9, eps=1e-6, momentum=0.5, centered=True,
                       weight_decay=0.1),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(RMSPROP_CASES))
def test_rmsprop_takes_the_same_steps_as_torch(case):
    kwargs = RMSPROP_CASES[case]
    grads = gradients()
    got, _ = ours_after(lambda ps: optim.RMSprop(ps, **kwargs), grads)
    assert_close(got, torchs_after("RMSprop", kwargs, grads))


@needs_torch
def test_rmsprop_skips_a_parameter_without_a_gradient_as_torch_does():
    kwargs = dict(momentum=0.9, centered=True)
    grads = gradients(missing=lambda t, i: i == 1 and t in (2, 3))
    got, opt = ours_after(lambda ps: optim.RMSprop(ps, **kwargs), grads)
    assert_close(got, torchs_after("RMSprop", kwargs, grads))
    assert opt.state_dict()["state"][1]["step"] == STEPS - 2


def test_rmsprop_defaults_are_torchs():
    opt = optim.RMSprop([nn.Parameter(minigrad.tensor(np.zeros(2)))])
    assert opt.defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                                centered=False)


def test_rmsprop_steps_by_hand_as_its_docstring_says():
    lr, alpha, eps, mu = 0.01, 0.9, 1e-8, 0.5
    grads = gradients(4)
    got, _ = ours_after(lambda ps: optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps, momentum=mu,
                                                  centered=True), grads)
    for i, p in enumerate(arrays()):
        s, mean, b = 0.0, 0.0, 0.0
        for row in grads:
            g = row[i]
            s = alpha * s + (1 - alpha) * g * g
            mean = alpha * mean + (1 - alpha) * g
            b = mu * b + g / (np.sqrt(s - mean * mean) + eps)
            p = p - lr * b
        np.testing.assert_allclose(got[i], p, rtol=1e-12)


AMSGRAD_CASES = {
    "adam": ("Adam", dict(lr=0.05, amsgrad=True)),
    "adam_l2": ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.05, amsgrad=True)),
    "adamw_betas": ("AdamW", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1,
                                  amsgrad=True)),
}


@needs_torch
@pytest.mark.parametrize("missing", [None, lambda t, i: i == 2 and t == 4],
                         ids=["group_step", "one_parameter_at_a_time"])
@pytest.mark.parametrize("case", sorted(AMSGRAD_CASES))
def test_amsgrad_with_shrinking_gradients_takes_the_same_steps_as_torch(case, missing):
    name, kwargs = AMSGRAD_CASES[case]
    grads = gradients(shrink=0.5, missing=missing)
    got, opt = ours_after(lambda ps: getattr(optim, name)(ps, **kwargs), grads)
    assert_close(got, torchs_after(name, kwargs, grads))
    plain, _ = ours_after(lambda ps: getattr(optim, name)(ps, **dict(kwargs, amsgrad=False)),
                          grads)
    assert not np.allclose(got[0], plain[0], rtol=1e-6)     # the maximum mattered
    state = opt.state[id(opt.param_groups[0]["params"][0])]
    assert np.all(state["max_exp_avg_sq"] >= state["exp_avg_sq"])


class OneAtATimeAdam(optim.Adam):
    """Adam whose own ``_update`` sends every step down the one-parameter path."""

    def _update(self, p, g, state, group):
        super()._update(p, g, state, group)


def test_amsgrads_group_step_gives_the_bits_of_one_parameter_at_a_time():
    grads = gradients(shrink=0.5)
    group, opt = ours_after(lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True), grads)
    single, _ = ours_after(lambda ps: OneAtATimeAdam(ps, lr=0.05, amsgrad=True), grads)
    assert opt._flat, "the group step was not taken"
    for a, b in zip(group, single):
        assert a.tobytes() == b.tobytes()


def test_amsgrad_switched_on_mid_run_starts_its_maximum_from_the_current_moments():
    grads = gradients(shrink=0.5)
    _, opt = ours_after(lambda ps: optim.Adam(ps, lr=0.05), grads[:3])
    opt.param_groups[0]["amsgrad"] = True
    for p, g in zip(opt.param_groups[0]["params"], grads[3]):
        p.grad = minigrad.tensor(g.copy(), dtype=minigrad.float64)
    opt.step()
    for state in opt.state.values():
        np.testing.assert_array_equal(state["max_exp_avg_sq"], state["exp_avg_sq"])


ROUND_TRIP = {
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "rmsprop_momentum_centered": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9,
                                                          centered=True, weight_decay=0.1),
    "adam_amsgrad": lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
    "adamw_amsgrad": lambda ps: optim.AdamW(ps, lr=0.05, amsgrad=True),
}


@pytest.mark.parametrize("case", sorted(ROUND_TRIP))
def test_a_saved_and_reloaded_optimizer_continues_identically(case, tmp_path):
    make, grads = ROUND_TRIP[case], gradients(6, shrink=0.7)
    _, opt = ours_after(make, grads[:3])
    params = opt.param_groups[0]["params"]
    path = tmp_path / "opt.npz"
    minigrad.save({"params": [p.detach() for p in params], "optim": opt.state_dict()}, path)
    expected = continued(opt, params, grads[3:])

    ckpt = minigrad.load(path)
    fresh_params = [nn.Parameter(minigrad.tensor(t.numpy().copy(), dtype=minigrad.float64))
                    for t in ckpt["params"]]
    fresh = make(fresh_params)
    fresh.load_state_dict(ckpt["optim"])
    assert fresh.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    for a, b in zip(continued(fresh, fresh_params, grads[3:]), expected):
        assert a.tobytes() == b.tobytes()


def continued(opt, params, grads):
    for row in grads:
        for p, g in zip(params, row):
            p.grad = minigrad.tensor(g.copy(), dtype=minigrad.float64)
        opt.step()
    return [p.numpy().copy() for p in params]


def test_rmsprops_state_names_are_torchs():
    _, opt = ours_after(lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True), gradients(2))
    assert sorted(opt.state_dict()["state"][0]) == ["grad_avg", "momentum_buffer", "square_avg",
                                                    "step"]
    _, opt = ours_after(lambda ps: optim.RMSprop(ps), gradients(2))
    assert sorted(opt.state_dict()["state"][0]) == ["square_avg", "step"]


@pytest.mark.parametrize("kwargs,named", [
    (dict(lr=-0.1), "lr=-0.1"),
    (dict(alpha=1.0), "alpha=1.0"),
    (dict(alpha=-0.5), "alpha=-0.5"),
    (dict(eps=-1e-8), "eps=-1e-08"),
    (dict(momentum=-0.9), "momentum=-0.9"),
    (dict(weight_decay=-0.1), "weight_decay=-0.1"),
])
def test_rmsprop_refuses_a_bad_hyperparameter_by_name(kwargs, named):
    with pytest.raises(ValueError, match=f"RMSprop: .*{named}"):
        optim.RMSprop([nn.Parameter(minigrad.tensor(np.zeros(2)))], **kwargs)


@pytest.mark.parametrize("make,named", [
    (lambda ps: optim.RMSprop(ps, centered="yes"), "centered='yes'"),
    (lambda ps: optim.RMSprop(ps, lr="0.1"), "lr='0.1'"),
    (lambda ps: optim.Adam(ps, amsgrad=1), "amsgrad=1"),
    (lambda ps: optim.AdamW(ps, amsgrad=None), "amsgrad=None"),
    (lambda ps: optim.RMSprop([{"params": ps, "centered": 0}]), "centered=0"),
])
def test_a_switch_or_number_of_the_wrong_type_is_refused_by_name(make, named):
    with pytest.raises(TypeError, match=named):
        make([nn.Parameter(minigrad.tensor(np.zeros(2)))])


@pytest.mark.parametrize("make", [
    lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True, weight_decay=0.1),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
], ids=["rmsprop", "adam_amsgrad"])
def test_the_state_lives_on_the_parameters_device_and_the_steps_match_the_cpus(make):
    from minigrad.testing.checked_backend import CheckedArray, checked_device
    grads = gradients(4, shrink=0.5)
    expected, _ = ours_after(make, grads)
    with checked_device() as dev:
        params = [nn.Parameter(minigrad.tensor(a, dtype=minigrad.float64).to(dev))
                  for a in arrays()]
        opt = make(params)
        for row in grads:
            for p, g in zip(params, row):
                p.grad = minigrad.tensor(g.copy(), dtype=minigrad.float64).to(dev)
            opt.step()
        states = [v for s in opt.state.values() for v in s.values() if not isinstance(v, int)]
        assert states and all(type(v) is CheckedArray for v in states)
        got = [p.to("cpu").numpy() for p in params]
    for a, b in zip(got, expected):
        assert a.tobytes() == b.tobytes()
