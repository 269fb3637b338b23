"""Benchmark minigrad's recurrent training step beside PyTorch, DeZero and hand-written NumPy.

    python bench/run.py            # full run (~5-10 min on 2 cores): prints the tables and
                                   # writes docs/performance.md + docs/img/perf_tokens_per_s.png
    python bench/run.py --quick    # fewer repeats and points (~2 min), same outputs

What is timed: one char-LM training step (Embedding(V, H) → LSTM / GRU / RNN (H → H) →
Linear(H, V) → cross-entropy over all T·B outputs → backward through all T steps → clip
the gradient norm → Adam), float32, 2 BLAS/torch threads, V = 65. Tokens per second =
B·T / (median seconds per step). All implementations of one configuration are timed in
turn (round robin), so a burst of load from elsewhere on the machine hits them alike:
compare ratios within one run, not absolute numbers across runs. Each implementation runs
in a fresh process of its own (``turns.py`` says why), the parent only taking turns.
Each turn is a short burst of back-to-back steps (about 25 ms of them; one step when a step
takes longer), as a training loop runs them, after a pause that lets the previous implementation's BLAS/OpenMP
threads go idle; the turn's time per step is the burst's time divided by its steps. (Timing
one step per turn measured a step that starts with caches the other frameworks' steps have
just filled: at B=1, where a step is a few ms of small calls, that cost minigrad about 0.15×
of the NumPy ratio and nothing in a real training loop.)
"""
from __future__ import annotations

import os
import sys

THREADS = 2
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)      # before NumPy loads its BLAS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import argparse  # noqa: E402
import datetime  # noqa: E402
import inspect  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

import numpy as np  # noqa: E402

import char_lm_step  # noqa: E402
import memory  # noqa: E402
import min_char_rnn_port  # noqa: E402
import peers  # noqa: E402
import turns  # noqa: E402
from numpy_lstm import NumpyCharLM  # noqa: E402

V = 65
CONFIGS = [(32, 64, 128), (32, 64, 512), (1, 25, 100)]          # (B, T, H)
SMOKE_CONFIGS = [(2, 5, 8)]
REFERENCE = "torch_lstm"                                         # ratios are to this column

# name -> (column label, cells it exists for)
IMPLS = {
    "minigrad": ("minigrad", ("lstm", "gru", "rnn")),
    "minigrad_gates": ("minigrad graph='gates'", ("lstm",)),
    "minigrad_layer": ("minigrad graph='layer'", ("lstm", "gru", "rnn")),
    "numpy": ("hand NumPy", ("lstm", "gru", "rnn")),
    "torch_lstm": ("PyTorch nn.{CELL}", ("lstm", "gru", "rnn")),
    "torch_cell": ("PyTorch {CELL}Cell loop", ("lstm", "gru", "rnn")),
    "dezero": ("dezero", ("lstm", "rnn")),
}
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def label(name, cell):
    return IMPLS[name][0].replace("{CELL}", CELL_NAMES[cell])


# -- building the implementations -----------------------------------------------------------
def absent_reason(name, cell):
    """None when ``name`` can run for ``cell``, else why it is absent."""
    if name.startswith("minigrad"):
        missing = char_lm_step.missing_pieces(cell)
        if missing:
            return "minigrad lacks " + ", ".join(missing)
        if name in ("minigrad_gates", "minigrad_layer"):
            import nn
            layer = getattr(nn, CELL_NAMES[cell])
            if "graph" not in inspect.signature(layer.__init__).parameters:
                return f"nn.{CELL_NAMES[cell]} has no graph= argument"
        return None
    if name == "numpy":
        return None
    return peers.peer_status(name)


def build(name, cell, H, seed=0):
    if name == "minigrad":
        return char_lm_step.MinigradCharLM(cell, V, H, seed=seed)
    if name == "minigrad_gates":
        return char_lm_step.MinigradCharLM(cell, V, H, seed=seed, graph="gates")
    if name == "minigrad_layer":
        return char_lm_step.MinigradCharLM(cell, V, H, seed=seed, graph="layer")
    if name == "numpy":
        return NumpyCharLM(cell, V, H, seed=seed)
    return peers.make_peer(name, cell, V, H, seed=seed)


