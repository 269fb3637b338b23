"""A character-level language model, trained with truncated backpropagation through time.

The lecture's first task, end to end: read text one character at a time, predict the next
one, learn from the cross-entropy of that prediction, then sample new text from the model.

    python examples/char_lm.py                                   # LSTM on the built-in corpus (~3 min)
    python examples/char_lm.py --cell gru --hidden 128 --minutes 5
    python examples/char_lm.py --data ../shared/data/tinyshakespeare.txt --minutes 20 \
        --out runs/shakespeare                                   # any UTF-8 text file
    python examples/char_lm.py --out runs/char_lm --resume --steps 3000   # continue a run
    python examples/char_lm.py --out runs/char_lm --resume --steps 0 \
        --sample 1000 --temperature 0.5 --prime "The "           # sample from a checkpoint
    python examples/char_lm.py --hello                           # the lecture's "hello" toy
    python examples/char_lm.py --smoke                           # a few seconds, for CI
    mpiexec -n 2 python examples/char_lm.py --distributed        # 2 processes (pip install ".[mpi]")

Everything it makes goes to ``--out``: the checkpoint ``ckpt.npz`` (model, optimizer,
vocabulary, data position, carried hidden state, random state: ``--resume`` continues
exactly), ``loss.png``, the first steps' unrolled graph (``graph_forward.png``,
``graph_flow.png``), ``gradient_flow.png`` and the interpretable-cells picture ``cells.png``
(the units found by ``char_lm/interpretable_units.py``).
"""
from __future__ import annotations

import os
import sys
import time

# One BLAS thread unless told otherwise: this model's matrices are small, and OpenBLAS's
# spinning worker threads run 10-30x slower when another process shares the cores
# (measured: 555 vs 14,900 chars/s). Must be set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import minigrad  # noqa: E402
import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from char_lm import explore, interpretable_units, pictures  # noqa: E402
from char_lm.data import Streams, Vocab, load_text, split  # noqa: E402
from char_lm.distributed import DataParallel  # noqa: E402
from char_lm.hello import hello_loss, train_hello  # noqa: E402
from char_lm.model import CharRNN  # noqa: E402
from char_lm.sampling import sample  # noqa: E402
from char_lm.training import (OPTIMIZERS, TrainingRun, estimate_loss, finished,  # noqa: E402
                              learning_rate, state_to_arrays, train_step)
from common.checkpoint import save_checkpoint  # noqa: E402
from common.cli import print_written, require_device, require_paths, run_script  # noqa: E402
from common.config import config_parser, device_name, given_flags  # noqa: E402
from common.plots import plot_curves  # noqa: E402
from common.progress import progress  # noqa: E402
from common.resume import open_run  # noqa: E402
from common.training import set_lr  # noqa: E402
from minigrad.distributed import exit_together  # noqa: E402

# -----------------------------------------------------------------------------------------
# Config: every value here is also a command-line flag (--hidden 128, --cell gru, ...).
CONFIG = dict(
    cell="lstm",          # rnn | lstm | gru
    layers=2,             # stacked recurrent layers
    hidden=256,           # hidden units per layer (H)
    embedding=64,         # size of each character's learned vector
    dropout=0.0,          # dropout between layers and before the head (training only)
    graph="steps",        # how the layer records time: gates (every op) | steps (a node per step) | layer (one node, faster)
    seq_len=64,           # characters per truncated-BPTT chunk (T)
    batch_size=32,        # parallel streams through the text (B)
    lr=2e-3,              # peak learning rate
    lr_min=0.1,           # cosine decay to lr * lr_min at --decay-steps, flat after
    decay_steps=0,        # 0: decay over --steps (over --minutes of training time if given)
    optimizer="adam",     # adam | adagrad | sgd
    clip=5.0,             # clip the global gradient norm to this (0: no clipping)
    steps=1000,           # total optimizer steps (counting those of a resumed run)
    minutes=0.0,          # >0: stop after this much training time (and at --steps if given)
    eval_every=100,       # steps between validation losses (and checkpoints)
    eval_chunks=16,       # validation chunks of (T, B) characters per estimate
    device="cpu",         # cpu | cuda | cuda:N
    seed=1337,            # seeds initialization (sampling has --sample-seed)
    out="runs/char_lm",   # directory for the checkpoint and the pictures
    data="",              # a UTF-8 text file ("" = the built-in corpus, pydoc_data.topics)
    text_chars=0,         # use only the first this many characters of the text (0: all)
    sample=500,           # characters to sample after training
    temperature=0.8,      # sampling temperature (0: greedy)
    prime="The ",         # text the sample starts from
    sample_seed=0,        # seed of the sampling draws
)
# What each flag accepts (common/config.py): argparse refuses anything else.
RULES = dict(cell=("rnn", "lstm", "gru"), layers="> 0", hidden="> 0", embedding="> 0",
             dropout="[0, 1)", graph=nn.GRAPH_MODES, seq_len="> 0", batch_size="> 0",
             lr="> 0", lr_min="[0, 1]", decay_steps=">= 0", optimizer=tuple(OPTIMIZERS),
             clip=">= 0", steps=">= 0", minutes=">= 0", eval_every="> 0", eval_chunks="> 0",
             device=device_name, seed=">= 0", text_chars=">= 0", sample=">= 0",
             temperature=">= 0", sample_seed=">= 0")
