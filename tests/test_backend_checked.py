"""The ops and layers, run a second time on the ``"checked"`` device (a stand-in GPU).

The checked device (``minigrad.testing.checked_backend``) computes with NumPy but its arrays
are not NumPy's: mixing one with a host array, ``numpy.asarray`` on one, ``numpy.add.at``
or ``numpy.random`` on device data all raise, as they do on CuPy. Each case below runs
once on the CPU and once on the checked device from the same host values (and the same
seed); the outputs, every gradient and every updated weight must be identical and must
live on the checked device. A case that reaches around the backend fails here, on a
machine without a GPU. (Each op's correctness itself is checked on the CPU against finite
differences and PyTorch in the other test files; ``gradcheck`` also runs here a few times.)
"""
import numpy as np
import pytest

import minigrad
import nn
from nn import functional as F
from minigrad.testing.checked_backend import checked_device

DEV = "checked:0"


@pytest.fixture(scope="module", autouse=True)
def checked():
    with checked_device() as name:
        yield name


def host(shape, seed, positive=False, away_from_zero=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    if away_from_zero:
        a = np.where(np.abs(a) < 0.1, a + 0.3, a)
    return a


def on(device, arrays, requires_grad=True):
    return [minigrad.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f", device=device)
            for a in arrays]


def assert_on_checked(t, what):
    assert t.device == DEV, f"{what} is on {t.device}, expected {DEV}"


def assert_same(cpu, dev, what):
    assert_on_checked(dev, what)
    np.testing.assert_allclose(dev.numpy(), cpu.numpy(), rtol=1e-12, atol=1e-12, err_msg=what)


def run_both(fn, arrays, **kw):
    """fn on the CPU and on the checked device; compare outputs and input gradients."""
    results = []
    for device in ("cpu", "checked"):
        xs = on(device, arrays)
        out = fn(*xs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        loss = None
        for k, o in enumerate(outs):
            if o.dtype.kind != "f" or not o.requires_grad:
                continue
            weight = minigrad.tensor(host(o.shape, 100 + k), device=device, dtype=o.dtype)
            term = (o * weight).sum()
            loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        results.append((outs, xs))
    (cpu_outs, cpu_xs), (dev_outs, dev_xs) = results
    for k, (a, b) in enumerate(zip(cpu_outs, dev_outs)):
        assert_same(a, b, f"output {k}")
    for k, (a, b) in enumerate(zip(cpu_xs, dev_xs)):
        if a.grad is not None:
            assert b.grad is not None, f"input {k} got no gradient on the checked device"
            assert_same(a.grad, b.grad, f"gradient of input {k}")


OPS = {
    "add_broadcast": (lambda a, b: a + b, [(2, 1, 4), (3, 1)]),
    "sub_number": (lambda a: 2.0 - a * 3, [(2, 3)]),
    "mul_div": (lambda a, b: a * b / (b * b + 1), [(2, 3), (3,)]),
    "pow": (lambda a, b: a ** 2 + a.abs() ** b + 2.0 ** a, [(2, 3), (2, 3)]),
    "numpy_scalar": (lambda a: np.float64(2.0) * a + a * np.float32(0.5), [(3,)]),
    "matmul_2d": (lambda a, b: a @ b, [(2, 3), (3, 4)]),
    "matmul_batched": (lambda a, b: a @ b, [(2, 2, 3), (3, 4)]),
    "matmul_vec": (lambda a, b: a @ b, [(3,), (3,)]),
    "matmul_mat_vec": (lambda a, b: (a @ b).sum() + b @ a.T, [(4, 3), (3,)]),
    "sum_mean_var": (lambda a: a.sum(1) + a.mean(0).sum() + a.var(1, keepdim=True).sum(), [(3, 4)]),
    "sum_all": (lambda a: a.sum(), [(3, 4)]),
    "max_min": (lambda a: a.max(1)[0] + a.min() + a.max(), [(3, 4)]),
    "unary": (lambda a: a.exp() + a.tanh() + a.sigmoid() + a.relu() + a.abs(), [(2, 5)]),
    "log_sqrt": (lambda a: a.abs().log() + (a * a + 1).sqrt(), [(2, 5)]),
    "clamp": (lambda a: a.clamp(-0.5, 0.5) + a.clamp(min=0.1), [(3, 4)]),
    "where": (lambda a, b: minigrad.where(a > 0, a, b), [(3, 4), (4,)]),
    "masked_fill": (lambda a: a.masked_fill(a[0] > 0, -1.0) + a.masked_fill(a > 0.5, 0), [(3, 4)]),
    "maximum_minimum": (lambda a, b: minigrad.maximum(a, b) + b.minimum(a), [(3, 4), (4,)]),
    "log1p_std_cumsum_erf": (lambda a: (a * a).log1p() + a.std(0) + a.cumsum(1) + a.erf(), [(3, 4)]),
    "gather_index_select": (lambda a: a.gather(1, minigrad.tensor([[0, 3], [1, 1], [2, 0]], device=a.device)).sum(1)
                            + a.index_select(1, minigrad.tensor([2, 2, 0], device=a.device)).sum(1), [(3, 4)]),
    "repeat_flip_bmm": (lambda a, b: minigrad.bmm(a.repeat(1, 2, 1).flip(1), b), [(2, 2, 3), (2, 3, 2)]),
    "norm": (lambda a: a.norm() + a.norm(dim=1).sum() + a.norm(1, dim=0).sum()
             + a.norm(float("inf"), dim=1, keepdim=True).sum(), [(3, 4)]),
    "shape": (lambda a: a.reshape(4, 3).T.permute(1, 0).unsqueeze(0).squeeze(0).flatten(), [(3, 4)]),
    "transpose_expand": (lambda a: a.transpose(0, 1).expand(2, 4, 3), [(3, 4)]),
    "getitem_basic": (lambda a: a[1] + a[:, 2].sum() + a[0, 1:3].sum() + a[..., None][0, 0], [(3, 4)]),
    "getitem_list": (lambda a: a[[0, 2, 0]], [(3, 4)]),
    "getitem_mask": (lambda a: a[a > 0], [(3, 4)]),
    "getitem_tensor": (lambda a: a[minigrad.tensor([1, 1, 0], device=a.device)], [(3, 4)]),
    "getitem_2d_index": (lambda a: a[[0, 1, 1], [2, 3, 3]], [(3, 4)]),
    "cat_stack": (lambda a, b: minigrad.cat([a, b], 1).sum(1) + minigrad.stack([a, b]).sum(0).sum(1),
                  [(2, 3), (2, 3)]),
    "split_chunk_unbind": (lambda a: (a.split(2, 1)[1], a.chunk(3, 0)[2], a.unbind(1)[3]), [(3, 4)]),
    "softmax": (lambda a: a.softmax(1) + a.log_softmax(0), [(3, 4)]),
    "astype": (lambda a: a.float().double() * 2, [(3,)]),
    "to_cpu_and_back": (lambda a: (a.to("cpu") * 2).to(a.device) + a, [(3,)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_cpu(name):
    fn, shapes = OPS[name]
    run_both(fn, [host(s, i, away_from_zero=True) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_matches_cpu(ignore):
    targets = np.array([1, 0, 3, 2, 3])
    if ignore:
        targets[1] = -100

    def fn(logits):
        t = minigrad.tensor(targets, device=logits.device)
        return F.cross_entropy(logits, t) + F.cross_entropy(logits.reshape(1, 5, 4).permute(0, 2, 1),
                                                            t.reshape(1, 5))
    run_both(fn, [host((5, 4), 3)])


def test_comparisons_and_argmax_stay_on_device():
    a, = on("checked", [host((3, 4), 0)], requires_grad=False)
    for t in (a > 0, a == a, a.argmax(1), a.argmax(), a.max(1)[1]):
        assert_on_checked(t, "result")
    assert a.argmax().item() == int(np.argmax(host((3, 4), 0)))


def test_one_hot_and_multinomial_stay_on_device_and_match_the_cpu():
    idx = np.array([[0, 3], [2, 2]])
    codes = [F.one_hot(minigrad.tensor(idx, device=d), 4) for d in ("cpu", "checked")]
    assert_on_checked(codes[1], "one_hot")
    assert codes[1].tolist() == codes[0].tolist()
    weights = np.array([[0.2, 0.0, 0.5, 0.3], [1.0, 2.0, 0.0, 1.0]])
    for replacement in (True, False):
        drawn = []
        for device in ("cpu", "checked"):
            minigrad.manual_seed(7)
            drawn.append(minigrad.multinomial(minigrad.tensor(weights, device=device), 3,
                                              replacement=replacement))
        assert_on_checked(drawn[1], "multinomial")
        assert drawn[1].tolist() == drawn[0].tolist()


def test_a_packed_batch_moves_to_the_device_and_runs_an_lstm_there():
    from nn.utils.rnn import pack_padded_sequence
    x = host((4, 3, 2), 5)
    results = []
    for device in ("cpu", "checked"):
        minigrad.manual_seed(3)
        lstm = nn.LSTM(2, 3, bidirectional=True).double().to(device)
        packed = pack_padded_sequence(minigrad.tensor(x), [2, 4, 1], enforce_sorted=False).to(device)
        assert packed.batch_sizes.device == "cpu"
        out, (h_n, _) = lstm(packed)
        (out.data.sum() + h_n.sum()).backward()
        results.append((out.data, h_n, lstm.weight_hh_l0_reverse.grad))
    for k, (a, b) in enumerate(zip(*results)):
        assert_same(a, b, f"result {k}")


def test_gradcheck_runs_on_the_checked_device():
    x, w = on("checked", [host((2, 3), 0), host((4, 3), 1)])
    assert minigrad.gradcheck(lambda x, w: (x @ w.T).tanh().softmax(1), [x, w])
    x, = on("checked", [host((3, 4), 2)])
    assert minigrad.gradcheck(lambda x: x[[0, 2, 0]].sigmoid(), [x])


def test_setitem_and_inplace_on_device():
    a, = on("checked", [host((3, 4), 0)], requires_grad=False)
    a[[0, 2]] = 0.0
    a[1, 1:3] = minigrad.tensor([5.0, 6.0], dtype=minigrad.float64, device="checked")
    a.add_(1.0).mul_(2.0)
    expected = host((3, 4), 0)
    expected[[0, 2]] = 0.0
    expected[1, 1:3] = [5.0, 6.0]
    np.testing.assert_allclose(a.numpy(), (expected + 1) * 2)
    assert_on_checked(a, "a")


# ---------------------------------------------------------------------------
# Layers, losses and optimizers: one model on the CPU, its copy on the checked device
# ---------------------------------------------------------------------------
def both(make):
    minigrad.manual_seed(0)
    cpu = make().double()
    minigrad.manual_seed(0)
    dev = make().double().to("checked")
    for (name, p), q in zip(cpu.named_parameters(), dev.parameters()):
        assert_on_checked(q, name)
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    for name, b in dev.named_buffers():
        assert_on_checked(b, f"buffer {name}")
    return cpu, dev


def train_both(make, inputs, loss_fn, steps=2, optimizer=None):
    """Forward, backward and optimizer steps on both; compare losses, grads and weights."""
    cpu, dev = both(make)
    optimizer = optimizer or (lambda ps: minigrad.optim.Adam(ps, lr=0.01))
    runs = []
    for model, device in ((cpu, "cpu"), (dev, "checked")):
        opt = optimizer(list(model.parameters()))
        minigrad.manual_seed(1)  # dropout masks: the same stream on both devices
        losses = []
        for _ in range(steps):
            xs = [minigrad.tensor(a, device=device) for a in inputs]
            out = model(*xs)
            loss = loss_fn(out, device)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss)
        runs.append((model, losses))
    (cpu, cpu_losses), (dev, dev_losses) = runs
    for a, b in zip(cpu_losses, dev_losses):
        assert_same(a, b, "loss")
    for (name, p), q in zip(cpu.named_parameters(), dev.parameters()):
        assert_same(p.grad, q.grad, f"grad of {name}")
        assert_same(p, q, f"{name} after the optimizer steps")
    for (name, b), c in zip(cpu.named_buffers(), dev.buffers()):
        assert_same(b, c, f"buffer {name}")
    return cpu, dev


def mse(out, device):
    out = out[0] if isinstance(out, tuple) else out
    return F.mse_loss(out, minigrad.tensor(host(out.shape, 7), device=device))


def test_linear_tanh_sgd_momentum():
    train_both(lambda: nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2), nn.ReLU()),
               [host((4, 3), 0)], mse,
               optimizer=lambda ps: minigrad.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01))


def test_embedding_with_repeated_tokens():
    tokens = np.array([[1, 3, 1], [0, 1, 3]])

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5, 4)
            self.out = nn.Linear(4, 5)

        def forward(self, t):
            return self.out(self.emb(t))

    def loss(out, device):
        return F.cross_entropy(out.reshape(-1, 5), minigrad.tensor(tokens.reshape(-1), device=device))
    train_both(Model, [tokens], loss)


def test_conv_pool_batchnorm_dropout_flatten():
    make = lambda: nn.Sequential(  # noqa: E731
        nn.Conv2d(2, 3, 3, stride=1, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.3), nn.Flatten(), nn.Linear(12, 4), nn.BatchNorm1d(4))
    cpu, dev = train_both(make, [host((2, 2, 4, 4), 0)], mse)
    cpu.eval(), dev.eval()
    x = host((2, 2, 4, 4), 5)
    assert_same(cpu(minigrad.tensor(x)), dev(minigrad.tensor(x, device="checked")), "eval output")


def test_layernorm_and_clip_grad_norm():
    cpu, dev = both(lambda: nn.Sequential(nn.Linear(3, 6), nn.LayerNorm(6)))
    norms = []
    for model, device in ((cpu, "cpu"), (dev, "checked")):
        mse(model(minigrad.tensor(host((4, 3), 0), device=device)), device).backward()
        norms.append(nn.utils.clip_grad_norm_(model.parameters(), 0.1))
    assert float(norms[0]) == pytest.approx(float(norms[1]), rel=1e-12)
    for (name, p), q in zip(cpu.named_parameters(), dev.parameters()):
        assert_same(p.grad, q.grad, f"clipped grad of {name}")


@pytest.mark.parametrize("graph", ["steps", "gates"])
@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells(kind, graph):
    def make():
        return getattr(nn, kind)(3, 4, graph=graph)

    def loss(out, device):
        return mse(out, device)

    class Unroll(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = make()

        def forward(self, x):
            state = None
            for t in range(x.shape[0]):
                state = self.cell(x[t]) if state is None else self.cell(x[t], state)
            return state
    train_both(Unroll, [host((3, 2, 3), 0)], loss)


@pytest.mark.parametrize("graph", ["steps", "gates", "layer"])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers(kind, graph):
    def make():
        return getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, dropout=0.2,
                                 batch_first=True, graph=graph)
    cpu, dev = train_both(make, [host((2, 3, 3), 0)], mse)
    for a, b in zip(cpu.hidden_states, dev.hidden_states):
        assert_same(a, b, "hidden state")


def test_state_dict_moves_between_devices(tmp_path):
    cpu, dev = both(lambda: nn.LSTM(3, 4))
    with minigrad.no_grad():
        for p in dev.parameters():
            p.mul_(2.0)
    cpu.load_state_dict(dev.state_dict())      # checked -> cpu
    for (name, p), q in zip(cpu.named_parameters(), dev.parameters()):
        assert p.device == "cpu"
        assert_same(p, q, name)
    minigrad.save(dev.state_dict(), tmp_path / "w.npz")
    loaded = minigrad.load(tmp_path / "w.npz")
    dev2 = nn.LSTM(3, 4).double().to("checked")
    dev2.load_state_dict(loaded)               # host file -> checked
    for (name, p), q in zip(dev.named_parameters(), dev2.parameters()):
        assert_same(p, q, name)
