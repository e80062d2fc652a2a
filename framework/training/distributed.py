"""Data-parallel ``numbagrad train``: under ``mpiexec`` every rank trains a
``DistributedDataParallel`` copy of the model on its share of each global batch.

``--batch-size`` is per rank. The training order is the single-process order (the same
seeded generator on every rank, split by ``DistributedSampler``), so N ranks at batch b
follow one process at batch N*b. Rank 0 alone prints and writes files; the test set is
split across ranks and its sums reduced. ``--nproc N`` starts the ``mpiexec`` of the
installed MPICH on this same command line.
"""
import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig

import numpy as np

from ..command import CommandError
from ..data import DataLoader, DistributedSampler
from ..data.sampler import Sampler
from ..threads import set_num_threads

# Set by MPICH's hydra (PMI_SIZE), Open MPI and PMIx launchers in each rank they start.
_LAUNCHER_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")


def started_by_mpiexec(environ=None):
    """Whether this process is a rank of an ``mpiexec`` job."""
    environ = os.environ if environ is None else environ
    return any(name in environ for name in _LAUNCHER_VARIABLES)


class Run:
    """Where this process stands in the job: rank, world size and the helpers the
    training command needs (a one-process run when not started by ``mpiexec``)."""

    def __init__(self, rank=0, size=1):
        self.rank, self.size = rank, size

    @property
    def is_main(self):
        return self.rank == 0

    @property
    def distributed(self):
        return self.size > 1

    def wrap(self, model):
        """The model to train: a DDP wrapper when there is more than one rank."""
        if not self.distributed:
            return model
        from ..nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model)

    def train_loader(self, dataset, batch_size, generator, device):
        if not self.distributed:
            return DataLoader(dataset, batch_size, shuffle=True, generator=generator,
                              device=device)
        sampler = DistributedSampler(dataset, self.size, self.rank, generator=generator)
        return DataLoader(dataset, batch_size, sampler=sampler, generator=generator,
                          device=device)

    def eval_loader(self, dataset, batch_size, device):
        sampler = _RankShard(dataset, self.size, self.rank) if self.distributed else None
        return DataLoader(dataset, batch_size, sampler=sampler, device=device)

    def reduce_sums(self, values):
        """``values`` (a few numbers) summed over the ranks, as a float64 array."""
        from ..distributed.collectives import wait_request
        from ..distributed.group import group, mpi
        array = np.asarray(values, dtype=np.float64)
        request = group().comm.Iallreduce(mpi().IN_PLACE, array)
        wait_request(request, "the reduction of training metrics")
        return array

    def sum_reducer(self):
        """``reduce_sums`` for the training loop, or None when there is nothing to reduce."""
        return self.reduce_sums if self.distributed else None

    @contextlib.contextmanager
    def fail_together(self):
        """An error on one rank ends every rank (the others would wait for it forever)."""
        try:
            yield
        except (Exception, KeyboardInterrupt) as exc:
            if not self.distributed:
                raise
            from .. import distributed
            distributed.abort(f"numbagrad train: error: {exc}; aborting all ranks", 2)


def setup(threads):
    """Join the ``mpiexec`` job if there is one; returns its ``Run``.

    With several ranks on one machine and no ``--threads``, each rank takes its share of
    the cores, so the ranks do not oversubscribe them.
    """
    if not started_by_mpiexec():
        return Run()
    from .. import distributed
    try:
        group = distributed.init_process_group("mpi")
    except ImportError as exc:
        raise CommandError(f"started by mpiexec, but {exc}") from None
    run = Run(group.rank, group.size)
    if threads is None and run.distributed:
        from ..distributed.group import mpi
        local = group.comm.Split_type(mpi().COMM_TYPE_SHARED).Get_size()
        set_num_threads(max(1, (os.cpu_count() or 1) // local))
    return run


class _RankShard(Sampler):
    """Positions rank, rank + N, ... of the data set in order, without padding (each test
    image is evaluated exactly once over all ranks)."""

    def __init__(self, dataset, num_replicas, rank):
        self.n, self.num_replicas, self.rank = len(dataset), num_replicas, rank

    def indices(self):
        return np.arange(self.rank, self.n, self.num_replicas, dtype=np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return len(range(self.rank, self.n, self.num_replicas))


def find_mpiexec():
    """The ``mpiexec`` installed with this Python (the mpich wheel puts it beside the
    interpreter's scripts), else the first one on PATH; None if there is none."""
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        path = os.path.join(folder, "mpiexec")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which("mpiexec")


def launch(nproc, argv):
    """Run ``numbagrad train argv`` on ``nproc`` ranks under ``mpiexec``; its exit code."""
    from ..distributed.group import INSTALL_HINT, is_available
    if started_by_mpiexec():
        raise CommandError("--nproc: this process was already started by mpiexec; "
                           "use one or the other")
    mpiexec = find_mpiexec()
    if mpiexec is None or not is_available():
        raise CommandError(f"--nproc: {INSTALL_HINT}")
    command = [mpiexec, "-n", str(nproc), sys.executable, "-m", "framework", "train"] + argv
    process = subprocess.Popen(command)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached the ranks too: let them write their checkpoint and exit.
            continue


def forwarded_argv(parser, args, skip=("nproc",)):
    """The command line that reproduces ``args`` for ``parser`` (flags at non-defaults)."""
    argv = []
    for action in parser._actions:
        if not action.option_strings or action.dest in skip or action.dest == "help":
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default:
            continue
        flag = action.option_strings[-1]
        argv += [flag] if action.nargs == 0 else [flag, str(value)]
    return argv
