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


@njit(inline="always", cache=True, error_model="numpy")
def _interior(O, size, k, stride, padding, dilation):
    """[lo, hi): the outputs whose whole window o*stride - padding + t*dilation, t < k,
    lies in [0, size): they need no clipping."""
    lo = min(O, (padding + stride - 1) // stride)
    last = size - 1 + padding - (k - 1) * dilation
    hi = min(O, last // stride + 1) if last >= 0 else 0
    return lo, max(lo, hi)


@njit(inline="always", cache=True, error_model="numpy")
def _max_taps(xf, x0, W, r0, ni, dh, c0, nj, dw):
    """(max, argmax) over the ni x nj taps at rows r0 + i*dh, columns c0 + j*dw of the
    plane at flat offset x0; the argmax as an offset into the plane. Scan order is
    row-major; the first maximum wins and a NaN wins, the window's last NaN if several
    (PyTorch's rule).
    Selects, not branches: the branches were as random as the data (5 ms for the
    MNIST CNN's first pooling on real images)."""
    best_p = r0 * W + c0
    best_v = xf[x0 + best_p]
    for i in range(ni):
        for j in range(nj):
            p = (r0 + i * dh) * W + c0 + j * dw
            v = xf[x0 + p]
            take = (v > best_v) | (v != v)
            best_v = v if take else best_v
            best_p = p if take else best_p
    return best_v, best_p


@njit(inline="always", cache=True, error_model="numpy")
def _max_clipped(of, jf, o, xf, x0, W, r0, ni, dh, j0, kw, dw):
    """of[o], jf[o] = max and argmax of an edge window, its columns clipped to the
    plane; -inf and -1 when no tap lies inside."""
    j_lo, j_hi = _taps(j0, kw, dw, W)
    if ni <= 0 or j_lo >= j_hi:  # every tap in the padding
        of[o], jf[o] = -np.inf, -1
    else:
        of[o], jf[o] = _max_taps(xf, x0, W, r0, ni, dh, j0 + j_lo * dw, j_hi - j_lo, dw)


# A few ns per element: the pool pays off far below the default threshold.
@cpu_kernel(size_arg=2, parallel_min=1 << 16)
def max_pool2d(out, index, x, kh, kw, sh, sw, ph, pw, dh, dw):
    """out[n, c, oh, ow] = max of the window; index = its flat position ih*W + iw.

    Window taps are x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]; padding counts as
    -inf, the first maximum in row-major tap order wins, a NaN wins (the last one, as
    PyTorch), and a window with no tap inside gives -inf and index -1.
    Loop nest: for (n, c) in prange(N*C): for oh: for ow: window (unclipped on the
    interior columns, clipped at the edges). Flat offsets, as in conv.py.
    Shapes: x (N, C, H, W); out, index (N, C, OH, OW), index int64.
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    xf, of, jf = x.reshape(-1), out.reshape(-1), index.reshape(-1)
    a, b = _interior(OW, W, kw, sw, pw, dw)
    for t in prange(N * C):
        x0 = np.uint64(t * H * W)
        for oh in range(OH):
            o0 = (t * OH + oh) * OW
            i0 = oh * sh - ph
            i_lo, i_hi = _taps(i0, kh, dh, H)
            r0, ni = i0 + i_lo * dh, i_hi - i_lo
            for ow in range(OW if ni <= 0 else a):
                _max_clipped(of, jf, o0 + ow, xf, x0, W, r0, ni, dh, ow * sw - pw, kw, dw)
            if ni <= 0:
                continue
            for ow in range(b, OW):
                _max_clipped(of, jf, o0 + ow, xf, x0, W, r0, ni, dh, ow * sw - pw, kw, dw)
            # The interior: literal tap counts for the common windows let LLVM unroll
            # the tap loops (2x2 on the CNN's first pooling, one thread: 4.4 ms with
            # runtime counts, 1.9 ms unrolled).
            if ni == 2 and kw == 2:
                for ow in range(a, b):
                    of[o0 + ow], jf[o0 + ow] = _max_taps(xf, x0, W, r0, 2, dh, ow * sw - pw,
                                                         2, dw)
            elif ni == 3 and kw == 3:
                for ow in range(a, b):
                    of[o0 + ow], jf[o0 + ow] = _max_taps(xf, x0, W, r0, 3, dh, ow * sw - pw,
                                                         3, dw)
            else:
                for ow in range(a, b):
                    of[o0 + ow], jf[o0 + ow] = _max_taps(xf, x0, W, r0, ni, dh, ow * sw - pw,
                                                         kw, dw)


@cpu_kernel(size_arg=0, parallel_min=1 << 18)
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


@njit(inline="always", cache=True, error_model="numpy")
def _avg_window(o, k, stride, padding, size):
    """(lo, hi, extent): the window of output ``o`` clipped to [0, size), and its
    extent clipped to the padded input only (PyTorch's count_include_pad divisor)."""
    start = o * stride - padding
    end = min(start + k, size + padding)
    return max(0, start), min(size, end), end - start


@njit(inline="always", cache=True, error_model="numpy")
def _divisor(h_lo, h_hi, h_ext, w_lo, w_hi, w_ext, count_include_pad, divisor):
    if divisor > 0:
        return divisor
    if count_include_pad:
        return h_ext * w_ext
    return (h_hi - h_lo) * (w_hi - w_lo)


@njit(inline="always", cache=True, error_model="numpy")
def _window_sum(plane, i_lo, i_hi, j_lo, j_hi):
    """sum of plane[i_lo:i_hi, j_lo:j_hi] in float64."""
    acc = 0.0
    for ih in range(i_lo, i_hi):
        for iw in range(j_lo, j_hi):
            acc += plane[ih, iw]
    return acc


@njit(inline="always", cache=True, error_model="numpy")
def _window_add(plane, i_lo, i_hi, j_lo, j_hi, g):
    """plane[i_lo:i_hi, j_lo:j_hi] += g (a backward's spread of one output)."""
    for ih in range(i_lo, i_hi):
        for iw in range(j_lo, j_hi):
            plane[ih, iw] += g


@njit(inline="always", cache=True, error_model="numpy")
def _zero_plane(plane):
    for ih in range(plane.shape[0]):
        for iw in range(plane.shape[1]):
            plane[ih, iw] = 0


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
                acc = _window_sum(plane, i_lo, i_hi, j_lo, j_hi)
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
        _zero_plane(plane)
        for oh in range(OH):
            i_lo, i_hi, i_ext = _avg_window(oh, kh, sh, ph, H)
            for ow in range(OW):
                j_lo, j_hi, j_ext = _avg_window(ow, kw, sw, pw, W)
                d = _divisor(i_lo, i_hi, i_ext, j_lo, j_hi, j_ext, count_include_pad, divisor)
                _window_add(plane, i_lo, i_hi, j_lo, j_hi, grad_out[n, c, oh, ow] / d)


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
                out[n, c, oh, ow] = (_window_sum(plane, i_lo, i_hi, j_lo, j_hi)
                                     / ((i_hi - i_lo) * (j_hi - j_lo)))


@cpu_kernel(size_arg=0)
def adaptive_avg_pool2d_grad(grad_x, grad_out):
    """The adjoint of ``adaptive_avg_pool2d``. for (n, c) in prange(N*C): zero; spread."""
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    for t in prange(N * C):
        n, c = t // C, t % C
        plane = grad_x[n, c]
        _zero_plane(plane)
        for oh in range(OH):
            i_lo, i_hi = _adaptive(oh, OH, H)
            for ow in range(OW):
                j_lo, j_hi = _adaptive(ow, OW, W)
                _window_add(plane, i_lo, i_hi, j_lo, j_hi,
                            grad_out[n, c, oh, ow] / ((i_hi - i_lo) * (j_hi - j_lo)))
