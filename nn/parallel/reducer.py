"""Averaging gradients across ranks in buckets, as each bucket's gradients are finished.

One Allreduce per parameter would pay the network's latency (microseconds on one node,
tens of them across machines) once per tensor; one Allreduce for the whole model could
only start after the last gradient. PyTorch's answer, used here: group the parameters
into *buckets* of about 25 MB, in the reverse of their registration order (roughly the
order backward finishes their gradients), and start a bucket's Allreduce as soon as its
last gradient is written::

    backward:  grads of ... layer 3 | layer 2 | layer 1         (written in this order)
    buckets:   [ bucket 0          ][ bucket 1       ]
    network:         Allreduce(bucket 0) ...  Allreduce(bucket 1) ... wait all

Each bucket is one flat array: the gradients side by side, then one "used" flag per
parameter. The flags are summed with the gradients, so after the Allreduce every rank
knows how many ranks produced each gradient; a parameter that no rank used keeps its
``.grad`` as it was (PyTorch's behaviour), one used by some ranks counts as zero on the
others. Buckets start strictly in index order, so every rank issues the same collectives
in the same order even if its gradients arrive in another.
"""
from __future__ import annotations

import time

from minigrad import backend
from minigrad.autograd import queue_callback
from minigrad.tensor import plain


class Bucket:
    """The parameters of one Allreduce and the flat array it sends."""

    def __init__(self, params):
        self.params = params
        self.offsets, total = [], 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        self.flags_at = total                      # one "used" flag per parameter after the grads
        xp = backend.get_array_module(params[0].array)
        self.flat = xp.zeros(total + len(params), dtype=params[0].dtype)
        self.pending = len(params)
        self.work = None

    @property
    def nbytes(self):
        return int(self.flat.nbytes)

    def put(self, index, grad_array):
        start = self.offsets[index]
        self.flat[start:start + grad_array.size] = grad_array.reshape(-1)
        self.flat[self.flags_at + index] = 1
        self.pending -= 1

    def fill_missing(self, filled):
        """Zeros (and a zero flag) for the parameters whose gradient never came."""
        for index, p in enumerate(self.params):
            if index not in filled:
                start = self.offsets[index]
                self.flat[start:start + p.numel()] = 0
                self.flat[self.flags_at + index] = 0

    def write_back(self, world_size):
        """``p.grad = sum / world_size`` for every parameter some rank produced a gradient for."""
        used = backend.to_host(self.flat[self.flags_at:])
        for index, p in enumerate(self.params):
            if used[index] == 0:
                continue
            start = self.offsets[index]
            mean = self.flat[start:start + p.numel()].reshape(p.shape) / world_size
            p.grad = plain(mean)


def make_buckets(params, cap_bytes):
    """Split ``params`` (reverse registration order) into buckets of at most ``cap_bytes``
    (a larger parameter gets a bucket of its own); one dtype and device per bucket."""
    buckets, current, size = [], [], 0
    for p in reversed(params):
        nbytes = p.numel() * p.dtype.itemsize
        if current and (size + nbytes > cap_bytes or _kind(p) != _kind(current[0])):
            buckets.append(Bucket(current))
            current, size = [], 0
        current.append(p)
        size += nbytes
    if current:
        buckets.append(Bucket(current))
    return buckets


def _kind(p):
    return (str(p.dtype), p.device)


class Reducer:
    """Owns the buckets; ``grad_ready(p)`` is every parameter's post-accumulate-grad hook."""

    def __init__(self, params, transport, cap_bytes):
        self.transport = transport
        self.buckets = make_buckets(params, cap_bytes)
        self.where = {}
        for b, bucket in enumerate(self.buckets):
            for i, p in enumerate(bucket.params):
                self.where[id(p)] = (b, i)
        self.sync = True                 # False inside DistributedDataParallel.no_sync()
        self.allreduces_last_backward = 0
        # seconds from a backward's first gradient hand-over to the last mean written: the
        # copies into buckets, the Allreduces and the copies back (what bench/scaling.py reports)
        self.seconds_last_backward = 0.0
        self._started_at = 0.0
        self._start_iteration()

    def _start_iteration(self):
        self.filled = [set() for _ in self.buckets]
        self.next_to_launch = 0
        self.armed = False
        for bucket in self.buckets:
            bucket.pending, bucket.work = len(bucket.params), None

    def grad_ready(self, p):
        if not self.sync:
            return                        # no_sync(): the gradient just accumulates locally
        if not self.armed:                # first gradient of this backward
            queue_callback(self.finish)
            self.armed = True
            self._started_at = time.perf_counter()
        b, i = self.where[id(p)]
        if i in self.filled[b]:
            return
        self.buckets[b].put(i, p.grad.array)
        self.filled[b].add(i)
        self._launch_ready()

    def _launch_ready(self):
        while (self.next_to_launch < len(self.buckets)
               and self.buckets[self.next_to_launch].pending == 0):
            self._launch(self.next_to_launch)

    def _launch(self, b):
        bucket = self.buckets[b]
        bucket.work = self.transport.iallreduce(bucket.flat, "sum")
        self.next_to_launch = b + 1

    def finish(self):
        """End of backward: start what is left, wait for everything, write the means."""
        try:
            while self.next_to_launch < len(self.buckets):
                b = self.next_to_launch
                self.buckets[b].fill_missing(self.filled[b])
                self._launch(b)
            for bucket in self.buckets:
                bucket.work.wait()
                bucket.write_back(self.transport.size)
            self.allreduces_last_backward = len(self.buckets)
            self.seconds_last_backward = time.perf_counter() - self._started_at
        finally:
            self._start_iteration()
