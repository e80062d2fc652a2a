"""Reductions over the middle axis of a contiguous ``(A, R, B)`` array (CUDA).

``sum_reduce`` runs in two passes. The first splits R into P slices so that the GPU
has enough independent work even for a full sum (A = B = 1): for long rows (B == 1) each block
sums one slice of one row by a shared-memory tree; otherwise each thread sums one
slice of one column, and neighbouring threads read neighbouring b (coalesced). The
second pass adds the P partial sums and applies the scale. Floats accumulate in
float64 and integers in int64, as on the CPU.
"""
import numpy as np
from numba import cuda, float64, int64

from . import _device as d
from ._launch import DEFAULT_THREADS, MAX_BLOCKS, MAX_THREADS, kernel, launch, run, tree_threads
from .memory import empty

# Enough concurrent work items to fill a GPU several times over.
_TARGET_THREADS = 1 << 16
# Rows up to this long are summed by one thread each (a block would idle).
_SHORT_ROW = 32
# At most this many (slice, row) blocks: the second pass adds the slices serially.
_MAX_SLICES = 512


def _rows_partial_kernel(acc_type):
    """partial[p, a] = sum of x[a, r] over the p-th slice of r: one block per (p, a)."""

    @kernel
    def rows_partial(partial, x, zero):
        shared = cuda.shared.array(MAX_THREADS, acc_type)
        P, A = partial.shape
        R = x.shape[1]
        t = cuda.blockIdx.x
        while t < P * A:  # grid-stride over blocks; uniform per block
            p, a = t // A, t % A
            r0, r1 = p * R // P, (p + 1) * R // P
            acc = zero
            r = r0 + cuda.threadIdx.x
            while r < r1:
                acc += x[a, r]
                r += cuda.blockDim.x
            total = d.block_sum(shared, acc)
            if cuda.threadIdx.x == 0:
                partial[p, a] = total
            t += cuda.gridDim.x

    return rows_partial


_rows_partial = {np.dtype(np.float64): _rows_partial_kernel(float64),
                 np.dtype(np.int64): _rows_partial_kernel(int64)}


@kernel
def _cols_partial(partial, x, zero):
    """partial[p, a, b] = sum of x[a, r, b] over the p-th slice of r; a thread per (p, a, b)."""
    P, A, B = partial.shape
    R = x.shape[1]
    t, step = cuda.grid(1), cuda.gridsize(1)
    while t < P * A * B:
        p, rest = t // (A * B), t % (A * B)
        a, b = rest // B, rest % B
        acc = zero
        for r in range(p * R // P, (p + 1) * R // P):
            acc += x[a, r, b]
        partial[p, a, b] = acc
        t += step


@kernel
def _combine(out, partial, scale):
    """out[a, b] = scale * sum_p partial[p, a, b]; a thread per (a, b)."""
    P, A, B = partial.shape
    t, step = cuda.grid(1), cuda.gridsize(1)
    while t < A * B:
        a, b = t // B, t % B
        acc = partial[0, a, b]
        for p in range(1, P):
            acc += partial[p, a, b]
        out[a, b] = acc * scale
        t += step


def sum_reduce(out, x, scale, threads=DEFAULT_THREADS):
    """out[a, b] = scale * sum_r x[a, r, b] (``scale`` = 1 for sum, 1/R for mean).

    Shapes: x (A, R, B) contiguous, out (A, B). Two passes (see the module doc).
    """
    A, R, B = x.shape
    acc_dtype = np.dtype(np.float64) if x.dtype.kind == "f" else np.dtype(np.int64)
    zero = acc_dtype.type(0)
    if B == 1 and R > _SHORT_ROW:
        threads = tree_threads(threads)
        slices = max(1, min((R + 4 * threads - 1) // (4 * threads), _MAX_SLICES // max(A, 1)))
        partial = empty((slices, A, 1), acc_dtype)
        if partial.size:
            blocks = max(1, min(slices * A, MAX_BLOCKS))
            run(_rows_partial[acc_dtype], blocks, threads,
                (partial.reshape(slices, A), x.reshape(A, R), zero))
    else:
        slices = max(1, min(R, _TARGET_THREADS // max(A * B, 1)))
        partial = empty((slices, A, B), acc_dtype)
        launch(_cols_partial, partial.size, threads, partial, x, zero)
    launch(_combine, A * B, threads, out, partial, scale)


@kernel
def _extremum(out, index, x, is_max):
    A, R, B = x.shape
    t, step = cuda.grid(1), cuda.gridsize(1)
    while t < A * B:
        a, b = t // B, t % B
        best, best_r = x[a, 0, b], 0
        for r in range(1, R):
            if best != best:
                break
            v = x[a, r, b]
            if (v > best if is_max else v < best) or v != v:
                best, best_r = v, r
        out[a, b] = best
        index[a, b] = best_r
        t += step


def extremum_reduce(out, index, x, is_max, threads=DEFAULT_THREADS):
    """out[a, b] = max (or min) over r of x[a, r, b]; index[a, b] = first such r.

    NaN wins, as in PyTorch. A thread per (a, b). Shapes: x (A, R, B), R >= 1.
    """
    A, R, B = x.shape
    launch(_extremum, A * B, threads, out, index, x, is_max)


@kernel
def _index_reduce_grad(grad_x, grad_out, index):
    A, R, B = grad_x.shape
    t, step = cuda.grid(1), cuda.gridsize(1)
    while t < A * R * B:
        a, rest = t // (R * B), t % (R * B)
        r, b = rest // B, rest % B
        grad_x[a, r, b] = grad_out[a, b] if index[a, b] == r else grad_out[a, b] * 0
        t += step


def index_reduce_grad(grad_x, grad_out, index, threads=DEFAULT_THREADS):
    """grad_x[a, r, b] = grad_out[a, b] if r == index[a, b] else 0; a thread per element."""
    launch(_index_reduce_grad, grad_x.size, threads, grad_x, grad_out, index)
