"""Per-op overhead: how many microseconds the framework adds around a tiny computation.

    python bench/op_overhead.py            # full run (about a minute)
    python bench/op_overhead.py --quick    # fewer repeats

For each case (an op on 1-element or 64x64 float32 tensors, and a 256x256 matmul) it
times, per op call:

- ``fwd``      the forward with inputs that require grad (the graph is recorded),
- ``nograd``   the same forward under ``no_grad`` (no graph),
- ``graph``    ``fwd - nograd``: the cost of recording one node,
- ``fwd+bwd``  forward, then ``backward`` of the output with a given gradient,

for minigrad beside PyTorch CPU (``torch.set_num_threads(2)``) and DeZero, each when it
is importable (absent peers are reported as absent). Every figure is the median of
several ``timeit`` repeats. ``run(quick=False)`` returns the rows for ``bench/run.py``.
"""
from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import minigrad

CASES = [  # (op, shape); matmul uses square matrices
    ("add", (1,)), ("mul", (1,)), ("tanh", (1,)), ("sigmoid", (1,)), ("exp", (1,)),
    ("add", (64, 64)), ("mul", (64, 64)), ("tanh", (64, 64)), ("sigmoid", (64, 64)),
    ("exp", (64, 64)), ("matmul", (256, 256)),
]
MODES = ("fwd", "nograd", "fwd+bwd")


# ---------------------------------------------------------------------------
# One adapter per framework: make inputs, the op, a forward+backward step
# ---------------------------------------------------------------------------
def _minigrad_case(op, a, b, g):
    x = minigrad.tensor(a, requires_grad=True)
    w = minigrad.tensor(b, requires_grad=True)
    gy = minigrad.tensor(g)
    f = {"add": lambda: x + w, "mul": lambda: x * w, "tanh": x.tanh, "sigmoid": x.sigmoid,
         "exp": x.exp, "matmul": lambda: x @ w}[op]

    def step():
        f().backward(gy)
        x.grad = w.grad = None
    return f, step, minigrad.no_grad


def _torch_case(torch, op, a, b, g):
    x = torch.tensor(a, requires_grad=True)
    w = torch.tensor(b, requires_grad=True)
    gy = torch.tensor(g)
    f = {"add": lambda: x + w, "mul": lambda: x * w, "tanh": x.tanh, "sigmoid": x.sigmoid,
         "exp": x.exp, "matmul": lambda: x @ w}[op]

    def step():
        f().backward(gy)
        x.grad = w.grad = None
    return f, step, torch.no_grad


def _dezero_case(dezero, op, a, b, g):
    F = dezero.functions
    x, w = dezero.Variable(a), dezero.Variable(b)
    f = {"add": lambda: x + w, "mul": lambda: x * w, "tanh": lambda: F.tanh(x),
         "sigmoid": lambda: F.sigmoid(x), "exp": lambda: F.exp(x),
         "matmul": lambda: F.matmul(x, w)}[op]

    def step():
        y = f()
        y.grad = dezero.Variable(g)
        y.backward()
        x.cleargrad()
        w.cleargrad()
    return f, step, dezero.no_grad


def _peers():
    """{name: case-maker} for every framework that imports."""
    peers = {"minigrad": _minigrad_case}
    try:
        import torch
        torch.set_num_threads(2)
        peers["torch"] = lambda *args: _torch_case(torch, *args)
    except ImportError:
        pass
    try:
        np.int = int  # dezero still uses the alias NumPy 2 removed (only ever set here)
        import dezero
        peers["dezero"] = lambda *args: _dezero_case(dezero, *args)
    except ImportError:
        pass
    return peers


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------
def _median_us(fn, repeat, budget_s):
    """Median over ``repeat`` runs of the time per call, in microseconds."""
    timer = timeit.Timer(fn)
    number, elapsed = 1, 0.0
    while True:  # as timeit's autorange, but aiming at budget_s per repeat
        elapsed = timer.timeit(number)
        if elapsed >= budget_s / 5:
            break
        number *= 2 if elapsed > budget_s / 50 else 10
    number = max(1, int(number * budget_s / max(elapsed, 1e-9)))
    return statistics.median(timer.repeat(repeat, number)) / number * 1e6


def run(quick=False):
    """Time every case on every importable framework.

    Returns a list of dicts, one per (op, shape): ``op``, ``shape`` and, for each
    framework ``F`` and mode ``M`` in ``fwd``, ``nograd``, ``graph``, ``fwd+bwd``, the key
    ``"F M"`` holding microseconds (None when ``F`` is absent).
    """
    repeat, budget = (3, 0.02) if quick else (7, 0.05)
    peers = _peers()
    rng = np.random.default_rng(0)
    rows = []
    for op, shape in CASES:
        a = rng.standard_normal(shape).astype(np.float32)
        b = rng.standard_normal(shape).astype(np.float32)
        g = np.ones(shape, dtype=np.float32)
        row = {"op": op, "shape": "x".join(map(str, shape))}
        for name in ("minigrad", "torch", "dezero"):
            if name not in peers:
                row.update({f"{name} {m}": None for m in MODES + ("graph",)})
                continue
            fwd, step, no_grad = peers[name](op, a, b, g)
            row[f"{name} fwd"] = _median_us(fwd, repeat, budget)
            with no_grad():  # entered once, so its own cost is not counted
                row[f"{name} nograd"] = _median_us(fwd, repeat, budget)
            row[f"{name} fwd+bwd"] = _median_us(step, repeat, budget)
            row[f"{name} graph"] = row[f"{name} fwd"] - row[f"{name} nograd"]
        rows.append(row)
    return rows


def format_table(rows):
    """The rows as a text table: µs per op, and minigrad's time divided by each peer's."""
    def cell(v):
        return "absent" if v is None else f"{v:8.1f}"

    def ratio(a, b):
        return "" if a is None or b is None or b <= 0 else f"{a / b:5.2f}x"

    lines = []
    for mode in ("fwd", "nograd", "graph", "fwd+bwd"):
        lines.append(f"\n[{mode}]  microseconds per op (median)")
        lines.append(f"{'op':<8}{'shape':>8}{'minigrad':>10}{'torch':>10}{'dezero':>10}"
                     f"{'mg/torch':>10}{'mg/dezero':>10}")
        for r in rows:
            m, t, d = (r[f"{n} {mode}"] for n in ("minigrad", "torch", "dezero"))
            lines.append(f"{r['op']:<8}{r['shape']:>8}{cell(m):>10}{cell(t):>10}{cell(d):>10}"
                         f"{ratio(m, t):>10}{ratio(m, d):>10}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    args = parser.parse_args()
    rows = run(quick=args.quick)
    print(format_table(rows))


if __name__ == "__main__":
    main()