# -- timing ----------------------------------------------------------------------------------
def _cpu_snapshot():
    """(wall seconds, CPU seconds busy on the whole machine, CPU seconds of this process)."""
    busy = float("nan")
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        busy = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait
    except (OSError, ValueError, IndexError):
        pass
    t = os.times()
    return time.time(), busy, t.user + t.system


def other_load(before, after):
    """Cores kept busy by other processes between two snapshots."""
    wall = after[0] - before[0]
    return max(0.0, ((after[1] - before[1]) - (after[2] - before[2])) / wall) if wall > 0 else float("nan")


def wait_until_quiet(max_wait_s, threshold=0.3, probe_s=2.0):
    """Sleep (up to ``max_wait_s``) until other processes use less than ``threshold`` cores."""
    deadline = time.time() + max_wait_s
    while True:
        before = _cpu_snapshot()
        time.sleep(probe_s)
        load = other_load(before, _cpu_snapshot())
        if load < threshold or time.time() >= deadline:
            return load


def time_config(cell, B, T, H, names, warmup, min_reps, max_reps, budget_s, gap_s=0.15,
                quiet_wait_s=0.0, burst_s=0.025, torch_threads=None):
    """Median seconds per training step of each implementation, timed round robin, each in
    a fresh process of its own (``turns.py``): each turn runs ``burst`` steps back to back,
    enough to fill ``burst_s`` (at least one).

    Returns {name: {"seconds": median, "steps": n, "loss": first loss} or {"error": text}}.
    """
    rng = np.random.default_rng(B * 1000 + T + H)
    idx, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    results, runners = {}, {}
    if quiet_wait_s:
        wait_until_quiet(quiet_wait_s)
    snapshot = _cpu_snapshot()
    for name in names:
        reason = absent_reason(name, cell)
        if reason:
            results[name] = {"error": f"absent ({reason})"}
    started_workers = {name: turns.Worker(torch_threads) for name in names if name not in results}
    try:                 # the children start together (their imports overlap), build one by one
        for name, worker in started_workers.items():
            try:
                reply = worker.build(name, cell, H, idx, targets, warmup)
            except RuntimeError as error:
                reply = {"error": f"failed ({error})"}
            if "error" in reply:
                results[name] = reply
                continue
            results[name] = {"loss": reply["loss"], "times": [], "warm": reply["warm"]}
            runners[name] = worker
        bursts = {n: max(1, min(50, int(burst_s / max(results[n]["warm"], 1e-6)))) for n in runners}
        per_round = sum(results[n]["warm"] * bursts[n] for n in runners) or 1e-3
        reps = int(max(min_reps, min(max_reps, budget_s / per_round)))
        started = time.perf_counter()
        for round_ in range(reps):
            if round_ >= 3 and time.perf_counter() - started > 2 * budget_s:
                break                     # a loaded machine: keep the run's length bounded
            for name, worker in list(runners.items()):
                time.sleep(gap_s)         # let the previous one's idle BLAS/OpenMP threads stop spinning
                try:
                    results[name]["times"].append(worker.burst(bursts[name]))
                except RuntimeError as error:
                    results[name] = {"error": f"failed ({error})"}
                    del runners[name]
    finally:
        worker_cpu = sum(worker.close() for worker in started_workers.values())
    for name in runners:
        times = results[name]["times"]
        results[name].update(seconds=statistics.median(times), best=min(times),
                             steps=len(times) * bursts[name], burst=bursts[name])
    wall, busy, own = _cpu_snapshot()
    results["_other_load"] = other_load(snapshot, (wall, busy, own + worker_cpu))
    return results


def tokens_per_s(B, T, result):
    return B * T / result["seconds"] if "seconds" in result else None


