"""Normalisation layers: ``BatchNorm1d``/``BatchNorm2d`` (per channel, over the batch) and
``LayerNorm`` (per example, over its features)."""
from __future__ import annotations

from minigrad import backend
from minigrad.tensor import Tensor
from .. import functional as F
from . import factory_kwargs
from .arg_checks import positive_int, positive_number, probability
from .module import Module, Parameter


class _BatchNorm(Module):
    """x̂ = (x − μ) / √(σ² + ε),  y = γ x̂ + β, per channel (dim 1).

    ``train()``: μ, σ² are the batch statistics, and the buffers ``running_mean`` /
    ``running_var`` follow them, r ← (1 − momentum) r + momentum · stat (unbiased
    variance), while ``num_batches_tracked`` counts the updates.
    ``eval()``: the running statistics are used, so one example's output no longer
    depends on the rest of its batch.
    """

    expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None, device=None):
        super().__init__()
        name = type(self).__name__
        positive_int(name, "num_features", num_features)
        positive_number(name, "eps", eps)
        if momentum is not None:
            probability(name, "momentum", momentum)
        dtype, device = factory_kwargs.check(name, dtype, device)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = dtype or backend.default_float
        np = backend.host_numpy()
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            self.bias = Parameter(np.zeros(num_features, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), backend.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        factory_kwargs.place(self, None, device)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def forward(self, x):
        if x.ndim not in self.expected_dims:
            raise ValueError(f"{type(self).__name__}: expected a {' or '.join(map(str, self.expected_dims))}"
                             f"-d input, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): input of shape "
                             f"{tuple(x.shape)} has {x.shape[1]} channels")
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            self.num_batches_tracked._bump_version()
        use_running = self.track_running_stats
        return F.batch_norm(x, self.running_mean if use_running else None,
                            self.running_var if use_running else None, self.weight, self.bias,
                            training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm for (N, C) or (N, C, L) inputs."""

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm for (N, C, H, W) feature maps: statistics over N, H and W per channel."""

    expected_dims = (4,)


class LayerNorm(Module):
    """y = (x − μ) / √(σ² + ε) · γ + β with μ, σ² over the last dims ``normalized_shape``
    of each example: no batch statistics, so it behaves the same in train and eval, and
    suits recurrent networks.

    Parameters: ``weight`` (ones) and ``bias`` (zeros) of shape ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, dtype=None,
                 device=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)) or not normalized_shape:
            raise ValueError(f"LayerNorm: normalized_shape must be an int or a non-empty tuple of "
                             f"ints, got normalized_shape={normalized_shape!r}")
        for size in normalized_shape:
            positive_int("LayerNorm", "normalized_shape", size)
        positive_number("LayerNorm", "eps", eps)
        dtype, device = factory_kwargs.check("LayerNorm", dtype, device)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = dtype or backend.default_float
        np = backend.host_numpy()
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        factory_kwargs.place(self, None, device)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
