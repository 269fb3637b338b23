"""``Optimizer.step`` checks every gradient before it changes anything (a quick test of the
usual case, the full one otherwise), and Adam steps parameters of any shape, 0-d included."""
import copy

import numpy as np
import pytest

import minigrad
from minigrad import optim
import nn

SHAPES = [(65, 10), (40, 10), (40,), (65,), (1,), (3, 1, 2)]


def params(dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    return [nn.Parameter(rng.standard_normal(s).astype(dtype)) for s in SHAPES]


def stepped_once(make):
    ps = params()
    opt = make(ps)
    for p in ps:
        p.grad = minigrad.ones_like(p)
    opt.step()
    return ps, opt


def bad_last_gradients(p):
    yield "shape", minigrad.ones(2, 2), ValueError
    yield "dtype", minigrad.ones(*p.shape, dtype=minigrad.float64), TypeError
    yield "not a Tensor", np.ones(p.shape, np.float32), TypeError


@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, weight_decay=0.1),
                                  lambda ps: optim.AdamW(ps), lambda ps: optim.Adagrad(ps),
                                  lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)])
@pytest.mark.parametrize("case", range(3))
def test_a_bad_last_gradient_fails_the_step_before_any_parameter_or_state_changes(make, case):
    ps, opt = stepped_once(make)
    before = [p.array.copy() for p in ps], copy.deepcopy(opt.state_dict())
    versions = [p._version for p in ps]
    for p in ps:
        p.grad = minigrad.ones_like(p)
    what, bad, error = list(bad_last_gradients(ps[-1]))[case]
    ps[-1].grad = bad
    with pytest.raises(error, match=r"\.grad|grad"):
        opt.step()
    for p, array in zip(ps, before[0]):
        assert p.array.tobytes() == array.tobytes(), what
    assert [p._version for p in ps] == versions
    after = opt.state_dict()["state"]
    for i, entry in before[1]["state"].items():
        for key, value in entry.items():
            assert np.array_equal(after[i][key], value), (what, key)


def test_a_zero_dimensional_parameter_takes_adam_steps():
    p = nn.Parameter(np.array(1.0, np.float32))
    opt = optim.Adam([p], lr=0.1)
    for _ in range(2):
        p.grad = minigrad.tensor(np.array(2.0, np.float32))
        opt.step()
    assert p.shape == () and np.isclose(float(p.array), 0.8, rtol=1e-5)
    assert opt.state[id(p)]["exp_avg"].shape == ()


def test_a_zero_dimensional_parameters_adam_moments_survive_a_reload_as_float32_arrays():
    p = nn.Parameter(np.array(1.0, np.float32))
    opt = optim.Adam([p], lr=0.1)
    p.grad = minigrad.tensor(np.array(2.0, np.float32))
    opt.step()
    again = optim.Adam([p], lr=0.1)
    again.load_state_dict(opt.state_dict())
    for name in ("exp_avg", "exp_avg_sq"):
        moment = again.state[id(p)][name]
        assert isinstance(moment, np.ndarray) and moment.shape == () and moment.dtype == np.float32
    assert again.state[id(p)]["step"] == 1


def test_sgd_momentum_with_weight_decay_keeps_a_zero_dimensional_buffer_moving():
    # v ← μ v + (g + λ p); p ← p − lr v, by hand for three steps
    p = nn.Parameter(np.array(1.0, np.float64))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    value, buffer = 1.0, None
    for _ in range(3):
        p.grad = minigrad.tensor(np.array(2.0, np.float64))
        opt.step()
        g = 2.0 + 0.5 * value
        buffer = g if buffer is None else 0.9 * buffer + g
        value -= 0.1 * buffer
    assert np.isclose(float(p.array), value, rtol=1e-12)
    assert float(opt.state[id(p)]["momentum_buffer"]) == pytest.approx(buffer, rel=1e-12)
