"""Data-parallel building blocks over MPI (as ``torch.distributed`` with backend "mpi").

    import framework as fw
    fw.distributed.init_process_group()      # under `mpiexec -n N`, or alone
    fw.distributed.all_reduce(t, op=fw.distributed.ReduceOp.AVG)

mpi4py is imported only when a group is initialized; without the ``mpi`` extra that
call says what to install.
"""
from .collectives import (AVG, MAX, MIN, SUM, ReduceOp, Work, all_gather, all_reduce,
                          barrier, broadcast)
from .group import (abort, destroy_process_group, get_rank, get_world_size,
                    init_process_group, is_available, is_initialized)
