"""Adam updates the host parameters of a group together (their moments side by side in one
flat array): the same bits as updating them one at a time, whatever happens to the state
between steps (a parameter without a gradient, a load, a state replaced by hand, a copy)."""
import copy

import numpy as np
import pytest

import minigrad
from minigrad import optim
import nn

SHAPES = [(65, 10), (40, 10), (40,), (40,), (65,), (1,), (3, 1, 2)]


class OneAtATime(optim.Adam):
    """Adam as it was: ``_update`` called for each parameter in turn."""
    _apply = optim.Optimizer._apply


class AdamWOneAtATime(optim.AdamW):
    _apply = optim.Optimizer._apply


def params(dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    return [nn.Parameter(rng.standard_normal(s).astype(dtype)) for s in SHAPES]


def run(make, steps=5, skip=(), dtype="float32", between=None):
    """``steps`` steps with fixed gradients; at step k the parameters in skip[k] get none."""
    ps = params(dtype)
    opt = make(ps)
    rng = np.random.default_rng(1)
    for k in range(steps):
        for i, p in enumerate(ps):
            missing = k < len(skip) and i in skip[k]
            p.grad = None if missing else minigrad.tensor(rng.standard_normal(p.shape).astype(dtype))
        opt.step()
        if between is not None:
            opt = between(k, opt, ps) or opt
    return [p.array.copy() for p in ps], opt


def assert_same_bits(a, b):
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [{}, {"weight_decay": 0.1}, {"lr": 0.05, "betas": (0.5, 0.9)}])
def test_batched_adam_gives_the_bits_of_one_parameter_at_a_time(dtype, kwargs):
    skip = [(), (2, 5), (), (0,)]                # some parameters fall a step behind the others
    batched, opt = run(lambda ps: optim.Adam(ps, **kwargs), skip=skip, dtype=dtype)
    single, ref = run(lambda ps: OneAtATime(ps, **kwargs), skip=skip, dtype=dtype)
    assert_same_bits(batched, single)
    got, expected = opt.state_dict()["state"], ref.state_dict()["state"]
    assert sorted(got) == sorted(expected) == list(range(len(SHAPES)))
    for i in expected:
        assert got[i]["step"] == expected[i]["step"]
        assert_same_bits([got[i]["exp_avg"], got[i]["exp_avg_sq"]],
                         [expected[i]["exp_avg"], expected[i]["exp_avg_sq"]])


def test_batched_adamw_gives_the_bits_of_one_parameter_at_a_time():
    batched, _ = run(lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1))
    single, _ = run(lambda ps: AdamWOneAtATime(ps, lr=0.01, weight_decay=0.1))
    assert_same_bits(batched, single)


def test_groups_keep_their_own_hyperparameters():
    make = lambda cls: lambda ps: cls([{"params": ps[:3], "lr": 0.1},  # noqa: E731
                                       {"params": ps[3:], "lr": 0.001, "betas": (0.8, 0.9)}])
    assert_same_bits(run(make(optim.Adam))[0], run(make(OneAtATime))[0])


def test_state_changed_between_steps_is_what_the_next_step_uses():
    def load_replace_copy(k, opt, ps):
        if k == 0:                                   # a state_dict round trip
            opt.load_state_dict(copy.deepcopy(opt.state_dict()))
        if k == 1:                                   # a moment replaced by hand
            opt.state[id(ps[1])]["exp_avg"] = np.full(ps[1].shape, 0.5, ps[1].dtype)
        if k == 2:                                   # a copy of the optimizer carries on
            clone = copy.deepcopy(opt)
            clone.param_groups[0]["params"] = ps
            clone.state = {id(p): clone.state[id(q)] for p, q in
                           zip(ps, opt.param_groups[0]["params"])}
            return clone
        return None

    batched, _ = run(lambda ps: optim.Adam(ps, lr=0.01), between=load_replace_copy)
    single, _ = run(lambda ps: OneAtATime(ps, lr=0.01), between=load_replace_copy)
    assert_same_bits(batched, single)


def test_the_state_holds_arrays_shaped_like_the_parameters_and_saves_copies():
    ps = params()
    opt = optim.Adam(ps)
    for p in ps:
        p.grad = minigrad.ones_like(p)
    opt.step()
    for p in ps:
        state = opt.state[id(p)]
        assert state["step"] == 1
        assert state["exp_avg"].shape == p.shape and state["exp_avg_sq"].shape == p.shape
    saved = opt.state_dict()["state"][0]["exp_avg"]
    ps[0].grad = minigrad.ones_like(ps[0])
    opt.step()
    assert not np.shares_memory(saved, opt.state[id(ps[0])]["exp_avg"])
    assert np.array_equal(saved, np.full(ps[0].shape, 0.1, np.float32))


def test_a_failed_step_changes_no_parameter_and_no_state():
    ps = params()
    opt = optim.Adam(ps)
    for p in ps:
        p.grad = minigrad.ones_like(p)
    opt.step()
    before = [p.array.copy() for p in ps], copy.deepcopy(opt.state_dict())
    for p in ps:
        p.grad = minigrad.ones_like(p)
    ps[-1].grad = minigrad.ones(2, 2)                # the last gradient has the wrong shape
    with pytest.raises(ValueError, match="shape"):
        opt.step()
    assert_same_bits([p.array for p in ps], before[0])
    after = opt.state_dict()["state"]
    for i, entry in before[1]["state"].items():
        assert after[i]["step"] == entry["step"]
        assert_same_bits([after[i]["exp_avg"], after[i]["exp_avg_sq"]],
                         [entry["exp_avg"], entry["exp_avg_sq"]])


def test_a_zero_dimensional_parameter_takes_adam_steps():
    p = nn.Parameter(np.array(1.0, np.float32))
    opt = optim.Adam([p], lr=0.1)
    for _ in range(2):
        p.grad = minigrad.tensor(np.array(2.0, np.float32))
        opt.step()
    assert p.shape == () and np.isclose(float(p.array), 0.8, rtol=1e-5)
