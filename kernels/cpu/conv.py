"""2-D convolution by im2col + batched BLAS GEMMs.

The column buffer is (A, C*kh*kw, B, OH, OW) with image n = a*B + b: row
``(c*kh + i)*kw + j`` holds tap (i, j) of channel c. With A = 1, B = N a group's rows
are one block covering the whole batch, so one GEMM per group does the batch and
gives (O, N, L); the output kernels move that to (N, O, L) and back, fusing the bias
and its gradient. With A = N, B = 1 each image has its own block and a GEMM batch
over the images writes (N, O, L) directly (better when C*kh*kw is small). Threads
split image planes (im2col, col2im) or output channels, so each writes only its own.
"""
import numpy as np
from numba import njit, prange

from ..irops import cast_like
from ._compile import cpu_kernel
from .softmax import line_sum


# Inner runs index with unsigned offsets: Numba wraps negative signed indices around,
# and that branch kept the loops from vectorizing (im2col of the MNIST CNN's second
# layer, one thread: 5.1 ms with slice copies, 1.6 ms with unsigned offsets).
@njit(cache=True, error_model="numpy")
def _zero_run(dst, d0, n):
    """dst[d0:d0 + n] = 0."""
    d = np.uint64(d0)
    for q in range(np.uint64(n)):
        dst[d + q] = 0


