"""Data-parallel scaling of the char-LM: tokens/s on 1 and 2 ranks, and the Allreduce's share.

    python bench/scaling.py              # runs mpiexec -n 1 and -n 2 itself (~1-2 min here)
    python bench/scaling.py --steps 5    # shorter
    python bench/scaling.py --ranks 1 2 4 --hidden 512

What is timed: the char-LM's training step (examples/char_lm: Embedding -> 2-layer LSTM ->
Linear, T=64, cross-entropy, backward, clip, Adam) wrapped in DistributedDataParallel,
under ``mpiexec -n N``, two ways:

- ``split`` (what ``char_lm.py --distributed`` does): the global batch of B=32 streams is
  cut into N shares (strong scaling: the same work, N processes);
- ``per-rank``: every rank keeps B=32 streams (weak scaling: N times the work per step).

Tokens/s = global tokens per step / median step time. The Allreduce share is the median
time the backward spent averaging (copies into the bucket, Allreduce, copies back; the
reducer's ``seconds_last_backward``) over the median step time. A separate Allreduce of a
buffer of the gradient's size, alone, gives the transport's own time. Each rank runs one
BLAS thread. On a 2-core machine shared with other work, 2 ranks compete with everything
else: compare the two rows of one run, not numbers across runs.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # one BLAS thread per rank, before NumPy
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "examples")]

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=8, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2,
                        help="run every configuration this many times, in turn; keep the fastest")
    parser.add_argument("--batch", type=int, default=32, help="streams (B)")
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=96)
    parser.add_argument("--model", action="store_true",
                        help="print only the written model of 8-1,024 ranks (docs/distributed.md)")
    parser.add_argument("--worker", choices=["split", "per-rank"], help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- inside each rank ----------------------------------------------------------------------------
def timed_steps(args, rank, size):
    """Median seconds per step and per backward's averaging, on this rank's share."""
    import numpy as np

    import minigrad
    import nn
    import nn.functional as F
    from char_lm.model import CharRNN
    from nn.parallel import DistributedDataParallel

    minigrad.manual_seed(0)
    model = CharRNN(args.vocab, "lstm", args.hidden, args.layers, 64)
    ddp = DistributedDataParallel(model)
    optimizer = minigrad.optim.Adam(model.parameters(), lr=1e-3)
    local = args.batch // size if args.worker == "split" else args.batch
    rng = np.random.default_rng(rank)
    step_times, comm_times = [], []
    for step in range(args.warmup + args.steps):
        ids = rng.integers(0, args.vocab, (args.seq_len + 1, local))
        t0 = time.perf_counter()
        logits, _ = ddp(minigrad.tensor(ids[:-1]))
        loss = F.cross_entropy(logits.reshape(-1, args.vocab), minigrad.tensor(ids[1:].reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if step >= args.warmup:
            step_times.append(time.perf_counter() - t0)
            comm_times.append(ddp.reducer.seconds_last_backward)
    n_params = sum(p.numel() for p in model.parameters())
    return {"step": statistics.median(step_times), "comm": statistics.median(comm_times),
            "local_batch": local, "params": n_params, "grad_bytes": 4 * n_params,
            "buckets": len(ddp.bucket_sizes)}


def allreduce_alone(nbytes, repeats=20):
    """Median seconds of one Allreduce of ``nbytes`` of float32, nothing else running."""
    import minigrad
    import minigrad.distributed as dist
    t = minigrad.zeros(nbytes // 4)
    times = []
    for _ in range(repeats):
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(t)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def worker(args):
    import minigrad.distributed as dist
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    result = timed_steps(args, rank, size)
    result["allreduce_alone"] = allreduce_alone(result["grad_bytes"])
    result["allreduce_8_bytes"] = allreduce_alone(8)
    result["ranks"] = size
    if rank == 0:
        with open(args.result, "w") as f:
            json.dump(result, f)
    dist.destroy_process_group()


# -- the model of larger jobs (docs/distributed.md) ---------------------------------------------
NETWORKS = {  # name: (bandwidth in bytes/s per link, latency alpha in seconds per message)
    "InfiniBand HDR 200 Gb/s": (25e9, 2e-6),
    "25 Gb Ethernet": (3.1e9, 20e-6),
}
MODELS = {  # name: (gradient bytes, seconds of compute per step on one CPU rank, on one GPU)
    "char-LM (0.89 M params)": (3.55e6, 1.0, 0.007),
    "10x char-LM (8.9 M params)": (35.5e6, 10.0, 0.012),
}


def ring_allreduce_seconds(nbytes, ranks, bandwidth, latency):
    """A ring Allreduce: 2(N-1) steps, each sending 1/N of the buffer to the next rank::

        t = 2 (N-1)/N * S / bandwidth  +  2 (N-1) * latency
    """
    return 2 * (ranks - 1) / ranks * nbytes / bandwidth + 2 * (ranks - 1) * latency


def model_table(ranks=(8, 64, 256, 1024)):
    print("ring Allreduce per step, and its share of a step (no overlap) on CPU / GPU ranks")
    for model, (nbytes, cpu, gpu) in MODELS.items():
        for network, (bandwidth, latency) in NETWORKS.items():
            cells = []
            for n in ranks:
                t = ring_allreduce_seconds(nbytes, n, bandwidth, latency)
                cells.append(f"N={n}: {1e3 * t:6.2f} ms ({t / (cpu + t):5.1%} / {t / (gpu + t):5.1%})")
            print(f"  {model}, {network}: " + "; ".join(cells))


# -- the driver ------------------------------------------------------------------------------------
def mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.path.exists(beside) else shutil.which("mpiexec")
    if found is None:
        sys.exit("bench/scaling.py needs mpiexec and mpi4py: pip install 'minigrad-rnn[mpi]'")
    return found


def run(args, mode, ranks, folder):
    out = os.path.join(folder, f"{mode}-{ranks}.json")
    command = [mpiexec(), "-n", str(ranks), sys.executable, os.path.abspath(__file__),
               "--worker", mode, "--result", out, "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--batch", str(args.batch),
               "--seq-len", str(args.seq_len), "--hidden", str(args.hidden),
               "--layers", str(args.layers), "--vocab", str(args.vocab)]
    env = dict(os.environ, PYTHONPATH=ROOT)
    subprocess.run(command, check=True, env=env, timeout=1800, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    if args.model:
        return model_table()
    print(f"char-LM LSTM {args.layers}x{args.hidden}, T={args.seq_len}, B={args.batch}, "
          f"{os.cpu_count()} cores, 1 BLAS thread per rank")
    print(f"{'mode':9s} {'ranks':>5s} {'B/rank':>6s} {'step ms':>8s} {'tokens/s':>9s} "
          f"{'speed-up':>8s} {'avg ms':>7s} {'share':>6s} {'Allreduce alone ms':>19s}")
    configurations = [(mode, ranks) for mode in ("split", "per-rank") for ranks in args.ranks]
    best = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):          # in turn, so a burst of load hits all alike
            for key in configurations:
                r = run(args, *key, folder)
                if key not in best or r["step"] < best[key]["step"]:
                    best[key] = r
    base = {}
    for (mode, ranks), r in best.items():
        tokens = args.seq_len * r["local_batch"] * ranks / r["step"]
        base.setdefault(mode, tokens)
        print(f"{mode:9s} {ranks:5d} {r['local_batch']:6d} {1e3 * r['step']:8.1f} "
              f"{tokens:9,.0f} {tokens / base[mode]:7.2f}x {1e3 * r['comm']:7.2f} "
              f"{r['comm'] / r['step']:6.1%} {1e3 * r['allreduce_alone']:19.3f}")
    print(f"gradient: {r['params']:,} parameters = {r['grad_bytes'] / 2 ** 20:.2f} MiB float32 "
          f"in {r['buckets']} bucket(s); an 8-byte Allreduce on {r['ranks']} ranks: "
          f"{1e6 * r['allreduce_8_bytes']:.1f} us")


if __name__ == "__main__":
    main()