def speed_ratio(res, a, b):
    """How many times faster ``a`` runs than ``b``: (median over rounds of t_b / t_a, best t_b /
    best t_a). Each round times a and b seconds apart, so the pairing cancels slow load drift;
    the best steps show what each does when nothing else gets in the way."""
    ra, rb = res.get(a, {}), res.get(b, {})
    if "times" not in ra or "times" not in rb:
        return None, None
    paired = statistics.median(tb / ta for ta, tb in zip(ra["times"], rb["times"]))
    return paired, rb["best"] / ra["best"]


def cell_table(cell, configs, results, names):
    """Markdown table: tokens/s (ratio to PyTorch nn.X) per implementation, per config."""
    head = (["config"] + [label(n, cell) for n in names]
            + ["minigrad / NumPy", "'layer' / NumPy", "minigrad / dezero"]
            + ["other jobs' load (cores)"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (B, T, H) in configs:
        res = results[(cell, B, T, H)]
        cells = [f"B={B} T={T} H={H}"]
        for n in names:
            tps = tokens_per_s(B, T, res[n])
            if tps is None:
                cells.append(res[n]["error"].split(" (")[0])
            else:
                paired, _ = speed_ratio(res, n, REFERENCE)
                cells.append(f"{tps:,.0f}" + ("" if paired is None else f" ({paired:.2f})"))
        for ours, other in (("minigrad", "numpy"), ("minigrad_layer", "numpy"), ("minigrad", "dezero")):
            paired, best = speed_ratio(res, ours, other)
            cells.append("—" if paired is None else f"{paired:.2f}x (best {best:.2f}x)")
        cells.append(f"{res.get('_other_load', float('nan')):.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    notes = sorted({f"{label(n, cell)}: {res[n]['error']}" for res in
                    (results[(cell,) + c] for c in configs) for n in names if "error" in res[n]})
    notes.append("the last column: CPU cores other processes kept busy while this row was timed "
                 "(of 2); above ~0.3 the absolute numbers, and the median ratios, are unreliable")
    return "\n".join(lines + ([""] + [f"- {n}" for n in notes] if notes else []))


# -- targets ----------------------------------------------------------------------------------
OP_TARGET_OPS = ("add", "mul", "tanh", "exp", "sigmoid")    # issue 19: 1-element tensors
OP_TARGET_US = {"fwd": 1.5, "fwd+bwd": 4.0}


LOAD_LIMIT = 0.3   # cores kept busy by other jobs above which a timing says nothing


def _verdict(met, load):
    """True / False, None (not measured) or the text saying why it cannot be judged."""
    if met is not None and load is not None and load > LOAD_LIMIT:
        return f"unreliable (other jobs kept {load:.1f} cores busy)"
    return met


def targets(results, mem_rows, configs, overhead_rows=(), overhead_load=None):
    """[(target, measured, best, met)] for the issues' targets (met: None = could not measure,
    a text = measured while other jobs loaded the machine, so not judged)."""
    out = []

    def add(text, cell, cfg, ours, other, goal):
        res = results.get((cell,) + cfg, {})
        r, best = speed_ratio(res, ours, other)
        out.append((f"{CELL_NAMES[cell]} B={cfg[0]} T={cfg[1]} H={cfg[2]}: {text}", r, best,
                    _verdict(None if r is None else r >= goal, res.get("_other_load"))))

    for cfg in configs:      # per-step default ≥ 0.9x the hand NumPy step (issue 19: B=1 and B=32 H=512)
        for cell in ("lstm", "gru", "rnn"):
            add("minigrad ≥ 0.9x hand NumPy", cell, cfg, "minigrad", "numpy", 0.9)
    for cfg in configs:      # one node per layer ≥ 1.0x hand NumPy at every config
        for cell in ("lstm", "gru", "rnn"):
            add("minigrad graph='layer' ≥ 1.0x hand NumPy", cell, cfg, "minigrad_layer", "numpy", 1.0)
    for cfg in configs:
        add("minigrad ≥ 3.0x dezero", "lstm", cfg, "minigrad", "dezero", 3.0)
    if (1, 25, 100) in configs:
        for ours, what in (("minigrad", "minigrad"), ("minigrad_layer", "minigrad graph='layer'")):
            add(f"{what} ≥ 1.0x PyTorch nn.LSTM", "lstm", (1, 25, 100), ours, "torch_lstm", 1.0)
    for row in overhead_rows:
        if row["op"] in OP_TARGET_OPS and row["shape"] == "1":
            for mode, goal in OP_TARGET_US.items():
                us = row.get(f"minigrad {mode}")
                out.append((f"per-op overhead, {row['op']} on 1 element: minigrad {mode} ≤ {goal} µs",
                            us, None, _verdict(None if us is None else us <= goal, overhead_load)))
    by = {(m["impl"], m["mode"], m["T"]): m for m in mem_rows}
    mg, ref = by.get(("minigrad", "full", 256)), by.get(("numpy", "full", 256))
    r = mg["peak_mib"] / ref["peak_mib"] if mg and ref and "error" not in mg and "error" not in ref else None
    out.append(("memory, full BPTT, T=256 (B=32, H=512): minigrad peak RSS ≤ 1.2x hand NumPy", r, None,
                None if r is None else r <= 1.2))
    return out


def _verdict_text(met):
    if isinstance(met, str):
        return met
    return "not measured" if met is None else ("yes" if met else "**no**")


def targets_table(rows):
    lines = ["| target | measured (median of paired ratios) | best step / best step | met |",
             "|---|---|---|---|"]
    for name, value, best, met in rows:
        unit = " µs" if name.endswith("µs") else "x"     # the per-op rows are times, not ratios
        lines.append(f"| {name} | {'—' if value is None else f'{value:.2f}{unit}'} | "
                     f"{'—' if best is None else f'{best:.2f}x'} | "
                     f"{_verdict_text(met)} |")
    return "\n".join(lines)


# -- min-char-rnn written by hand and ported to minigrad (bench/min_char_rnn_port.py) ----------
def port_section(r):
    """The port's result as a sentence and a one-row table."""
    return ("The lecture's min-char-rnn (vanilla RNN, B=1, T=25, H=100, one-hot inputs, Adagrad, "
            "float64 as the original) as NumPy written by hand and as the nn.Module a student ports "
            "it to first (`self.W_hh @ h` and friends, one node per operation, `loss.backward()`). "
            "Best of the bursts, the two in turns in one process.\n\n"
            "| NumPy by hand, ms/step | minigrad port, ms/step | speed ratio (NumPy time / minigrad "
            "time) | largest relative difference of loss and gradients |\n|---|---|---|---|\n"
            f"| {r['numpy_ms']:.2f} | {r['minigrad_ms']:.2f} | {r['ratio']:.2f}x | "
            f"{r['max_difference']:.1e} |")


# -- per-op overhead (bench/op_overhead.py, written beside this harness) ----------------------
def op_overhead(quick):
    """(markdown table or why it is missing, the rows measured: [] when none)."""
    try:
        import op_overhead as module
    except ImportError as error:
        return f"bench/op_overhead.py is missing ({error}): per-op overhead not measured.", []
    if not hasattr(module, "run"):
        return "bench/op_overhead.py has no run(quick) function: per-op overhead not measured.", []
    try:
        rows = module.run(quick=quick)
    except Exception as error:
        traceback.print_exc()
        return f"bench/op_overhead.py run() failed: {type(error).__name__}: {error}", []
    return rows_table(rows), rows


def rows_table(rows):
    """Markdown for a list of dicts (keys become columns) or of sequences (first row = header
    when it holds only strings)."""
    rows = list(rows)
    if not rows:
        return "(no rows)"
    fmt = (lambda v: f"{v:,.3g}" if isinstance(v, float) else str(v))
    if isinstance(rows[0], dict):
        head = list(rows[0].keys())
        for r in rows[1:]:
            head += [k for k in r if k not in head]
        body = [[fmt(r.get(k, "")) for k in head] for r in rows]
    else:
        first = list(rows[0])
        if all(isinstance(v, str) for v in first):
            head, rows = first, rows[1:]
        else:
            head = [f"col{i}" for i in range(len(first))]
        body = [[fmt(v) for v in r] for r in rows]
    lines = ["| " + " | ".join(map(str, head)) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])


