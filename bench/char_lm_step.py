"""The minigrad char-LM training step that the benchmarks time and profile.

    Embedding(V, H) → nn.LSTM / nn.GRU / nn.RNN (H → H) → Linear(H, V)
    → cross_entropy over all T·B outputs → backward (full BPTT) → clip_grad_norm_(5) → Adam

Inputs are time-major (T, B) integer arrays, as for the peers in ``peers.py`` and the NumPy
reference in ``numpy_lstm.py``. Profile one configuration with::

    python bench/char_lm_step.py --cell lstm --B 32 --T 64 --H 128 --steps 10
    python bench/char_lm_step.py --B 1 --T 25 --H 100 --graph gates      # the gate-level graph
    python bench/char_lm_step.py --B 1 --T 25 --H 100 --graph layer      # one node per layer

which prints cProfile's top functions and the time grouped by where it goes (engine,
per-step Python in the layer, matmul, elementwise, Adam, cross-entropy, embedding).
"""
from __future__ import annotations

import os
import sys

MAX_NORM = 5.0


def missing_pieces(cell="lstm"):
    """What minigrad still lacks for this benchmark ([] when it can run)."""
    missing = []
    try:
        import minigrad
        import nn
    except Exception as error:
        return [f"import failed: {type(error).__name__}: {error}"]
    layer = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[cell]
    for owner, names in ((nn, ["Module", "Embedding", "Linear", layer]),):
        missing += [f"nn.{n}" for n in names if not hasattr(owner, n)]
    for path in ("nn.functional.cross_entropy", "nn.utils.clip_grad_norm_", "minigrad.optim.Adam"):
        obj = {"nn": nn, "minigrad": minigrad}[path.split(".")[0]]
        try:
            for part in path.split(".")[1:]:
                obj = getattr(obj, part)
        except Exception:
            missing.append(path)
    return missing


class MinigradCharLM:
    """One char-LM and its optimizer; ``layer_kwargs`` go to the recurrent layer (``graph=``)."""

    def __init__(self, cell, vocab, hidden, seed=0, lr=1e-3, **layer_kwargs):
        import minigrad
        import nn
        import nn.functional as F
        minigrad.manual_seed(seed)
        self.minigrad, self.F, self.V = minigrad, F, vocab
        layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.embedding = nn.Embedding(vocab, hidden)
        self.rnn = layer(hidden, hidden, **layer_kwargs)
        self.out = nn.Linear(hidden, vocab)
        self.params = [p for m in (self.embedding, self.rnn, self.out) for p in m.parameters()]
        self.opt = minigrad.optim.Adam(self.params, lr=lr)
        self.clip = nn.utils.clip_grad_norm_

    def train_step(self, idx, targets, state=None):
        minigrad = self.minigrad
        T, B = idx.shape
        self.opt.zero_grad()                  # drop last step's gradients before building the graph
        x = self.embedding(minigrad.tensor(idx))                       # (T, B, H)
        out, state = self.rnn(x, state)                                # (T, B, H)
        logits = self.out(out.reshape(T * B, -1))                      # (T*B, V)
        loss = self.F.cross_entropy(logits, minigrad.tensor(targets.reshape(-1)))
        loss.backward()
        self.clip(self.params, MAX_NORM)
        self.opt.step()
        if isinstance(state, tuple):
            state = tuple(s.detach() for s in state)
        else:
            state = state.detach()
        return loss.item(), state


