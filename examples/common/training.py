"""The pieces of a training step the examples share: one optimizer update and the
learning-rate schedule, and the time budget of ``--minutes``.

    set_lr(optimizer, cosine_lr(cfg["lr"], step, cfg["steps"], floor=0.1))
    optimizer_step(model, optimizer, loss, clip=cfg["clip"])
"""
from __future__ import annotations

import math
import time

import nn


def cosine_lr(lr, done, total=1.0, floor=0.1):
    """Cosine decay from ``lr`` (nothing ``done``) to ``lr * floor`` (``done`` = ``total``,
    counted in steps, seconds or as a fraction of 1):

        lr * (floor + (1 - floor) * (1 + cos(pi * done / total)) / 2)
    """
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * done / total)))


def out_of_time(start, minutes):
    """True when ``minutes`` > 0 and more than that many have passed since ``start``
    (a ``time.time()``)."""
    return bool(minutes) and time.time() - start > 60 * minutes


def set_lr(optimizer, lr):
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def optimizer_step(model, optimizer, loss, clip=0.0):
    """Backpropagate ``loss`` into fresh gradients, clip their global norm to ``clip``
    (0: no clipping) and take one optimizer step."""
    optimizer.zero_grad()
    loss.backward()
    if clip:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
