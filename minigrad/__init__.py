"""minigrad: a define-by-run autograd framework for learning how recurrent networks work.

    import minigrad
    x = minigrad.randn(3, 4, requires_grad=True)
    loss = (x.tanh() ** 2).sum()
    loss.backward()            # x.grad == 2 tanh(x) (1 - tanh(x)^2)
"""
from . import backend, cuda
from .backend import float32, float64, int64, int32, bool_
from .device_name import device
from .tensor import Tensor, is_tensor
from .function import Function
from .grad_mode import (no_grad, enable_grad, is_grad_enabled, graph_scope, set_grad_enabled,
                        inference_mode)
from .autograd import backward, grad
from .factory import (tensor, zeros, ones, full, zeros_like, ones_like, randn, rand, randint,
                      arange, manual_seed, multinomial, empty, empty_like, eye, linspace,
                      from_numpy, full_like, randn_like, rand_like,
                      FloatTensor, DoubleTensor, LongTensor, IntTensor, BoolTensor)
from .gradcheck import gradcheck, GradcheckError
from .ops.arithmetic import add, sub, mul, div, neg, pow, matmul, bmm
from .ops.elementwise import exp, log, sqrt, abs_ as abs, tanh, sigmoid, relu, clamp, where, masked_fill
from .ops.elementwise import clamp as clip, log1p, erf, maximum, minimum
from .ops.reductions import sum, mean, var, std, max, min, argmax, norm, cumsum, any, all
from .ops.sorting import sort, argsort, topk, argmin
from .ops.views import clone, narrow, t
from .ops.shape import reshape, flatten, transpose, permute, squeeze, unsqueeze, expand, repeat
from .ops.indexing import flip, gather, index_select
from .ops.join import cat, stack, split, chunk, unbind
from .ops.softmax import softmax, log_softmax, cross_entropy
from .serialization import save, load

__version__ = "0.1.0"

# PyTorch's dtype names (``torch.long``, ``torch.float`` ...); defined last since they shadow
# the builtins inside this module's namespace.
long, float, double, int, bool = int64, float32, float64, int32, bool_  # noqa: A001


def __getattr__(name):
    """``minigrad.viz`` and ``minigrad.optim`` load on first use (graphviz stays unimported
    until someone draws)."""
    if name in ("viz", "optim"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'minigrad' has no attribute '{name}'")
