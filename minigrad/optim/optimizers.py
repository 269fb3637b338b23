"""The optimizers (``minigrad.optim.SGD``, ``Adam``, ``AdamW``, ``Adagrad``, ``RMSprop``) and
their base class;
see ``minigrad.optim`` for how they are used."""
from __future__ import annotations

import math
import numbers

from .. import backend
from ..grad_mode import no_grad
from .flat_state import FlatState
from ..tensor import Tensor


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``state_dict`` / ``load_state_dict``.

    ``params`` is an iterable of tensors, or of dicts ``{"params": [...], "lr": ...}`` to
    give groups of parameters their own hyper-parameters.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors (e.g. model.parameters()), "
                            "got a single Tensor")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        self.state = {}         # id(param) -> {name: array or number}
        seen = set()
        for group in groups:
            group = dict(group)
            group["params"] = list(group["params"])
            for p in group["params"]:
                if not isinstance(p, Tensor):
                    raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
                if p.dtype.kind != "f":
                    raise TypeError(f"optimizer can only optimize floating point tensors, got a "
                                    f"tensor of dtype {p.dtype} (shape {tuple(p.shape)})")
                if not p.requires_grad:
                    raise ValueError(f"optimizer got a tensor of shape {tuple(p.shape)} that does "
                                     "not require grad")
                if id(p) in seen:
                    raise ValueError(f"a parameter of shape {tuple(p.shape)} appears twice in the "
                                     "optimizer's parameter list")
                seen.add(id(p))
            for key, value in self.defaults.items():
                group.setdefault(key, value)
            _check_hyperparameters(type(self).__name__,
                                   {k: v for k, v in group.items() if k in self.defaults})
            self.param_groups.append(group)
        self._flat = {}          # id(group) -> FlatState, rebuilt whenever it no longer fits

    def _params(self):
        for group in self.param_groups:
            for p in group["params"]:
                yield group, p

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of the last backward (they accumulate otherwise)."""
        for group in self.param_groups:
            if set_to_none:
                for p in group["params"]:
                    p.grad = None
                continue
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.array[...] = 0

    def step(self):
        """Change every parameter that has a gradient by one update. Every gradient is checked
        against its parameter (shape, dtype, device) before any parameter changes."""
        pending = self._checked_pending()
        with no_grad():
            self._apply(pending)

    def _checked_pending(self):
        """``[(group, [(p, gradient array), ...])]``: each group's parameters that have a
        gradient, after checking every gradient against its parameter (nothing has changed
        yet)."""
        pending = []
        for group in self.param_groups:
            items = []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.__class__ is Tensor:
                    a, ga = p.array, g.array    # the usual case of _check_grad, in four tests:
                    if type(ga) is _HOST_ARRAY and type(a) is _HOST_ARRAY and \
                            ga.shape == a.shape and ga.dtype == a.dtype:
                        items.append((p, ga))
                        continue
                _check_grad(p)                  # raises, or passes a gradient on a GPU
                items.append((p, g.array))
            if items:
                pending.append((group, items))
        return pending

    def _apply(self, pending):
        """One update per parameter, group by group, in order."""
        for group, items in pending:
            self._apply_group(group, items)

    def _apply_group(self, group, items):
        """Update each parameter of ``items`` in turn; each bumps its parameter's version."""
        state = self.state
        for p, g in items:
            self._update(p, g, state.setdefault(id(p), {}), group)
            p._bump_version()

    def _update(self, p, g, state, group):
        raise NotImplementedError

    _flat_names = ()            # the state arrays a group can keep end to end (FlatState)
    _counts_steps = False       # the state holds a step count that must agree across a group

    def _flat_names_of(self, group):
        """The state arrays this group keeps end to end (Adam's amsgrad adds one)."""
        return self._flat_names

    def _as_one(self, group, items):
        """``(flat, states)`` when every parameter of the group can take this step as one
        flat array (see ``FlatState``), else None (the step goes one parameter at a time)."""
        names = self._flat_names_of(group)
        flat = self._flat.get(id(group))
        states = flat.states_if_current(items, self.state) \
            if flat is not None and flat.names == names else None
        if states is None:
            flat = FlatState.laid_out(items, group, self.state, names, self._counts_steps)
            if flat is None:
                self._flat.pop(id(group), None)
                return None
            self._flat[id(group)] = flat
            states = flat.states_if_current(items, self.state)
        if states is None or (group["weight_decay"] and not flat.owns_all):
            return None         # (the decay reads p: two parameters on one array go in turn)
        return flat, states

    @staticmethod
    def _apply_weight_decay(p, g, group):
        """L2 penalty ½ λ ‖p‖² adds λ p to the gradient."""
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.array
            if not backend.is_array(g):        # a 0-d parameter: NumPy gives a scalar
                g = backend.wrap_scalar(g, p.array)
        return g

    # -- saving ---------------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's hyper-parameters and state; parameters are named by index."""
        index, groups = {}, []
        for group in self.param_groups:
            entry = {k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in group.items() if k != "params"}
            entry["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                entry["params"].append(index[id(p)])
            groups.append(entry)
        state = {}
        for _, p in self._params():
            if id(p) in self.state:
                state[index[id(p)]] = {k: (v.copy() if backend.is_array(v) else v)
                                       for k, v in self.state[id(p)].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by ``state_dict`` (arrays are moved to
        each parameter's device and dtype). Everything is checked before anything changes."""
        groups, saved_state = _checked_layout(state_dict, self.param_groups)
        by_index = {}
        for g_saved, group in zip(groups, self.param_groups):
            for i, p in zip(g_saved["params"], group["params"]):
                by_index[_index(i, "a parameter index in param_groups")] = p
        new_state = {}
        for key, entries in saved_state.items():
            index = _index(key, "a key of 'state'")
            if index not in by_index:
                raise KeyError(f"optimizer load_state_dict: state for parameter {key!r}, which is in "
                               "no parameter group")
            if not isinstance(entries, dict):
                raise TypeError(f"optimizer load_state_dict: state[{key!r}] must be a dict, got "
                                f"{type(entries).__name__}")
            new_state[id(by_index[index])] = {
                name: _state_value(key, name, value, by_index[index]) for name, value in entries.items()}
        for g_saved, group in zip(groups, self.param_groups):
            for k, v in g_saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(group.get(k), tuple) else v
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines + [")"])


_FLAGS = ("amsgrad", "centered")          # hyper-parameters that are switches, not numbers


def _check_hyperparameters(name, group):
    """Numbers where numbers belong: ``lr="0.1"`` fails here, not inside the first step."""
    for key, value in group.items():
        if key == "params":
            continue
        if key in _FLAGS:
            if not isinstance(value, bool):
                raise TypeError(f"{name}: {key} must be True or False, got {key}={value!r}")
            continue
        items = value if isinstance(value, (tuple, list)) else (value,)
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items):
            raise TypeError(f"{name}: {key} must be a number{' pair' if len(items) == 2 else ''}, "
                            f"got {key}={value!r}")


_HOST_ARRAY = backend.NUMPY.array_type     # numpy.ndarray: the "cpu" device's arrays


def _check_grad(p):
    """A gradient must match its parameter, or the update would broadcast or cast silently."""
    g = p.grad
    if not isinstance(g, Tensor):
        raise TypeError(f"optimizer step: the .grad of a parameter of shape {tuple(p.shape)} must "
                        f"be a Tensor, got {type(g).__name__}")
    if tuple(g.shape) != tuple(p.shape):
        raise ValueError(f"optimizer step: a parameter of shape {tuple(p.shape)} has a .grad of "
                         f"shape {tuple(g.shape)}; they must match")
    if g.dtype != p.dtype:
        raise TypeError(f"optimizer step: a parameter of dtype {p.dtype} (shape {tuple(p.shape)}) "
                        f"has a .grad of dtype {g.dtype}; they must match")
    if g.device != p.device:
        raise ValueError(f"optimizer step: a parameter on {p.device} has a .grad on {g.device}")


def _index(key, what):
    """A parameter index saved by ``state_dict`` (an int, or a string of one after a round trip)."""
    if isinstance(key, bool):
        key = None
    if isinstance(key, str) and key.lstrip("-").isdigit():
        key = int(key)
    if backend.is_array(key) and key.ndim == 0 and key.dtype.kind in "iu":
        key = int(key)
    if not isinstance(key, int) or isinstance(key, bool):
        raise KeyError(f"optimizer load_state_dict: {what} must be an integer parameter index, "
                       f"got {key!r}")
    return key


def _checked_layout(state_dict, param_groups):
    """``state_dict``'s (param_groups, state) after checking they fit these parameter groups."""
    if not isinstance(state_dict, dict) or "param_groups" not in state_dict or \
            "state" not in state_dict:
        keys = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else None
        raise KeyError("optimizer load_state_dict: expected a dict with keys 'state' and "
                       f"'param_groups', got {type(state_dict).__name__}"
                       + (f" with keys {keys}" if keys is not None else ""))
    groups, saved_state = state_dict["param_groups"], state_dict["state"]
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
        raise TypeError("optimizer load_state_dict: 'param_groups' must be a list of dicts, got "
                        f"{type(groups).__name__}")
    if not isinstance(saved_state, dict):
        raise TypeError(f"optimizer load_state_dict: 'state' must be a dict, got "
                        f"{type(saved_state).__name__}")
    if len(groups) != len(param_groups):
        raise ValueError(f"optimizer load_state_dict: the checkpoint has {len(groups)} parameter "
                         f"groups, this optimizer has {len(param_groups)}")
    for i, (g_saved, group) in enumerate(zip(groups, param_groups)):
        params = g_saved.get("params")
        if not isinstance(params, (list, tuple)):
            raise KeyError(f"optimizer load_state_dict: parameter group {i} has no 'params' list")
        if len(params) != len(group["params"]):
            raise ValueError(f"optimizer load_state_dict: a parameter group of the checkpoint "
                             f"has {len(params)} parameters, this optimizer's has "
                             f"{len(group['params'])}")
        for k, v in g_saved.items():
            if k != "params" and k in group and isinstance(group[k], (int, float)) and \
                    not isinstance(v, (int, float)) and not (backend.is_array(v) and v.ndim == 0):
                raise TypeError(f"optimizer load_state_dict: hyper-parameter {k!r} of group {i} "
                                f"must be a number, got {v!r}")
    return groups, saved_state


def _state_value(key, name, value, p):
    """One saved state entry as an array on ``p``'s device and dtype, or a plain number."""
    value = value.array if isinstance(value, Tensor) else value
    if backend.is_array(value) and (value.ndim > 0 or (p.ndim == 0 and name != "step")):
        # (a 0-d parameter's moments stay 0-d arrays of its dtype, not Python floats)
        if value.dtype.kind not in "biuf":
            raise TypeError(f"optimizer load_state_dict: state '{name}' of parameter {key} has "
                            f"dtype {value.dtype}, expected numbers")
        if tuple(value.shape) != tuple(p.shape):
            raise ValueError(f"optimizer load_state_dict: state '{name}' of parameter "
                             f"{key} has shape {tuple(value.shape)}, the parameter has "
                             f"shape {tuple(p.shape)}")
        return backend.to_device(value, p.device).astype(p.dtype, copy=True)
    if backend.is_array(value):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"optimizer load_state_dict: state '{name}' of parameter {key} has "
                            f"dtype {value.dtype}, expected a number")
        return value.item()
    if value is not None and not isinstance(value, (int, float)):
        raise TypeError(f"optimizer load_state_dict: state '{name}' of parameter {key} must be "
                        f"an array or a number, got {type(value).__name__}")
    return value


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay (PyTorch's form)::

        g ← ∇L + λ p                          (weight decay λ)
        v ← μ v + g      (v = g at the first step)
        p ← p − lr · v                        (μ = 0: p ← p − lr · g)

    With momentum, once every parameter of a group has its buffer, the buffers live end to
    end in one flat array (``FlatState``) and ``v ← μ v``, ``lr · v`` run once per piece.
    """

    _flat_names = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        _check_hyperparameters("SGD", dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0, got lr={lr}, "
                             f"momentum={momentum}, weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    def _update(self, p, g, state, group):
        g = self._apply_weight_decay(p, g, group)
        if group["momentum"]:
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = buf = g.copy()
            else:
                buf *= group["momentum"]
                buf += g
            g = buf
        p.array -= group["lr"] * g

    def _apply_group(self, group, items):
        one = self._as_one(group, items) if group["momentum"] and \
            type(self)._update is SGD._update else None     # a subclass's own rule goes one by one
        if one is None:
            return super()._apply_group(group, items)
        flat = one[0]
        grads = flat.cut_views([self._apply_weight_decay(p, g, group) for p, g in items]
                               if group["weight_decay"] else [g for _, g in items])
        constants = (group["momentum"], group["lr"])
        for piece in flat.pieces:
            _momentum_piece(flat.xp, piece, grads, constants)
        for p, _ in items:
            p._bump_version()


def _momentum_piece(xp, piece, grads, constants):
    """SGD with momentum on one piece of the flat buffers (``FlatState``'s pieces)."""
    momentum, lr = constants
    (buf,), scratch, parts = piece
    buf *= momentum
    for i, start, stop, _, _, (b,) in parts:
        b += grads[i] if start is None else grads[i][start:stop]    # v ← μ v + g
    xp.multiply(buf, lr, out=scratch)                               # lr · v
    for _, _, _, s, p, _ in parts:
        p -= s


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): a step scaled per element by running gradient statistics::

        m ← β₁ m + (1 − β₁) g            v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ)                v̂ = v / (1 − β₂ᵗ)          (bias correction)
        p ← p − lr · m̂ / (√v̂ + ε)

    ``amsgrad=True`` (Reddi et al. 2018, PyTorch's form) keeps the largest ``v`` seen so far
    and divides by it, so an element's step cannot grow when its gradients shrink::

        v_max ← max(v_max, v)            p ← p − lr · m̂ / (√(v_max / (1 − β₂ᵗ)) + ε)

    When every parameter of a group has a gradient and they share a step count, dtype and
    device, the group's ``m`` and ``v`` live end to end in two flat arrays (``FlatState``)
    and the arithmetic that needs no gradient runs once per piece of them.
    """

    _flat_names = ("exp_avg", "exp_avg_sq")
    _counts_steps = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        _check_hyperparameters(type(self).__name__, dict(lr=lr, betas=betas, eps=eps,
                                                         weight_decay=weight_decay,
                                                         amsgrad=amsgrad))
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: need lr >= 0, eps >= 0 and betas in [0, 1), got lr={lr}, "
                             f"betas={betas}, eps={eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _flat_names_of(self, group):
        return self._flat_names + ("max_exp_avg_sq",) if group["amsgrad"] else self._flat_names

    def _decay_weights(self, p, group):
        """AdamW shrinks ``p`` here, before the step; Adam's weight decay is in the gradient."""

    def _gradient(self, p, g, group):
        return self._apply_weight_decay(p, g, group)

    def _update(self, p, g, state, group):
        """One parameter's step (a parameter without a gradient this time, a lone dtype...)."""
        xp = backend.get_array_module(p.array)
        self._decay_weights(p, group)
        g = self._gradient(p, g, group)
        b1, b2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.array)
            state["exp_avg_sq"] = xp.zeros_like(p.array)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp.zeros_like(p.array)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        scratch = xp.multiply(g, g, out=xp.empty_like(p.array))   # the one temporary (an
        # array even for a 0-d parameter, where NumPy would give a scalar), reused below
        scratch *= 1 - b2
        v *= b2
        v += scratch                                   # v ← β₂ v + (1 − β₂) g²
        xp.multiply(g, 1 - b1, out=scratch)
        m *= b1
        m += scratch                                   # m ← β₁ m + (1 − β₁) g
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        xp.sqrt(v, out=scratch)                        # (amsgrad: v_max ← max(v_max, v))
        scratch /= math.sqrt(1 - b2 ** t)
        scratch += group["eps"]                        # √v̂ + ε
        xp.divide(m, scratch, out=scratch)
        scratch *= group["lr"] / (1 - b1 ** t)         # lr · m̂ / (√v̂ + ε)
        p.array -= scratch

    def _apply_group(self, group, items):
        """``_update``'s operations in the same order, piece by piece of the flat arrays:
        element by element the same arithmetic with the same constants, so the same bits."""
        one = self._as_one(group, items) if type(self)._update is Adam._update else None
        if one is None:                 # (a subclass with its own _update goes one by one)
            return super()._apply_group(group, items)
        flat, states = one
        b1, b2 = group["betas"]
        t = states[0]["step"] + 1
        for state in states:
            state["step"] += 1
        grads = [g for _, g in items]
        if group["weight_decay"]:
            for k, (p, g) in enumerate(items):
                self._decay_weights(p, group)
                grads[k] = self._gradient(p, g, group)
        grads = flat.cut_views(grads)
        constants = (1 - b1, 1 - b2, b1, b2, math.sqrt(1 - b2 ** t), group["eps"],
                     group["lr"] / (1 - b1 ** t))
        for piece in flat.pieces:
            _adam_piece(flat.xp, piece, grads, constants)
        for p, _ in items:
            p._bump_version()