# Values a checkpoint fixes: --resume refuses a run that asks for different ones.
FIXED_BY_CHECKPOINT = ("cell", "layers", "hidden", "embedding", "seq_len", "batch_size",
                       "optimizer", "data", "text_chars", "seed")
CHECKPOINT_KEYS = ("config", "vocab", "model", "optimizer", "streams", "rng", "step",
                   "elapsed", "history", "flow_at_init", "state")
SMOKE = dict(layers=1, hidden=32, embedding=16, seq_len=16, batch_size=4, steps=12,
             eval_every=6, eval_chunks=2, sample=40, text_chars=20_000)


def parse_args(argv=None):
    """One flag per CONFIG entry, its comment as the help; returns (args, flags given)."""
    parser = config_parser(__file__, CONFIG, __doc__.split("\n\n")[0], RULES)
    parser.add_argument("--resume", action="store_true", help="continue from --out/ckpt.npz")
    parser.add_argument("--smoke", action="store_true", help="a tiny run for CI (seconds)")
    parser.add_argument("--hello", action="store_true", help="the lecture's 'hello' toy")
    parser.add_argument("--no-pictures", action="store_true", help="skip graphs and plots")
    parser.add_argument("--explore", action="store_true",
                        help="also write explore.html, the interactive page (viz.explore)")
    parser.add_argument("--distributed", action="store_true",
                        help="split every batch over the ranks of mpiexec -n N")
    args = parser.parse_args(argv)
    return args, given_flags(args, CONFIG)


