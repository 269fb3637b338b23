"""The process group: which transport this process talks through, its rank and the world size.

As in PyTorch there is one default group per process, made by ``init_process_group`` and
ended by ``destroy_process_group``. It lives in ``DEFAULT`` below, the one piece of
process-wide state in minigrad: it stands for ``MPI_COMM_WORLD``, which is itself
process-wide (every thread of a rank is the same rank), so it is deliberately not
thread-local like the modes in ``grad_mode.py``.
"""
from __future__ import annotations

from . import faults
from .mpi_transport import MPITransport, SingleProcessTransport, launched_world_size

BACKENDS = ("mpi", "nccl")


class _DefaultGroup:
    """Holds the transport of the default process group (None before init)."""

    __slots__ = ("transport",)

    def __init__(self):
        self.transport = None


DEFAULT = _DefaultGroup()


def _mpi_or_single():
    """MPI when mpi4py is installed; a one-process world when it is not and no launcher
    started this process; a clear error when mpiexec started several without mpi4py."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        size = launched_world_size()
        if size > 1:
            raise RuntimeError(f"init_process_group: this process is one of {size} started by "
                               "an MPI launcher, but mpi4py is not installed; "
                               "pip install 'minigrad-rnn[mpi]' (mpi4py and mpich)") from None
        return SingleProcessTransport()
    return MPITransport()


def init_process_group(backend="mpi", abort_on_error=True):
    """Join the job's process group: ``mpiexec -n N python train.py`` starts N processes,
    and in each this call learns its rank (0..N-1) and the world size N.

    Args:
        backend: ``"mpi"`` (any array, through mpi4py) or ``"nccl"`` (GPU arrays through
            NCCL, the others through MPI).
        abort_on_error: in a world of several processes, an exception that escapes on one
            rank prints that rank's traceback and aborts the whole job (``MPI_Abort``), so
            no rank is left waiting forever in a collective.

    Outside ``mpiexec`` the world is one process (rank 0 of 1) and everything still works.
    """
    if backend not in BACKENDS:
        raise ValueError(f"init_process_group: backend must be one of {list(BACKENDS)}, "
                         f"got {backend!r}")
    if DEFAULT.transport is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialized (call destroy_process_group() first)")
    if backend == "nccl":
        from .nccl_transport import NCCLTransport
        NCCLTransport.check_available()             # before MPI starts, so nothing is left
        transport = NCCLTransport(_mpi_or_single())
    else:
        transport = _mpi_or_single()
    DEFAULT.transport = transport
    if abort_on_error and transport.size > 1:
        faults.install_abort_hook(transport)


def destroy_process_group():
    """Leave the process group (collectives raise after this); a no-op when there is none."""
    transport, DEFAULT.transport = DEFAULT.transport, None
    if transport is not None:
        faults.remove_abort_hook()
        transport.close()


def is_initialized():
    return DEFAULT.transport is not None


def transport(caller="distributed"):
    """The default group's transport; raises naming ``caller`` when there is none."""
    if DEFAULT.transport is None:
        raise RuntimeError(f"{caller}: the default process group is not initialized; call "
                           "minigrad.distributed.init_process_group() first")
    return DEFAULT.transport


def get_rank():
    """This process's rank, 0..world_size-1 (0 when no group is initialized, as PyTorch's
    ``get_rank`` raises instead; 0 lets a script ask before it decides to go distributed)."""
    return 0 if DEFAULT.transport is None else DEFAULT.transport.rank


def get_world_size():
    """How many processes the job has (1 when no group is initialized)."""
    return 1 if DEFAULT.transport is None else DEFAULT.transport.size


def get_backend():
    return transport("get_backend").name
