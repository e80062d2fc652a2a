"""The process group: which rank this process is, in a world of how many, over MPI.

MPI gives every process of an ``mpiexec`` run its rank; without ``mpiexec`` MPI starts a
one-process world, so the same script runs alone or data-parallel unchanged. The group
is one per process (MPI's world is), held in ``_group``: the one piece of process-wide
state this package keeps, as ``torch.distributed``'s default group.
"""
import datetime
import sys
import time
import traceback

INSTALL_HINT = 'MPI is not installed: pip install -e ".[mpi]" (mpi4py and mpich)'

_group = None


def mpi():
    """The ``mpi4py.MPI`` module (importing it starts MPI); a one-line ImportError naming
    what to install when the ``mpi`` extra is missing."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(f"framework.distributed: {INSTALL_HINT}") from None
    return MPI


class ProcessGroup:
    """The ranks of one MPI communicator, and how long a collective may take."""

    def __init__(self, comm, timeout):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.timeout = timeout


def init_process_group(backend="mpi", timeout=None):
    """Join the world started by ``mpiexec`` (or a one-process world without it).

    Args:
        backend: only ``"mpi"``.
        timeout: seconds (or a ``datetime.timedelta``) a collective may wait for the other
            ranks before this rank aborts the whole job with an error naming it; None
            waits as long as it takes (a rank that dies is still caught by ``mpiexec``,
            which ends the others).

    With more than one rank, an uncaught exception on any rank prints its traceback and
    aborts every rank (``MPI_Abort``), so the others never wait forever for it.
    """
    global _group
    if backend != "mpi":
        raise ValueError(f"init_process_group: backend must be 'mpi', got {backend!r}")
    if _group is not None:
        raise RuntimeError("init_process_group: the process group is already initialized; "
                           "call destroy_process_group() first")
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if timeout is not None and not timeout > 0:
        raise ValueError(f"init_process_group: timeout must be positive seconds, got {timeout}")
    _group = ProcessGroup(mpi().COMM_WORLD, timeout)
    if _group.size > 1:
        sys.excepthook = _abort_all_on_uncaught
    return _group


def destroy_process_group():
    """Leave the group (MPI itself is finalized by mpi4py when the process exits)."""
    global _group
    if _group is None:
        raise RuntimeError("destroy_process_group: the process group is not initialized")
    if sys.excepthook is _abort_all_on_uncaught:
        sys.excepthook = sys.__excepthook__
    _group = None


def is_available():
    """Whether mpi4py is installed (the ``mpi`` extra); looked up without starting MPI."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


def is_initialized():
    return _group is not None


def group():
    """The initialized group; a RuntimeError telling what to call first otherwise."""
    if _group is None:
        raise RuntimeError("framework.distributed: the default process group is not "
                           "initialized; call fw.distributed.init_process_group() first")
    return _group


def get_rank():
    return group().rank


def get_world_size():
    return group().size


def abort(message, code=1, details=""):
    """Print ``message`` (prefixed with this rank), then ``details``, and end every rank
    of the job now."""
    g = group()
    sys.stderr.write(f"rank {g.rank}/{g.size}: {message}\n{details}")
    sys.stderr.flush()
    # mpiexec forwards output asynchronously and kills every rank on MPI_Abort: give it a
    # moment to pass the message on first (a loaded machine lost it otherwise).
    time.sleep(0.2)
    g.comm.Abort(code)


def _abort_all_on_uncaught(exc_type, exc, tb):
    abort(f"{exc_type.__name__}: {exc}; aborting all ranks", 1,
          "".join(traceback.format_exception(exc_type, exc, tb)))
