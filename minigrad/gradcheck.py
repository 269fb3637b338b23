"""Check autograd against finite differences.

For a random projection L = Σ R ⊙ f(x) of the function's output, compare each input's
analytic gradient dL/dx (from backward) with the central difference

    (L(x + ε e_i) − L(x − ε e_i)) / 2ε

element by element. Run it in float64: in float32 the difference itself is noise.
"""
from __future__ import annotations

from . import backend
from .autograd import grad as autograd_grad
from .tensor import Tensor, plain


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with finite differences."""


def _outputs(fn, inputs):
    """The float Tensors among ``fn``'s results (integer results such as indices have no gradient)."""
    out = fn(*inputs)
    if isinstance(out, Tensor):
        out = [out]
    return [o for o in out if isinstance(o, Tensor) and o.dtype.kind == "f"]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """True when ``fn``'s gradients match finite differences for every input that requires grad.

    On a mismatch it raises ``GradcheckError`` naming the input, the worst element's index
    and both values (or returns False when ``raise_exception=False``).
    """
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != backend.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences "
                            "need float64 (use .double() or dtype=minigrad.float64)")

    outputs = _outputs(fn, inputs)
    rng = backend.host_numpy().random.default_rng(seed)
    projections = []
    for out in outputs:
        xp = backend.get_array_module(out.array)
        projections.append(xp.asarray(rng.standard_normal(out.shape)).astype(out.dtype))

    def projected(outs):
        total = 0.0
        for o, r in zip(outs, projections):
            total += float((o.array * r).sum())
        return total

    loss = None
    for o, r in zip(outputs, projections):
        term = (o * plain(r)).sum()
        loss = term if loss is None else loss + term
    analytic = autograd_grad(loss, [inputs[i] for i in checked], allow_unused=True)

    for position, i in enumerate(checked):
        x = inputs[i]
        numeric = backend.host_numpy().zeros(x.shape)
        # Not under no_grad: fn may itself call minigrad.grad (checking a double backward).
        # x.array is written element by element in place (works for non-contiguous data too).
        for k in backend.host_numpy().ndindex(*x.shape):
            original = float(x.array[k])
            x.array[k] = original + eps
            plus = projected(_outputs(fn, inputs))
            x.array[k] = original - eps
            minus = projected(_outputs(fn, inputs))
            x.array[k] = original
            numeric[k] = (plus - minus) / (2 * eps)
        g = analytic[position]
        got = backend.to_host(g.array) if g is not None else backend.host_numpy().zeros(x.shape)
        error = abs(got - numeric) - (atol + rtol * abs(numeric))
        if error.size and error.max() > 0:
            worst = tuple(int(v) for v in backend.host_numpy().unravel_index(error.argmax(), error.shape))
            message = (f"gradcheck: gradient of input {i} (shape {tuple(x.shape)}) disagrees with "
                       f"finite differences at index {worst}: analytic {got[worst]:.8g}, "
                       f"numeric {numeric[worst]:.8g} (atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
