"""Learning-rate schedules: the rate each epoch gets, against PyTorch's schedulers on the same
optimizer settings, and a schedule resumed from a checkpoint carries on where it stopped."""
import math
import re

import pytest

import minigrad
import nn
from minigrad.optim import lr_scheduler

try:
    import torch
except ImportError:  # the PyTorch comparisons skip; the behaviour tests still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

SCHEDULES = {   # name: (minigrad's, torch's) given the module lr_scheduler
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda epoch: 1.0 / (1 + epoch)),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
}


def two_groups(lib, make_param):
    return lib.optim.SGD([{"params": [make_param()]}, {"params": [make_param()], "lr": 0.2}],
                         lr=1.0, momentum=0.9)


def rates(optimizer, scheduler, epochs, metrics=None):
    seen = []
    for epoch in range(epochs):
        seen.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step(*([] if metrics is None else [metrics[epoch]]))
    return seen


def mg_param():
    return nn.Parameter(minigrad.ones(2))


@needs_torch
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_each_epoch_gets_pytorchs_rate(name):
    ours_opt = two_groups(minigrad, mg_param)
    theirs_opt = two_groups(torch, lambda: torch.nn.Parameter(torch.ones(2)))
    ours = rates(ours_opt, SCHEDULES[name](lr_scheduler, ours_opt), 20)
    theirs = rates(theirs_opt, SCHEDULES[name](torch.optim.lr_scheduler, theirs_opt), 20)
    for epoch, (a, b) in enumerate(zip(ours, theirs)):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), f"epoch {epoch}"


@needs_torch
def test_reduce_on_plateau_waits_for_the_metric_to_stall_as_pytorch():
    metrics = [5.0, 4.0, 3.9999, 3.99, 4.2, 4.1, 4.0, 3.98, 3.5, 3.6, 3.7, 3.6, 3.6, 3.6, 3.6]
    make = dict(factor=0.5, patience=2, cooldown=1, min_lr=0.15)
    ours_opt = two_groups(minigrad, mg_param)
    theirs_opt = two_groups(torch, lambda: torch.nn.Parameter(torch.ones(2)))
    ours = rates(ours_opt, lr_scheduler.ReduceLROnPlateau(ours_opt, **make), len(metrics), metrics)
    theirs = rates(theirs_opt, torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **make),
                   len(metrics), metrics)
    assert ours == theirs and ours[-1] != ours[0]


def test_step_lr_by_its_definition():
    opt = minigrad.optim.SGD([mg_param()], lr=20.0)
    seen = rates(opt, lr_scheduler.StepLR(opt, step_size=10, gamma=0.25), 25)
    assert [r[0] for r in seen] == [20.0] * 10 + [5.0] * 10 + [1.25] * 5


def test_cosine_annealing_reaches_eta_min_at_t_max():
    opt = minigrad.optim.Adam([mg_param()], lr=0.1)
    seen = rates(opt, lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.02), 5)
    assert seen[0][0] == 0.1 and math.isclose(seen[4][0], 0.02) and math.isclose(
        seen[2][0], 0.02 + 0.08 / 2)


def test_a_resumed_schedule_carries_on_from_the_checkpoint(tmp_path):
    def fresh():
        opt = minigrad.optim.SGD([mg_param()], lr=1.0)
        return opt, lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    opt, sched = fresh()
    rates(opt, sched, 3)
    minigrad.save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "ckpt.pt")
    opt2, sched2 = fresh()
    saved = minigrad.load(tmp_path / "ckpt.pt")
    opt2.load_state_dict(saved["optim"])
    sched2.load_state_dict(saved["sched"])
    expected_opt, expected_sched = fresh()
    rates(expected_opt, expected_sched, 3)
    assert rates(opt2, sched2, 4) == rates(expected_opt, expected_sched, 4)


@pytest.mark.parametrize("make, error, message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be a positive int, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=2.5), ValueError, "CosineAnnealingLR: T_max must be a positive int"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0] * 2), ValueError, "LambdaLR: lr_lambda must be a function or a list of 1 functions"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.5), ValueError, "ReduceLROnPlateau: factor must be in (0, 1), got 1.5"),
    (lambda o: lr_scheduler.StepLR("sgd", 2), TypeError, "StepLR: expected an optimizer, got str"),
    (lambda o: lr_scheduler.StepLR(o, 2, last_epoch=4), KeyError, "StepLR: last_epoch=4 resumes a schedule"),
])
def test_bad_schedules_are_named(make, error, message):
    opt = minigrad.optim.SGD([mg_param()], lr=0.5)
    with pytest.raises(error, match=re.escape(message)):
        make(opt)
