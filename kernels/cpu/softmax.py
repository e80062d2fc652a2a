"""Softmax, log-softmax and logsumexp over the middle axis of ``(A, R, B)``.

Each (a, b) line is independent; threads split the A*B lines, and each line is
taken as a 1-D view so its loops index from 0 (a contiguous one when B == 1, the
usual last-axis case, so that LLVM vectorizes it). Every line subtracts its maximum
first so exp() never overflows; exp and log are ``kernels.vmath``'s vectorizable
ones, computed in the input's dtype, and sums accumulate in float64.
"""
import math

import numpy as np
from numba import njit, prange

from ..irops import cast_like, float_from_sortable, sortable_int
from ..vmath import vexp, vlog
from ._compile import cpu_kernel

inline = njit(inline="always", cache=True, error_model="numpy")
# exp makes these kernels' work per element several times a copy's, so the thread
# pool's wake-up pays from fewer elements than PARALLEL_MIN_WORK.
PARALLEL_MIN_EXP = 1 << 17


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def line_sum(v):
    """sum(v) in float64; ``reassoc`` lets LLVM vectorize the accumulation. Not inlined
    by Numba, so the flag stays on this function's instructions only (LLVM still
    inlines it), away from the exp/log arithmetic that reassociation would break."""
    s = 0.0
    for r in range(v.size):
        s += v[r]
    return s


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def line_dot(u, v):
    """sum(u * v) in float64, vectorized like ``line_sum``."""
    s = 0.0
    for r in range(v.size):
        s += u[r] * v[r]
    return s


@inline
def line_max(v):
    """max(v) in v's dtype (-inf for an all -inf line); v has at least one element.
    Taken on ``sortable_int`` keys so that the loop vectorizes. A NaN wins or loses by
    its sign bit; its exp makes the line's results NaN either way."""
    m = sortable_int(v[0])
    for r in range(1, v.size):
        m = max(m, sortable_int(v[r]))
    return float_from_sortable(m, v[0])


@inline
def exp_shifted(out, v, m):
    """out[r] = exp(v[r] - m): vectorizes (``vexp``), and m is in v's dtype so a
    float32 line stays float32."""
    for r in range(v.size):
        out[r] = vexp(v[r] - m)


@inline
def _softmax_line(os, xs, log_output):
    m = line_max(xs)
    # An all -inf line gives NaN, as in PyTorch. A float32 zero keeps m's dtype.
    m = m if m != -math.inf else np.float32(0.0)
    exp_shifted(os, xs, m)
    s = line_sum(os)
    # The final pass in the line's dtype (as PyTorch's): a float32 line times a float64
    # scalar converted every entry to float64 and back, and took 2.5x as long.
    # log_softmax as (x - max) - log(sum), PyTorch's order: the logsumexp rounded to
    # the dtype as a whole would lose the digits that cancel against x.
    if log_output:
        ls = cast_like(vlog(s), xs[0])
        for r in range(xs.size):
            os[r] = (xs[r] - m) - ls
    else:
        inv = cast_like(1.0 / s if s > 0 else math.nan, xs[0])
        for r in range(xs.size):
            os[r] = os[r] * inv


# Rows shorter than a vector of float32 lanes leave each row's loops to their scalar
# remainders: softmax over (64, 10) took 6.0 us against 1.5 us for one row of 640. Such
# rows (B == 1) go in chunks whose exp and final passes run as flat loops.
SHORT_ROW = 16
_CHUNK_ROWS = 1024


@inline
def _softmax_rows(os, xs, R, log_output):
    """``_softmax_line`` on each R-long row of the flat os/xs, with the same arithmetic:
    each row's scalars (its max, then 1/sum or log(sum), in float64) are spread
    over its entries so that the elementwise passes vectorize across rows."""
    shift = np.empty(xs.size)
    for lo in range(0, xs.size, R):
        m = line_max(xs[lo:lo + R])
        m = m if m != -math.inf else np.float32(0.0)
        for r in range(lo, lo + R):
            shift[r] = m
    if log_output:
        # os takes x - max and shift, done with the max, the exps for the row sums;
        # (x - max) - log(sum) then, as in _softmax_line
        for i in range(xs.size):
            d = xs[i] - cast_like(shift[i], xs[i])
            os[i] = d
            shift[i] = vexp(d)
    else:
        for i in range(xs.size):
            os[i] = vexp(xs[i] - cast_like(shift[i], xs[i]))
    for lo in range(0, xs.size, R):
        if log_output:
            v = vlog(line_sum(shift[lo:lo + R]))
        else:
            s = line_sum(os[lo:lo + R])
            v = 1.0 / s if s > 0 else math.nan
        for r in range(lo, lo + R):
            shift[r] = v
    if log_output:
        for i in range(xs.size):
            os[i] = os[i] - cast_like(shift[i], xs[i])
    else:
        for i in range(xs.size):
            os[i] = os[i] * cast_like(shift[i], xs[i])


