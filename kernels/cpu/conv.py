"""2-D convolution by im2col + BLAS GEMM, and max/average pooling.

Images are (N, C, H, W), C-contiguous. Threads split the N*C image planes, so each
thread reads and writes only its own planes (col2im and the pooling backward
accumulate within a plane, never across threads).
"""
from numba import njit, prange

from ._compile import cpu_kernel


@njit(inline="always", cache=True)
def _cols_geometry(cols, W, kw, stride, padding):
    """(K, L, OH, OW) of an im2col buffer for images of width W."""
    K, L = cols.shape[1], cols.shape[2]
    OW = (W + 2 * padding - kw) // stride + 1
    return K, L, (L // OW if OW > 0 else 0), OW


@njit(inline="always", cache=True)
def _valid_columns(OW, W, j, stride, padding):
    """[lo, hi): the output columns whose input column ow*stride - padding + j is in [0, W)."""
    lo = min(OW, max(0, (padding - j + stride - 1) // stride))
    return lo, max(lo, min(OW, (W - 1 + padding - j) // stride + 1))


@cpu_kernel(size_arg=0)
def im2col(cols, x, kh, kw, stride, padding):
    """cols[n, (c*kh + i)*kw + j, oh*OW + ow] = x[n, c, oh*s - p + i, ow*s - p + j] (0 outside).

    Loop nest: for (n, c) in prange(N*C): for i, j: for oh: for ow.
    Shapes: x (N, C, H, W); cols (N, C*kh*kw, OH*OW). Indexing is by flat offsets:
    building a view per 14-element run cost more than the copy itself.
    """
    N, C, H, W = x.shape
    K, L, OH, OW = _cols_geometry(cols, W, kw, stride, padding)
    xf, cf = x.reshape(-1), cols.reshape(-1)
    for t in prange(N * C):
        n, c = t // C, t % C
        x0 = t * H * W
        for i in range(kh):
            for j in range(kw):
                c0 = (n * K + (c * kh + i) * kw + j) * L
                lo, hi = _valid_columns(OW, W, j, stride, padding)
                for oh in range(OH):
                    o0 = c0 + oh * OW
                    ih = oh * stride - padding + i
                    if ih < 0 or ih >= H:
                        for ow in range(OW):
                            cf[o0 + ow] = 0
                        continue
                    s0 = x0 + ih * W - padding + j
                    for ow in range(lo):
                        cf[o0 + ow] = 0
                    if stride == 1:  # a contiguous run: a slice copy vectorizes
                        cf[o0 + lo:o0 + hi] = xf[s0 + lo:s0 + hi]
                    else:
                        for ow in range(lo, hi):
                            cf[o0 + ow] = xf[s0 + ow * stride]
                    for ow in range(hi, OW):
                        cf[o0 + ow] = 0


@cpu_kernel(size_arg=1)
def col2im(grad_x, cols, kh, kw, stride, padding):
    """grad_x[n, c, ih, iw] = sum of the cols entries im2col read from (n, c, ih, iw).

    The adjoint of ``im2col``. Loop nest: for (n, c) in prange(N*C): zero the plane;
    for i, j, oh, ow: accumulate. Shapes as in ``im2col``; flat offsets as there.
    """
    N, C, H, W = grad_x.shape
    K, L, OH, OW = _cols_geometry(cols, W, kw, stride, padding)
    gf, cf = grad_x.reshape(-1), cols.reshape(-1)
    for t in prange(N * C):
        n, c = t // C, t % C
        x0 = t * H * W
        for p in range(H * W):
            gf[x0 + p] = 0
        for i in range(kh):
            for j in range(kw):
                c0 = (n * K + (c * kh + i) * kw + j) * L
                lo, hi = _valid_columns(OW, W, j, stride, padding)
                for oh in range(OH):
                    ih = oh * stride - padding + i
                    if ih < 0 or ih >= H:
                        continue
                    s0 = x0 + ih * W - padding + j
                    o0 = c0 + oh * OW
                    if stride == 1:
                        dst, src = gf[s0 + lo:s0 + hi], cf[o0 + lo:o0 + hi]
                        for q in range(hi - lo):
                            dst[q] += src[q]
                    else:
                        for ow in range(lo, hi):
                            gf[s0 + ow * stride] += cf[o0 + ow]


@cpu_kernel(size_arg=2)
def max_pool2d(out, index, x, kh, kw, stride, padding):
    """out[n, c, oh, ow] = max of the window; index = its flat position ih*W + iw.

    Padding counts as -inf; a NaN in the window wins. Loop nest: for (n, c) in
    prange(N*C): for oh, ow: window. Shapes: x (N, C, H, W); out, index
    (N, C, OH, OW), index int64.
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for t in prange(N * C):
        n, c = t // C, t % C
        plane, o, ix = x[n, c], out[n, c], index[n, c]
        for oh in range(OH):
            for ow in range(OW):
                i_lo, j_lo = oh * stride - padding, ow * stride - padding
                i_hi, j_hi = i_lo + kh, j_lo + kw
                if padding:  # clip the window to the image; unpadded windows fit
                    i_lo, j_lo = max(0, i_lo), max(0, j_lo)
                    i_hi, j_hi = min(H, i_hi), min(W, j_hi)
                bi, bj = i_lo, j_lo
                best_v = plane[bi, bj]
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        v = plane[i, j]
                        # One comparison in the common case; NaN replaces and then sticks.
                        if not (v <= best_v) and best_v == best_v:
                            bi, bj, best_v = i, j, v
                o[oh, ow] = best_v
                ix[oh, ow] = bi * W + bj


@cpu_kernel(size_arg=0)
def max_pool2d_grad(grad_x, grad_out, index):
    """grad_x[n, c].flat[index[n, c, oh, ow]] += grad_out[n, c, oh, ow]; zero elsewhere.

    Loop nest: for (n, c) in prange(N*C): zero the plane; for oh, ow: scatter-add
    (overlapping windows accumulate within the thread's own plane).
    """
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    for t in prange(N * C):
        n, c = t // C, t % C
        plane = grad_x[n, c].reshape(-1)
        for p in range(H * W):
            plane[p] = 0
        for oh in range(OH):
            for ow in range(OW):
                plane[index[n, c, oh, ow]] += grad_out[n, c, oh, ow]


@njit(inline="always", cache=True)
def _window(o, k, stride, padding, size):
    """[lo, hi): the input positions of output position ``o``'s window inside [0, size)."""
    start = o * stride - padding
    return max(0, start), min(size, start + k)


@cpu_kernel(size_arg=1)
def avg_pool2d(out, x, kh, kw, stride, padding):
    """out[n, c, oh, ow] = mean of the window, zero padding counted (PyTorch's default).

    Loop nest: for (n, c) in prange(N*C): for oh, ow: window sum / (kh*kw).
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    inv = 1.0 / (kh * kw)
    for t in prange(N * C):
        n, c = t // C, t % C
        plane = x[n, c]
        for oh in range(OH):
            for ow in range(OW):
                i_lo, i_hi = _window(oh, kh, stride, padding, H)
                j_lo, j_hi = _window(ow, kw, stride, padding, W)
                acc = 0.0
                for ih in range(i_lo, i_hi):
                    for iw in range(j_lo, j_hi):
                        acc += plane[ih, iw]
                out[n, c, oh, ow] = acc * inv


@cpu_kernel(size_arg=0)
def avg_pool2d_grad(grad_x, grad_out, kh, kw, stride, padding):
    """The adjoint of ``avg_pool2d``. for (n, c) in prange(N*C): zero; spread each window."""
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    inv = 1.0 / (kh * kw)
    for t in prange(N * C):
        n, c = t // C, t % C
        plane = grad_x[n, c]
        for ih in range(H):
            for iw in range(W):
                plane[ih, iw] = 0
        for oh in range(OH):
            for ow in range(OW):
                g = grad_out[n, c, oh, ow] * inv
                i_lo, i_hi = _window(oh, kh, stride, padding, H)
                j_lo, j_hi = _window(ow, kw, stride, padding, W)
                for ih in range(i_lo, i_hi):
                    for iw in range(j_lo, j_hi):
                        plane[ih, iw] += g