def main(argv=None):
    args, given = parse_args(argv)
    if args.hello:
        minigrad.manual_seed(given.get("seed", CONFIG["seed"]))
        return run_hello(given.get("cell", "rnn"), given.get("out", "runs/hello"),
                         pictures_wanted=not args.no_pictures)

    world = DataParallel(args.distributed)              # rank 0 of 1 unless --distributed
    # -- configuration: defaults < smoke < checkpoint < command line -------------------------
    device = require_device(given.get("device", CONFIG["device"]))
    cfg, ckpt, ckpt_path = open_run({**CONFIG, **(SMOKE if args.smoke else {}), **given},
                                    given, args.resume, "char_lm", CHECKPOINT_KEYS,
                                    free=("out", "device"), fixed=FIXED_BY_CHECKPOINT)
    cfg = settle_run_length(cfg, given)
    minigrad.manual_seed(cfg["seed"])

    # -- data: the text, its vocabulary, the train/validation split, B streams of T chunks ----
    vocab, train_ids, val_ids = load_corpus(cfg, ckpt)
    T, B = cfg["seq_len"], cfg["batch_size"]
    train_streams = Streams(train_ids, B, T)
    print(f"data: {len(train_ids) + len(val_ids):,} characters, vocabulary {len(vocab)}, "
          f"train {len(train_ids):,} / val {len(val_ids):,}, {len(train_streams)} chunks "
          f"of {T}x{B} per epoch")

    # -- model and optimizer ----------------------------------------------------------------
    model, optimizer = build_model(cfg, len(vocab))
    train_model = world.wrap(model)                     # DistributedDataParallel when distributed

    # -- training state: fresh, or exactly as the checkpoint left it ------------------------
    if ckpt is None:
        run = TrainingRun(pictures.gradient_flow(model, val_ids[:T + 1], device).tolist())
    else:
        run = restore_run(ckpt, model, optimizer, train_streams, device)
        run.state = world.local_state(run.state)        # this rank's streams of the state
        print(f"resumed {ckpt_path} at step {run.step} ({run.elapsed / 60:.1f} min trained)")

    # -- training loop ----------------------------------------------------------------------
    bar = progress(total=cfg["steps"] or None, initial=run.step,
                   disable=finished(cfg, run) or not world.is_main)
    chars_seen, t_run = 0, time.perf_counter()
    while not finished(cfg, run):
        t0 = time.perf_counter()
        x, y, reset = train_streams.next()                  # reset: the text starts over
        x, y = world.local(x), world.local(y)                # this rank's streams
        set_lr(optimizer, learning_rate(cfg, run))
        loss, run.state = train_step(train_model, optimizer, x, y,
                                     None if reset else run.state, cfg)
        run.step += 1
        run.elapsed, loss = world.agree(run.elapsed + time.perf_counter() - t0, loss)
        chars_seen += T * B
        run.record("train", loss)
        bar.update(1)
        bar.set_postfix_str(f"loss {loss:.3f} | "
                            f"{chars_seen / (time.perf_counter() - t_run):,.0f} chars/s")
        if run.step % cfg["eval_every"] == 0 or finished(cfg, run):
            run.record("val", estimate_loss(model, val_ids, cfg))
            bar.write(f"step {run.step:5d} | train {loss:.4f} | val {run.last('val'):.4f} "
                      f"nats/char | lr {learning_rate(cfg, run):.2e} | {run.elapsed / 60:.1f} min")
            save_run(ckpt_path, cfg, vocab, model, optimizer, train_streams, run, world)
    bar.close()
    save_run(ckpt_path, cfg, vocab, model, optimizer, train_streams, run, world)
    report_losses(run, chars_seen / max(1e-9, time.perf_counter() - t_run))

    # -- sample -----------------------------------------------------------------------------
    if cfg["sample"]:
        text_out = sample(model, vocab, cfg["sample"], cfg["prime"], cfg["temperature"],
                          seed=cfg["sample_seed"], device=device)
        print(f"\n--- sample (temperature {cfg['temperature']}) ---\n{text_out}\n---")
        world.check_identical(text_out)

    # -- pictures ---------------------------------------------------------------------------
    paths = {"checkpoint": ckpt_path}
    if not args.no_pictures and world.is_main:
        paths.update(draw_pictures(cfg, model, vocab, train_ids, val_ids, run, args.explore))
    print_written(paths)
    return {"step": run.step, "history": run.history, "paths": paths, "model": model,
            "vocab": vocab}


def settle_run_length(cfg, given):
    """A time budget alone (--minutes without --steps) sets no step limit; the decay horizon
    defaults to --steps and is fixed now, so that --resume keeps it."""
    cfg = dict(cfg)
    if "minutes" in given and "steps" not in given:
        cfg["steps"] = 0
    if not cfg["decay_steps"] and not cfg["minutes"]:
        cfg["decay_steps"] = cfg["steps"]
    return cfg


def load_corpus(cfg, ckpt):
    """The text (``--data`` or the built-in corpus, cut to ``--text-chars``) as
    ``(vocabulary, train ids, validation ids)``; a resumed run's vocabulary must be the
    checkpoint's."""
    if cfg["data"]:
        require_paths(cfg, files=("data",))
    text = load_text(cfg["data"] or None)
    if cfg["text_chars"]:
        text = text[:cfg["text_chars"]]
    vocab = Vocab(text) if ckpt is None else Vocab.from_codes(ckpt["vocab"])
    if ckpt is not None and Vocab(text) != vocab:
        raise ValueError(f"--resume: the text's {len(Vocab(text))} distinct characters differ "
                         f"from the checkpoint's vocabulary of {len(vocab)}; same --data?")
    train_ids, val_ids = split(vocab.encode(text))
    return vocab, train_ids, val_ids


def build_model(cfg, vocab_size):
    """The ``CharRNN`` on ``--device`` and its optimizer; prints their size."""
    model = CharRNN(vocab_size, cfg["cell"], cfg["hidden"], cfg["layers"], cfg["embedding"],
                    cfg["dropout"], graph=cfg["graph"])
    model.to(cfg["device"])
    optimizer = OPTIMIZERS[cfg["optimizer"]](model.parameters(), lr=cfg["lr"])
    n_params = sum(int(np.prod(p.shape)) for p in model.parameters())
    print(f"model: {cfg['layers']}-layer {cfg['cell'].upper()}, hidden {cfg['hidden']}, "
          f"{n_params:,} parameters, {cfg['optimizer']} lr {cfg['lr']}, device {cfg['device']}")
    return model, optimizer


