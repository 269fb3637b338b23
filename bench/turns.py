"""Each implementation's training steps in a Python process of its own, timed in turns.

``bench/run.py`` times the implementations of one configuration round robin, so a burst of
load from elsewhere on the machine hits them alike. Here each of them runs in a fresh child
process (``multiprocessing``'s "spawn": nothing inherited but the environment and
``sys.path``), as a user runs one framework in one program, and the parent only says whose
turn it is.

Why not in one process: NumPy's arrays come from the C heap (glibc ``malloc``), and whether
a freed block is kept for the next step or handed back to the system, to be faulted in
again page by page, depends on everything the process allocated before. Frameworks stepping
in one process share that heap. Measured (B=32 T=64 H=128, one BLAS thread): the hand NumPy
GRU step faulted in 3,500 fresh pages a step in a process of its own and 1,500 beside
minigrad; the LSTM 3,077 on its own and 10 beside it. Sharing the heap took away a cost
that every NumPy program pays and changed the ratios by 10–20%.

    worker = Worker(torch_threads=2)
    first = worker.build(name, cell, H, idx, targets, warmup)   # {"loss", "warm", "pid"}
    seconds_per_step = worker.burst(10)
    cpu_seconds = worker.close()
"""
from __future__ import annotations

import multiprocessing
import os
import time
import traceback

TIMEOUT_S = 900.0     # a reply slower than this means the child hangs
WARM_UP_S = 0.1       # warm-up runs at least this long (and at least ``warmup`` steps)
WARM_UP_MAX_STEPS = 500


class Worker:
    """One child process that builds one implementation and runs its steps on request."""

    def __init__(self, torch_threads=None):
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, torch_threads), daemon=True)
        self._process.start()
        child.close()

    def build(self, name, cell, H, idx, targets, warmup):
        """Make the implementation, run one step (its loss is returned: an untrained model's
        is near log V), then warm up (``_warm_up``: the median seconds of a warm step is
        ``warm``, which sizes the bursts); ``pid``: the child's process id."""
        return self._ask(("build", name, cell, H, idx, targets, warmup))

    def burst(self, steps):
        """Seconds per step of ``steps`` training steps run back to back."""
        reply = self._ask(("burst", steps))
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["seconds"]

    def close(self):
        """Stop the child; returns the CPU seconds it used in all (user + system)."""
        try:
            cpu = self._ask(("stop",)).get("cpu_s", 0.0)
        except (RuntimeError, OSError):
            cpu = 0.0
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
        self._conn.close()
        return cpu

    def _ask(self, message):
        try:
            self._conn.send(message)
            if not self._conn.poll(TIMEOUT_S):
                raise RuntimeError(f"no reply in {TIMEOUT_S:.0f} s")
            return self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError) as error:
            code = self._process.exitcode
            raise RuntimeError(f"the worker process ended (exit code {code}): "
                               f"{type(error).__name__}") from None


def _serve(conn, torch_threads):
    """The child's loop: answer each message of ``Worker`` until "stop"."""
    runner, data = None, None
    while True:
        try:
            message = conn.recv()
        except EOFError:            # the parent is gone
            return
        kind = message[0]
        try:
            if kind == "build":
                _, name, cell, H, idx, targets, warmup = message
                import run          # bench/run.py: build() and the thread settings it sets
                if torch_threads and name.startswith("torch"):
                    import torch
                    torch.set_num_threads(torch_threads)
                runner, data = run.build(name, cell, H), (idx, targets)
                loss, _ = runner.train_step(idx, targets)
                reply = {"loss": loss, "warm": _warm_up(runner, idx, targets, warmup),
                         "pid": os.getpid()}
            elif kind == "burst":
                steps, (idx, targets) = message[1], data
                start = time.perf_counter()
                for _ in range(steps):
                    runner.train_step(idx, targets)
                reply = {"seconds": (time.perf_counter() - start) / steps}
            else:                   # "stop"
                t = os.times()
                conn.send({"cpu_s": t.user + t.system})
                return
        except Exception as error:  # reported by the parent, as for an in-process failure
            traceback.print_exc()
            reply = {"error": f"failed ({type(error).__name__}: {error})"}
        conn.send(reply)


def _warm_up(runner, idx, targets, warmup):
    """Run at least ``warmup`` steps and at least ``WARM_UP_S`` seconds of them (at most
    ``WARM_UP_MAX_STEPS``); the median seconds of one. A single step after the first is no
    measure of a warm one: at B=1 the hand NumPy GRU's second step took 36 ms, a warm one
    0.85 ms, so its bursts were one step each, every one straight after the pause, which
    makes a step 1.8x slower (its row read 14,206 tokens/s; sized by this median, 29,000)."""
    times, started = [], time.perf_counter()
    while len(times) < max(warmup, 1) or (time.perf_counter() - started < WARM_UP_S
                                          and len(times) < WARM_UP_MAX_STEPS):
        start = time.perf_counter()
        runner.train_step(idx, targets)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]
