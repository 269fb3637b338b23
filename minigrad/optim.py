"""Optimizers: turn the gradients in ``p.grad`` into a step on the parameters.

    optimizer = minigrad.optim.Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

Each optimizer follows PyTorch's update rule (so a run can be compared step by step)
and keeps its per-parameter state (momentum buffers, moment estimates) as arrays on the
parameter's device. Updates change ``p.array`` in place under ``no_grad`` and bump the
parameter's version, so a graph that saved the old value refuses to backpropagate.

``state_dict()`` gives ``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``
(parameters named by their position, as PyTorch); ``minigrad.save`` stores it.
"""
from __future__ import annotations

import math

from . import backend
from .grad_mode import no_grad
from .tensor import Tensor


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
                if not p.requires_grad:
                    raise ValueError(f"optimizer got a tensor of shape {tuple(p.shape)} that does "
                                     "not require grad")
                if id(p) in seen:
                    raise ValueError(f"a parameter of shape {tuple(p.shape)} appears twice in the "
                                     "optimizer's parameter list")
                seen.add(id(p))
            for key, value in self.defaults.items():
                group.setdefault(key, value)
            self.param_groups.append(group)

    def _params(self):
        for group in self.param_groups:
            for p in group["params"]:
                yield group, p

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of the last backward (they accumulate otherwise)."""
        for _, p in self._params():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.array[...] = 0

    def step(self):
        """Change every parameter that has a gradient by one update."""
        with no_grad():
            for group, p in self._params():
                if p.grad is None:
                    continue
                state = self.state.setdefault(id(p), {})
                self._update(p, p.grad.array, state, group)
                p._bump_version()

    def _update(self, p, g, state, group):
        raise NotImplementedError

    @staticmethod
    def _apply_weight_decay(p, g, group):
        """L2 penalty ½ λ ‖p‖² adds λ p to the gradient."""
        if group["weight_decay"]:
            return g + group["weight_decay"] * p.array
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
        try:
            groups, saved_state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise KeyError("optimizer load_state_dict: expected a dict with keys 'state' and "
                           f"'param_groups', got {type(state_dict).__name__}") from None
        if len(groups) != len(self.param_groups):
            raise ValueError(f"optimizer load_state_dict: the checkpoint has {len(groups)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        by_index = {}
        for g_saved, group in zip(groups, self.param_groups):
            if len(g_saved["params"]) != len(group["params"]):
                raise ValueError(f"optimizer load_state_dict: a parameter group of the checkpoint "
                                 f"has {len(g_saved['params'])} parameters, this optimizer's has "
                                 f"{len(group['params'])}")
            for i, p in zip(g_saved["params"], group["params"]):
                by_index[int(i)] = p
        new_state = {}
        for key, entries in saved_state.items():
            if int(key) not in by_index:
                raise KeyError(f"optimizer load_state_dict: state for parameter {key}, which is in "
                               "no parameter group")
            p = by_index[int(key)]
            converted = {}
            for name, value in entries.items():
                value = value.array if isinstance(value, Tensor) else value
                if backend.is_array(value) and value.ndim > 0:
                    if tuple(value.shape) != tuple(p.shape):
                        raise ValueError(f"optimizer load_state_dict: state '{name}' of parameter "
                                         f"{key} has shape {tuple(value.shape)}, the parameter has "
                                         f"shape {tuple(p.shape)}")
                    value = backend.to_device(value, p.device).astype(p.dtype, copy=True)
                elif backend.is_array(value):
                    value = value.item()
                converted[name] = value
            new_state[id(p)] = converted
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


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay (PyTorch's form)::

        g ← ∇L + λ p                          (weight decay λ)
        v ← μ v + g      (v = g at the first step)
        p ← p − lr · v                        (μ = 0: p ← p − lr · g)
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
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


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): a step scaled per element by running gradient statistics::

        m ← β₁ m + (1 − β₁) g            v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ)                v̂ = v / (1 − β₂ᵗ)          (bias correction)
        p ← p − lr · m̂ / (√v̂ + ε)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: need lr >= 0, eps >= 0 and betas in [0, 1), got lr={lr}, "
                             f"betas={betas}, eps={eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def _update(self, p, g, state, group):
        xp = backend.get_array_module(p.array)
        g = self._apply_weight_decay(p, g, group)
        b1, b2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.array)
            state["exp_avg_sq"] = xp.zeros_like(p.array)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        scratch = xp.multiply(g, g)                    # the one temporary, reused below
        scratch *= 1 - b2
        v *= b2
        v += scratch                                   # v ← β₂ v + (1 − β₂) g²
        xp.multiply(g, 1 - b1, out=scratch)
        m *= b1
        m += scratch                                   # m ← β₁ m + (1 − β₁) g
        xp.sqrt(v, out=scratch)
        scratch /= math.sqrt(1 - b2 ** t)
        scratch += group["eps"]                        # √v̂ + ε
        xp.divide(m, scratch, out=scratch)
        scratch *= group["lr"] / (1 - b1 ** t)         # lr · m̂ / (√v̂ + ε)
        p.array -= scratch


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), PyTorch's default λ = 0.01::

        p ← p − lr · λ · p                 (decay the weights, not the gradient)
        p ← p − lr · m̂ / (√v̂ + ε)          (then Adam's step on the raw gradient)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        if weight_decay < 0:
            raise ValueError(f"AdamW: weight_decay must be >= 0, got weight_decay={weight_decay}")
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, p, g, state, group):
        if group["weight_decay"]:
            p.array *= 1 - group["lr"] * group["weight_decay"]
        super()._update(p, g, state, dict(group, weight_decay=0.0))


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), the optimizer of Karpathy's min-char-rnn::

        s ← s + g²
        p ← p − lr_t · g / (√s + ε),   lr_t = lr / (1 + (t − 1) · lr_decay)

    Each element's step shrinks as its squared gradients add up.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
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
