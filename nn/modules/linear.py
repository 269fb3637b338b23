"""``Linear``: y = x Wᵀ + b, the affine map every network is built from."""
from __future__ import annotations

import math

from minigrad import backend
from .. import functional as F
from .. import init
from . import factory_kwargs
from .arg_checks import positive_int
from .module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b.

    Args:
        in_features: size of each input row.
        out_features: size of each output row.
        bias: learn an additive bias.

    Shapes: input (..., in_features) -> output (..., out_features).
    Parameters: ``weight`` (out_features, in_features), ``bias`` (out_features,), both
    initialised as PyTorch, U(−1/√in, 1/√in).
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None, device=None):
        super().__init__()
        positive_int("Linear", "in_features", in_features, minimum=0)
        positive_int("Linear", "out_features", out_features, minimum=0)
        dtype, device = factory_kwargs.check("Linear", dtype, device)
        self.in_features, self.out_features = in_features, out_features
        dtype = dtype or backend.default_float
        self.weight = Parameter(backend.host_numpy().empty((out_features, in_features), dtype))
        if bias:
            self.bias = Parameter(backend.host_numpy().empty((out_features,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        factory_kwargs.place(self, None, device)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
