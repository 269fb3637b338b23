"""``nn.functional`` (imported as ``F``): the layers as plain functions of tensors.

The modules in ``nn.modules`` hold parameters and call these. Each op that is worth one
node in the graph picture is a ``Function`` here, ``forward`` and ``backward`` side by
side; the normalisations are written with Tensor ops so that they read like their
equations and differentiate twice.

    y = F.linear(x, W, b)                       # x Wᵀ + b
    loss = F.cross_entropy(logits, target)      # −log softmax(logits)[target], averaged
"""
from __future__ import annotations

from minigrad import backend
from minigrad.function import Function, _raise_modified
from minigrad.grad_mode import STATE, no_grad
from minigrad.tensor import Tensor
from minigrad.ops.elementwise import relu, tanh, sigmoid  # noqa: F401  (re-exported)
from minigrad.ops.softmax import softmax, log_softmax, cross_entropy  # noqa: F401
from minigrad.ops.nll_loss import nll_loss  # noqa: F401


def _xp(x):
    return backend.get_array_module(x)


def _pair(value, what):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    return value


def check_input(op, x, weight, name="input"):
    """``x`` must be a Tensor of ``weight``'s float dtype: PyTorch never mixes them silently."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__} (wrap data in "
                        "minigrad.tensor(...))")
    if x.dtype != weight.dtype:
        hint = (f"x.to(minigrad.{weight.dtype})" if x.dtype.kind != "f" else
                f"x.to(minigrad.{weight.dtype}) or the module's .to(minigrad.{x.dtype})")
        raise TypeError(f"{op}: {name} has dtype {x.dtype} but the parameters have dtype "
                        f"{weight.dtype}; convert with {hint}")


def _no_double_backward(op):
    if STATE.grad_enabled:
        raise RuntimeError(f"{op}: its backward is computed on arrays and cannot be "
                           "differentiated again (create_graph=True is not supported)")


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------
class Linear(Function):
    """y = x Wᵀ + b for x (..., in), W (out, in), b (out,).

    dL/dx = gy W;   dL/dW = gyᵀ x (summed over all leading dims);   dL/db = Σ gy.
    """

    label = "linear"

    def forward(self, x, weight, bias=None):
        self.save_for_backward(x, weight)
        y = x @ weight.T
        if bias is not None:
            y = y + bias
        return y

    def backward(self, gy):
        x, weight = self.saved_tensors
        needs = self.needs_input_grad
        gx = gy @ weight if needs[0] else None
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            gy2 = gy.reshape(-1, gy.shape[-1])                      # (N, out)
            if needs[1]:
                gw = gy2.T @ x.reshape(-1, x.shape[-1])             # (out, in)
            if len(needs) > 2 and needs[2]:
                gb = gy2.sum(0)                                     # (out,)
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias``: x (..., in), weight (out, in), bias (out,) -> (..., out)."""
    check_input("linear", x, weight)
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input of shape {tuple(x.shape)} has {x.shape[-1]} features, "
                         f"the weight of shape {tuple(weight.shape)} expects {weight.shape[-1]}")
    if bias is None:
        return Linear()(x, weight)
    return Linear()(x, weight, bias)


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------
def mse_loss(input, target, reduction="mean"):  # noqa: A002 - torch's argument name
    """Mean squared error: mean (or sum, or none) of (input − target)²."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"mse_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if isinstance(target, Tensor) and tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"mse_loss: input of shape {tuple(input.shape)} and target of shape "
                         f"{tuple(target.shape)} differ")
    diff = input - target
    squared = diff * diff
    if reduction == "none":
        return squared
    return squared.sum() if reduction == "sum" else squared.mean()


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------
class Dropout(Function):
    """Inverted dropout: y = x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p); dL/dx = gy ⊙ m / (1 − p)."""

    label = "dropout"

    def __init__(self, p):
        self.p = p

    def forward(self, x):
        xp = _xp(x)
        keep = backend.random_uniform(x.shape, x.dtype, xp=xp) >= self.p
        mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))
        self.save_for_backward(mask)
        return x * mask

    def backward(self, gy):
        mask, = self.saved_tensors
        return gy * mask


def dropout(x, p=0.5, training=True):
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p) while
    training, so the expected value is unchanged; the identity when not training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return Dropout(p)(x)


# ---------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------
class Embedding(Function):
    """y = W[idx]: row idx of the table for every index.

    dL/dW adds each gy row into the row it came from (repeated indices accumulate),
    with ``backend.add_rows`` - one pass, no dense one-hot matrix.
    """

    label = "embedding"

    def __init__(self, indices, index_tensor=None):
        self.indices = indices
        # the index Tensor and its version: an in-place edit after forward must not go unseen
        self.index_tensor = index_tensor
        self.index_version = None if index_tensor is None else index_tensor._version

    def forward(self, weight):
        self.num = weight.shape[0]
        return weight[self.indices]

    def backward(self, gy):
        if self.index_tensor is not None and self.index_tensor._version != self.index_version:
            _raise_modified(self, self.index_tensor, self.index_version)
        return EmbeddingGrad(self.indices, self.num)(gy)


class EmbeddingGrad(Function):
    """The backward of ``Embedding``: gW = zeros(num, dim) with gy's rows added at idx.
    Its own backward gathers again, so double backward works."""

    label = "embedding_grad"

    def __init__(self, indices, num):
        self.indices, self.num = indices, num

    def forward(self, gy):
        xp = _xp(gy)
        dim = gy.shape[-1]
        gw = xp.zeros((self.num, dim), dtype=gy.dtype)
        backend.add_rows(gw, self.indices.reshape(-1), gy.reshape(-1, dim))
        return gw

    def backward(self, ggw):
        return Embedding(self.indices)(ggw)


def embedding(indices, weight):
    """Look up rows of ``weight`` (num_embeddings, dim): indices (...) -> (..., dim)."""
    idx = indices.array if isinstance(indices, Tensor) else backend.as_array(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    num = weight.shape[0]
    if idx.size:
        low, high = int(idx.min()), int(idx.max())
        if low < 0 or high >= num:
            bad = high if high >= num else low
            raise IndexError(f"embedding: index {bad} is out of range for num_embeddings={num} "
                             f"(valid: 0..{num - 1})")
    return Embedding(idx, indices if isinstance(indices, Tensor) else None)(weight)


# ---------------------------------------------------------------------------
# Convolution and pooling (im2col with stride tricks)
# ---------------------------------------------------------------------------
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


def _out_size(size, k, s, p, op, what):
    out = (size + 2 * p - k) // s + 1
    if out < 1:
        raise ValueError(f"{op}: {what} {size} with padding {p} is smaller than the kernel {k}")
    return out


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
            gx = Tensor._make(gpad[:, :, ph:ph + h, pw:pw + w], None, 0, False)
        if needs[1]:
            gw = Tensor._make((gy2.T @ cols).reshape(weight.shape), None, 0, False)
        if len(needs) > 2 and needs[2]:
            gb = Tensor._make(gy2.sum(0), None, 0, False)
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution: x (N, C, H, W), weight (O, C, KH, KW), bias (O,) -> (N, O, OH, OW),
    OH = (H + 2·padding − KH) // stride + 1."""
    stride, padding = _pair(stride, "conv2d: stride"), _pair(padding, "conv2d: padding")
    if min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"conv2d: stride must be >= 1 and padding >= 0, got stride={stride}, "
                         f"padding={padding}")
    check_input("conv2d", x, weight)
    if x.ndim != 4:
        raise ValueError(f"conv2d: expected input of shape (N, C, H, W), got {tuple(x.shape)}")
    if weight.ndim != 4 or weight.shape[1] != x.shape[1]:
        raise ValueError(f"conv2d: input of shape {tuple(x.shape)} has {x.shape[1]} channels, the "
                         f"weight of shape {tuple(weight.shape)} (O, C, KH, KW) expects "
                         f"{weight.shape[1] if weight.ndim == 4 else '?'} channels")
    for i in range(2):
        _out_size(x.shape[2 + i], weight.shape[2 + i], stride[i], padding[i], "conv2d",
                  ("height", "width")[i])
    args = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d(stride, padding)(*args)


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
        return Tensor._make(xp.ascontiguousarray(gx), None, 0, False)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over kernel_size windows of x (N, C, H, W); stride defaults to kernel_size."""
    kernel = _pair(kernel_size, "max_pool2d: kernel_size")
    stride = kernel if stride is None else _pair(stride, "max_pool2d: stride")
    padding = _pair(padding, "max_pool2d: padding")
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"max_pool2d: kernel_size and stride must be >= 1 and padding >= 0, got "
                         f"kernel_size={kernel}, stride={stride}, padding={padding}")
    if not isinstance(x, Tensor):
        raise TypeError(f"max_pool2d: input must be a Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: expected input of shape (N, C, H, W), got {tuple(x.shape)}")
    for i in range(2):
        if padding[i] * 2 > kernel[i]:
            raise ValueError(f"max_pool2d: padding {padding} must be at most half the kernel {kernel}")
        _out_size(x.shape[2 + i], kernel[i], stride[i], padding[i], "max_pool2d",
                  ("height", "width")[i])
    return MaxPool2d(kernel, stride, padding)(x)


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------
def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over every dim but the channels (dim 1)::

        x̂ = (x − μ_B) / √(σ²_B + ε),   y = γ x̂ + β

    Training: μ_B, σ²_B are the batch's mean and (biased) variance, and the running
    statistics move towards them, r ← (1 − momentum) r + momentum · stat, with the
    unbiased variance σ²_B · n/(n − 1) (as PyTorch). Evaluation: the running statistics
    are used instead. ``running_mean`` / ``running_var`` are Tensors updated in place
    (or None to always use batch statistics).
    """
    reference = weight if weight is not None else running_mean
    if reference is not None:
        check_input("batch_norm", x, reference)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {tuple(x.shape)}")
    channels = x.shape[1]
    shape = (1, channels) + (1,) * (x.ndim - 2)                      # broadcasts over N and space
    axes = (0,) + tuple(range(2, x.ndim))
    use_batch = training or running_mean is None
    if use_batch:
        count = x.numel() // channels
        if count < 2 and training:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input of shape {tuple(x.shape)}")
        mu = x.mean(axes, keepdim=True)
        centred = x - mu
        var = (centred * centred).mean(axes, keepdim=True)
        x_hat = centred / (var + eps).sqrt()
        if training and running_mean is not None:
            with no_grad():
                m = momentum
                unbiased = var.array.reshape(channels) * (count / max(count - 1, 1))
                running_mean.array *= 1 - m
                running_mean.array += m * mu.array.reshape(channels).astype(running_mean.dtype)
                running_var.array *= 1 - m
                running_var.array += m * unbiased.astype(running_var.dtype)
                running_mean._bump_version()
                running_var._bump_version()
    else:
        xp = _xp(x.array)
        mean = running_mean.array.reshape(shape).astype(x.dtype)
        inv_std = (1.0 / xp.sqrt(running_var.array.reshape(shape) + eps)).astype(x.dtype)
        x_hat = (x - mean) * inv_std
    if weight is not None:
        x_hat = x_hat * weight.reshape(shape)
    if bias is not None:
        x_hat = x_hat + bias.reshape(shape)
    return x_hat


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims of each example::

        y = (x − μ) / √(σ² + ε) · γ + β,   μ, σ² over those dims (biased variance).
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    if not isinstance(x, Tensor):
        raise TypeError(f"layer_norm: input must be a Tensor, got {type(x).__name__}")
    k = len(normalized_shape)
    if tuple(x.shape[x.ndim - k:]) != normalized_shape:
        raise ValueError(f"layer_norm: input of shape {tuple(x.shape)} does not end with the "
                         f"normalized shape {normalized_shape}")
    if weight is not None:
        check_input("layer_norm", x, weight)
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axes, keepdim=True)
    centred = x - mu
    var = (centred * centred).mean(axes, keepdim=True)
    y = centred / (var + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
