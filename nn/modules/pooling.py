"""``MaxPool2d``: keep the largest value of each window of a feature map."""
from __future__ import annotations

from .. import functional as F
from .arg_checks import int_pair
from .module import Module


class MaxPool2d(Module):
    """y[n, c, i, j] = max of x[n, c] over the kernel_size window at (i·stride, j·stride).

    Args:
        kernel_size: int or (kh, kw).
        stride: defaults to kernel_size (non-overlapping windows).
        padding: implicit −∞ padding on each side.

    Shapes: (N, C, H, W) -> (N, C, (H + 2p − kh)//s + 1, (W + 2p − kw)//s + 1).
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        int_pair("MaxPool2d", "kernel_size", kernel_size)
        if stride is not None:
            int_pair("MaxPool2d", "stride", stride)
        int_pair("MaxPool2d", "padding", padding, minimum=0)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