def _adam_piece(xp, piece, grads, constants):
    """Adam on one piece: ``m``, ``v``, ``scratch`` are runs of the flat arrays, each part
    ``(i, start, stop, scratch part, parameter part, _)`` a parameter's share of the run."""
    one_minus_b1, one_minus_b2, b1, b2, root_fix, eps, step = constants
    (m, v, *v_max), scratch, parts = piece       # v_max: amsgrad's running maximum
    gs = [grads[i] if start is None else grads[i][start:stop]
          for i, start, stop, _, _, _ in parts]
    for g, (_, _, _, s, _, _) in zip(gs, parts):
        xp.multiply(g, g, out=s)
    scratch *= one_minus_b2
    v *= b2
    v += scratch                                   # v ← β₂ v + (1 − β₂) g²
    for g, (_, _, _, s, _, _) in zip(gs, parts):
        xp.multiply(g, one_minus_b1, out=s)
    m *= b1
    m += scratch                                   # m ← β₁ m + (1 − β₁) g
    if v_max:
        v = xp.maximum(v_max[0], v, out=v_max[0])  # v_max ← max(v_max, v)
    xp.sqrt(v, out=scratch)
    scratch /= root_fix
    scratch += eps                                 # √v̂ + ε
    xp.divide(m, scratch, out=scratch)
    scratch *= step                                # lr · m̂ / (√v̂ + ε)
    for _, _, _, s, p, _ in parts:
        p -= s


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), PyTorch's default λ = 0.01::

        p ← p − lr · λ · p                 (decay the weights, not the gradient)
        p ← p − lr · m̂ / (√v̂ + ε)          (then Adam's step on the raw gradient)

    ``amsgrad=True`` divides by the running maximum of ``v``, as in ``Adam``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        if isinstance(weight_decay, numbers.Real) and weight_decay < 0:
            raise ValueError(f"AdamW: weight_decay must be >= 0, got weight_decay={weight_decay}")
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)

    def _decay_weights(self, p, group):
        if group["weight_decay"]:
            p.array *= 1 - group["lr"] * group["weight_decay"]

    def _gradient(self, p, g, group):
        return g


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), the optimizer of Karpathy's min-char-rnn::

        s ← s + g²
        p ← p − lr_t · g / (√s + ε),   lr_t = lr / (1 + (t − 1) · lr_decay)

    Each element's step shrinks as its squared gradients add up.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        _check_hyperparameters("Adagrad", dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                               initial_accumulator_value=initial_accumulator_value))
        if lr < 0 or eps < 0 or initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: lr, eps and initial_accumulator_value must be >= 0, got "
                             f"lr={lr}, eps={eps}, initial_accumulator_value={initial_accumulator_value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _update(self, p, g, state, group):
        xp = backend.get_array_module(p.array)
        g = self._apply_weight_decay(p, g, group)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full(p.shape, group["initial_accumulator_value"], dtype=p.dtype)
        state["step"] += 1
        s = state["sum"]
        s += g * g
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        p.array -= lr_t * g / (xp.sqrt(s) + group["eps"])


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e, 2012), PyTorch's form: each element's step is divided by
    a running root mean square of its gradients::

        g ← ∇L + λ p                                   (weight decay λ)
        s ← α s + (1 − α) g²                           (the mean square, s₀ = 0)
        ḡ ← α ḡ + (1 − α) g,   d = √(s − ḡ²) + ε       (centered=True: the variance)
        d = √s + ε                                     (centered=False)
        b ← μ b + g / d,       p ← p − lr · b          (momentum μ > 0, b₀ = 0)
        p ← p − lr · g / d                             (μ = 0)

    Unlike Adam there is no bias correction: the first steps, with ``s`` still near 0, are
    large (about lr / √(1 − α) per element). The state is ``step``, ``square_avg`` (s),
    ``grad_avg`` (ḡ, centered) and ``momentum_buffer`` (b, momentum > 0).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        _check_hyperparameters("RMSprop", dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                                               weight_decay=weight_decay, centered=centered))
        for key, value in dict(lr=lr, eps=eps, momentum=momentum,
                               weight_decay=weight_decay).items():
            if value < 0:
                raise ValueError(f"RMSprop: {key} must be >= 0, got {key}={value}")
        if not 0 <= alpha < 1:
            raise ValueError(f"RMSprop: alpha must be in [0, 1), got alpha={alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, p, g, state, group):
        xp = backend.get_array_module(p.array)
        g = self._apply_weight_decay(p, g, group)
        alpha = group["alpha"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.array)
        state["step"] += 1
        s = state["square_avg"]
        d = xp.multiply(g, g, out=xp.empty_like(p.array))   # the one temporary, reused
        d *= 1 - alpha
        s *= alpha
        s += d                                         # s ← α s + (1 − α) g²
        if group["centered"]:
            mean = _zeros_once(state, "grad_avg", xp, p)
            xp.subtract(g, mean, out=d)
            d *= 1 - alpha
            mean += d                                  # ḡ ← ḡ + (1 − α)(g − ḡ), torch's lerp
            xp.multiply(mean, mean, out=d)
            xp.subtract(s, d, out=d)
            xp.sqrt(d, out=d)                          # √(s − ḡ²)
        else:
            xp.sqrt(s, out=d)                          # √s
        d += group["eps"]
        xp.divide(g, d, out=d)                         # g / d
        if group["momentum"]:
            b = _zeros_once(state, "momentum_buffer", xp, p)
            b *= group["momentum"]
            b += d                                     # b ← μ b + g / d
            xp.multiply(b, group["lr"], out=d)
        else:
            d *= group["lr"]
        p.array -= d                                   # p ← p − lr · (b or g / d)


def _zeros_once(state, name, xp, p):
    """``state[name]``, made as zeros the first time (or when the option was switched on)."""
    if name not in state:
        state[name] = xp.zeros_like(p.array)
    return state[name]