def restore_run(ckpt, model, optimizer, train_streams, device):
    """Put the model, the optimizer, the data position and the random state back as the
    checkpoint has them; returns the ``TrainingRun`` it recorded."""
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    train_streams.load_state_dict(ckpt["streams"])
    minigrad.backend.random_state.numpy.bit_generator.state = ckpt["rng"]
    return TrainingRun.from_checkpoint(ckpt, device)


def save_run(path, cfg, vocab, model, optimizer, train_streams, run, world):
    """Everything ``--resume`` needs to continue exactly, atomically to ``path``; with
    several ranks every rank hands in its streams' carried state and rank 0 writes."""
    full_state = world.gather_state(run.state)
    if not world.is_main:
        return
    save_checkpoint({
        "config": cfg, "vocab": vocab.codes(), "model": model.state_dict(),
        "optimizer": optimizer.state_dict(), "streams": train_streams.state_dict(),
        "rng": minigrad.backend.random_state.numpy.bit_generator.state,
        **run.state_dict(), "state": state_to_arrays(full_state),
    }, path, "char_lm")


def report_losses(run, chars_per_second):
    """The best and the last validation loss of the run."""
    steps, losses = run.history["val"]
    if losses:
        best = int(np.argmin(losses))
        print(f"best validation loss {losses[best]:.4f} at step {steps[best]}")
        print(f"validation loss {losses[-1]:.4f} nats/char after {run.step} steps "
              f"({run.elapsed / 60:.1f} min, {chars_per_second:,.0f} chars/s this run)")


def draw_pictures(cfg, model, vocab, train_ids, val_ids, run, explore_page=False):
    """The loss curve, the gradient flow (at initialization and now), the interpretable
    units, with ``explore_page`` the interactive page and, when graphviz is installed, the
    unrolled graph; returns {what: path}."""
    out, device, T = cfg["out"], cfg["device"], cfg["seq_len"]
    paths = {"loss curve": os.path.join(out, "loss.png")}
    plot_curves({"train": run.history["train"], "validation": run.history["val"]},
                paths["loss curve"], title=f"{cfg['cell'].upper()} {cfg['layers']}x{cfg['hidden']}")
    flow = pictures.gradient_flow(model, val_ids[:T + 1], device)
    paths["gradient flow"] = os.path.join(out, "gradient_flow.png")
    minigrad.viz.plot_gradient_flow(
        {"at initialization": np.asarray(run.flow_at_init), f"after {run.step} steps": flow},
        path=paths["gradient flow"])
    found, paths["interpretable cells"] = interpretable_units.find_and_draw(
        model, vocab, vocab.decode(val_ids[:4000]), os.path.join(out, "cells.png"), device)
    print("interpretable cells (unit: Pearson r with the feature):")
    for name, units in found.items():
        print(f"  {name:14s} " + "  ".join(f"unit {j:3d}: r={r:+.2f}" for j, r in units))
    if explore_page:
        paths["explorer"] = explore.write(
            model, vocab, val_ids, vocab.decode(val_ids[:4000]), os.path.join(out, "explore.html"),
            device, found, {"at initialization": run.flow_at_init, f"after {run.step} steps": flow.tolist()})
    if pictures.have_dot():
        loss = pictures.window_loss(model, train_ids[:4], device)   # 3 steps unrolled
        paths["unrolled graph (forward)"], paths["unrolled graph (flow)"] = \
            pictures.unrolled_graph(loss, out, "graph")
    else:
        print("graphviz's `dot` is not on PATH: skipped the unrolled-graph pictures "
              "(bash scripts/install_dot.sh installs it)")
    return paths


def run_hello(cell, out, pictures_wanted=True):
    """The lecture's toy: learn to spell "hello", then draw that unrolled graph."""
    model, vocab, losses, spelled = train_hello(cell)
    print(f"hello: {cell.upper()} with hidden size 3 spells {spelled!r} after {len(losses)} "
          f"steps (loss {losses[-1] if losses else float('nan'):.4f})")
    if spelled != "hello":
        raise RuntimeError(f"the hello toy did not converge: it spells {spelled!r}")
    paths = {}
    if pictures_wanted and pictures.have_dot():
        os.makedirs(out, exist_ok=True)
        fwd, flw = pictures.unrolled_graph(hello_loss(model, vocab), out, "hello")
        paths = {"unrolled graph (forward)": fwd, "unrolled graph (flow)": flw}
        for what, path in paths.items():
            print(f"  {what:26s} {path}")
    return {"spelled": spelled, "losses": losses, "paths": paths, "model": model}


if __name__ == "__main__":
    with exit_together():                   # under mpiexec, one rank's error ends every rank
        sys.exit(run_script(main))
