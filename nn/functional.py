"""``nn.functional`` (imported as ``F``): the layers as plain functions of tensors.

The modules in ``nn.modules`` hold parameters and call these. Each function checks its
arguments (a clear error at the user's call) and hands the arrays to its op: the ops that
are worth one node in the graph picture are ``Function`` classes in ``minigrad/ops/``
(``linear.py``, ``dropout.py``, ``embedding.py``, ``conv.py``), forward and backward side
by side. The normalisations are written here with Tensor ops so that they read like their
equations and differentiate twice.

    y = F.linear(x, W, b)                       # x Wᵀ + b
    loss = F.cross_entropy(logits, target)      # −log softmax(logits)[target], averaged
"""
from __future__ import annotations

import math

from minigrad import backend
from minigrad.grad_mode import no_grad
from minigrad.ops.conv import Conv2d, MaxPool2d
from minigrad.ops.dropout import Dropout
from minigrad.ops.embedding import Embedding
from minigrad.ops.linear import Linear
from minigrad.tensor import Tensor, _broadcasts_to
from minigrad.grad_mode import is_grad_enabled
from minigrad.ops.elementwise import relu as _relu, tanh, sigmoid  # noqa: F401  (re-exported)
from minigrad.ops.elementwise import where as _where
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


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------
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
def check_reduction(op, reduction):
    """``reduction`` itself when it is 'mean', 'sum' or 'none' (what every loss takes)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    """'none': the elementwise loss; 'sum': its total; 'mean': its average over every element."""
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def mse_loss(input, target, reduction="mean"):  # noqa: A002 - torch's argument name
    """Mean squared error: mean (or sum, or none) of (input − target)²."""
    check_reduction("mse_loss", reduction)
    if isinstance(target, Tensor) and tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"mse_loss: input of shape {tuple(input.shape)} and target of shape "
                         f"{tuple(target.shape)} differ")
    diff = input - target
    return _reduce(diff * diff, reduction)


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------
def dropout(x, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p) while
    training, so the expected value is unchanged; the identity when not training.
    ``inplace``: see ``in_place``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    y = x * 0.0 if p == 1.0 else Dropout(p)(x)
    return in_place("dropout", x, y) if inplace else y


def relu(x, inplace=False):
    """y = max(x, 0). ``inplace``: see ``in_place``."""
    return in_place("relu", x, _relu(x)) if inplace else _relu(x)


def in_place(op, x, result):
    """What ``inplace=True`` (``nn.ReLU(inplace=True)``, ``nn.Dropout(inplace=True)``) gives.

    Where nothing is recorded (under ``no_grad``, or x needs no gradient) x itself is
    overwritten with the result and returned, as in PyTorch. Where x is part of a recorded
    graph the result is returned as a new tensor and x keeps its values: minigrad does not
    rewrite a recorded tensor's history, so the graph and the gradients are PyTorch's and
    only the memory saving is not made. A leaf that requires grad is refused, as in PyTorch.
    """
    if not (x.requires_grad and is_grad_enabled()):
        x.array[...] = result.array
        x._bump_version()
        return x
    if x.grad_fn is None:
        raise RuntimeError(f"{op}(inplace=True): a leaf tensor that requires grad cannot be "
                           "changed in place (as in PyTorch); use inplace=False")
    return result


# ---------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------
def embedding(indices, weight, padding_idx=None):
    """Look up rows of ``weight`` (num_embeddings, dim): indices (...) -> (..., dim).
    The row ``padding_idx`` (a padding token's) gets no gradient, as in PyTorch."""
    idx = indices.array if isinstance(indices, Tensor) else backend.as_array(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    num = weight.shape[0]
    if not backend.indices_in_range(idx, num):
        high = int(idx.max())
        bad = high if high >= num else int(idx.min())
        raise IndexError(f"embedding: index {bad} is out of range for num_embeddings={num} "
                         f"(valid: 0..{num - 1})")
    padding_idx = checked_padding_idx("embedding", padding_idx, num)
    return Embedding(idx, indices if isinstance(indices, Tensor) else None, padding_idx)(weight)


def checked_padding_idx(op, padding_idx, num):
    """``padding_idx`` as a row in [0, num) (negative counts from the end), or None."""
    if padding_idx is None:
        return None
    if not isinstance(padding_idx, int) or isinstance(padding_idx, bool) or \
            not -num <= padding_idx < num:
        raise ValueError(f"{op}: padding_idx must be an int in [-{num}, {num}) "
                         f"(num_embeddings={num}), got {padding_idx!r}")
    return padding_idx % num


def one_hot(tensor, num_classes=-1):
    """The one-hot code of integer class indices, as ``torch.nn.functional.one_hot``:
    indices (...) -> int64 (..., num_classes) with a 1 at each index and 0 elsewhere (what
    min-char-rnn feeds its RNN: x_t = one_hot(char_t, vocab_size), so x_t W_xh picks row
    char_t of W_xh, the lookup ``embedding`` does without building x_t). ``num_classes=-1``
    takes the largest index + 1. Use ``.float()`` (or ``.to(dtype)``) to feed it to a layer."""
    idx = tensor.array if isinstance(tensor, Tensor) else backend.as_array(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: needs integer class indices, got dtype {idx.dtype}")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be a non-negative int or -1, got {num_classes!r}")
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes=")
        num_classes = max(int(idx.max()) + 1, 0)
    if not backend.indices_in_range(idx, num_classes):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise ValueError(f"one_hot: class index {bad} is out of range for num_classes={num_classes} "
                         f"(valid: 0..{num_classes - 1})")
    xp = backend.get_array_module(idx)
    classes = xp.arange(num_classes, dtype=idx.dtype)
    return Tensor((idx[..., None] == classes).astype(backend.int64))


# ---------------------------------------------------------------------------
# Convolution and pooling (the ops: minigrad/ops/conv.py)
# ---------------------------------------------------------------------------
def _out_size(size, k, s, p, op, what):
    out = (size + 2 * p - k) // s + 1
    if out < 1:
        raise ValueError(f"{op}: {what} {size} with padding {p} is smaller than the kernel {k}")
    return out


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


# ---------------------------------------------------------------------------
# Losses for yes/no targets (multi-label classification, VQA answer scores)
# ---------------------------------------------------------------------------
def _check_loss_tensor(op, name, t, input, same_dtype):  # noqa: A002
    """``t`` a float Tensor, of ``input``'s dtype when ``same_dtype`` (PyTorch's BCE insists;
    its with-logits form promotes, float32 with float64 giving float64)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__} (wrap data "
                        "in minigrad.tensor(...))")
    if t.dtype.kind != "f" or (same_dtype and t.dtype != input.dtype):
        need = f"the input's dtype {input.dtype}" if same_dtype else "a floating point dtype"
        raise TypeError(f"{op}: {name} has dtype {t.dtype}, expected {need}; convert with "
                        f"{name}.to(minigrad.{input.dtype})")


def _check_binary_loss_args(op, input, target, extra, same_dtype=True):  # noqa: A002
    """``input`` and ``target`` float Tensors of one shape; each of ``extra`` ({name: tensor
    or None}, e.g. weight) a float Tensor broadcasting to that shape."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {input.dtype} "
                        "(convert with input.float() or input.double())")
    for name, t in (("target", target),) + tuple(extra.items()):
        if t is not None or name == "target":
            _check_loss_tensor(op, name, t, input, same_dtype)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} differs from input of "
                         f"shape {tuple(input.shape)}; they must be the same shape (PyTorch "
                         "refuses to broadcast them: reshape or unsqueeze the target)")
    for name, t in extra.items():
        if t is not None and not _broadcasts_to(tuple(t.shape), tuple(input.shape)):
            raise ValueError(f"{op}: {name} of shape {tuple(t.shape)} does not broadcast to "
                             f"the input's shape {tuple(input.shape)}")


