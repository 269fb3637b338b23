"""Adam's group step (a group's moments laid end to end and stepped as one, in pieces) gives
the same bits as the textbook step taken one parameter at a time, whatever the parameters:
big ones cut into pieces, 0-d ones, non-contiguous ones, float64, some without a gradient,
two sharing one array; and through a save and load, a deep copy, an edited ``lr``.
Clipping and ``zero_grad`` keep their meaning on their quicker loops."""
import copy
import math

import numpy as np
import pytest

import minigrad
from minigrad import optim
import nn

# a cut parameter (over 131072 float32 elements), small ones, a 0-d one and a Fortran-order one
SHAPES = [(65, 100), (400, 400), (400,), (), (1,), (3, 1, 2), (70, 30)]




def make_params(dtype="float32", seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    arrays[-1] = np.asfortranarray(arrays[-1])
    return [nn.Parameter(a) for a in arrays]


def gradients(steps, dtype="float32", seed=1, missing=None, shapes=SHAPES):
    """Per step, per parameter, a gradient array or None (``missing(step, i)``)."""
    rng = np.random.default_rng(seed)
    return [[None if missing and missing(s, i) else
             (rng.standard_normal(shape) * (1 + s % 3)).astype(dtype)
             for i, shape in enumerate(shapes)] for s in range(steps)]


def textbook_adam(arrays, grads_per_step, lr=1e-2, betas=(0.9, 0.999), eps=1e-8,
                  weight_decay=0.0, decoupled=False):
    """Adam one parameter at a time, in the order of operations of Adam's docstring."""
    b1, b2 = betas
    arrays = [a.copy() for a in arrays]
    m = [np.zeros_like(a) for a in arrays]
    v = [np.zeros_like(a) for a in arrays]
    t = [0] * len(arrays)
    for grads in grads_per_step:
        for i, (p, g) in enumerate(zip(arrays, grads)):
            if g is None:
                continue
            if decoupled and weight_decay:
                p *= 1 - lr * weight_decay
            elif weight_decay:
                g = g + weight_decay * p
            t[i] += 1
            s = np.multiply(g, g, out=np.empty_like(p))
            s *= 1 - b2
            v[i] *= b2
            v[i] += s
            np.multiply(g, 1 - b1, out=s)
            m[i] *= b1
            m[i] += s
            np.sqrt(v[i], out=s)
            s /= math.sqrt(1 - b2 ** t[i])
            s += eps
            np.divide(m[i], s, out=s)
            s *= lr / (1 - b1 ** t[i])
            p -= s
    return arrays, m, v, t


def run(opt, params, grads_per_step):
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = None if g is None else minigrad.tensor(g)
        opt.step()


def assert_bits(params, arrays, what=""):
    for i, (p, a) in enumerate(zip(params, arrays)):
        p = p.array if isinstance(p, minigrad.Tensor) else p
        assert p.dtype == a.dtype and p.tobytes() == a.tobytes(), f"{what} param {i}"


KINDS = {"adam": (optim.Adam, dict(), dict()),
         "adam_l2": (optim.Adam, dict(weight_decay=0.1), dict(weight_decay=0.1)),
         "adamw": (optim.AdamW, dict(weight_decay=0.1), dict(weight_decay=0.1, decoupled=True))}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_group_step_gives_the_bits_of_one_parameter_at_a_time(kind, dtype):
    make, kwargs, textbook = KINDS[kind]
    params = make_params(dtype)
    grads = gradients(12, dtype)
    expected, m, v, t = textbook_adam([p.array for p in params], grads, **textbook)
    opt = make(params, lr=1e-2, **kwargs)
    versions = [p._version for p in params]
    run(opt, params, grads)
    assert_bits(params, expected, kind)
    assert [p._version - v0 for p, v0 in zip(params, versions)] == [12] * len(params)
    state = opt.state_dict()["state"]
    for i in range(len(params)):
        assert state[i]["step"] == t[i]
        assert state[i]["exp_avg"].tobytes() == m[i].tobytes()
        assert state[i]["exp_avg_sq"].tobytes() == v[i].tobytes()


def test_parameters_without_a_gradient_keep_their_moments_and_the_bits_stay_the_same():
    params = make_params()
    grads = gradients(10, missing=lambda s, i: (i == 2 and s in (3, 4)) or (i == 4 and s == 0))
    expected, m, v, t = textbook_adam([p.array for p in params], grads)
    run(optim.Adam(params, lr=1e-2), params, grads)
    assert_bits(params, expected)
    assert t[2] == 8 and t[4] == 9


def test_a_model_saved_loaded_copied_and_given_a_new_lr_steps_as_the_textbook():
    params = make_params(shapes=SHAPES)
    grads = gradients(12, shapes=SHAPES)
    opt = optim.Adam(params, lr=1e-2)
    run(opt, params, grads[:4])
    loaded = optim.Adam(params, lr=1e-2)
    loaded.load_state_dict(copy.deepcopy(opt.state_dict()))
    run(loaded, params, grads[4:8])
    copied = copy.deepcopy(loaded, {id(p): p for p in params})    # the same parameters
    run(copied, params, grads[8:10])
    copied.param_groups[0]["lr"] = 5e-3
    run(copied, params, grads[10:])
    assert_bits(params, textbook_twice(grads))
    assert loaded.state[id(params[0])]["step"] == 8         # the copy's steps are its own


def textbook_twice(grads):
    """The textbook run of ``grads`` with lr 1e-2 for ten steps and 5e-3 after."""
    arrays = [p.array.copy() for p in make_params(shapes=SHAPES)]
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = [np.zeros_like(a) for a in arrays]
    v = [np.zeros_like(a) for a in arrays]
    for step, row in enumerate(grads, start=1):
        textbook_step(arrays, m, v, row, step, 1e-2 if step <= 10 else 5e-3, b1, b2, eps)
    return arrays


def textbook_step(arrays, m, v, grads, t, lr, b1, b2, eps):
    for p, g, mi, vi in zip(arrays, grads, m, v):
        s = np.multiply(g, g, out=np.empty_like(p))
        s *= 1 - b2
        vi *= b2
        vi += s
        np.multiply(g, 1 - b1, out=s)
        mi *= b1
        mi += s
        np.sqrt(vi, out=s)
        s /= math.sqrt(1 - b2 ** t)
        s += eps
        np.divide(mi, s, out=s)
        s *= lr / (1 - b1 ** t)
        p -= s


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_two_parameters_sharing_one_array_step_as_one_after_the_other(weight_decay):
    rng = np.random.default_rng(3)
    shared = rng.standard_normal((50, 20)).astype("float32")
    a, b = nn.Parameter(shared), nn.Parameter(shared)
    assert a.array is b.array
    grads = [[rng.standard_normal((50, 20)).astype("float32") for _ in range(2)]
             for _ in range(5)]
    expected = textbook_adam_aliased(shared.copy(), grads, weight_decay)
    run(optim.AdamW([a, b], lr=1e-2, weight_decay=weight_decay), [a, b], grads)
    assert a.array is b.array and a.array.tobytes() == expected.tobytes()


def textbook_adam_aliased(array, grads_per_step, weight_decay, lr=1e-2):
    """AdamW for two parameters that are one array: each decays and steps in turn."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = [np.zeros_like(array) for _ in range(2)]
    v = [np.zeros_like(array) for _ in range(2)]
    for t, grads in enumerate(grads_per_step, start=1):
        for i, g in enumerate(grads):
            if weight_decay:
                array *= 1 - lr * weight_decay
            textbook_step([array], [m[i]], [v[i]], [g], t, lr, b1, b2, eps)
    return array


def test_the_state_arrays_are_the_moments_the_step_changes():
    params = make_params()
    opt = optim.Adam(params, lr=1e-2)
    run(opt, params, gradients(2))
    state = opt.state[id(params[1])]
    state["exp_avg"][...] = 0      # an edit through the state is what the next step sees
    state["exp_avg_sq"][...] = 1
    g = gradients(1, seed=5)[0]
    run(opt, params, [g])
    m, v = opt.state[id(params[1])]["exp_avg"], opt.state[id(params[1])]["exp_avg_sq"]
    assert m.tobytes() == np.multiply(g[1], 1 - 0.9).tobytes()        # 0.9 · 0 + 0.1 g
    s = np.multiply(g[1], g[1])
    s *= 1 - 0.999
    assert v.tobytes() == (np.float32(0.999) + s).tobytes()            # 0.999 · 1 + 0.001 g²


def test_zero_grad_to_zeros_keeps_the_gradient_tensors():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = minigrad.ones_like(p)
    params[2].grad = None
    before = [p.grad for p in params]
    opt.zero_grad(set_to_none=False)
    assert [p.grad for p in params] == before
    assert all(float(abs(p.grad.array).sum()) == 0 for p in params if p.grad is not None)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_clip_grad_norm_adds_the_squares_in_order_and_skips_missing_gradients():
    params = make_params()
    grads = gradients(1, missing=lambda s, i: i == 1)[0]
    for p, g in zip(params, grads):
        p.grad = None if g is None else minigrad.tensor(g.copy())
    expected = math.sqrt(sum(float(np.vdot(g, g)) for g in grads if g is not None))
    total = nn.utils.clip_grad_norm_(iter(params), 0.5)
    assert total == expected
    coef = 0.5 / (expected + 1e-6)
    for p, g in zip(params, grads):
        if g is not None:
            assert p.grad.array.tobytes() == (g * np.float32(coef)).tobytes()
    assert nn.utils.clip_grad_norm_(params[0], 1e9) == math.sqrt(float(np.vdot(
        params[0].grad.array, params[0].grad.array)))
    assert nn.utils.clip_grad_norm_([params[1]], 1.0) == 0.0


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_on_a_stand_in_gpu_the_group_step_gives_the_cpu_textbook_bits(kind):
    from minigrad.testing.checked_backend import checked_device
    make, kwargs, textbook = KINDS[kind]
    host = make_params()
    grads = gradients(5)
    expected, m, _, _ = textbook_adam([p.array for p in host], grads, **textbook)
    with checked_device():
        params = [nn.Parameter(p.to("checked")) for p in host]
        opt = make(params, lr=1e-2, **kwargs)
        for row in grads:
            for p, g in zip(params, row):
                p.grad = minigrad.tensor(g).to("checked")
            opt.step()
        assert all(p.device == "checked:0" for p in params)
        assert_bits([p.numpy() for p in params], expected, kind)
        moments = [opt.state[id(p)]["exp_avg"] for p in params]
        assert all(minigrad.Tensor(a).device == "checked:0" for a in moments)
        assert all(minigrad.Tensor(a).numpy().tobytes() == b.tobytes() for a, b in zip(moments, m))


def textbook_sgd(arrays, grads_per_step, lr, momentum, weight_decay=0.0, momenta=None):
    """SGD with momentum one parameter at a time (``momenta[step]`` overrides μ)."""
    arrays = [a.copy() for a in arrays]
    buffers = [None] * len(arrays)
    for step, grads in enumerate(grads_per_step):
        mu = momenta[step] if momenta else momentum
        for i, (p, g) in enumerate(zip(arrays, grads)):
            if g is None:
                continue
            if weight_decay:
                g = g + weight_decay * p
            if mu:
                if buffers[i] is None:
                    buffers[i] = g.copy()
                else:
                    buffers[i] *= mu
                    buffers[i] += g
                g = buffers[i]
            p -= lr * g
    return arrays, buffers


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_sgd_with_momentum_steps_its_group_as_the_textbook(dtype, weight_decay):
    shapes = SHAPES
    params = make_params(dtype, shapes=shapes)
    grads = gradients(8, dtype, missing=lambda s, i: i == 3 and s == 5, shapes=shapes)
    momenta = [0.9] * 6 + [0.0, 0.5]            # an edited momentum, 0 for one step
    expected, buffers = textbook_sgd([p.array for p in params], grads, 0.1, 0.9,
                                     weight_decay, momenta)
    opt = optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=weight_decay)
    for row, mu in zip(grads, momenta):
        opt.param_groups[0]["momentum"] = mu
        run(opt, params, [row])
    assert_bits(params, expected)
    for i, p in enumerate(params):
        assert opt.state[id(p)]["momentum_buffer"].tobytes() == buffers[i].tobytes()


def test_sgd_momentum_buffers_survive_a_save_and_load_bit_for_bit():
    params = make_params(shapes=SHAPES)
    grads = gradients(6, shapes=SHAPES)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    run(opt, params, grads[:3])
    loaded = optim.SGD(params, lr=0.1, momentum=0.9)
    loaded.load_state_dict(copy.deepcopy(opt.state_dict()))
    run(loaded, params, grads[3:])
    expected, _ = textbook_sgd([p.array for p in make_params(shapes=SHAPES)], grads, 0.1, 0.9)
    assert_bits(params, expected)


@pytest.mark.parametrize("base", [optim.Adam, optim.AdamW, optim.SGD])
def test_a_subclass_with_its_own_update_rule_is_asked_for_every_parameter(base):
    class Halved(base):
        def _update(self, p, g, state, group):
            p.array -= 0.5 * g
    params = make_params()
    kwargs = dict(lr=0.1, momentum=0.9) if base is optim.SGD else {}
    opt = Halved(params, **kwargs)
    grads = gradients(3)
    run(opt, params, grads)
    expected = [p.array.copy() for p in make_params()]
    for row in grads:
        for a, g in zip(expected, row):
            a -= 0.5 * g
    assert_bits(params, expected)


@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, lr=0.1),
                                  lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)])
def test_a_group_step_bumps_the_versions_a_saved_graph_checks(make):
    params = make_params()
    opt = make(params)
    run(opt, params, gradients(2))              # SGD's second step is its first as a group
    y = sum((p * p).sum() for p in params)
    run(opt, params, gradients(1, seed=4))
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()