@cpu_kernel(size_arg=1, parallel_min=PARALLEL_MIN_EXP)
def softmax(out, x, log_output):
    """out = softmax(x) (or log_softmax when ``log_output``) along R.

    Loop nest: for (a, b) in prange(A*B): max over r; exp and sum over r; write r.
    Rows shorter than SHORT_ROW (B == 1): for chunks of rows in prange: flat passes.
    Shapes: out, x (A, R, B).
    """
    A, R, B = x.shape
    if R == 0:
        return
    if B == 1 and R < SHORT_ROW:
        xf, of = x.reshape(-1), out.reshape(-1)
        for t in prange((A + _CHUNK_ROWS - 1) // _CHUNK_ROWS):
            lo, hi = t * _CHUNK_ROWS * R, min(A, (t + 1) * _CHUNK_ROWS) * R
            _softmax_rows(of[lo:hi], xf[lo:hi], R, log_output)
        return
    x2, out2 = x.reshape(A, R * B), out.reshape(A, R * B)
    for t in prange(A * B):
        if B == 1:
            _softmax_line(out2[t], x2[t], log_output)
        else:
            _softmax_line(out[t // B, :, t % B], x[t // B, :, t % B], log_output)


@inline
def _softmax_grad_line(gx, g, y, log_output):
    # The sum in float64, the final pass in the line's dtype (see _softmax_line).
    if log_output:
        s = cast_like(line_sum(g), y[0])
        exp_shifted(gx, y, np.float32(0.0))
        for r in range(y.size):
            gx[r] = g[r] - gx[r] * s
    else:
        s = cast_like(line_dot(g, y), y[0])
        for r in range(y.size):
            gx[r] = y[r] * (g[r] - s)


@inline
def _softmax_grad_rows(gx, g, y, R, log_output):
    """``_softmax_grad_line`` on each R-long row of the flat arrays, with the same
    arithmetic; each row's sum spread over its entries, as in ``_softmax_rows``."""
    shift = np.empty(y.size)
    for lo in range(0, y.size, R):
        if log_output:
            s = line_sum(g[lo:lo + R])
        else:
            s = line_dot(g[lo:lo + R], y[lo:lo + R])
        for r in range(lo, lo + R):
            shift[r] = s
    if log_output:
        for i in range(y.size):
            gx[i] = g[i] - vexp(y[i] - np.float32(0.0)) * cast_like(shift[i], y[i])
    else:
        for i in range(y.size):
            gx[i] = y[i] * (g[i] - cast_like(shift[i], y[i]))


@cpu_kernel(size_arg=1, parallel_min=PARALLEL_MIN_EXP)
def softmax_grad(grad_x, grad_out, out, log_output):
    """Backward of ``softmax`` from its output y.

    softmax: grad_x = y * (g - sum_r g*y); log_softmax: grad_x = g - exp(y) * sum_r g.
    Loop nest: for (a, b) in prange(A*B): reduce over r; write r. Rows shorter than
    SHORT_ROW (B == 1): chunks of rows in prange, flat passes. Shapes all (A, R, B).
    """
    A, R, B = out.shape
    if R == 0:
        return
    if B == 1 and R < SHORT_ROW:
        gxf, gf, yf = grad_x.reshape(-1), grad_out.reshape(-1), out.reshape(-1)
        for t in prange((A + _CHUNK_ROWS - 1) // _CHUNK_ROWS):
            lo, hi = t * _CHUNK_ROWS * R, min(A, (t + 1) * _CHUNK_ROWS) * R
            _softmax_grad_rows(gxf[lo:hi], gf[lo:hi], yf[lo:hi], R, log_output)
        return
    gx2, g2, y2 = grad_x.reshape(A, R * B), grad_out.reshape(A, R * B), out.reshape(A, R * B)
    for t in prange(A * B):
        if B == 1:
            _softmax_grad_line(gx2[t], g2[t], y2[t], log_output)
        else:
            a, b = t // B, t % B
            _softmax_grad_line(grad_x[a, :, b], grad_out[a, :, b], out[a, :, b], log_output)


@inline
def _logsumexp_line(xs, scratch):
    """log sum exp(xs), with ``scratch`` (xs's size) holding the shifted exps."""
    m = line_max(xs)
    if m == -math.inf or m == math.inf or m != m:
        return m * 1.0
    exp_shifted(scratch, xs, m)
    return m + vlog(line_sum(scratch))


@cpu_kernel(size_arg=1, parallel_min=PARALLEL_MIN_EXP)
def logsumexp(out, x):
    """out[a, b] = log sum_r exp(x[a, r, b]), stable for large inputs.

    Loop nest: for (a, b) in prange(A*B): max over r; exp into a scratch line, sum
    over r. Shapes: x (A, R, B), out (A, B).
    """
    A, R, B = x.shape
    o = out.reshape(-1)
    x2 = x.reshape(A, R * B)
    scratch = np.empty_like(x)
    s2 = scratch.reshape(A, R * B)
    for t in prange(A * B):
        if R == 0:
            o[t] = -math.inf
        elif B == 1:
            o[t] = _logsumexp_line(x2[t], s2[t])
        else:
            a, b = t // B, t % B
            o[t] = _logsumexp_line(x[a, :, b], scratch[a, :, b])


@inline
def _logsumexp_grad_line(gx, xs, g, lse):
    exp_shifted(gx, xs, lse)
    for r in range(xs.size):
        gx[r] = g * gx[r]


@cpu_kernel(size_arg=0, parallel_min=PARALLEL_MIN_EXP)
def logsumexp_grad(grad_x, grad_out, x, out):
    """grad_x[a, r, b] = grad_out[a, b] * exp(x[a, r, b] - out[a, b]).

    Loop nest: for (a, b) in prange(A*B): for r. Shapes: grad_x, x (A, R, B); others (A, B).
    """
    A, R, B = x.shape
    if R == 0:
        return
    gx2, x2 = grad_x.reshape(A, R * B), x.reshape(A, R * B)
    for t in prange(A * B):
        a, b = t // B, t % B
        lse = cast_like(out[a, b], x2[0, 0])
        if B == 1:
            _logsumexp_grad_line(gx2[t], x2[t], grad_out[a, b], lse)
        else:
            _logsumexp_grad_line(grad_x[a, :, b], x[a, :, b], grad_out[a, b], lse)
