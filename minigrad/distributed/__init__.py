"""``minigrad.distributed``: several processes training one model, in PyTorch's shape.

Data parallelism in one picture: every rank (process) holds the same model, reads a
different slice of each batch, and before every optimizer step the ranks *average*
their gradients, so all of them take the same step::

    rank 0: x_0 -> loss_0 -> g_0 \\                       / p <- p - lr * g
    rank 1: x_1 -> loss_1 -> g_1  >-- allreduce: g = (g_0 + ... + g_{N-1}) / N --<  (same p
    ...                          /                       \\    on every rank)

The mean of the ranks' mean-loss gradients is the gradient of the mean loss over the
whole batch: N ranks on B/N examples each compute exactly what one process computes on
B. ``nn.parallel.DistributedDataParallel`` does the averaging during ``backward()``.

    mpiexec -n 4 python train.py            # four processes; in each:

    import minigrad.distributed as dist
    dist.init_process_group("mpi")          # "nccl" for GPU arrays through NCCL
    dist.get_rank(), dist.get_world_size()  # 0..3, 4
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

Transport: MPI through mpi4py (``pip install "minigrad-rnn[mpi]"`` brings mpi4py and
MPICH, whose ``mpiexec`` launches the job); arrays travel through the buffer protocol,
never pickled. Started without ``mpiexec``, a script gets a world of one process.
"""
from .collectives import all_gather, all_reduce, barrier, broadcast
from .faults import exit_together
from .process_group import (destroy_process_group, get_backend, get_rank, get_world_size,
                            init_process_group, is_initialized)
from .reduce_op import ReduceOp
from .sampler import DistributedSampler

__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "get_rank",
           "get_world_size", "get_backend", "all_reduce", "broadcast", "all_gather", "barrier",
           "ReduceOp", "DistributedSampler", "exit_together"]
