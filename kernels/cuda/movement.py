"""Data movement (CUDA): strided gathers and scatters, integer-index gathers.

Same contract as the CPU kernels. ``shape`` and ``strides`` arrive as host int64
vectors; they are passed to the kernel as tuples (by value, one compiled kernel per
rank), so no host-to-device copy happens per call.
"""
from numba import cuda

from ._launch import DEFAULT_THREADS, device, kernel, launch


@device
def _source(i, shape, strides, offset):
    """Flat source position of output element ``i`` (C order over ``shape``)."""
    src = offset
    rest = i
    for k in range(len(shape) - 1, -1, -1):
        src += (rest % shape[k]) * strides[k]
        rest //= shape[k]
    return src


@kernel
def _strided_gather(out, x, shape, strides, offset):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < out.size:
        out[i] = x[_source(i, shape, strides, offset)]
        i += step


@kernel
def _strided_scatter(out, x, shape, strides, offset):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < x.size:
        out[_source(i, shape, strides, offset)] = x[i]
        i += step


def _tuples(shape, strides):
    return tuple(int(n) for n in shape), tuple(int(s) for s in strides)


def strided_gather(out, x, shape, strides, offset, threads=DEFAULT_THREADS):
    """out[i...] = x[offset + sum_d i_d * strides[d]] for every index i of ``shape``.
    out flat of prod(shape) elements, x flat; a thread per output element."""
    launch(_strided_gather, out.size, threads, out, x, *_tuples(shape, strides), int(offset))


def strided_scatter(out, x, shape, strides, offset, threads=DEFAULT_THREADS):
    """out[offset + sum_d i_d * strides[d]] = x[i...]; positions distinct."""
    launch(_strided_scatter, x.size, threads, out, x, *_tuples(shape, strides), int(offset))


@kernel
def _gather_flat(out, x, index):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < out.size:
        out[i] = x[index[i]]
        i += step


def gather_flat(out, x, index, threads=DEFAULT_THREADS):
    """out[i] = x[index[i]]; all flat."""
    launch(_gather_flat, out.size, threads, out, x, index)


@kernel
def _scatter_add_flat(out, x, index):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < x.size:
        cuda.atomic.add(out, index[i], x[i])
        i += step


def scatter_add_flat(out, x, index, threads=DEFAULT_THREADS):
    """out[index[i]] += x[i]; all flat. Repeated indices accumulate (atomic adds, so
    the order of a float sum over repeats is not fixed)."""
    launch(_scatter_add_flat, x.size, threads, out, x, index)
