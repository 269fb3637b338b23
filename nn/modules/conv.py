"""``Conv2d``: a small filter slid over an image, the same weights at every position."""
from __future__ import annotations

import math

from minigrad import backend
from .. import functional as F
from .. import init
from . import factory_kwargs
from .arg_checks import int_pair, positive_int
from .module import Module, Parameter


class Conv2d(Module):
    """y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c]  (cross-correlation, as every framework).

    Args:
        in_channels: C, the input's channels.
        out_channels: O, the output's channels.
        kernel_size: int or (kh, kw).
        stride: int or pair.
        padding: int or pair; zero padding on each side.
        bias: learn one bias per output channel.

    Shapes: (N, C, H, W) -> (N, O, (H + 2p − kh)//s + 1, (W + 2p − kw)//s + 1).
    Parameters: ``weight`` (O, C, kh, kw), ``bias`` (O,), initialised as PyTorch:
    U(−1/√fan_in, 1/√fan_in) with fan_in = C·kh·kw.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 dtype=None, device=None):
        super().__init__()
        positive_int("Conv2d", "in_channels", in_channels)
        positive_int("Conv2d", "out_channels", out_channels)
        kh, kw = int_pair("Conv2d", "kernel_size", kernel_size)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (kh, kw)
        self.stride = int_pair("Conv2d", "stride", stride)
        self.padding = int_pair("Conv2d", "padding", padding, minimum=0)
        dtype, device = factory_kwargs.check("Conv2d", dtype, device)
        dtype = dtype or backend.default_float
        np = backend.host_numpy()
        self.weight = Parameter(np.empty((out_channels, in_channels, kh, kw), dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        factory_kwargs.place(self, None, device)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text
