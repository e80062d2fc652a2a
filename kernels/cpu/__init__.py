"""CPU kernels: ``@njit`` (serial) and ``@njit(parallel=True)`` builds, chosen by size."""
from .elementwise import (axpy, binary, binary_grad, broadcast, cast, compare, fill, unary,
                          unary_grad, where)
from .matmul import matmul
from .memory import arange, empty, from_host, storage_id, to_host, zeros
from .movement import gather_flat, scatter_add_flat, strided_gather, strided_scatter
from .reduce import extremum_reduce, index_reduce_grad, sum_reduce
from .softmax import logsumexp, logsumexp_grad, softmax, softmax_grad

NAME = "cpu"
