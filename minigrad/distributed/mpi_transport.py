"""Moving arrays between processes with MPI (mpi4py), and the one-process stand-in.

A transport works on backend arrays, in place, and every rank must call the same
collectives in the same order (that is what makes them *collective*)::

    allreduce(a, op)     a <- op(a on rank 0, a on rank 1, ...)       on every rank
    iallreduce(a, op)    the same, started now; ``work.wait()`` finishes it
    broadcast(a, src)    a <- a on rank src
    allgather(a)         -> stacked (world_size, *a.shape) array of every rank's a
    barrier()            returns once every rank has called it

Arrays go to MPI through the buffer protocol (mpi4py's uppercase methods ``Allreduce``,
``Bcast``, ``Allgather``): their bytes are sent as they are, never pickled. The MPICH
that ``pip install mpich`` brings is not CUDA-aware, so a GPU array is staged through a
host copy (the ``nccl`` backend keeps GPU arrays on the GPU).
"""
from __future__ import annotations

import os

from .. import backend
from .reduce_op import ReduceOp

# Variables that MPI launchers set in every process they start (MPICH's Hydra, Open MPI,
# Slurm): their presence means "started by mpiexec".
LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS")


def launched_world_size():
    """The world size a launcher announced in the environment (1 when there is none)."""
    for name in LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


class DoneWork:
    """A finished operation: ``wait()`` returns at once."""

    def wait(self):
        return None


class _RequestWork:
    """A started nonblocking MPI operation; ``wait()`` completes it."""

    __slots__ = ("_request", "_after")

    def __init__(self, request, after=None):
        self._request = request
        self._after = after

    def wait(self):
        if self._request is not None:
            self._request.Wait()
            self._request = None
            if self._after is not None:
                self._after()


class SingleProcessTransport:
    """A world of one process without MPI: every collective leaves the array as it is."""

    name = "single"
    rank, size = 0, 1

    def allreduce(self, array, op):
        return array

    def iallreduce(self, array, op):
        return DoneWork()

    def broadcast(self, array, src):
        return array

    def allgather(self, array):
        return array.reshape((1,) + array.shape).copy()

    def barrier(self):
        return None

    def abort(self, code):
        os._exit(code)

    def close(self):
        return None


class MPITransport:
    """Collectives over a private duplicate of ``MPI.COMM_WORLD`` (so a script's own MPI
    messages never mix with minigrad's)."""

    name = "mpi"

    def __init__(self):
        from mpi4py import MPI      # importing mpi4py.MPI initializes MPI (MPI_Init_thread)
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self._ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                     ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}

    def allreduce(self, array, op):
        host = _host_view(array)
        self.comm.Allreduce(self.MPI.IN_PLACE, host, op=self._ops[op])
        _finish(array, host, op, self.size)
        return array

    def iallreduce(self, array, op):
        if not _is_host_contiguous(array):           # GPU or strided: blocking, staged
            self.allreduce(array, op)
            return DoneWork()
        request = self.comm.Iallreduce(self.MPI.IN_PLACE, array, op=self._ops[op])
        after = (lambda: _divide(array, self.size)) if op == ReduceOp.AVG else None
        return _RequestWork(request, after)

    def broadcast(self, array, src):
        host = _host_view(array)
        self.comm.Bcast(host, root=src)
        _finish(array, host, ReduceOp.SUM, 1)
        return array

    def allgather(self, array):
        host = _host_view(array)
        xp = backend.get_array_module(host)
        gathered = xp.empty((self.size,) + host.shape, dtype=host.dtype)
        self.comm.Allgather(host, gathered)
        return backend.to_device(gathered, backend.device_of(array))

    def barrier(self):
        self.comm.Barrier()

    def abort(self, code):
        self.MPI.COMM_WORLD.Abort(code)

    def close(self):
        self.comm.Free()


def _is_host_contiguous(array):
    return backend.device_of(array) == "cpu" and array.flags.c_contiguous


def _host_view(array):
    """The array itself when MPI can read it in place, else a contiguous host copy."""
    if _is_host_contiguous(array):
        return array
    xp = backend.get_array_module(array)
    return backend.to_host(xp.ascontiguousarray(array)).copy()


def _finish(array, host, op, size):
    """Copy a staged result back into ``array``; AVG divides the sum by the world size."""
    if host is not array:
        array[...] = backend.to_device(host, backend.device_of(array))
    if op == ReduceOp.AVG:
        _divide(array, size)


def _divide(array, size):
    if array.dtype.kind != "f":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got {array.dtype}")
    array /= size
