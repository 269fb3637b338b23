"""One rank's failure ends the whole job.

Collectives wait for every rank. If rank 1 raises and exits while rank 0 is inside an
Allreduce, rank 0 waits forever (measured with MPICH: mpiexec never returns). So once a
world of several processes exists, an exception that escapes on any rank prints that
rank's traceback, flushed, waits a quarter of a second for ``mpiexec`` to forward it, and
then calls ``MPI_Abort``, which makes ``mpiexec`` kill every process and exit non-zero within
a second or two.

Two ways an error escapes: an uncaught exception (``sys.excepthook``, installed by
``init_process_group``) and ``sys.exit("error: ...")`` from a script's own error
handling, which Python does not show to the excepthook: wrap the script's entry point
in ``exit_together()`` for that::

    if __name__ == "__main__":
        with minigrad.distributed.exit_together():
            main()
"""
from __future__ import annotations

import contextlib
import sys
import time
import traceback

_HOOK_STATE = {}     # the previous sys.excepthook while ours is installed (per process)
# mpiexec forwards each rank's output through its proxies on their own time, and MPI_Abort
# tears the job down at once: without a pause, the message flushed just before the abort was
# lost in about 1 run of 40 (MPICH 5.0 from PyPI, `tests/test_distributed.py`)
FORWARD_S = 0.25


def _report(transport, text):
    """Write ``text`` to the real stderr (a script may have silenced sys.stderr on ranks > 0)."""
    stream = sys.__stderr__ or sys.stderr
    prefix = f"[rank {transport.rank}/{transport.size}] "
    stream.write("".join(prefix + line + "\n" for line in text.rstrip("\n").split("\n")))
    stream.flush()


def abort_job(transport, text, code=1):
    """Print ``text`` as this rank's error and abort every rank of the job."""
    sys.stdout.flush()
    _report(transport, text)
    _report(transport, f"aborting all {transport.size} ranks (MPI_Abort)")
    time.sleep(FORWARD_S)        # let the launcher forward what was just written
    transport.abort(code)


def install_abort_hook(transport):
    if "previous" not in _HOOK_STATE:
        _HOOK_STATE["previous"] = sys.excepthook

    def abort_on_uncaught(kind, value, tb):
        abort_job(transport, "".join(traceback.format_exception(kind, value, tb)))
    sys.excepthook = abort_on_uncaught


def remove_abort_hook():
    previous = _HOOK_STATE.pop("previous", None)
    if previous is not None:
        sys.excepthook = previous


@contextlib.contextmanager
def exit_together():
    """Inside a world of several ranks, any exception or non-zero ``sys.exit`` leaving this
    block aborts the whole job with this rank's message; otherwise it passes through."""
    from .process_group import DEFAULT
    try:
        yield
    except SystemExit as stop:
        transport = DEFAULT.transport
        if transport is None or transport.size == 1 or stop.code in (None, 0):
            raise
        abort_job(transport, str(stop.code), code=stop.code if isinstance(stop.code, int) else 1)
    except BaseException:  # noqa: B902 - KeyboardInterrupt too: no rank may be left waiting
        transport = DEFAULT.transport
        if transport is None or transport.size == 1:
            raise
        abort_job(transport, traceback.format_exc())
