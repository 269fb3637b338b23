"""The char-LM on several processes: ``mpiexec -n N python examples/char_lm.py --distributed``.

What each rank does with the global batch of ``--batch-size`` streams (split, so the
global batch stays ``--batch-size`` whatever N is)::

    streams   0 1 2 3 | 4 5 6 7          (B = 8, N = 2)
    rank      0 0 0 0 | 1 1 1 1          each rank: its B/N streams, its slice of the
                                         carried hidden state (layers, B/N, H)

Every rank reads the same chunk of the text (the data position is two integers), keeps
its own columns, runs forward and backward on them, and ``DistributedDataParallel``
averages the gradients: the mean over ranks of per-rank mean losses is the mean loss of
the whole batch, so N ranks take the step one process takes on all B streams (up to
float rounding). Because the global batch and the stream layout do not depend on N, a
checkpoint (the full carried state, gathered to rank 0) resumes under any N that divides
``--batch-size``.

Rank 0 alone prints, writes the checkpoint and draws; the other ranks are silent except
for errors, and an error on any rank ends the whole job.
"""
from __future__ import annotations

import os
import sys

import minigrad
import minigrad.distributed as dist
from nn.parallel import DistributedDataParallel


class DataParallel:
    """This process's place in the job (a world of one without ``--distributed``)."""

    def __init__(self, enabled):
        self.enabled = enabled
        if enabled and not dist.is_initialized():
            dist.init_process_group("mpi")
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.is_main = self.rank == 0
        if not self.is_main:          # logs and pictures are rank 0's; errors show on every rank
            sys.stdout = open(os.devnull, "w")
        if enabled:
            print(f"distributed: {self.size} ranks ({dist.get_backend()}), each on "
                  f"1/{self.size} of every batch's streams")

    def wrap(self, model):
        """The model the training loop calls: DistributedDataParallel when distributed."""
        return DistributedDataParallel(model) if self.enabled else model

    def _columns(self, batch):
        if batch % self.size:
            raise ValueError(f"--distributed: --batch-size {batch} does not split evenly over "
                             f"{self.size} ranks; use a multiple of {self.size}")
        per = batch // self.size
        return slice(self.rank * per, (self.rank + 1) * per)

    def local(self, array):
        """This rank's streams of a time-first (T, B) batch."""
        if not self.enabled:
            return array
        return array[:, self._columns(array.shape[1])]

    def local_state(self, state):
        """This rank's slice of a full carried state: (layers, B, H) -> (layers, B/N, H)."""
        if not self.enabled or state is None:
            return state
        parts = tuple(p[:, self._columns(p.shape[1])].detach() for p in _parts(state))
        return parts if isinstance(state, tuple) else parts[0]

    def gather_state(self, state):
        """The full carried state from every rank's slice (every rank must call it)."""
        if not self.enabled or state is None:
            return state
        parts = []
        for p in _parts(state):
            pieces = [None] * self.size
            dist.all_gather(pieces, p.detach())
            parts.append(minigrad.cat(pieces, dim=1))
        return tuple(parts) if isinstance(state, tuple) else parts[0]

    def agree(self, elapsed, loss):
        """Rank 0's elapsed time and the mean of the ranks' losses, on every rank (one
        Allreduce): the elapsed time decides the learning rate and when to stop, so the
        ranks must agree on it; the mean loss is the whole batch's, which the log shows."""
        if not self.enabled or self.size == 1:
            return elapsed, loss
        t = minigrad.tensor([elapsed if self.is_main else 0.0, loss / self.size],
                            dtype=minigrad.float64)
        dist.all_reduce(t)
        return tuple(t.tolist())

    def check_identical(self, text):
        """Every rank sampled from the same weights: the texts must be equal."""
        if not self.enabled:
            return
        codes = minigrad.tensor([ord(c) for c in text], dtype=minigrad.int64)
        gathered = [None] * self.size
        dist.all_gather(gathered, codes)
        if any(g.tolist() != codes.tolist() for g in gathered):
            raise RuntimeError("the ranks sampled different text: their weights differ")
        print(f"sample identical on all {self.size} ranks")


def _parts(state):
    return state if isinstance(state, tuple) else (state,)
