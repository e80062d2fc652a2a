"""Reductions over the middle axis of a contiguous ``(A, R, B)`` array.

The framework views any reduction as ``(A, R, B)``: ``A`` = kept dims before the
reduced block, ``R`` = the reduced block, ``B`` = kept dims after it. No copy is
needed when the reduced dims are adjacent, which covers reductions over one dim.
"""
import numba
import numpy as np
from numba import njit, prange

from ._compile import PARALLEL_MIN_WORK, cpu_kernel


@cpu_kernel(size_arg=1, fastmath={"reassoc"})
def _sum_partials(partial, x):
    """partial[p, a, b] = sum of x[a, r, b] over the p-th slice of r.

    Loop nest: for (p, a) in prange(P*A): for r in slice p: for b: partial[p,a,b] += x[a,r,b].
    Splitting R into P slices gives the threads work when A*B is small (a full sum).
    ``reassoc`` lets LLVM vectorize the float accumulation.
    """
    P, A, B = partial.shape
    R = x.shape[1]
    xf = x.reshape(-1)
    for t in prange(P * A):
        p, a = t // A, t % A
        r0, r1 = p * R // P, (p + 1) * R // P
        acc_row = partial[p, a]
        # Contiguous 1-D views indexed from 0: Numba drops its negative-index checks
        # and LLVM vectorizes the loops.
        if B == 1:
            xs = xf[a * R + r0:a * R + r1]
            acc = acc_row[0]
            for r in range(xs.size):
                acc += xs[r]
            acc_row[0] = acc
        else:
            for r in range(r0, r1):
                xr = xf[(a * R + r) * B:(a * R + r + 1) * B]
                for b in range(B):
                    acc_row[b] += xr[b]


@cpu_kernel(size_arg=1)
def _combine_partials(out, partial, scale):
    """out[a, b] = scale * sum_p partial[p, a, b]. for (a, b) in prange(A*B)."""
    P, A, B = partial.shape
    o = out.reshape(-1)
    for t in prange(A * B):
        a, b = t // B, t % B
        acc = partial[0, a, b]
        for p in range(1, P):
            acc += partial[p, a, b]
        o[t] = acc * scale


# Module-level names: the njit drivers below call the builds directly.
_sum_partials_serial, _sum_partials_parallel = _sum_partials.serial, _sum_partials.parallel
_combine_serial, _combine_parallel = _combine_partials.serial, _combine_partials.parallel


@njit(cache=True, error_model="numpy")
def _sum_reduce_into(out, x, scale, partial):
    """Add x's (A, R, B) slices into ``partial`` (slices, A, B), then sum them into out."""
    if x.size >= PARALLEL_MIN_WORK:
        _sum_partials_parallel(partial, x)
    else:
        _sum_partials_serial(partial, x)
    if partial.size >= PARALLEL_MIN_WORK:
        _combine_parallel(out, partial, scale)
    else:
        _combine_serial(out, partial, scale)


# Slices are sized for the most threads Numba can run, not the current count: a sum's
# rounding then does not depend on set_num_threads, and the njit code needs no call
# into the thread pool (which would keep a compiled step out of Numba's disk cache).
_MAX_THREADS = numba.config.NUMBA_NUM_THREADS


@njit(cache=True, error_model="numpy")
def _slices(A, R, size):
    """How many slices of R to sum apart: enough to give every thread work."""
    if size >= PARALLEL_MIN_WORK and A < 4 * _MAX_THREADS:
        return max(1, min(R, 4 * _MAX_THREADS // A))
    return 1


@njit(cache=True, error_model="numpy")
def _sum_reduce_with(out, x, scale, zero):
    """``sum_reduce`` accumulating in ``zero``'s type (float64 or int64)."""
    A, R, B = x.shape
    if x.size < PARALLEL_MIN_WORK and B == 1:
        _sum_rows(out.reshape(-1), x.reshape(A, R), scale, zero)
        return
    _sum_reduce_into(out, x, scale, np.full((_slices(A, R, x.size), A, B), zero))


# The builds a compiled step calls: (out, x, scale) like the kernel, one per accumulator.
@njit(cache=True, error_model="numpy")
def _sum_reduce_float(out, x, scale):
    _sum_reduce_with(out, x, scale, np.float64(0))


@njit(cache=True, error_model="numpy")
def _sum_reduce_int(out, x, scale):
    _sum_reduce_with(out, x, scale, np.int64(0))


def sum_reduce(out, x, scale):
    """out[a, b] = scale * sum_r x[a, r, b] (``scale`` = 1 for sum, 1/R for mean).

    Shapes: x (A, R, B) contiguous, out (A, B). Floats accumulate in float64 and
    integers in int64. Threads split (slice of R, a) pairs, then the slices are added.
    """
    return sum_reduce.build_for(out, x, scale)(out, x, scale)


sum_reduce.float = _sum_reduce_float
sum_reduce.int = _sum_reduce_int
sum_reduce.build_for = lambda out, x, scale: (
    sum_reduce.float if x.dtype.kind == "f" else sum_reduce.int)


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum_rows(out, x, scale, zero):
    """out[a] = scale * sum_r x[a, r]: the small case in one serial pass, no partials.

    ``zero`` (float64 or int64) sets the accumulator's type.
    """
    A, R = x.shape
    xf = x.reshape(-1)
    for a in range(A):
        row = xf[a * R:(a + 1) * R]
        acc = zero
        for r in range(R):
            acc += row[r]
        out[a] = acc * scale


@cpu_kernel(size_arg=2)
def extremum_reduce(out, index, x, is_max):
    """out[a, b] = max (or min) over r of x[a, r, b]; index[a, b] = first such r.

    NaN wins, as in PyTorch. Loop nest: for (a, b) in prange(A*B): for r in range(R).
    Shapes: x (A, R, B) with R >= 1, out and index (A, B).
    """
    A, R, B = x.shape
    o, idx = out.reshape(-1), index.reshape(-1)
    for t in prange(A * B):
        line = x[t // B, :, t % B]
        best, best_r = line[0], 0
        for r in range(1, R):
            if best != best:
                break
            v = line[r]
            if (v > best if is_max else v < best) or v != v:
                best, best_r = v, r
        o[t] = best
        idx[t] = best_r


@cpu_kernel(size_arg=0)
def index_reduce_grad(grad_x, grad_out, index):
    """grad_x[a, r, b] = grad_out[a, b] if r == index[a, b] else 0.

    Backward of max/min along R. Loop nest: for a in prange(A): zero row, scatter B.
    Shapes: grad_x (A, R, B), grad_out and index (A, B).
    """
    A, R, B = grad_x.shape
    for a in prange(A):
        for r in range(R):
            for b in range(B):
                grad_x[a, r, b] = 0
        for b in range(B):
            grad_x[a, index[a, b], b] = grad_out[a, b]


