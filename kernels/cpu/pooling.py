"""Max, average and adaptive average pooling of (N, C, H, W) images.

Threads split the N*C image planes, so each reads and writes only its own planes
(the backward kernels accumulate within a plane, never across threads). Output
sizes come from the output arrays: ceil mode only changes them.
"""
import numpy as np
from numba import njit, prange

from ..scalar import adaptive_window as _adaptive
from ..scalar import window_taps as _taps
from ._compile import cpu_kernel


@cpu_kernel(size_arg=2)
def max_pool2d(out, index, x, kh, kw, sh, sw, ph, pw, dh, dw):
    """out[n, c, oh, ow] = max of the window; index = its flat position ih*W + iw.

    Window taps are x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]; padding counts as
    -inf, a NaN in the window wins, and a window with no tap inside gives -inf and
    index -1. Loop nest: for (n, c) in prange(N*C): for oh, ow: window.
    Shapes: x (N, C, H, W); out, index (N, C, OH, OW), index int64.
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for t in prange(N * C):
        n, c = t // C, t % C
        plane, o, ix = x[n, c], out[n, c], index[n, c]
        for oh in range(OH):
            i0 = oh * sh - ph
            i_lo, i_hi = _taps(i0, kh, dh, H)
            for ow in range(OW):
                j0 = ow * sw - pw
                j_lo, j_hi = _taps(j0, kw, dw, W)
                if i_lo >= i_hi or j_lo >= j_hi:  # every tap in the padding
                    o[oh, ow], ix[oh, ow] = -np.inf, -1
                    continue
                bi, bj = i0 + i_lo * dh, j0 + j_lo * dw
                best_v = plane[bi, bj]
                for i in range(i_lo, i_hi):
                    row = plane[i0 + i * dh]
                    for j in range(j_lo, j_hi):
                        v = row[j0 + j * dw]
                        # One comparison in the common case; NaN replaces and then sticks.
                        if not (v <= best_v) and best_v == best_v:
                            bi, bj, best_v = i0 + i * dh, j0 + j * dw, v
                o[oh, ow], ix[oh, ow] = best_v, bi * W + bj


@cpu_kernel(size_arg=0)
def max_pool2d_grad(grad_x, grad_out, index):
    """grad_x[n, c].flat[index[n, c, oh, ow]] += grad_out[n, c, oh, ow]; zero elsewhere.

    Index -1 (a window wholly in the padding) takes nothing. Loop nest: for (n, c) in
    prange(N*C): zero the plane; for oh, ow: scatter-add (overlapping windows
    accumulate within the thread's own plane).
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
                p = index[n, c, oh, ow]
                if p >= 0:
                    plane[p] += grad_out[n, c, oh, ow]


@njit(inline="always", cache=True)
def _avg_window(o, k, stride, padding, size):
    """(lo, hi, extent): the window of output ``o`` clipped to [0, size), and its
    extent clipped to the padded input only (PyTorch's count_include_pad divisor)."""
    start = o * stride - padding
    end = min(start + k, size + padding)
    return max(0, start), min(size, end), end - start


@njit(inline="always", cache=True)
def _divisor(h_lo, h_hi, h_ext, w_lo, w_hi, w_ext, count_include_pad, divisor):
    if divisor > 0:
        return divisor
    if count_include_pad:
        return h_ext * w_ext
    return (h_hi - h_lo) * (w_hi - w_lo)


@cpu_kernel(size_arg=1)
def avg_pool2d(out, x, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    """out[n, c, oh, ow] = window sum / divisor, as PyTorch's avg_pool2d.

    The divisor is ``divisor`` when > 0, else the window's size within the padded
    input (count_include_pad) or its count of real inputs; an empty window gives 0.
    Loop nest: for (n, c) in prange(N*C): for oh, ow: window sum.
    Shapes: x (N, C, H, W); out (N, C, OH, OW).
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for t in prange(N * C):
        n, c = t // C, t % C
        plane = x[n, c]
        for oh in range(OH):
            i_lo, i_hi, i_ext = _avg_window(oh, kh, sh, ph, H)
            for ow in range(OW):
                j_lo, j_hi, j_ext = _avg_window(ow, kw, sw, pw, W)
                acc = 0.0
                for ih in range(i_lo, i_hi):
                    for iw in range(j_lo, j_hi):
                        acc += plane[ih, iw]
                d = _divisor(i_lo, i_hi, i_ext, j_lo, j_hi, j_ext, count_include_pad, divisor)
                out[n, c, oh, ow] = acc / d if i_lo < i_hi and j_lo < j_hi else 0.0


@cpu_kernel(size_arg=0)
def avg_pool2d_grad(grad_x, grad_out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    """The adjoint of ``avg_pool2d``. for (n, c) in prange(N*C): zero; spread each window."""
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    for t in prange(N * C):
        n, c = t // C, t % C
        plane = grad_x[n, c]
        for ih in range(H):
            for iw in range(W):
                plane[ih, iw] = 0
        for oh in range(OH):
            i_lo, i_hi, i_ext = _avg_window(oh, kh, sh, ph, H)
            for ow in range(OW):
                j_lo, j_hi, j_ext = _avg_window(ow, kw, sw, pw, W)
                d = _divisor(i_lo, i_hi, i_ext, j_lo, j_hi, j_ext, count_include_pad, divisor)
                g = grad_out[n, c, oh, ow] / d
                for ih in range(i_lo, i_hi):
                    for iw in range(j_lo, j_hi):
                        plane[ih, iw] += g


@cpu_kernel(size_arg=1)
def adaptive_avg_pool2d(out, x):
    """out[n, c, oh, ow] = mean of x[n, c, adaptive window rows, adaptive window cols].

    Loop nest: for (n, c) in prange(N*C): for oh, ow: window mean.
    Shapes: x (N, C, H, W); out (N, C, OH, OW).
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for t in prange(N * C):
        n, c = t // C, t % C
        plane = x[n, c]
        for oh in range(OH):
            i_lo, i_hi = _adaptive(oh, OH, H)
            for ow in range(OW):
                j_lo, j_hi = _adaptive(ow, OW, W)
                acc = 0.0
                for ih in range(i_lo, i_hi):
                    for iw in range(j_lo, j_hi):
                        acc += plane[ih, iw]
                out[n, c, oh, ow] = acc / ((i_hi - i_lo) * (j_hi - j_lo))


@cpu_kernel(size_arg=0)
def adaptive_avg_pool2d_grad(grad_x, grad_out):
    """The adjoint of ``adaptive_avg_pool2d``. for (n, c) in prange(N*C): zero; spread."""
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    for t in prange(N * C):
        n, c = t // C, t % C
        plane = grad_x[n, c]
        for ih in range(H):
            for iw in range(W):
                plane[ih, iw] = 0
        for oh in range(OH):
            i_lo, i_hi = _adaptive(oh, OH, H)
            for ow in range(OW):
                j_lo, j_hi = _adaptive(ow, OW, W)
                g = grad_out[n, c, oh, ow] / ((i_hi - i_lo) * (j_hi - j_lo))
                for ih in range(i_lo, i_hi):
                    for iw in range(j_lo, j_hi):
                        plane[ih, iw] += g