# -- the sweep for the plot ------------------------------------------------------------------
def sweep(quick, smoke, args, done, base):
    """LSTM tokens/s against H (B=32, T=64) and against T (B=32, H=128); configurations
    already timed for the main table (``done``) are reused, not timed again."""
    names = ["minigrad", "minigrad_layer", "numpy", "torch_lstm", "torch_cell", "dezero"]
    if smoke:
        hs, ts = [8, 16], [5]
    elif quick:
        hs, ts = [64, 128, 256, 512], [16, 32, 64]
    else:
        hs, ts = [64, 128, 256, 512], [16, 32, 64, 128, 256]
    args = dict(args, budget_s=args["budget_s"] / 3, min_reps=max(1, args["min_reps"] - 4))

    def timed(B, T, H):
        if ("lstm", B, T, H) in done:
            return done[("lstm", B, T, H)]
        print(f"timing lstm B={B} T={T} H={H} (sweep) ...", flush=True)
        return time_config("lstm", B, T, H, names, **args)

    B, T0, H0 = base
    by_h = {H: timed(B, T0, H) for H in hs}
    by_t = {T: timed(B, T, H0) for T in ts}
    return names, by_h, by_t


def plot(names, by_h, by_t, path, base):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, data, xlabel, title, fixed in (
            (axes[0], by_h, "hidden size H", f"B={base[0]}, T={base[1]}", lambda k: base[:2]),
            (axes[1], by_t, "sequence length T", f"B={base[0]}, H={base[2]}", lambda k: (base[0], k))):
        for name in names:
            xs, ys = [], []
            for k, res in sorted(data.items()):
                B, T = fixed(k)
                tps = tokens_per_s(B, T, res.get(name, {}))
                if tps:
                    xs.append(k)
                    ys.append(tps)
            if xs:
                ax.plot(xs, ys, marker="o", label=label(name, "lstm"))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("tokens / s (training)")
        ax.set_title(f"LSTM char-LM training step, {title}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sweep_table(names, data, key_name, fixed):
    head = [key_name] + [label(n, "lstm") for n in names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for k, res in sorted(data.items()):
        B, T = fixed(k)
        cells = [str(k)]
        for n in names:
            tps = tokens_per_s(B, T, res.get(n, {}))
            cells.append(f"{tps:,.0f}" if tps else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the machine -----------------------------------------------------------------------------
def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    blas = "unknown BLAS"
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{cfg.get('name')} {cfg.get('version')}"
    except Exception:
        pass
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__} ({blas})"]
    try:
        import torch
        versions.append(f"PyTorch {torch.__version__}")
    except ImportError:
        versions.append("PyTorch absent")
    return (f"{cpu}, {usable} usable of {os.cpu_count()} logical CPUs, {platform.system()} "
            f"{platform.release()}; " + ", ".join(versions))


def profile_summary(configs):
    """cProfile's self-time of the minigrad LSTM step grouped by category, per config."""
    import cProfile
    import pstats
    import io
    if char_lm_step.missing_pieces("lstm"):
        return "minigrad cannot run the LSTM step yet: no profile."
    blocks = []
    for (B, T, H) in configs:
        rng = np.random.default_rng(0)
        model = char_lm_step.MinigradCharLM("lstm", V, H)
        idx, tgt = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
        model.train_step(idx, tgt)
        steps = 3 if B * T * H > 100000 else 10
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(steps):
            model.train_step(idx, tgt)
        profiler.disable()
        phases = char_lm_step.phase_times("lstm", B, T, H, reps=10 if H < 300 else 4)
        phase_lines = ["| phase (best of several, no profiler) | minigrad ms | hand NumPy ms |",
                       "|---|---|---|"]
        for phase, (mine, ref) in phases.items():
            phase_lines.append(f"| {phase} | {mine:.2f} | {'(inside forward + backward)' if ref is None else f'{ref:.2f}'} |")
        stats = pstats.Stats(profiler, stream=io.StringIO())
        total = sum(v[2] for v in stats.stats.values())
        calls = sum(v[1] for v in stats.stats.values()) / steps
        lines = [f"B={B} T={T} H={H}: {total / steps * 1e3:.1f} ms/step under cProfile, "
                 f"{calls:,.0f} Python-visible calls per step", "", *phase_lines, "",
                 "| where the time goes | ms / step | share |", "|---|---|---|"]
        for name, seconds in char_lm_step.categorize(stats):
            lines.append(f"| {name} | {seconds / steps * 1e3:.2f} | {100 * seconds / total:.0f}% |")
        top = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:8]
        lines += ["", "Top functions by self time: " + "; ".join(
            f"`{os.path.basename(k[0])}:{k[2]}` {v[2] / steps * 1e3:.2f} ms ({v[1] // steps} calls)"
            for k, v in top)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# -- main ------------------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and sweep points (~2 min)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds (for tests)")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "performance.md"),
                        help="results page to write ('' to write nothing)")
    parser.add_argument("--plot", default=None, help="plot path (default: docs/img/perf_tokens_per_s.png "
                                                     "beside --out)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    parser.add_argument("--no-sweep", action="store_true", help="skip the H/T sweep and the plot")
    parser.add_argument("--no-overhead", action="store_true", help="skip bench/op_overhead.py")
    parser.add_argument("--quiet-wait", type=float, default=0.0, metavar="S",
                        help="before each configuration, wait up to S seconds for other processes "
                             "to leave the CPUs idle (a shared machine)")
    args = parser.parse_args(argv)
    started = time.time()
    load_start = os.getloadavg()
    quick = args.quick or args.smoke
    configs = SMOKE_CONFIGS if args.smoke else CONFIGS
    if args.smoke:
        timing = dict(warmup=1, min_reps=1, max_reps=1, budget_s=0.0, gap_s=0.0, burst_s=0.0)
    elif args.quick:
        timing = dict(warmup=1, min_reps=3, max_reps=5, budget_s=2.5)
    else:
        timing = dict(warmup=1, min_reps=7, max_reps=30, budget_s=8.0)
    timing["quiet_wait_s"] = args.quiet_wait
    torch_threads = None
    if peers.peer_status("torch_lstm") is None:
        import torch
        torch.set_num_threads(1 if args.smoke else THREADS)   # smoke: checks the harness, not speed
        torch_threads = torch.get_num_threads()
    timing["torch_threads"] = torch_threads                   # the same in each timing process

    print(f"machine: {machine()}")
    results, sections, marks = {}, [], {}

    def mark(name, since=[time.time()]):
        now = time.time()
        marks[name] = now - since[0]
        since[0] = now

    for cell in ("lstm", "gru", "rnn"):
        names = [n for n, (_, cells) in IMPLS.items() if cell in cells]
        for (B, T, H) in configs:
            print(f"timing {cell} B={B} T={T} H={H} ...", flush=True)
            results[(cell, B, T, H)] = time_config(cell, B, T, H, names, **timing)
        table = cell_table(cell, configs, results, names)
        title = f"{CELL_NAMES[cell]} training step: tokens/s (ratio to PyTorch nn.{CELL_NAMES[cell]})"
        print(f"\n{title}\n{table}\n", flush=True)
        sections.append((title, table))

    mark("step timings")
    overhead, overhead_rows, overhead_load = "not measured (--no-overhead)", [], None
    if not args.no_overhead:
        print("per-op overhead ...", flush=True)
        before = _cpu_snapshot()
        overhead, overhead_rows = op_overhead(quick)
        overhead_load = other_load(before, _cpu_snapshot())
        overhead += f"\n\n(other jobs kept {overhead_load:.1f} of the cores busy meanwhile)"
        print(overhead + "\n", flush=True)

    mark("per-op overhead")
    print("min-char-rnn, by hand and ported ...", flush=True)
    port_md = port_section(min_char_rnn_port.run(**(dict(steps=2, rounds=1) if args.smoke else
                                                    dict(steps=40 if quick else 150))))
    print(port_md + "\n", flush=True)

    mark("min-char-rnn port")
    mem_rows, mem_table = [], "not measured (--no-memory)"
    if not args.no_memory:
        print("memory (fresh process per measurement) ...", flush=True)
        available = {"minigrad": (lambda m: "minigrad lacks " + ", ".join(m) if m else None)(
            char_lm_step.missing_pieces("lstm")), "numpy": None, "torch": peers.peer_status("torch_lstm")}
        if args.smoke:
            mem_rows = memory.run(Ts=(8,), B=2, H=8, impls=("numpy",), available=available)
            mem_rows = [r for r in mem_rows if r["mode"] == "full"]
        else:
            mem_rows = memory.run(quick=quick, available=available)
        mem_table = memory.table(mem_rows, ("numpy",) if args.smoke else memory.IMPLS)
        print(mem_table + "\n", flush=True)

    target_rows = targets(results, mem_rows, configs, overhead_rows, overhead_load)
    target_md = targets_table(target_rows)
    print("targets\n" + target_md + "\n", flush=True)

    mark("memory")
    sweep_md, plot_path = "not measured (--no-sweep)", None
    if not args.no_sweep:
        print("sweep over H and T (LSTM) ...", flush=True)
        base = (2, 5, 8) if args.smoke else (32, 64, 128)
        names, by_h, by_t = sweep(args.quick, args.smoke, timing, results, base)
        sweep_md = (f"Against H (B={base[0]}, T={base[1]}):\n\n"
                    + sweep_table(names, by_h, "H", lambda k: base[:2])
                    + f"\n\nAgainst T (B={base[0]}, H={base[2]}):\n\n"
                    + sweep_table(names, by_t, "T", lambda k: (base[0], k)))
        print(sweep_md + "\n", flush=True)
        if args.out:
            plot_path = args.plot or os.path.join(os.path.dirname(args.out), "img", "perf_tokens_per_s.png")
            plot(names, by_h, by_t, plot_path, base)

    mark("sweep")
    profile_md = "not profiled (--smoke)" if args.smoke else profile_summary(
        [(32, 64, 128), (32, 64, 512), (1, 25, 100)] if not args.quick else [(1, 25, 100)])
    print("profile\n" + profile_md + "\n", flush=True)

    mark("profile")
    elapsed = time.time() - started
    if args.out:
        write_page(args, sections, overhead, port_md, mem_table, target_md, sweep_md, plot_path,
                   profile_md, elapsed, load_start, os.getloadavg(), torch_threads, timing)
        print(f"wrote {args.out}" + (f" and {plot_path}" if plot_path else ""))
    print(f"total {elapsed:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in marks.items())})")
    return results, mem_rows, target_rows


def write_page(args, sections, overhead, port_md, mem_table, target_md, sweep_md, plot_path,
               profile_md, elapsed, load_start, load_end, torch_threads, timing):
    mode = "smoke" if args.smoke else ("quick" if args.quick else "full")
    findings_path = os.path.join(HERE, "findings.md")
    findings = open(findings_path).read().strip() if os.path.exists(findings_path) else "(none yet)"
    out_dir = os.path.dirname(os.path.abspath(args.out))
    parts = [
        "# Performance",
        "",
        "<!-- generated by `python bench/run.py` — edit bench/run.py or bench/findings.md, not this page -->",
        "",
        f"Generated {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} by `python bench/run.py"
        f"{' --quick' if args.quick else ''}{' --smoke' if args.smoke else ''}"
        f"{f' --quiet-wait {args.quiet_wait:g}' if args.quiet_wait else ''}` ({mode} run, {elapsed:.0f} s).",
        "",
        f"**Machine:** {machine()}. BLAS threads: {THREADS} (OMP/OPENBLAS_NUM_THREADS), "
        f"torch threads: {torch_threads}. Load average (1/5/15 min) {load_start[0]:.1f}/{load_start[1]:.1f}/"
        f"{load_start[2]:.1f} at the start, {load_end[0]:.1f}/{load_end[1]:.1f}/{load_end[2]:.1f} at the end.",
        "",
        "**Noise.** This machine is shared with other engineers' jobs, so absolute timings move by "
        "±15% or more between runs (and more when the load average is above the core count). "
        "Every implementation of one configuration is timed in turn, so load hits "
        "them alike: **the ratios within one run are what counts**, not the absolute numbers. "
        "Each implementation runs in a fresh Python process of its own (`bench/turns.py`), as a "
        "user runs one framework in one program: in one shared process the frameworks' arrays "
        "share one C heap, and which of them pays for faulting in fresh pages depended on the "
        "others (the hand NumPy step at B=32 H=128 faulted in 3,000–3,500 pages a step on its "
        "own and 10–1,500 beside minigrad). "
        "Each turn is a burst of back-to-back steps filling about 25 ms (one step when a step is "
        "longer), as a training loop runs them, after a 0.15 s pause; its time per step is the "
        f"burst's time over its steps. Medians over 3–{timing['max_reps']} turns (more when steps "
        f"are fast) after warming up: at least {timing['warmup']} steps and 0.1 s of them, whose "
        "median step sizes the bursts.",
        "",
        "**What is timed:** one char-LM training step — Embedding(65, H) → recurrent layer (H → H) → "
        "Linear(H, 65) → cross-entropy over all T·B outputs → backward through all T steps (full BPTT) → "
        "clip the global gradient norm to 5 → Adam — in float32. Tokens/s = B·T / seconds per step. "
        "The hand NumPy reference (`bench/numpy_lstm.py`) hoists the input projection and the weight "
        "gradients out of the time loop, does one matmul per step for all gates and derives backward by "
        "hand: the best a NumPy framework can hope for. dezero is the `dezero` package as published "
        "(8 matmuls per LSTM step, one graph node per operation).",
        "",
        "## Targets",
        "",
        target_md,
        "",
    ]
    for title, table in sections:
        parts += [f"## {title}", "", table, ""]
    parts += ["## Tokens/s against H and T (LSTM)", ""]
    if plot_path:
        parts += [f"![tokens/s against H and T]({os.path.relpath(plot_path, out_dir)})", ""]
    parts += [sweep_md, "",
              "## Per-op overhead (tiny tensors; `bench/op_overhead.py`)", "", overhead, "",
              "## min-char-rnn by hand and ported (`bench/min_char_rnn_port.py`)", "", port_md, "",
              "## Memory: peak RSS against T (B=32, H=512, LSTM)", "",
              "Each cell is one fresh process: peak resident set size, and in brackets its growth over "
              "the process's RSS just before training (imports, model, data). *full*: one step over all "
              f"T tokens; *truncated*: steps over chunks of {memory.CHUNK} with the state detached between "
              "chunks. Full BPTT grows linearly in T; truncation keeps it flat.", "",
              mem_table, "",
              "## Where minigrad's time goes (cProfile, self time)", "",
              "Profiled with `python bench/char_lm_step.py --B 32 --T 64 --H 128` (cProfile adds its own "
              "per-call cost, so Python-heavy parts look larger than they are).", "",
              profile_md, "",
              "## What limits minigrad", "", findings, ""]
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    main()