def _check_probabilities(op, input):  # noqa: A002
    """PyTorch refuses probabilities outside [0, 1] (NaN included): usually a missing sigmoid."""
    a = input.array
    outside = ~((a >= 0) & (a <= 1))
    if bool(outside.any()):
        bad = float(a[outside].reshape(-1)[0])
        raise ValueError(f"{op}: all elements of input must be probabilities in [0, 1], got "
                         f"{bad!r}; for logits (raw scores) use "
                         "binary_cross_entropy_with_logits (nn.BCEWithLogitsLoss)")


def _clamped_log(p):
    """max(log p, −100), as PyTorch's BCE, so that p = 0 gives a finite loss (100 per
    element) instead of inf. p is first raised to the smallest normal number: log's
    gradient 1/p then stays finite, and the outer clamp sends 0 back where log p < −100."""
    tiny = float(_xp(p.array).finfo(p.dtype).tiny)
    return p.clamp(min=tiny).log().clamp(min=-100.0)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """Binary cross-entropy between probabilities ``input`` (e.g. a sigmoid's output) and
    targets ``target`` in [0, 1] of the same shape::

        loss = −w · (y · log x + (1 − y) · log(1 − x)),   each log clamped at −100

    ``weight`` (broadcast to the input's shape) rescales each element's loss; 'mean'
    averages over every element (weights included, not divided by their sum).

    The gradient is that of the formula, (x − y) / (x (1 − x)) times w, wherever the
    clamp is inactive (e^−100 < x < 1 − e^−100); where a log term is clamped its gradient
    is 0, while PyTorch's hand-written backward returns (x − y) / 10⁻¹². Prefer
    ``binary_cross_entropy_with_logits``: it takes the logits and never saturates.
    """
    op = "binary_cross_entropy"
    check_reduction(op, reduction)
    _check_binary_loss_args(op, input, target, {"weight": weight})
    _check_probabilities(op, input)
    loss = -(target * _clamped_log(input) + (1.0 - target) * _clamped_log(1.0 - input))
    return _reduce(loss if weight is None else loss * weight, reduction)


