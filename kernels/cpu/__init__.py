"""CPU kernels: ``@njit`` (serial) and ``@njit(parallel=True)`` builds, chosen by size."""
from .conv import (col2im, conv_from_columns, conv_grad_output, conv_output,
                   conv_weight_grad_from_columns, im2col)
from .conv3x3 import conv3x3, conv3x3_pack, conv3x3_planes, conv3x3_weight_grad
from .pooling import (adaptive_avg_pool2d, adaptive_avg_pool2d_grad, avg_pool2d,
                   avg_pool2d_grad, max_pool2d, max_pool2d_grad)
from .data import gather_rows, normalize_u8
from .elementwise import (axpy, binary, binary_grad, broadcast, cast, compare, fill, unary,
                          unary_grad, where)
from .loss import cross_entropy, cross_entropy_grad
from .matmul import matmul
from .memory import arange, empty, from_host, storage_id, to_host, zeros
from .movement import gather_flat, scatter_add_flat, strided_gather, strided_scatter
from .optim import adam_step, scale, sgd_step, sum_squares
from .reduce import extremum_reduce, index_reduce_grad, sum_reduce
from .softmax import logsumexp, logsumexp_grad, softmax, softmax_grad

NAME = "cpu"
