"""CUDA kernels: ``@cuda.jit`` kernels with the names and arguments of ``kernels.cpu``.

Imported only when a tensor goes to a CUDA device. Needs the ``numba-cuda`` package
(``pip install numbagrad[cuda]``) and a GPU, or Numba's simulator
(``NUMBA_ENABLE_CUDASIM=1`` set before Numba is imported). Every wrapper also takes
``threads`` (threads per block, default ``_launch.DEFAULT_THREADS``).
"""
from ._available import require_cuda as _require_cuda

if _require_cuda() == "gpu":
    from . import _pool
    from .. import _cache
    _pool.install()
    _cache.install_cuda()  # the simulator caches nothing

from .conv import (col2im, conv_from_columns, conv_grad_output, conv_output,  # noqa: E402
                   conv_weight_grad_from_columns, im2col)
from .conv3x3 import conv3x3, conv3x3_pack, conv3x3_planes, conv3x3_weight_grad  # noqa: E402
from .pooling import (adaptive_avg_pool2d, adaptive_avg_pool2d_grad, avg_pool2d,  # noqa: E402
                   avg_pool2d_grad, max_pool2d, max_pool2d_grad)
from .data import gather_rows, normalize_u8  # noqa: E402
from .elementwise import (axpy, binary, binary_grad, broadcast, cast, compare, fill,  # noqa: E402
                          unary, unary_grad, where)
from .loss import cross_entropy, cross_entropy_grad  # noqa: E402
from .matmul import matmul  # noqa: E402
from .memory import arange, empty, from_host, storage_id, to_host, zeros  # noqa: E402
from .movement import gather_flat, scatter_add_flat, strided_gather, strided_scatter  # noqa: E402
from .optim import adam_step, scale, sgd_step, sum_squares  # noqa: E402
from .reduce import extremum_reduce, index_reduce_grad, sum_reduce  # noqa: E402
from .softmax import logsumexp, logsumexp_grad, softmax, softmax_grad  # noqa: E402

NAME = "cuda"
