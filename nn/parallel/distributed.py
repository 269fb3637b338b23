"""``DistributedDataParallel``: the same model on every rank, its gradients averaged.

    dist.init_process_group("mpi")                  # under mpiexec -n N
    model = DistributedDataParallel(Net())          # rank 0's weights, on every rank
    for x, y in my_share_of_each_batch:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()     # p.grad = mean over ranks, on return
        optimizer.step()                            # the same step everywhere

What it does, and when:

1. Construction: checks that every rank built the same model (the first differing
   parameter is named), then broadcasts rank 0's parameters and buffers, so ranks that
   were seeded differently start equal.
2. ``backward()``: each parameter's post-accumulate-grad hook hands its gradient to the
   reducer, which starts a bucket's Allreduce (about 25 MB per bucket) as soon as the bucket
   is complete; when the backward ends every bucket is waited for and each ``p.grad`` is
   the sum over ranks divided by the world size. Today's engine writes the leaves'
   gradients at the end of its walk, so the buckets start then, one after another; an
   engine that finished leaves earlier would overlap them with the backward unchanged.
3. ``no_sync()``: backwards inside it only accumulate locally; the first backward after it
   averages the accumulated sum (gradient accumulation with one Allreduce).
4. ``forward``: with ``broadcast_buffers`` (default) rank 0's buffers (e.g. BatchNorm's
   running statistics) are copied to every rank first, as PyTorch does.

Its ``state_dict`` has the ``module.`` prefix, as PyTorch's; save ``ddp.module.state_dict()``
for a checkpoint that loads without it.
"""
from __future__ import annotations

import contextlib

from minigrad import distributed as dist
from minigrad.distributed.process_group import transport as default_transport
from minigrad.grad_mode import no_grad

from ..modules.module import Module
from .model_check import check_same_model
from .reducer import Reducer


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group.

    Args:
        module: the model (the same architecture on every rank).
        bucket_cap_mb: the size of one Allreduce's bucket, in MiB (PyTorch's default 25).
        broadcast_buffers: copy rank 0's buffers to every rank before each forward.
    """

    def __init__(self, module, bucket_cap_mb=25, broadcast_buffers=True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb!r}")
        group = default_transport("DistributedDataParallel")
        module._give_parameter_names()          # pictures label weights without "module."
        named_params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self.module = module
        object.__setattr__(self, "_group", group)
        object.__setattr__(self, "broadcast_buffers", broadcast_buffers)
        check_same_model(group, [("parameter", n, p) for n, p in named_params]
                         + [("buffer", n, b) for n, b in module.named_buffers()])
        self._broadcast_state()
        params = [p for _, p in named_params]
        object.__setattr__(self, "reducer", Reducer(params, group, bucket_cap_mb * 2 ** 20))
        object.__setattr__(self, "_hook_handles",
                           [p.register_post_accumulate_grad_hook(self.reducer.grad_ready)
                            for p in params])

    def _broadcast_state(self):
        with no_grad():
            for p in self.module.parameters():
                dist.broadcast(p, src=0)
            self._broadcast_buffers()

    def _broadcast_buffers(self):
        for b in self.module.buffers():
            if b is not None:
                dist.broadcast(b, src=0)

    @property
    def bucket_sizes(self):
        """Bytes of each bucket's Allreduce, in launch order."""
        return [bucket.nbytes for bucket in self.reducer.buckets]

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self._group.size > 1:
            with no_grad():
                self._broadcast_buffers()
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backwards inside this block accumulate ``.grad`` locally, without communicating::

            with ddp.no_sync():
                for micro in micro_batches[:-1]:
                    loss_fn(ddp(micro)).backward()
            loss_fn(ddp(micro_batches[-1])).backward()   # one Allreduce of the total
        """
        previous = self.reducer.sync
        self.reducer.sync = False
        try:
            yield self
        finally:
            self.reducer.sync = previous

    def remove_hooks(self):
        """Stop averaging (the wrapped module's parameters get plain local gradients)."""
        for handle in self._hook_handles:
            handle.remove()
        self._hook_handles.clear()

    def extra_repr(self):
        return (f"world_size={self._group.size}, buckets={len(self.reducer.buckets)} "
                f"({', '.join(f'{n / 2 ** 20:.2f} MiB' for n in self.bucket_sizes)})")