def _softplus(z):
    """log(1 + eᶻ) without overflow: max(z, 0) + log(1 + e^(−|z|)), where e^(−|z|) <= 1.

    Both pieces have a kink at z = 0 whose slopes cancel in the sum; each takes its slope
    from the right (clamp passes the gradient at its bound, |z| is where(z >= 0, z, −z)),
    so the gradient at 0 is 1 − ½ = σ(0) = ½, as it must be."""
    abs_z = _where(z >= 0, z, -z)
    return z.clamp(min=0.0) + (1.0 + (-abs_z).exp()).log()


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",  # noqa: A002
                                     pos_weight=None):
    """``binary_cross_entropy(sigmoid(input), target)`` computed from the logits ``input``,
    stably (no sigmoid that rounds to 0 or 1, no exp that overflows)::

        −[p·y·log σ(x) + (1 − y)·log(1 − σ(x))] · w
          = [(1 − y)·x + (1 + (p − 1)·y) · softplus(−x)] · w,   softplus(z) = log(1 + eᶻ)

    since −log σ(x) = softplus(−x) and −log(1 − σ(x)) = x + softplus(−x). Without
    ``pos_weight`` (p = 1) this is max(x, 0) − x·y + log(1 + e^(−|x|)).

    ``pos_weight`` (broadcast to the input's shape, usually one value per class along the
    last dim) multiplies the positive (y = 1) term: p = #negatives / #positives of a class
    balances a rare label. ``weight`` rescales each element's loss, as in BCE.
    """
    op = "binary_cross_entropy_with_logits"
    check_reduction(op, reduction)
    _check_binary_loss_args(op, input, target, {"weight": weight, "pos_weight": pos_weight},
                            same_dtype=False)
    log_weight = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * target
    loss = (1.0 - target) * input + log_weight * _softplus(-input)
    return _reduce(loss if weight is None else loss * weight, reduction)


# ---------------------------------------------------------------------------
# Activations (tanh, sigmoid and relu are ops: minigrad/ops/elementwise.py)
# ---------------------------------------------------------------------------
def checked_number(op, name, value):
    """``value`` itself when it is a real number (not a bool), else a TypeError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{op}: {name} must be a number, got {name}={value!r}")
    return value


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """y = x for x > 0, negative_slope · x otherwise: a ReLU whose negative side keeps a
    small slope, so a unit pushed below 0 still gets a gradient (dy/dx = negative_slope
    there, and at 0, as PyTorch). ``inplace``: see ``in_place``."""
    slope = checked_number("leaky_relu", "negative_slope", negative_slope)
    if not isinstance(input, Tensor):
        raise TypeError(f"leaky_relu: input must be a Tensor, got {type(input).__name__}")
    y = _where(input > 0, input, input * float(slope))
    return in_place("leaky_relu", input, y) if inplace else y


GELU_APPROXIMATIONS = ("none", "tanh")


def check_gelu_approximate(op, approximate):
    """``approximate`` as GELU accepts it: 'none' (the exact form) or 'tanh'."""
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"{op}: approximate must be 'none' or 'tanh', got {approximate!r}")
    return approximate


def gelu(input, approximate="none"):  # noqa: A002
    """GELU, the Gaussian error linear unit: y = x·Φ(x), x weighted by the probability that
    a standard normal falls below it (a smooth ReLU; transformers use it)::

        y = ½ x (1 + erf(x / √2))                        (approximate='none', exact)
        y = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))     (approximate='tanh')
    """
    check_gelu_approximate("gelu", approximate)
    if not isinstance(input, Tensor):
        raise TypeError(f"gelu: input must be a Tensor, got {type(input).__name__}")
    if approximate == "none":
        return 0.5 * input * (1.0 + (input * (1.0 / math.sqrt(2.0))).erf())
    inner = (2.0 / math.pi) ** 0.5 * (input + 0.044715 * (input * input * input))
    return 0.5 * input * (1.0 + inner.tanh())
