"""Peak memory (RSS) of one char-LM training pass against the sequence length T.

Two ways to train on a sequence of T tokens:

    full       one step over all T: the graph (or the hand-written cache) holds every
               step's activations until backward, so memory grows linearly in T
    truncated  steps over chunks of 64 tokens, the state carried over but detached: only one
               chunk's graph is alive at a time, so memory stays bounded as T grows

Each measurement runs in a fresh Python process (so one measurement's peak cannot hide
another's) that imports only what its implementation needs, and reports the process's peak
resident set size (VmHWM) and the RSS just before training (imports, model, data)::

    python bench/memory.py                       # the table, T = 64 … 1024
    python bench/memory.py --child --impl numpy --T 256 --mode full     # one measurement (JSON)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CHUNK = 64
IMPLS = ("minigrad", "numpy", "torch")
LABELS = {"minigrad": "minigrad", "numpy": "hand NumPy", "torch": "PyTorch nn.LSTM"}


def _status_mib(field):
    """A memory field of /proc/self/status in MiB: VmRSS (now) or VmHWM (peak of this process
    image; unlike ru_maxrss it does not inherit the peak of the parent that forked it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _child(impl, cell, mode, B, T, H, V):
    """Build ``impl``'s model, train on T tokens per row (full or truncated), print JSON."""
    sys.path[:0] = [ROOT, HERE]
    import numpy as np
    if impl == "numpy":
        from numpy_lstm import NumpyCharLM
        model = NumpyCharLM(cell, V, H)
    elif impl == "torch":
        from peers import TorchCharLM
        model = TorchCharLM(cell, V, H)
    else:
        from char_lm_step import MinigradCharLM
        model = MinigradCharLM(cell, V, H)
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    baseline = _status_mib("VmRSS")
    start = time.perf_counter()
    if mode == "full":
        model.train_step(idx, targets)
    else:
        state = None
        for s in range(0, T, CHUNK):
            _, state = model.train_step(idx[s:s + CHUNK], targets[s:s + CHUNK], state)
    seconds = time.perf_counter() - start
    peak = _status_mib("VmHWM")
    print(json.dumps({"impl": impl, "mode": mode, "T": T, "peak_mib": peak,
                      "baseline_mib": baseline, "seconds": seconds}))


def measure(impl, cell="lstm", mode="full", B=32, T=256, H=512, V=65, timeout=300):
    """One measurement in a fresh process: a dict, with ``error`` set when it failed."""
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--impl", impl, "--cell", cell,
           "--mode", mode, "--B", str(B), "--T", str(T), "--H", str(H), "--V", str(V)]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"impl": impl, "mode": mode, "T": T, "error": f"timed out after {timeout} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"impl": impl, "mode": mode, "T": T, "error": last[:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick=False, B=32, H=512, Ts=None, impls=IMPLS, cell="lstm", available=None):
    """All measurements: a list of dicts (impl, mode, T, peak_mib, baseline_mib | error).

    ``available`` maps an implementation to None (it can run) or the reason it is absent.
    """
    if Ts is None:
        Ts = (64, 256) if quick else (64, 128, 256, 512, 1024)
    rows = []
    for mode in ("full", "truncated"):
        for T in Ts:
            if mode == "truncated" and T <= CHUNK:
                continue                  # one chunk: the same run as full BPTT
            for impl in impls:
                reason = (available or {}).get(impl)
                if reason:
                    rows.append({"impl": impl, "mode": mode, "T": T, "error": f"absent: {reason}"})
                else:
                    rows.append(measure(impl, cell, mode, B, T, H))
    return rows


def table(rows, impls=IMPLS):
    """Markdown: one row per (mode, T), peak MiB per implementation and minigrad / NumPy."""
    by = {(r["mode"], r["T"], r["impl"]): r for r in rows}
    keys = sorted({(r["mode"], r["T"]) for r in rows}, key=lambda k: (k[0] != "full", k[1]))
    head = ["mode", "T"] + [f"{LABELS.get(i, i)} peak (growth) MiB" for i in impls] + ["minigrad / NumPy"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for mode, T in keys:
        cells = [mode, str(T)]
        for impl in impls:
            r = by.get((mode, T, impl))
            if r is None or "error" in r:
                cells.append("—" if r is None else r["error"])
            else:
                cells.append(f"{r['peak_mib']:.0f} ({r['peak_mib'] - r['baseline_mib']:+.0f})")
        mg, ref = by.get((mode, T, "minigrad")), by.get((mode, T, "numpy"))
        ok = mg and ref and "error" not in mg and "error" not in ref
        cells.append(f"{mg['peak_mib'] / ref['peak_mib']:.2f}" if ok else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help="run one measurement, print JSON")
    parser.add_argument("--impl", default="numpy", choices=IMPLS)
    parser.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
    parser.add_argument("--mode", default="full", choices=["full", "truncated"])
    parser.add_argument("--B", type=int, default=32)
    parser.add_argument("--T", type=int, default=256)
    parser.add_argument("--H", type=int, default=512)
    parser.add_argument("--V", type=int, default=65)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        _child(args.impl, args.cell, args.mode, args.B, args.T, args.H, args.V)
        return
    print(table(run(args.quick, args.B, args.H, cell=args.cell)))


if __name__ == "__main__":
    main()
