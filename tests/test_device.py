"""Device placement: ``Tensor.to``, ``Module.to`` (parameters, buffers, gradients),
optimizer state on the parameters' device, and the error when an op mixes devices.

The device used is ``"checked"`` (``minigrad.testing.checked_backend``), which behaves like a
GPU whose arrays refuse to mix with NumPy's, so these run on any machine."""
import numpy as np
import pytest

import minigrad
import nn
from nn import functional as F
from minigrad import backend
from minigrad.testing.checked_backend import CheckedArray, checked_device


@pytest.fixture(autouse=True)
def dev():
    with checked_device() as name:
        yield name


def test_to_moves_and_same_device_is_a_no_op(dev):
    x = minigrad.tensor([1.0, 2.0])
    assert x.to("cpu") is x
    y = x.to(dev)
    assert y.device == "checked:0" and type(y.array) is CheckedArray
    assert y.to("checked:0") is y and y.to(dev) is y
    z = y.to("cpu")
    assert z.device == "cpu" and type(z.array) is np.ndarray and z.tolist() == [1.0, 2.0]


def test_gradient_flows_back_across_devices(dev):
    x = minigrad.tensor([1.0, -2.0, 3.0], requires_grad=True, dtype=minigrad.float64)
    y = x.to(dev)
    ((y * y).sum()).backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])


def test_to_accepts_dtypes_and_keeps_the_device(dev):
    x = minigrad.tensor([1.0, 2.0], device=dev)
    assert x.to(minigrad.float64).device == "checked:0"
    assert x.double().dtype == minigrad.float64


def test_mixing_devices_names_both(dev):
    a = minigrad.ones(3)
    b = minigrad.ones(3, device=dev)
    for op in (lambda: a + b, lambda: b * a, lambda: a @ b, lambda: minigrad.cat([a, b])):
        with pytest.raises(RuntimeError, match="cpu") as info:
            op()
        assert "checked:0" in str(info.value)
    with minigrad.no_grad():  # checked before forward, with or without recording
        with pytest.raises(RuntimeError, match="checked:0 and cpu"):
            a - b


def test_module_to_moves_parameters_buffers_and_grads(dev):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    F.mse_loss(model(minigrad.randn(5, 3)), minigrad.zeros(5, 4)).backward()
    assert model.to(dev) is model
    for name, p in model.named_parameters():
        assert p.device == "checked:0", name
        assert p.grad.device == "checked:0", name
    names = [name for name, _ in model.named_buffers()]
    assert {"1.running_mean", "1.running_var", "1.num_batches_tracked"} <= set(names)
    for name, b in model.named_buffers():
        assert b.device == "checked:0", name
    out = model(minigrad.randn(5, 3, device=dev))
    assert out.device == "checked:0"
    model.eval()
    assert model(minigrad.randn(5, 3, device=dev)).device == "checked:0"
    model.to("cpu")
    assert all(t.device == "cpu" for t in list(model.parameters()) + list(model.buffers()))


@pytest.mark.parametrize("make", [
    lambda ps: minigrad.optim.Adam(ps, lr=0.1),
    lambda ps: minigrad.optim.SGD(ps, lr=0.1, momentum=0.9),
])
def test_optimizer_state_lives_on_the_parameters_device(dev, make):
    model = nn.Linear(3, 2).to(dev)
    opt = make(list(model.parameters()))
    F.mse_loss(model(minigrad.randn(4, 3, device=dev)), minigrad.zeros(4, 2, device=dev)).backward()
    opt.step()
    arrays = [v for state in opt.state.values() for v in state.values()
              if minigrad.backend.is_array(v) and v.ndim > 0]
    assert arrays, "the optimizer kept no per-parameter arrays"
    assert all(type(a) is CheckedArray for a in arrays)
    assert all(p.device == "checked:0" for p in model.parameters())


def test_optimizer_state_dict_loads_onto_the_parameters_device(dev):
    cpu_model = nn.Linear(3, 2)
    opt = minigrad.optim.Adam(cpu_model.parameters(), lr=0.1)
    F.mse_loss(cpu_model(minigrad.randn(4, 3)), minigrad.zeros(4, 2)).backward()
    opt.step()
    dev_model = nn.Linear(3, 2).to(dev)
    dev_opt = minigrad.optim.Adam(dev_model.parameters(), lr=0.1)
    dev_opt.load_state_dict(opt.state_dict())
    arrays = [v for state in dev_opt.state.values() for v in state.values()
              if minigrad.backend.is_array(v) and v.ndim > 0]
    assert arrays and all(type(a) is CheckedArray for a in arrays)


def test_tensor_to_and_module_to_read_one_target_parser():
    """``backend.parse_target`` is what both ``.to`` methods understand: a dtype or a device."""
    assert backend.parse_target(minigrad.float64) == (backend.float64, None)
    assert backend.parse_target("float32") == (backend.float32, None)
    assert backend.parse_target("cpu") == (None, "cpu")
    for bad in ("gpu", "cuda:x", 3.5):
        with pytest.raises(ValueError, match="bad device"):
            backend.parse_target(bad)
        with pytest.raises(ValueError, match="bad device"):
            minigrad.zeros(2).to(bad)
        with pytest.raises(ValueError, match="bad device"):
            nn.Linear(2, 2).to(bad)
