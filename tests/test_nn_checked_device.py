"""The layers, optimizers, clipping, init and checkpoints are device-agnostic: on the
'checked' stand-in GPU (whose arrays refuse any NumPy mixing) a seeded run reproduces
the CPU run exactly."""
import numpy as np

import minigrad
import nn
from nn import functional as F
from minigrad.testing.checked_backend import checked_device


def train_a_little(device, path):
    minigrad.manual_seed(0)                 # weights are made on the CPU, then moved
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.0), nn.Linear(16, 3),
                          nn.LayerNorm(3))
    emb = nn.Embedding(5, 3)
    model.to(device)
    emb.to(device)
    params = list(model.parameters()) + list(emb.parameters())
    optimizers = [minigrad.optim.Adam(params, lr=0.01),
                  minigrad.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=0.1),
                  minigrad.optim.Adagrad(params)]
    x = minigrad.tensor(np.random.default_rng(0).standard_normal((4, 1, 4, 4)).astype(np.float32))
    x = x.to(device)
    idx, target = minigrad.tensor([0, 1, 4, 4]).to(device), minigrad.tensor([0, 1, 2, 0]).to(device)
    for opt in optimizers * 2:
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out + emb(idx), target) + F.mse_loss(out, emb(idx))
        loss.backward()
        nn.utils.clip_grad_norm_(params, 0.5)
        nn.utils.clip_grad_value_(params, 0.05)
        opt.step()
    optimizers[0].load_state_dict(optimizers[0].state_dict())
    minigrad.save({"model": model.state_dict(), "optim": optimizers[0].state_dict()}, path)
    back = minigrad.load(path, device=device)
    model.load_state_dict(back["model"])
    model.eval()
    with minigrad.no_grad():
        evaluated = model(x).numpy()
    return loss.item(), evaluated, {k: v.numpy() for k, v in model.state_dict().items()}


def test_checked_device_reproduces_cpu_run(tmp_path):
    cpu = train_a_little("cpu", tmp_path / "cpu.npz")
    with checked_device():
        dev = train_a_little("checked", tmp_path / "dev.npz")
    assert cpu[0] == dev[0]
    np.testing.assert_array_equal(cpu[1], dev[1])
    for k in cpu[2]:
        np.testing.assert_array_equal(cpu[2][k], dev[2][k], err_msg=k)


def test_init_and_dropout_run_on_the_checked_device():
    with checked_device():
        w = nn.Parameter(minigrad.zeros(6, 4, device="checked"))
        for fill in (nn.init.orthogonal_, nn.init.xavier_uniform_, nn.init.kaiming_uniform_,
                     nn.init.normal_, nn.init.uniform_, nn.init.ones_):
            fill(w)
            assert w.device == "checked:0"
        m = w.numpy()
        assert (m == 1).all()
        x = minigrad.ones(100, 100, device="checked", requires_grad=True)
        y = F.dropout(x, 0.5)
        y.sum().backward()
        kept = y.numpy() != 0
        assert 0.45 < kept.mean() < 0.55 and y.device == "checked:0"
        np.testing.assert_array_equal(x.grad.numpy(), kept * 2.0)