# -- where the step's time goes, measured without a profiler ---------------------------------
def phase_times(cell="lstm", B=32, T=64, H=128, V=65, reps=15):
    """Best-of-``reps`` milliseconds of each phase of one step, minigrad beside the NumPy
    reference: {phase: (minigrad_ms, reference_ms or None)}. The reference's forward and
    backward are one function, so it reports their sum under "forward + backward"."""
    import time
    import numpy as np
    from numpy_lstm import NumpyCharLM
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    mg, ref = MinigradCharLM(cell, V, H), NumpyCharLM(cell, V, H)
    mg.train_step(idx, targets)
    ref.train_step(idx, targets)
    clock = time.perf_counter
    best = {}

    def keep(name, seconds):
        best[name] = min(best.get(name, float("inf")), seconds * 1e3)

    for _ in range(reps):
        t0 = clock()
        x = mg.embedding(mg.minigrad.tensor(idx))
        t1 = clock()
        out, _ = mg.rnn(x)
        t2 = clock()
        loss = mg.F.cross_entropy(mg.out(out.reshape(T * B, -1)),
                                  mg.minigrad.tensor(targets.reshape(-1)))
        t3 = clock()
        mg.opt.zero_grad()
        loss.backward()
        t4 = clock()
        mg.clip(mg.params, MAX_NORM)
        t5 = clock()
        mg.opt.step()
        t6 = clock()
        for name, a, b in (("embedding forward", t0, t1), ("recurrent layer forward", t1, t2),
                           ("linear + cross-entropy forward", t2, t3), ("backward (all)", t3, t4),
                           ("clip_grad_norm_", t4, t5), ("Adam step", t5, t6),
                           ("forward + backward", t0, t4), ("whole step", t0, t6)):
            keep("mg " + name, b - a)
        r0 = clock()
        _, grads, _ = ref.loss_and_grads(idx, targets)
        r1 = clock()
        ref._clip(grads)
        r2 = clock()
        ref._adam(grads)
        r3 = clock()
        for name, a, b in (("forward + backward", r0, r1), ("clip_grad_norm_", r1, r2),
                           ("Adam step", r2, r3), ("whole step", r0, r3)):
            keep("ref " + name, b - a)
    phases = ["embedding forward", "recurrent layer forward", "linear + cross-entropy forward",
              "backward (all)", "forward + backward", "clip_grad_norm_", "Adam step", "whole step"]
    return {p: (best["mg " + p], best.get("ref " + p)) for p in phases}


# -- profiling ------------------------------------------------------------------------------
# Where a profiled function's time goes, by the file (or C function) it belongs to.
CATEGORIES = [
    ("matmul (BLAS)", ("numpy.matmul", "numpy.dot", "method 'dot'", "built-in method numpy.core.multiarray.dot",
                       "'__matmul__'", "numpy._core._multiarray_umath.matmul", "{built-in method numpy.matmul}")),
    ("Adam / clip", ("optim", "clip_grad", "utils")),
    ("cross_entropy / softmax", ("softmax.py",)),
    ("embedding", ("embedding", "sparse", "indexing.py", "add.at", "scatter_add", "add_rows")),
    ("recurrent layer: one-node cell steps and the time loop (incl. the per-step h @ W_hh matmuls)",
     ("rnn", "lstm", "gru", "cell")),
    ("autograd engine", ("autograd.py",)),
    ("graph recording (Function.__call__, Tensor)", ("function.py", "tensor.py", "grad_mode.py", "module.py",
                                                     "container.py")),
    ("other ops (incl. the hoisted matmuls of the input projection and the output layer)", ("ops/",)),
]


def categorize(stats):
    """Sum cProfile's self-time ("tottime") per category; returns [(category, seconds)]."""
    totals = {}
    for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        where = f"{filename}:{func}"
        for name, keys in CATEGORIES:
            if any(k in where for k in keys):
                break
        else:
            name = "numpy / other C functions" if filename == "~" else "other Python"
        totals[name] = totals.get(name, 0.0) + tottime
    return sorted(totals.items(), key=lambda kv: -kv[1])


def profile(cell="lstm", B=32, T=64, H=128, V=65, steps=10, top=25, **layer_kwargs):
    import cProfile
    import pstats
    import numpy as np
    rng = np.random.default_rng(0)
    model = MinigradCharLM(cell, V, H, **layer_kwargs)
    idx, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    model.train_step(idx, targets)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        model.train_step(idx, targets)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())
    print(f"minigrad {cell} B={B} T={T} H={H}: {steps} steps, {total / steps * 1e3:.1f} ms/step "
          f"under cProfile")
    for name, seconds in categorize(stats):
        print(f"  {name:48s} {seconds / steps * 1e3:8.2f} ms/step  {100 * seconds / total:5.1f}%")
    stats.sort_stats("tottime").print_stats(top)
    return stats


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
    parser.add_argument("--B", type=int, default=32)
    parser.add_argument("--T", type=int, default=64)
    parser.add_argument("--H", type=int, default=128)
    parser.add_argument("--V", type=int, default=65)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--graph", default="steps", choices=["gates", "steps", "layer"],
                        help="how the layer records time (nn.LSTM(graph=...))")
    args = parser.parse_args(argv)
    kwargs = {"graph": args.graph}
    missing = missing_pieces(args.cell)
    if missing:
        sys.exit(f"minigrad cannot run this benchmark yet: missing {', '.join(missing)}")
    profile(args.cell, args.B, args.T, args.H, args.V, args.steps, **kwargs)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
