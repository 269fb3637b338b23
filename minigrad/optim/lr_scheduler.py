"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: each changes every parameter
group's ``lr`` when ``step()`` is called, once per epoch (or per batch), after the
optimizer's own step::

    optimizer = minigrad.optim.SGD(model.parameters(), lr=20.0)
    scheduler = minigrad.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.25)
    for epoch in range(40):
        train_one_epoch(model, optimizer)
        scheduler.step()                  # lr: 20 for epochs 0-9, 5 for 10-19, 1.25 ...

A schedule reads each group's starting rate from ``group["initial_lr"]`` (set from ``lr``
when the first schedule is made) and counts finished epochs in ``last_epoch``; making it
already sets the rate for epoch 0. ``state_dict()`` / ``load_state_dict()`` carry the count
(and a ``ReduceLROnPlateau``'s memory of the best metric) into a checkpoint.
"""
from __future__ import annotations

import bisect
import math
import numbers


class LRScheduler:
    """Base class: a schedule gives the rate of each group at epoch ``last_epoch`` from its
    starting rate (``rate(initial_lr, epoch)``)."""

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(self).__name__}: expected an optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: last_epoch={last_epoch} resumes a schedule, "
                               "but the optimizer's groups have no 'initial_lr'")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def rate(self, initial_lr, epoch):
        raise NotImplementedError(f"{type(self).__name__} must define rate(initial_lr, epoch)")

    def rates(self, epoch):
        """The rate of every group at ``epoch``."""
        return [self.rate(base, epoch) for base in self.base_lrs]

    def step(self):
        """One epoch done: set every group's rate for the next one."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.rates(self.last_epoch)):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The rates the last ``step()`` set, one per group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer (and functions, which a checkpoint does not hold)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and not callable(v)}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


def _positive(name, what, value, integer=False):
    kind = numbers.Integral if integer else numbers.Real
    if not isinstance(value, kind) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name}: {what} must be a positive {'int' if integer else 'number'}, "
                         f"got {value!r}")
    return value


class StepLR(LRScheduler):
    """lr = initial_lr · γ^⌊epoch / step_size⌋: γ times smaller every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _positive("StepLR", "step_size", step_size, integer=True)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def rate(self, initial_lr, epoch):
        return initial_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = initial_lr · γ^(number of milestones ≤ epoch)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def rate(self, initial_lr, epoch):
        return initial_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """lr = initial_lr · γ^epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def rate(self, initial_lr, epoch):
        return initial_lr * self.gamma ** epoch


class LambdaLR(LRScheduler):
    """lr = initial_lr · lr_lambda(epoch) (one function, or one per group)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups or not all(callable(f) for f in lambdas):
            raise ValueError(f"LambdaLR: lr_lambda must be a function or a list of {groups} "
                             f"functions (one per parameter group)")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def rates(self, epoch):
        return [base * f(epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self):
        return {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (initial_lr − η_min) (1 + cos(π · epoch / T_max)) / 2: from the starting
    rate down to ``eta_min`` over ``T_max`` epochs along half a cosine (and back up after)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):  # noqa: N803 - torch's name
        self.T_max = _positive("CosineAnnealingLR", "T_max", T_max, integer=True)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def rate(self, initial_lr, epoch):
        return self.eta_min + (initial_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class ReduceLROnPlateau:
    """Multiply the rate by ``factor`` once the metric given to ``step(metric)`` (a validation
    loss, ``mode="min"``) has not improved for more than ``patience`` epochs; then wait
    ``cooldown`` epochs before counting again, and never go below ``min_lr``. Improving
    means beating the best so far by more than ``threshold`` (relative, or absolute with
    ``threshold_mode="abs"``)."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max' and threshold_mode "
                             f"'rel' or 'abs', got mode={mode!r}, threshold_mode={threshold_mode!r}")
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor!r}")
        groups = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.min_lrs = (
            threshold, threshold_mode, cooldown, min_lrs)
        self.eps, self.best = eps, math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _better(self, value):
        if self.mode == "min":
            bound = self.best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return value < bound
        bound = self.best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return value > bound

    def step(self, metrics):
        value = float(metrics)
        self.last_epoch += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(group["lr"] * self.factor, floor)
                if group["lr"] - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
