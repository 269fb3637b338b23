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

Everything it makes goes to ``--out``: the checkpoint ``ckpt.npz`` (model, optimizer,
vocabulary, data position, carried hidden state, random state: ``--resume`` continues
exactly), ``loss.png``, the first steps' unrolled graph (``graph_forward.png``,
``graph_flow.png``), ``gradient_flow.png`` and the interpretable-cells picture ``cells.png``.
"""
from __future__ import annotations

import math
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
import nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from char_lm import cells, explore, pictures  # noqa: E402
from char_lm.data import Streams, Vocab, load_text, split  # noqa: E402
from char_lm.hello import hello_loss, train_hello  # noqa: E402
from char_lm.model import CharRNN  # noqa: E402
from char_lm.sampling import sample  # noqa: E402
from common.checkpoint import (CheckpointError, load_checkpoint, resumed_config,  # noqa: E402
                               save_checkpoint)
from common.config import config_parser, given_flags  # noqa: E402
from common.plots import plot_curves  # noqa: E402
from common.progress import progress  # noqa: E402

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
    device="cpu",         # cpu | cuda
    seed=1337,            # seeds initialization (sampling has --sample-seed)
    out="runs/char_lm",   # directory for the checkpoint and the pictures
    data="",              # a UTF-8 text file ("" = the built-in corpus, pydoc_data.topics)
    text_chars=0,         # use only the first this many characters of the text (0: all)
    sample=500,           # characters to sample after training
    temperature=0.8,      # sampling temperature (0: greedy)
    prime="The ",         # text the sample starts from
    sample_seed=0,        # seed of the sampling draws
)
# Values a checkpoint fixes: --resume refuses a run that asks for different ones.
FIXED_BY_CHECKPOINT = ("cell", "layers", "hidden", "embedding", "seq_len", "batch_size",
                       "optimizer", "data", "text_chars", "seed")
CHECKPOINT_KEYS = ("config", "vocab", "model", "optimizer", "streams", "rng", "step",
                   "elapsed", "history", "flow_at_init", "state")
SMOKE = dict(layers=1, hidden=32, embedding=16, seq_len=16, batch_size=4, steps=12,
             eval_every=6, eval_chunks=2, sample=40, text_chars=20_000)


def parse_args(argv=None):
    """One flag per CONFIG entry, its comment as the help; returns (args, flags given)."""
    choices = {"cell": ["rnn", "lstm", "gru"], "optimizer": ["adam", "adagrad", "sgd"],
               "graph": list(nn.GRAPH_MODES)}
    parser = config_parser(__file__, CONFIG, __doc__.split("\n\n")[0], choices)
    parser.add_argument("--resume", action="store_true", help="continue from --out/ckpt.npz")
    parser.add_argument("--smoke", action="store_true", help="a tiny run for CI (seconds)")
    parser.add_argument("--hello", action="store_true", help="the lecture's 'hello' toy")
    parser.add_argument("--no-pictures", action="store_true", help="skip graphs and plots")
    parser.add_argument("--explore", action="store_true", help="also write explore.html (viz.explore)")
    args = parser.parse_args(argv)
    return args, given_flags(args, CONFIG)


def main(argv=None):
    args, given = parse_args(argv)
    if args.hello:
        minigrad.manual_seed(given.get("seed", CONFIG["seed"]))
        return run_hello(given.get("cell", "rnn"), given.get("out", "runs/hello"),
                         pictures_wanted=not args.no_pictures)

    # -- configuration: defaults < smoke < checkpoint < command line -------------------------
    cfg = dict(CONFIG)
    if args.smoke:
        cfg.update(SMOKE)
    cfg.update(given)
    os.makedirs(cfg["out"], exist_ok=True)
    ckpt_path = os.path.join(cfg["out"], "ckpt.npz")
    ckpt = None
    if args.resume:
        ckpt = load_checkpoint(ckpt_path, "char_lm", keys=CHECKPOINT_KEYS)
        cfg = resumed_config(cfg, given, ckpt["config"], ckpt_path, free=("out", "device"),
                             fixed=FIXED_BY_CHECKPOINT)
    if "minutes" in given and "steps" not in given:
        cfg["steps"] = 0                                # a time budget alone: no step limit
    if not cfg["decay_steps"] and not cfg["minutes"]:
        cfg["decay_steps"] = cfg["steps"]               # fixed now, so --resume keeps it
    minigrad.manual_seed(cfg["seed"])
    device = cfg["device"]

    # -- data -------------------------------------------------------------------------------
    text = load_text(cfg["data"] or None)
    if cfg["text_chars"]:
        text = text[:cfg["text_chars"]]
    vocab = Vocab(text) if ckpt is None else Vocab.from_codes(ckpt["vocab"])
    if ckpt is not None and Vocab(text) != vocab:
        raise ValueError(f"--resume: the text's {len(Vocab(text))} distinct characters differ "
                         f"from the checkpoint's vocabulary of {len(vocab)}; same --data?")
    train_ids, val_ids = split(vocab.encode(text))
    T, B = cfg["seq_len"], cfg["batch_size"]
    train_streams = Streams(train_ids, B, T)
    print(f"data: {len(text):,} characters, vocabulary {len(vocab)}, "
          f"train {len(train_ids):,} / val {len(val_ids):,}, {len(train_streams)} chunks "
          f"of {T}x{B} per epoch")

    # -- model and optimizer ----------------------------------------------------------------
    model = CharRNN(len(vocab), cfg["cell"], cfg["hidden"], cfg["layers"], cfg["embedding"],
                    cfg["dropout"], graph=cfg["graph"])
    model.to(device)
    optimizers = {"adam": minigrad.optim.Adam, "adagrad": minigrad.optim.Adagrad,
                  "sgd": minigrad.optim.SGD}
    if cfg["optimizer"] not in optimizers:
        raise ValueError(f"unknown --optimizer {cfg['optimizer']!r}; expected {sorted(optimizers)}")
    optimizer = optimizers[cfg["optimizer"]](model.parameters(), lr=cfg["lr"])
    n_params = sum(int(np.prod(p.shape)) for p in model.parameters())
    print(f"model: {cfg['layers']}-layer {cfg['cell'].upper()}, hidden {cfg['hidden']}, "
          f"{n_params:,} parameters, {cfg['optimizer']} lr {cfg['lr']}, device {device}")

    # -- training state (fresh, or exactly as the checkpoint left it) -------------------------
    step, elapsed, state = 0, 0.0, None
    history = {"train": ([], []), "val": ([], [])}
    flow_at_init = pictures.gradient_flow(model, val_ids[:T + 1], device).tolist()
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        train_streams.load_state_dict(ckpt["streams"])
        minigrad.backend.random_state.numpy.bit_generator.state = ckpt["rng"]
        step, elapsed = ckpt["step"], ckpt["elapsed"]
        history = {k: tuple(map(list, v)) for k, v in ckpt["history"].items()}
        flow_at_init = ckpt["flow_at_init"]
        state = _state_from_arrays(ckpt["state"], device)
        print(f"resumed {ckpt_path} at step {step} ({elapsed / 60:.1f} min trained)")

    def estimate_loss():
        """Mean per-character loss on the validation text (fixed chunks, carried state)."""
        model.eval()
        streams, total, state = Streams(val_ids, min(B, len(val_ids) // (T + 1)), T), 0.0, None
        n = min(cfg["eval_chunks"], len(streams))
        with minigrad.no_grad():
            for _ in range(n):
                x, y, _ = streams.next()
                logits, state = model(minigrad.tensor(x, device=device), state)
                total += F.cross_entropy(logits.reshape(-1, len(vocab)),
                                         minigrad.tensor(y.reshape(-1), device=device)).item()
        model.train()
        return total / n

    def learning_rate():
        """Cosine decay from lr to lr * lr_min over the decay horizon, flat after it."""
        if cfg["decay_steps"]:
            frac = min(1.0, step / cfg["decay_steps"])
        else:
            frac = min(1.0, elapsed / (60 * cfg["minutes"])) if cfg["minutes"] else 1.0
        return cfg["lr"] * (cfg["lr_min"] + (1 - cfg["lr_min"]) * 0.5 * (1 + math.cos(math.pi * frac)))

    def save():
        save_checkpoint({
            "config": cfg, "vocab": vocab.codes(), "model": model.state_dict(),
            "optimizer": optimizer.state_dict(), "streams": train_streams.state_dict(),
            "rng": minigrad.backend.random_state.numpy.bit_generator.state,
            "step": step, "elapsed": elapsed, "history": history,
            "flow_at_init": flow_at_init, "state": _state_to_arrays(state),
        }, ckpt_path, "char_lm")

    def done():
        if cfg["minutes"]:
            return elapsed >= 60 * cfg["minutes"] or 0 < cfg["steps"] <= step
        return step >= cfg["steps"]

    # -- training loop ----------------------------------------------------------------------
    bar = progress(total=cfg["steps"] or None, initial=step, disable=done())
    chars_seen, t_run = 0, time.perf_counter()
    while not done():
        t0 = time.perf_counter()
        x, y, reset = train_streams.next()
        if reset:
            state = None                                     # start of the text: zero state
        for group in optimizer.param_groups:
            group["lr"] = learning_rate()
        logits, state = model(minigrad.tensor(x, device=device), state)      # (T, B, V)
        loss = F.cross_entropy(logits.reshape(T * B, len(vocab)),
                               minigrad.tensor(y.reshape(T * B), device=device))
        optimizer.zero_grad()
        loss.backward()
        if cfg["clip"]:
            nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        optimizer.step()
        state = nn.detach_state(state)           # carry the values, cut the graph (TBPTT)
        step += 1
        elapsed += time.perf_counter() - t0
        chars_seen += T * B
        loss_value = loss.item()
        history["train"][0].append(step)
        history["train"][1].append(loss_value)
        bar.update(1)
        bar.set_postfix_str(f"loss {loss_value:.3f} | "
                            f"{chars_seen / (time.perf_counter() - t_run):,.0f} chars/s")
        if step % cfg["eval_every"] == 0 or done():
            val = estimate_loss()
            history["val"][0].append(step)
            history["val"][1].append(val)
            bar.write(f"step {step:5d} | train {loss_value:.4f} | val {val:.4f} nats/char | "
                      f"lr {learning_rate():.2e} | {elapsed / 60:.1f} min")
            save()
    bar.close()
    save()
    if history["val"][1]:
        best = int(np.argmin(history["val"][1]))
        print(f"best validation loss {history['val'][1][best]:.4f} at step "
              f"{history['val'][0][best]}")
        print(f"validation loss {history['val'][1][-1]:.4f} nats/char after {step} steps "
              f"({elapsed / 60:.1f} min, {chars_seen / max(1e-9, time.perf_counter() - t_run):,.0f}"
              " chars/s this run)")

    # -- sample -----------------------------------------------------------------------------
    if cfg["sample"]:
        text_out = sample(model, vocab, cfg["sample"], cfg["prime"], cfg["temperature"],
                          seed=cfg["sample_seed"], device=device)
        print(f"\n--- sample (temperature {cfg['temperature']}) ---\n{text_out}\n---")

    # -- pictures ---------------------------------------------------------------------------
    paths = {"checkpoint": ckpt_path}
    if not args.no_pictures:
        paths["loss curve"] = plot_curves(
            {"train": history["train"], "validation": history["val"]},
            os.path.join(cfg["out"], "loss.png"),
            title=f"{cfg['cell'].upper()} {cfg['layers']}x{cfg['hidden']}")
        flow = pictures.gradient_flow(model, val_ids[:T + 1], device)
        paths["gradient flow"] = os.path.join(cfg["out"], "gradient_flow.png")
        minigrad.viz.plot_gradient_flow(
            {"at initialization": np.asarray(flow_at_init), f"after {step} steps": flow},
            path=paths["gradient flow"])
        found, paths["interpretable cells"] = cells.find_and_draw(
            model, vocab, vocab.decode(val_ids[:4000]), os.path.join(cfg["out"], "cells.png"),
            device)
        print("interpretable cells (unit: Pearson r with the feature):")
        for name, units in found.items():
            print(f"  {name:14s} " + "  ".join(f"unit {j:3d}: r={r:+.2f}" for j, r in units))
        if args.explore:
            paths["explorer"] = explore.write(
                model, vocab, val_ids, vocab.decode(val_ids[:4000]),
                os.path.join(cfg["out"], "explore.html"), device, found,
                {"at initialization": flow_at_init, f"after {step} steps": flow.tolist()})
        if pictures.have_dot():
            loss = pictures.window_loss(model, train_ids[:4], device)   # 3 steps unrolled
            fwd, flw = pictures.unrolled_graph(loss, cfg["out"], "graph")
            paths["unrolled graph (forward)"], paths["unrolled graph (flow)"] = fwd, flw
        else:
            print("graphviz's `dot` is not on PATH: skipped the unrolled-graph pictures "
                  "(bash scripts/install_dot.sh installs it)")
    print("\nwritten:")
    for what, path in paths.items():
        print(f"  {what:26s} {path}")
    return {"step": step, "history": history, "paths": paths, "model": model, "vocab": vocab}


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


def _state_to_arrays(state):
    """The carried hidden state as host arrays: [] (none), [h] or [h, c]."""
    if state is None:
        return []
    parts = state if isinstance(state, tuple) else (state,)
    return [p.numpy() for p in parts]


def _state_from_arrays(arrays, device):
    if not arrays:
        return None
    parts = tuple(minigrad.tensor(a, device=device) for a in arrays)
    return parts if len(parts) == 2 else parts[0]


if __name__ == "__main__":
    try:
        main()
    except (CheckpointError, ValueError, KeyError) as error:
        sys.exit(f"error: {error}")
