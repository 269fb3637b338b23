"""GPU arrays between processes with NCCL (through CuPy's ``cupy.cuda.nccl``).

NCCL moves data GPU to GPU (NVLink, PCIe, InfiniBand) without a trip through host
memory. It has no launcher of its own: one rank makes a *unique id* (128 bytes), MPI
broadcasts it as an array, and every rank joins the communicator that id names::

    rank 0: uid = nccl.get_unique_id()      --MPI Bcast-->   every rank
    every rank: NcclCommunicator(world_size, uid, rank)

Each process drives one GPU (its rank on the node modulo the GPUs it sees). Collectives
are queued on the current CUDA stream, so the kernels that follow on that stream see
their result without a host synchronization. Host (NumPy) arrays are passed on to the
MPI transport, which this one keeps for them and for the barrier.
"""
from __future__ import annotations

import os

from .. import backend
from .mpi_transport import DoneWork
from .reduce_op import ReduceOp

UNIQUE_ID_BYTES = 128          # NCCL_UNIQUE_ID_BYTES in nccl.h (fixed by NCCL's ABI)
LOCAL_RANK_VARIABLES = ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID",
                        "LOCAL_RANK")


def local_rank(rank):
    """This process's index among those on its node (what picks its GPU)."""
    for name in LOCAL_RANK_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return rank


class NCCLTransport:
    name = "nccl"

    @staticmethod
    def check_available():
        if not backend.cuda_available():
            raise RuntimeError("init_process_group(backend='nccl') needs CuPy and a CUDA GPU "
                               "(pip install 'minigrad-rnn[cuda]'); use backend='mpi' on CPUs")

    def __init__(self, mpi):
        self.check_available()
        cupy = backend.cupy
        self.nccl = nccl = cupy.cuda.nccl
        self.mpi, self.rank, self.size = mpi, mpi.rank, mpi.size
        self.device = local_rank(self.rank) % backend.cuda_device_count()
        cupy.cuda.Device(self.device).use()
        uid = backend.as_array([0] * UNIQUE_ID_BYTES, dtype=backend.int64)
        if self.rank == 0:
            uid[:] = backend.as_array(list(nccl.get_unique_id()), dtype=backend.int64)
        mpi.broadcast(uid, 0)                       # the id as 128 integers, not a pickle
        self.comm = nccl.NcclCommunicator(self.size, tuple(int(v) for v in uid), self.rank)
        self._ops = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD,
                     ReduceOp.MIN: nccl.NCCL_MIN, ReduceOp.MAX: nccl.NCCL_MAX}
        self._types = {"float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
                       "float16": nccl.NCCL_FLOAT16, "int64": nccl.NCCL_INT64,
                       "int32": nccl.NCCL_INT32, "uint8": nccl.NCCL_UINT8,
                       "bool": nccl.NCCL_UINT8}

    def _stream(self):
        return backend.cupy.cuda.get_current_stream().ptr

    def _type(self, array):
        try:
            return self._types[str(array.dtype)]
        except KeyError:
            raise TypeError(f"nccl: arrays of dtype {array.dtype} cannot be sent; expected one of "
                            f"{sorted(self._types)}") from None

    def _on_gpu(self, array):
        if backend.device_of(array) == "cpu":
            return False
        if not array.flags.c_contiguous:
            raise ValueError("nccl: the array must be contiguous (call .contiguous() first)")
        return True

    def allreduce(self, array, op):
        if not self._on_gpu(array):
            return self.mpi.allreduce(array, op)
        nccl_op = self._ops[ReduceOp.SUM if op == ReduceOp.AVG else op]
        ptr = array.data.ptr
        self.comm.allReduce(ptr, ptr, array.size, self._type(array), nccl_op, self._stream())
        if op == ReduceOp.AVG:
            array /= self.size                   # queued on the same stream: ordered after
        return array

    def iallreduce(self, array, op):
        """Already asynchronous: NCCL queues the kernel and returns at once."""
        self.allreduce(array, op)
        return DoneWork()

    def broadcast(self, array, src):
        if not self._on_gpu(array):
            return self.mpi.broadcast(array, src)
        self.comm.bcast(array.data.ptr, array.size, self._type(array), src, self._stream())
        return array

    def allgather(self, array):
        if not self._on_gpu(array):
            return self.mpi.allgather(array)
        xp = backend.get_array_module(array)
        gathered = xp.empty((self.size,) + array.shape, dtype=array.dtype)
        self.comm.allGather(array.data.ptr, gathered.data.ptr, array.size, self._type(array),
                            self._stream())
        return gathered

    def barrier(self):
        backend.cupy.cuda.get_current_stream().synchronize()
        self.mpi.barrier()

    def abort(self, code):
        self.comm.abort()
        self.mpi.abort(code)

    def close(self):
        self.comm.destroy()
        self.mpi.close()
