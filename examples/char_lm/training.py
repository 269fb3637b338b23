"""Training the character-level model with truncated backpropagation through time.

- ``train_step``: one chunk of (T, B) characters forward from the carried state, the mean
  cross-entropy, one optimizer update, and the state detached for the next chunk.
- ``learning_rate`` and ``finished``: the schedule and the stopping rule, by steps or by
  training time (``--minutes``).
- ``estimate_loss``: the mean per-character loss on the validation text.
- ``TrainingRun``: where a run stands (step, time trained, carried state, loss history),
  everything a checkpoint needs to continue it exactly.
"""
from __future__ import annotations

import minigrad
import nn
import nn.functional as F
from common.resume import history_from_saved
from common.training import cosine_lr, optimizer_step

from .data import Streams

OPTIMIZERS = {"adam": minigrad.optim.Adam, "adagrad": minigrad.optim.Adagrad,
              "sgd": minigrad.optim.SGD}


def train_step(model, optimizer, x, y, state, cfg):
    """One TBPTT step on host int arrays ``x``, ``y`` (T, B) from ``state``; returns
    ``(loss value, state)``, the state carried on but cut from the graph."""
    T, B = x.shape
    logits, state = model(minigrad.tensor(x, device=cfg["device"]), state)     # (T, B, V)
    loss = F.cross_entropy(logits.reshape(T * B, logits.shape[2]),
                           minigrad.tensor(y.reshape(T * B), device=cfg["device"]))
    optimizer_step(model, optimizer, loss, cfg["clip"])
    return loss.item(), nn.detach_state(state)      # carry the values, cut the graph (TBPTT)


def learning_rate(cfg, run):
    """Cosine decay from lr to lr * lr_min over the decay horizon (``--decay-steps``, or
    ``--minutes`` of training time), flat after it."""
    if cfg["decay_steps"]:
        frac = min(1.0, run.step / cfg["decay_steps"])
    else:
        frac = min(1.0, run.elapsed / (60 * cfg["minutes"])) if cfg["minutes"] else 1.0
    return cosine_lr(cfg["lr"], frac, 1.0, floor=cfg["lr_min"])


def finished(cfg, run):
    """True once the run reached ``--steps`` or, with ``--minutes``, its time budget."""
    if cfg["minutes"]:
        return run.elapsed >= 60 * cfg["minutes"] or 0 < cfg["steps"] <= run.step
    return run.step >= cfg["steps"]


def estimate_loss(model, val_ids, cfg):
    """Mean per-character loss on the validation text (fixed chunks, carried state)."""
    T, B, device = cfg["seq_len"], cfg["batch_size"], cfg["device"]
    model.eval()
    streams, total, state = Streams(val_ids, min(B, len(val_ids) // (T + 1)), T), 0.0, None
    n = min(cfg["eval_chunks"], len(streams))
    with minigrad.no_grad():
        for _ in range(n):
            x, y, _ = streams.next()
            logits, state = model(minigrad.tensor(x, device=device), state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[2]),
                                     minigrad.tensor(y.reshape(-1), device=device)).item()
    model.train()
    return total / n


class TrainingRun:
    """Where a run stands: ``step``, ``elapsed`` training seconds, the carried hidden
    ``state``, the loss ``history`` ({"train"|"val": ([steps], [losses])}) and the gradient
    flow measured at initialization (drawn beside the final one)."""

    def __init__(self, flow_at_init, step=0, elapsed=0.0, state=None, history=None):
        self.flow_at_init, self.step, self.elapsed, self.state = flow_at_init, step, elapsed, state
        self.history = history or {"train": ([], []), "val": ([], [])}

    def record(self, split, value):
        """Note ``value`` as ``split``'s loss ("train" or "val") at the current step."""
        self.history[split][0].append(self.step)
        self.history[split][1].append(value)

    def last(self, split):
        """The latest loss recorded for ``split``."""
        return self.history[split][1][-1]

    def state_dict(self):
        """The checkpoint's entries for this run (host arrays and plain lists)."""
        return {"step": self.step, "elapsed": self.elapsed, "history": self.history,
                "flow_at_init": self.flow_at_init, "state": state_to_arrays(self.state)}

    @classmethod
    def from_checkpoint(cls, ckpt, device):
        return cls(ckpt["flow_at_init"], ckpt["step"], ckpt["elapsed"],
                   state_from_arrays(ckpt["state"], device), history_from_saved(ckpt["history"]))


def state_to_arrays(state):
    """The carried hidden state as host arrays: [] (none), [h] or [h, c]."""
    if state is None:
        return []
    parts = state if isinstance(state, tuple) else (state,)
    return [p.numpy() for p in parts]


def state_from_arrays(arrays, device):
    """The inverse of ``state_to_arrays``, as tensors on ``device``."""
    if not arrays:
        return None
    parts = tuple(minigrad.tensor(a, device=device) for a in arrays)
    return parts if len(parts) == 2 else parts[0]
