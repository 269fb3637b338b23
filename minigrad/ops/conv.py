"""Convolution and max pooling on NCHW arrays, by im2col with stride tricks
(``nn.Conv2d``, ``nn.MaxPool2d``, ``F.conv2d``, ``F.max_pool2d``).

A strided view puts every KH×KW window of the input side by side without copying; the
convolution is then one matrix product and pooling one ``argmax``. Both backwards run on
arrays (col2im: one strided add per kernel position; pooling: one scatter-add), so they
cannot be differentiated again.
"""
from __future__ import annotations

from .. import backend
from ..function import Function
from ..grad_mode import STATE
from ..tensor import plain


def _xp(x):
    return backend.get_array_module(x)


def _no_double_backward(op):
    if STATE.grad_enabled:
        raise RuntimeError(f"{op}: its backward is computed on arrays and cannot be "
                           "differentiated again (create_graph=True is not supported)")


def _windows(x, kh, kw, sh, sw):
    """A strided view (N, C, OH, OW, KH, KW) of every KH×KW window of x (N, C, H, W)."""
    xp = _xp(x)
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    return xp.lib.stride_tricks.as_strided(
        x, shape=(n, c, oh, ow, kh, kw),
        strides=(s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3]))


def _pad(x, ph, pw, value=0.0):
    if ph == 0 and pw == 0:
        return _xp(x).ascontiguousarray(x)
    return _xp(x).pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


class Conv2d(Function):
    """Cross-correlation on NCHW: y[n, o, i, j] = b[o] + Σ_{c,u,v} W[o, c, u, v] x[n, c, i·s + u, j·s + v].

    im2col turns it into one matrix product: cols (N·OH·OW, C·KH·KW) @ Wᵀ (C·KH·KW, O).
    Backward: dW = gyᵀ cols, db = Σ gy, dcols = gy W, and col2im adds dcols back into
    the (padded) input positions each window came from.
    """

    label = "conv2d"

    def __init__(self, stride, padding):
        self.stride, self.padding = stride, padding

    def forward(self, x, weight, bias=None):
        (sh, sw), (ph, pw) = self.stride, self.padding
        o, c, kh, kw = weight.shape
        xpad = _pad(x, ph, pw)
        win = _windows(xpad, kh, kw, sh, sw)                               # (N, C, OH, OW, KH, KW)
        n, _, oh, ow = win.shape[:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
        y = cols @ weight.reshape(o, -1).T                                 # (N·OH·OW, O)
        if bias is not None:
            y += bias
        self.save_for_backward(cols, weight)           # freed after backward
        self.x_shape, self.pad_shape, self.out_hw = x.shape, xpad.shape, (oh, ow)
        return y.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)

    def backward(self, gy):
        _no_double_backward("conv2d")
        cols, weight = (t.array for t in self.saved_tensors)
        xp = _xp(gy.array)
        needs = self.needs_input_grad
        (sh, sw), (ph, pw) = self.stride, self.padding
        o, c, kh, kw = weight.shape
        n, (oh, ow) = self.x_shape[0], self.out_hw
        gy2 = gy.array.transpose(0, 2, 3, 1).reshape(-1, o)                 # (N·OH·OW, O)
        gx = gw = gb = None
        if needs[0]:
            gcols = (gy2 @ weight.reshape(o, -1)).reshape(n, oh, ow, c, kh, kw)
            gpad = xp.zeros(self.pad_shape, dtype=gy2.dtype)
            for u in range(kh):                                            # col2im: one slice per
                for v in range(kw):                                        # kernel position
                    gpad[:, :, u:u + sh * oh:sh, v:v + sw * ow:sw] += \
                        gcols[:, :, :, :, u, v].transpose(0, 3, 1, 2)
            h, w = self.x_shape[2:]
            gx = plain(gpad[:, :, ph:ph + h, pw:pw + w])
        if needs[1]:
            gw = plain((gy2.T @ cols).reshape(weight.shape))
        if len(needs) > 2 and needs[2]:
            gb = plain(gy2.sum(0))
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)


class MaxPool2d(Function):
    """y[n, c, i, j] = max over the window at (i·s, j·s); the gradient goes to the
    position of the maximum (the first one on ties, as PyTorch)."""

    label = "max_pool2d"

    def __init__(self, kernel, stride, padding):
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def forward(self, x):
        xp = _xp(x)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        xpad = _pad(x, ph, pw, value=-xp.inf)
        win = _windows(xpad, kh, kw, sh, sw)
        n, c, oh, ow = win.shape[:4]
        flat = win.reshape(n, c, oh, ow, kh * kw)
        arg = flat.argmax(axis=-1)                                          # (N, C, OH, OW)
        y = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        # flat position of each maximum inside one padded (H, W) plane
        rows = xp.arange(oh).reshape(1, 1, oh, 1) * sh + arg // kw
        cols = xp.arange(ow).reshape(1, 1, 1, ow) * sw + arg % kw
        self.save_for_backward(rows * xpad.shape[3] + cols)   # where each maximum came from
        self.x_shape, self.pad_shape = x.shape, xpad.shape
        return y

    def backward(self, gy):
        _no_double_backward("max_pool2d")
        where = self.saved_tensors[0].array
        xp = _xp(gy.array)
        n, c, hp, wp = self.pad_shape
        gpad = xp.zeros((n * c, hp * wp), dtype=gy.dtype)
        plane = xp.arange(n * c).reshape(-1, 1)
        backend.scatter_add(gpad, (plane, where.reshape(n * c, -1)), gy.array.reshape(n * c, -1))
        (ph, pw), (h, w) = self.padding, self.x_shape[2:]
        gx = gpad.reshape(n, c, hp, wp)[:, :, ph:ph + h, pw:pw + w]
        return plain(xp.ascontiguousarray(gx))
