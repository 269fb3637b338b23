"""``nn.init``: fill a parameter in place with the starting values a layer wants.

Every function changes ``tensor.array`` under ``no_grad``, draws its random numbers from
minigrad's generator (so ``minigrad.manual_seed`` makes them repeatable, on CPU and GPU
alike), bumps the tensor's version and returns the tensor::

    nn.init.xavier_uniform_(layer.weight)     # U(−a, a), a = gain · √(6 / (fan_in + fan_out))
    nn.init.zeros_(layer.bias)

Fans follow PyTorch: for a weight (out, in, k1, k2, ...), fan_in = in · k1 · k2 ... and
fan_out = out · k1 · k2 ....
"""
from __future__ import annotations

import math

from minigrad import backend
from minigrad.grad_mode import no_grad


def _xp(tensor):
    return backend.get_array_module(tensor.array)


def _fill(tensor, array):
    with no_grad():
        tensor.array[...] = array
        tensor._bump_version()
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through ``nonlinearity``."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fans(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims, got shape "
                         f"{tuple(tensor.shape)}")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples of U(a, b)."""
    return _fill(tensor, backend.random_uniform(tensor.shape, tensor.dtype, a, b, xp=_xp(tensor)))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples of N(mean, std²)."""
    z = backend.random_normal(tensor.shape, tensor.dtype, xp=_xp(tensor))
    return _fill(tensor, z * tensor.dtype.type(std) + tensor.dtype.type(mean))


def constant_(tensor, value):
    return _fill(tensor, value)


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot: U(−a, a) with a = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    """Glorot: N(0, std²) with std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: U(−bound, bound) with bound = gain · √(3 / fan). ``nn.Linear`` uses a = √5, which
    gives bound = 1/√fan_in."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming_uniform_: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: N(0, std²) with std = gain / √fan."""
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def orthogonal_(tensor, gain=1.0):
    """A (semi-)orthogonal matrix: Q of the QR decomposition of a Gaussian matrix, signs
    fixed so Q is uniformly distributed (Saxe et al. 2013). Recurrent weights initialised
    this way keep the norm of a state through many steps at the start of training."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs a tensor with at least 2 dims, got shape "
                         f"{tuple(tensor.shape)}")
    np = backend.host_numpy()  # a one-off QR at initialisation: done on the host, then moved
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = backend.random_normal((rows, cols), backend.float64, xp=np)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    q = (gain * q).reshape(tensor.shape).astype(tensor.dtype)
    return _fill(tensor, backend.to_device(q, tensor.device))
