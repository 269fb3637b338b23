"""PyTorch's dtype rules: no silent float64. Integer inputs to float functions give the
default float dtype (float32); a float32 module refuses float64 or integer input."""
import numpy as np
import pytest

import minigrad
import nn
import nn.functional as F

try:
    import torch
except ImportError:
    torch = None

OPS = {
    "true divide by int": lambda m, a: a / 2,
    "int / int tensor": lambda m, a: a / a,
    "int divides a tensor": lambda m, a: 3 / a,
    "times a float": lambda m, a: a * 1.5,
    "plus a float": lambda m, a: a + 0.5,
    "power 0.5": lambda m, a: a ** 0.5,
    "sqrt": lambda m, a: m.sqrt(a),
    "exp": lambda m, a: m.exp(a),
    "log": lambda m, a: m.log(a),
    "tanh": lambda m, a: m.tanh(a),
    "sigmoid": lambda m, a: m.sigmoid(a),
    "softmax": lambda m, a: m.softmax(a, 0),
    "log_softmax": lambda m, a: m.log_softmax(a, 0),
    "int plus int": lambda m, a: a + a,
    "int times int": lambda m, a: a * 3,
    "sum of ints": lambda m, a: a.sum(),
    "int with float32": lambda m, a: a * m.ones(3),
    "int with float64": lambda m, a: a * m.ones(3, dtype=m.float64),
    "relu of ints": lambda m, a: m.relu(a),
    "float of ints": lambda m, a: a.float(),
}

EXPECTED = {name: "float32" for name in OPS}
EXPECTED.update({"int plus int": "int64", "int times int": "int64", "sum of ints": "int64",
                 "int with float64": "float64", "relu of ints": "int64"})


@pytest.mark.parametrize("name", list(OPS))
def test_integer_inputs_follow_pytorchs_result_dtype(name):
    result = OPS[name](minigrad, minigrad.tensor([1, 2, 4]))
    assert str(result.dtype) == EXPECTED[name]


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name", [n for n in OPS if "softmax" not in n])  # torch: no int softmax
def test_the_table_agrees_with_torch(name):
    result = OPS[name](torch, torch.tensor([1, 2, 4]))
    assert str(result.dtype).replace("torch.", "") == EXPECTED[name]


MODULES = {
    "Linear": (lambda **kw: nn.Linear(3, 2, **kw), (2, 3)),
    "Conv2d": (lambda **kw: nn.Conv2d(1, 2, 2, **kw), (1, 1, 3, 3)),
    "LSTM": (lambda **kw: nn.LSTM(3, 2, **kw), (4, 1, 3)),
    "GRUCell": (lambda **kw: nn.GRUCell(3, 2, **kw), (1, 3)),
    "LayerNorm": (lambda **kw: nn.LayerNorm(3, **kw), (2, 3)),
    "BatchNorm1d": (lambda **kw: nn.BatchNorm1d(3, **kw), (2, 3)),
}


@pytest.mark.parametrize("name", list(MODULES))
@pytest.mark.parametrize("input_dtype", ["float64", "int64"])
def test_a_float32_module_refuses_another_input_dtype(name, input_dtype):
    make, shape = MODULES[name]
    x = minigrad.zeros(*shape).to(getattr(minigrad, input_dtype))
    with pytest.raises(TypeError, match=f"{input_dtype} but the parameters have dtype float32"):
        make()(x)


@pytest.mark.parametrize("name", list(MODULES))
def test_dtype_keyword_builds_a_float64_module_that_takes_float64(name):
    make, shape = MODULES[name]
    module = make(dtype=minigrad.float64)
    assert {p.dtype for p in module.parameters()} == {np.dtype("float64")}
    out = module(minigrad.zeros(*shape, dtype=minigrad.float64))
    out = out[0] if isinstance(out, tuple) else out
    assert out.dtype == minigrad.float64


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name", ["Linear", "LSTM", "GRUCell"])
def test_torch_refuses_the_same_mixes(name):
    make = {"Linear": lambda: torch.nn.Linear(3, 2), "LSTM": lambda: torch.nn.LSTM(3, 2),
            "GRUCell": lambda: torch.nn.GRUCell(3, 2)}[name]
    with pytest.raises((RuntimeError, ValueError)):
        make()(torch.zeros(*MODULES[name][1], dtype=torch.float64))


def test_requires_grad_on_integers_is_refused_like_torch():
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.arange(3).requires_grad_()


def test_nll_loss_of_a_log_softmax_keeps_float32():
    logp = F.log_softmax(minigrad.randn(4, 3), 1)
    assert F.nll_loss(logp, minigrad.tensor([0, 1, 2, 0])).dtype == minigrad.float32
