"""A failed call leaves every object as it was: each test snapshots every parameter and
buffer (and the optimizer's state) before a call that must fail, and compares after."""
import numpy as np
import pytest

import minigrad
import nn
import nn.functional as F
from minigrad import optim


def model():
    minigrad.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))


def snapshot(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def assert_same(module, before):
    after = snapshot(module)
    assert after.keys() == before.keys()
    for k in before:
        assert after[k].dtype == before[k].dtype and np.array_equal(after[k], before[k]), k


def good_state(m):
    return {k: v.numpy().copy() + 1 for k, v in m.state_dict().items()}


def with_last(m, value):
    sd = good_state(m)
    sd[list(sd)[-1]] = value
    return sd


@pytest.mark.parametrize("make_bad, error", [
    (lambda m: None, TypeError),
    (lambda m: 42, TypeError),
    (lambda m: with_last(m, np.array(["a", "b"])), TypeError),            # strings, last key
    (lambda m: with_last(m, np.array([object(), object()], dtype=object)), TypeError),
    (lambda m: with_last(m, np.zeros(5)), ValueError),                    # wrong shape, last key
    (lambda m: with_last(m, "not an array"), TypeError),
    (lambda m: dict(good_state(m), extra=np.zeros(1)), KeyError),
    (lambda m: {k: v for k, v in list(good_state(m).items())[:-1]}, KeyError),
    (lambda m: dict(good_state(m), **{"1.num_batches_tracked": np.array(0.5)}), TypeError),
    (lambda m: {**good_state(m), 3: np.zeros(1)}, TypeError),
])
def test_failed_load_state_dict_changes_nothing(make_bad, error):
    m = model()
    before = snapshot(m)
    with pytest.raises(error):
        m.load_state_dict(make_bad(m))
    assert_same(m, before)


def test_good_load_state_dict_still_loads_everything():
    m = model()
    sd = good_state(m)
    m.load_state_dict(sd)
    for k, v in snapshot(m).items():
        assert np.array_equal(v, sd[k].astype(v.dtype))


def trained_optimizer(kind=optim.Adam):
    m = model()
    opt = kind(m.parameters(), lr=0.1)
    F.mse_loss(m(minigrad.randn(5, 3)), minigrad.zeros(5, 2)).backward()
    opt.step()
    return m, opt


def optimizer_snapshot(opt):
    sd = opt.state_dict()
    state = {(i, k): (np.array(v).copy()) for i, s in sd["state"].items() for k, v in s.items()}
    groups = [{k: v for k, v in g.items()} for g in sd["param_groups"]]
    return state, groups


def assert_same_optimizer(opt, before):
    state, groups = optimizer_snapshot(opt)
    assert groups == before[1] and state.keys() == before[0].keys()
    for k in state:
        assert np.array_equal(state[k], before[0][k]), k


def bad_optimizer_states(sd):
    first = next(iter(sd["state"]))
    yield "key 'x'", {"state": {"x": sd["state"][first]}, "param_groups": sd["param_groups"]}, KeyError
    yield "key 1.5", {"state": {1.5: sd["state"][first]}, "param_groups": sd["param_groups"]}, KeyError
    groups = [dict(g, params=["a"] * len(g["params"])) for g in sd["param_groups"]]
    yield "param index 'a'", {"state": sd["state"], "param_groups": groups}, KeyError
    yield "no state", {"param_groups": sd["param_groups"]}, KeyError
    yield "None", None, KeyError
    last = list(sd["state"])[-1]
    state = dict(sd["state"])
    state[last] = dict(state[last], exp_avg=np.zeros(7))
    yield "wrong shape last", {"state": state, "param_groups": sd["param_groups"]}, ValueError
    state = dict(sd["state"])
    state[last] = dict(state[last], exp_avg=np.array(["s"] * 2))
    yield "strings last", {"state": state, "param_groups": sd["param_groups"]}, TypeError
    groups = [dict(g, lr="fast") for g in sd["param_groups"]]
    yield "lr string", {"state": sd["state"], "param_groups": groups}, TypeError
    yield "two groups", {"state": sd["state"], "param_groups": sd["param_groups"] * 2}, ValueError


@pytest.mark.parametrize("case", range(9))
def test_failed_optimizer_load_changes_nothing(case):
    m, opt = trained_optimizer()
    name, bad, error = list(bad_optimizer_states(opt.state_dict()))[case]
    before, params = optimizer_snapshot(opt), snapshot(m)
    with pytest.raises(error) as info:
        opt.load_state_dict(bad)
    assert "invalid literal" not in str(info.value), name
    assert_same_optimizer(opt, before)
    assert_same(m, params)


@pytest.mark.parametrize("kind", [optim.SGD, optim.Adam, optim.AdamW, optim.Adagrad])
@pytest.mark.parametrize("bad_grad, error", [
    (lambda p: minigrad.ones(1), ValueError),                                   # would broadcast
    (lambda p: minigrad.ones(*p.shape, dtype=minigrad.float64), TypeError),
    (lambda p: minigrad.ones(*p.shape).long(), TypeError),
])
def test_optimizer_step_checks_every_grad_before_updating(kind, bad_grad, error):
    m, opt = trained_optimizer(kind)
    F.mse_loss(m(minigrad.randn(5, 3)), minigrad.zeros(5, 2)).backward()
    params = list(m.parameters())
    params[-1].grad = bad_grad(params[-1])       # only the last one is wrong
    before, state = snapshot(m), optimizer_snapshot(opt)
    with pytest.raises(error, match="grad"):
        opt.step()
    assert_same(m, before)
    assert_same_optimizer(opt, state)


@pytest.mark.parametrize("build", [
    lambda: nn.Sequential(nn.Linear(2, 2), lambda x: x),
    lambda: nn.Sequential(nn.Linear(2, 2), 3),
    lambda: nn.Sequential({"a": nn.Tanh(), "b": "relu"}),
    lambda: nn.ModuleList([nn.Tanh(), None]),
    lambda: nn.ModuleDict({"a": nn.Tanh(), "b": 1.5}),
])
def test_containers_reject_non_modules(build):
    with pytest.raises(TypeError, match=r"item .* must be an nn.Module, got \w+"):
        build()


def test_container_append_and_extend_leave_the_container_as_it_was():
    seq, lst, dct = nn.Sequential(nn.Tanh()), nn.ModuleList([nn.Tanh()]), nn.ModuleDict()
    with pytest.raises(TypeError, match="item 1 .* got int"):
        seq.append(1)
    with pytest.raises(TypeError, match="item 2 .* got str"):
        lst.extend([nn.ReLU(), "x"])
    with pytest.raises(TypeError, match="item .k. .* got builtin_function"):
        dct["k"] = len
    assert len(seq) == 1 and len(lst) == 1 and len(dct) == 0


def test_in_place_edit_of_an_index_tensor_is_seen_at_backward():
    emb = nn.Embedding(6, 3)
    idx = minigrad.tensor([1, 2, 3])
    y = emb(idx)
    idx[0] = 5
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
    x = minigrad.randn(6, requires_grad=True)
    idx = minigrad.tensor([0, 4])
    z = x[idx]
    idx.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_failed_forward_with_a_wrong_dtype_records_nothing():
    m = model()
    before = snapshot(m)
    with pytest.raises(TypeError, match="float64 but the parameters have dtype float32"):
        m(minigrad.randn(5, 3, dtype=minigrad.float64))
    assert_same(m, before)   # BatchNorm's running statistics did not move