@njit(inline="always", cache=True, error_model="numpy")
def _valid_range(O, size, tap, stride, padding):
    """[lo, hi): the outputs o whose input o*stride - padding + tap lies in [0, size)."""
    lo = min(O, max(0, (padding - tap + stride - 1) // stride))
    last = size - 1 + padding - tap
    hi = min(O, last // stride + 1) if last >= 0 else 0
    return lo, max(lo, hi)


@cpu_kernel(size_arg=0)
def im2col(cols, x, kh, kw, sh, sw, ph, pw, dh, dw):
    """cols[a, (c*kh + i)*kw + j, b, oh, ow] = x[a*B + b, c, oh*sh - ph + i*dh,
    ow*sw - pw + j*dw], 0 outside the image.

    Loop nest: for (c, n) in prange(C*N): for i, j: for oh: for ow.
    Shapes: x (N, C, H, W); cols (A, C*kh*kw, B, OH, OW), A*B = N. Indexing is by
    flat offsets: building a view per 14-element run cost more than the copy itself.
    """
    N, C, H, W = x.shape
    K, B, OH, OW = cols.shape[1], cols.shape[2], cols.shape[3], cols.shape[4]
    L = OH * OW
    xf, cf = x.reshape(-1), cols.reshape(-1)
    # Stride 1 with as many outputs as inputs per row ("same" width): a tap's valid rows
    # are one run of the plane at a fixed offset, copied at once (the MNIST CNN's second
    # layer: 0.27 ms instead of 0.73 with a run per 14-element row, too short to vectorize).
    flat = sh == 1 and sw == 1 and OW == W
    for t in prange(C * N):
        c, n = t // N, t % N
        x0 = (n * C + c) * H * W
        a, b = n // B, n % B
        for i in range(kh):
            for j in range(kw):
                c0 = ((a * K + (c * kh + i) * kw + j) * B + b) * L
                lo, hi = _valid_range(OW, W, j * dw, sw, pw)
                if flat:
                    _plane_run(cf, xf, c0, x0 + (i * dh - ph) * W + j * dw - pw, OH, OW, H,
                               i * dh, ph, lo, hi)
                    continue
                for oh in range(OH):
                    o0 = c0 + oh * OW
                    ih = oh * sh - ph + i * dh
                    if ih < 0 or ih >= H:
                        _zero_run(cf, o0, OW)
                        continue
                    s0 = x0 + ih * W - pw + j * dw
                    for ow in range(lo):  # the padding columns: a few at most
                        cf[o0 + ow] = 0
                    if sw == 1:  # unsigned offsets: see above
                        d0, q0 = np.uint64(o0 + lo), np.uint64(s0 + lo)
                        for q in range(np.uint64(hi - lo)):
                            cf[d0 + q] = xf[q0 + q]
                    else:
                        for ow in range(lo, hi):
                            cf[o0 + ow] = xf[s0 + ow * sw]
                    for ow in range(hi, OW):
                        cf[o0 + ow] = 0


@njit(inline="always", cache=True, error_model="numpy")
def _plane_run(cf, xf, c0, offset, OH, OW, H, tap, ph, lo, hi):
    """One tap of ``im2col`` when stride is 1 and OW == W: cf[c0 + q] = xf[offset + q]
    over the rows the tap sees, the other rows and the padding columns [0, lo) and
    [hi, OW) of each row 0. The run reads only inside the plane: from its first valid
    row's column lo to its last valid row's column hi - 1 (in between, the padding
    columns read a neighbouring row's edge, then are cleared)."""
    rlo, rhi = _valid_range(OH, H, tap, 1, ph)
    _zero_run(cf, c0, rlo * OW)
    _zero_run(cf, c0 + rhi * OW, (OH - rhi) * OW)
    if rhi <= rlo or hi <= lo:  # no input under this tap: all padding
        _zero_run(cf, c0 + rlo * OW, (rhi - rlo) * OW)
        return
    start, stop = rlo * OW + lo, (rhi - 1) * OW + hi
    d0, s0 = np.uint64(c0 + start), np.uint64(offset + start)
    for q in range(np.uint64(stop - start)):
        cf[d0 + q] = xf[s0 + q]
    for oh in range(rlo, rhi):
        r0 = c0 + oh * OW
        for ow in range(lo):
            cf[r0 + ow] = 0
        for ow in range(hi, OW):
            cf[r0 + ow] = 0


@cpu_kernel(size_arg=1)
def col2im(grad_x, cols, kh, kw, sh, sw, ph, pw, dh, dw):
    """grad_x[n, c, ih, iw] = sum of the cols entries im2col read from (n, c, ih, iw).

    The adjoint of ``im2col``. Loop nest: for (n, c) in prange(N*C): zero the plane;
    for i, j, oh, ow: accumulate. Shapes as in ``im2col``; flat offsets as there.
    """
    N, C, H, W = grad_x.shape
    K, B, OH, OW = cols.shape[1], cols.shape[2], cols.shape[3], cols.shape[4]
    L = OH * OW
    gf, cf = grad_x.reshape(-1), cols.reshape(-1)
    for t in prange(N * C):
        n, c = t // C, t % C
        a, b = n // B, n % B
        x0 = t * H * W
        _zero_run(gf, x0, H * W)
        for i in range(kh):
            for j in range(kw):
                c0 = ((a * K + (c * kh + i) * kw + j) * B + b) * L
                lo, hi = _valid_range(OW, W, j * dw, sw, pw)
                for oh in range(OH):
                    ih = oh * sh - ph + i * dh
                    if ih < 0 or ih >= H:
                        continue
                    s0 = x0 + ih * W - pw + j * dw
                    o0 = c0 + oh * OW
                    if sw == 1:  # unsigned offsets: see above
                        d0, q0 = np.uint64(s0 + lo), np.uint64(o0 + lo)
                        for q in range(np.uint64(hi - lo)):
                            gf[d0 + q] += cf[q0 + q]
                    else:
                        for ow in range(lo, hi):
                            gf[s0 + ow * sw] += cf[o0 + ow]


# The output layout passes sit between two GEMMs (~2.5 ms each for the CNN's second
# layer): waking the pool costs little next to a serial 800K-element pass.
@cpu_kernel(size_arg=0, parallel_min=1 << 18)
def conv_output(out, y, bias):
    """out[n, o, l] = y[o, n, l] + bias[o] (no bias when ``bias`` is empty).

    Loop nest: for (n, o) in prange(N*O): for l. Shapes: out (N, O, L); y (O, N, L);
    bias (O,) or (0,).
    """
    N, O, L = out.shape
    has_bias = bias.size > 0
    for t in prange(N * O):
        n, o = t // O, t % O
        src, dst = y[o, n], out[n, o]
        if has_bias:
            b = bias[o]
            for q in range(L):
                dst[q] = src[q] + b
        else:
            for q in range(L):
                dst[q] = src[q]


@cpu_kernel(size_arg=0, fastmath={"reassoc"}, parallel_min=1 << 18)
def conv_grad_output(grad_y, grad_bias, grad_out):
    """grad_y[o, n, l] = grad_out[n, o, l]; grad_bias[o] = sum over n, l (skipped when empty).

    Loop nest: for o in prange(O): for n: for l. Shapes: grad_y (O, N, L); grad_out
    (N, O, L); grad_bias (O,) or (0,).
    """
    O, N, L = grad_y.shape
    has_bias = grad_bias.size > 0
    for o in prange(O):
        acc = 0.0
        for n in range(N):
            src, dst = grad_out[n, o], grad_y[o, n]
            for q in range(L):
                dst[q] = src[q]
                acc += src[q]
        if has_bias:
            grad_bias[o] = acc


@njit(inline="always", cache=True, error_model="numpy")
def _columns_row(dst, w, cols, b, K):
    """dst[q] = b + sum_k w[k] * cols[k, q], one output at a time: with K a literal the
    column loop unrolls and the row loop vectorizes, reading each column once and
    writing dst once."""
    for q in range(dst.size):
        acc = b
        for k in range(K):
            acc += w[k] * cols[k, q]
        dst[q] = acc


# Few columns per image (K = C*kh*kw <= 9, groups 1: an MNIST CNN's first layer): a
# GEMM per image ran far below BLAS peak at K = 9 and left the bias to another pass.
@cpu_kernel(size_arg=0, parallel_min=1 << 16)
def conv_from_columns(out, weight, columns, bias):
    """out[n, o, l] = bias[o] + sum_k weight[o, k] * columns[n, k, l] (no bias when empty).

    Loop nest: for (n, o) in prange(N*O): for l: bias + sum over k (K = 9, unrolled);
    other K: row = bias, then for k: row += w[o, k] * columns[n, k].
    Shapes: out (N, O, L); weight (O, K); columns (N, K, L); bias (O,) or (0,).
    """
    N, O, L = out.shape
    K = weight.shape[1]
    if out.size == 0:
        return
    has_bias = bias.size > 0
    zero = cast_like(0.0, out[0, 0, 0])  # the arrays' dtype; never a product (inf * 0)
    for t in prange(N * O):
        n, o = t // O, t % O
        b = bias[o] if has_bias else zero
        dst = out[n, o]
        if K == 9:  # 3x3 on one channel: a literal count lets LLVM unroll the columns
            _columns_row(dst, weight[o], columns[n], b, 9)
        else:  # a pass per column: the row loop vectorizes (a runtime-K column loop
            for q in range(L):  # inside it would not: strided loads, scalar code)
                dst[q] = b
            for k in range(K):
                wk, src = weight[o, k], columns[n, k]
                for q in range(L):
                    dst[q] += wk * src[q]


# Images per partial sum of the weight gradient: a fixed split, so that the sums (and
# so the results) do not depend on the number of threads.
_GRAD_SLICES = 16


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _row_dot(u, v):
    """sum(u * v) accumulated in the rows' dtype, as BLAS does: float32 lanes ran the
    MNIST CNN's first weight gradient in 0.28-0.37 ms, float64 ones (``line_dot``) 0.43.
    Not inlined by Numba, so ``reassoc`` stays on this loop (LLVM still inlines it).
    u is not empty."""
    s = cast_like(0.0, u[0])
    for r in range(u.size):
        s += u[r] * v[r]
    return s


@cpu_kernel(size_arg=2, parallel_min=1 << 16)
def conv_weight_grad_from_columns(grad_weight, grad_bias, grad_out, columns):
    """grad_weight[o, k] = sum over n, l of grad_out[n, o, l] * columns[n, k, l];
    grad_bias[o] = sum over n, l of grad_out[n, o, l] (skipped when empty).

    Loop nest: for s in prange(S): for n in slice s: for o: for k: dot over l (in the
    dtype), added to float64 partials[s]; then the S partials summed in order.
    Shapes: grad_weight (O, K); grad_bias (O,) or (0,); grad_out (N, O, L);
    columns (N, K, L).
    """
    N, O, L = grad_out.shape
    K = columns.shape[1]
    has_bias = grad_bias.size > 0
    S = max(1, min(N, _GRAD_SLICES))
    partials = np.zeros((S, O, K + 1))
    for s in prange(S):
        for n in range(s * N // S, (s + 1) * N // S):
            for o in range(O):
                row = grad_out[n, o]
                for k in range(K):
                    partials[s, o, k] += _row_dot(row, columns[n, k])
                if has_bias:
                    partials[s, o, K] += line_sum(row)
    for o in range(O):
        for k in range(K + 1 if has_bias else K):
            acc = 0.0
            for s in range(S):
                acc += partials[s, o, k]
            if k < K:
                grad_weight[o, k] = acc
            else:
                grad_bias[o] = acc
