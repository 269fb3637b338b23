"""The opening every example shares: make ``--out``, and with ``--resume`` read its
checkpoint and take the configuration from it.

    cfg, ckpt, ckpt_path = open_run(cfg, given, args.resume, "captioning",
                                    keys=("model", "optimizer", "step"), free=("steps", "out"))
    ...
    if ckpt is not None:
        step, history = restore_training(ckpt, model, optimizer)

The configuration of a resumed run is: the defaults, then the checkpoint's values (the
model's shape, the data, the seed), then the flags given on this command line, where a
given flag that contradicts the checkpoint is an error (``resumed_config``).
"""
from __future__ import annotations

import os

from .checkpoint import load_checkpoint, resumed_config


def open_run(cfg, given, resume, kind, keys, free, fixed=None):
    """``(cfg, ckpt, ckpt_path)``: ``--out`` made, its ``ckpt.npz`` loaded when ``resume``
    (``ckpt`` is None otherwise) and ``cfg`` merged with the checkpoint's configuration.

    ``keys`` are the entries the checkpoint must hold; ``free`` the settings each run
    chooses for itself (run length, device, output folder); ``fixed`` (default: all other
    saved settings) those a given flag may not contradict. Raises ``CheckpointError``
    (unusable file) or ``ValueError`` (a contradicting flag).
    """
    os.makedirs(cfg["out"], exist_ok=True)
    ckpt_path = os.path.join(cfg["out"], "ckpt.npz")
    if not resume:
        return cfg, None, ckpt_path
    ckpt = load_checkpoint(ckpt_path, kind, keys=keys)
    cfg = resumed_config(cfg, given, ckpt["config"], ckpt_path, free=free, fixed=fixed)
    return cfg, ckpt, ckpt_path


def restore_training(ckpt, model, optimizer):
    """Load the checkpoint's model and optimizer state; returns ``(step, history)``, the
    history as ``{name: ([steps], [values])}``."""
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    return int(ckpt["step"]), history_from_saved(ckpt["history"])


def history_from_saved(saved):
    """``{name: ([steps], [values])}`` from the lists a checkpoint holds."""
    return {k: tuple(map(list, v)) for k, v in saved.items()}


def history_to_save(history):
    """``{name: [[steps], [values]]}``: the history as plain lists, for a checkpoint."""
    return {k: [list(a), list(b)] for k, (a, b) in history.items()}
