"""Data movement: strided gathers and scatters, and integer-index gathers.

Every view-like op (permute, slicing with steps, expand, narrow, cat) is described
by an element offset plus per-dim (size, stride) into a flat contiguous source, so
these few kernels serve them all and tensors can stay contiguous.
"""
import numpy as np
from numba import njit, prange

from ._compile import cpu_kernel


@njit(cache=True, error_model="numpy")
def _row_offset(row, shape, strides, offset):
    """Offset of the first element of output row ``row`` (rows span all but the last dim)."""
    # Not inlined: the parallel build forbids updating (an alias of) the loop index.
    # The parallel loop index can be unsigned; uint64 % int64 would be a float.
    off = np.int64(offset)
    rest = np.int64(row)
    for d in range(shape.size - 2, -1, -1):
        off += (rest % shape[d]) * strides[d]
        rest //= shape[d]
    return off


@cpu_kernel()
def strided_gather(out, x, shape, strides, offset):
    """out[i...] = x[offset + sum_d i_d * strides[d]] for every index i of ``shape``.

    Loop nest: for row in prange(prod(shape[:-1])): for j in range(shape[-1]).
    Shapes: out flat of prod(shape) elements, x flat; ``shape``/``strides`` int64 (ndim >= 1).
    """
    inner = shape[shape.size - 1]
    step = strides[shape.size - 1]
    rows = out.size // inner if inner > 0 else 0
    for row in prange(rows):
        src = _row_offset(row, shape, strides, offset)
        for j in range(inner):
            out[row * inner + j] = x[src + j * step]


@cpu_kernel(size_arg=1)
def strided_scatter(out, x, shape, strides, offset):
    """out[offset + sum_d i_d * strides[d]] = x[i...]: the inverse of ``strided_gather``.

    The positions must be distinct (true for permutes and slices), so threads that
    split the rows never write the same element. Shapes as in ``strided_gather``.
    """
    inner = shape[shape.size - 1]
    step = strides[shape.size - 1]
    rows = x.size // inner if inner > 0 else 0
    for row in prange(rows):
        dst = _row_offset(row, shape, strides, offset)
        for j in range(inner):
            out[dst + j * step] = x[row * inner + j]


@cpu_kernel()
def gather_flat(out, x, index):
    """out[i] = x[index[i]]; all flat. for i in prange(n)."""
    for i in prange(out.size):
        out[i] = x[index[i]]


@njit(cache=True, error_model="numpy")
def scatter_add_flat(out, x, index):
    """out[index[i]] += x[i]; all flat. Serial: repeated indices must accumulate."""
    for i in range(x.size):
        out[index[i]] += x[i]
