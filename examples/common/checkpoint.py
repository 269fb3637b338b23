"""Training checkpoints: one ``.npz`` file per run, written atomically by ``minigrad.save``.

    save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 1200},
                    "runs/x/ckpt.npz", kind="char_lm")
    ckpt = load_checkpoint("runs/x/ckpt.npz", kind="char_lm", keys=("model", "optimizer"))

``minigrad.save`` writes a temporary file and renames it over the old one, so a run killed
mid-save leaves the previous checkpoint whole. ``load_checkpoint`` turns every way a file
can be wrong (missing, corrupt, written by another example, lacking an entry) into one
``CheckpointError`` whose message names the file and what to do.
"""
from __future__ import annotations

import os

import minigrad


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: missing, unreadable, or of another kind."""


def save_checkpoint(obj, path, kind):
    """Save the dict ``obj`` to ``path``, tagged with ``kind`` (the example that wrote it)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    minigrad.save({"kind": kind, **obj}, path)
    return path


def load_checkpoint(path, kind, keys=()):
    """The dict saved by ``save_checkpoint(..., kind)``; raises ``CheckpointError``."""
    if not os.path.exists(path):
        raise CheckpointError(f"no checkpoint at {path} to resume from (train without "
                              "--resume first, or pass the --out of an earlier run)")
    try:
        ckpt = minigrad.load(path)
    except ValueError as error:
        raise CheckpointError(f"{error}; delete it or point --out elsewhere") from None
    if not isinstance(ckpt, dict) or ckpt.get("kind") != kind:
        found = ckpt.get("kind") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(f"{path} is a {found!r} checkpoint, not a {kind!r} one")
    missing = [k for k in keys if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path} lacks {missing} (an incomplete or older checkpoint)")
    return ckpt


def resumed_config(cfg, given, saved, path, free, fixed=None):
    """The configuration of a resumed run: ``cfg`` (defaults), then the checkpoint's
    ``saved`` values except the ``free`` ones (run length, device, output folder: the new
    run's own), then the flags ``given`` on the command line.

    A given flag among the ``fixed`` keys (default: every saved key not free: the model's
    shape, the data, the seed) that contradicts the checkpoint raises ``ValueError`` naming
    both values, instead of being silently ignored or silently breaking the resumed run.
    """
    fixed = [k for k in saved if k not in free] if fixed is None else fixed
    clashes = {k: (saved[k], given[k]) for k in fixed
               if k in given and k in saved and given[k] != saved[k]}
    if clashes:
        raise ValueError(f"--resume: {path} was made with "
                         + ", ".join(f"{k}={a!r}" for k, (a, b) in clashes.items())
                         + "; this run asks for "
                         + ", ".join(f"{k}={b!r}" for k, (a, b) in clashes.items())
                         + " (drop those flags, or start a new run with another --out)")
    return {**cfg, **{k: v for k, v in saved.items() if k not in free}, **given}
