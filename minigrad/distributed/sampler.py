"""``DistributedSampler``: each rank's share of the examples, different every epoch.

Data parallelism needs every rank to see different examples of the same global batch.
The sampler shuffles the indices 0..n-1 with a seed that depends only on ``seed`` and
the epoch (so every rank computes the same permutation without talking), pads it by
repeating its head until it divides evenly, and deals it out like cards::

    permutation  = [7 2 9 0 4 1 8 3 6 5]     (epoch e, the same on every rank)
    rank 0 of 2  =  7   9   4   8   6        indices[0::2]
    rank 1 of 2  =    2   0   1   3   5      indices[1::2]

The shares are disjoint and together cover every index (plus at most N-1 repeats).
Call ``set_epoch(e)`` at the start of each epoch, or every epoch repeats one order.
"""
from __future__ import annotations

import random

from .process_group import get_rank, get_world_size


class DistributedSampler:
    """Iterate over this rank's indices of a dataset of ``len(dataset)`` examples.

    Args:
        dataset: anything with ``len()`` (or an int: the number of examples).
        num_replicas, rank: the world size and this rank (default: the process group's).
        shuffle: a new permutation every epoch (False: 0..n-1 in order).
        seed: the permutation of epoch e depends on (seed, e) only.
        drop_last: drop the tail instead of padding, so no example repeats.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        self.num_examples = dataset if isinstance(dataset, int) else len(dataset)
        self.num_replicas = get_world_size() if num_replicas is None else num_replicas
        self.rank = get_rank() if rank is None else rank
        if not isinstance(self.num_replicas, int) or self.num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{self.num_replicas!r}")
        if not isinstance(self.rank, int) or not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in 0..{self.num_replicas - 1}, "
                             f"got {self.rank!r}")
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        self.epoch = 0
        if drop_last:
            self.num_samples = self.num_examples // self.num_replicas
        else:
            self.num_samples = -(-self.num_examples // self.num_replicas)   # ceil
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Choose the epoch whose permutation the next ``iter()`` deals out."""
        self.epoch = int(epoch)

    def indices(self):
        """This rank's indices for the current epoch, as a list of ints."""
        order = list(range(self.num_examples))
        if self.shuffle:
            random.Random(self.seed * 1_000_003 + self.epoch).shuffle(order)
        if self.total_size > len(order):                      # pad by repeating the head
            repeats = -(-self.total_size // max(1, len(order)))
            order = (order * repeats)[:self.total_size]
        order = order[:self.total_size]
        return order[self.rank::self.num_replicas]

    def __iter__(self):
        return iter(self.indices())

    def __len__(self):
        return self.num_samples
