"""Max, average and adaptive average pooling of (N, C, H, W) images (CUDA).

Forward kernels take a thread per output element. The average-pooling backward
kernels take a thread per *input* element and gather the windows that cover it, so
the sums are deterministic; only ``max_pool2d_grad`` scatters, with atomic adds.
"""
from numba import cuda

from ._device import unravel4
# scalar.py's window helpers, as device functions
from ._device import adaptive_window as _adaptive
from ._device import window_taps as _taps
from ._launch import DEFAULT_THREADS, kernel, launch


@kernel
def _max_pool2d(out, index, x, kh, kw, sh, sw, ph, pw, dh, dw):
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < out.size:
        n, c, oh, ow = unravel4(e, C, OH, OW)
        i0, j0 = oh * sh - ph, ow * sw - pw
        i_lo, i_hi = _taps(i0, kh, dh, H)
        j_lo, j_hi = _taps(j0, kw, dw, W)
        if i_lo < i_hi and j_lo < j_hi:
            best_p = (i0 + i_lo * dh) * W + j0 + j_lo * dw
            best = x[n, c, i0 + i_lo * dh, j0 + j_lo * dw]
            for i in range(i_lo, i_hi):
                for j in range(j_lo, j_hi):
                    v = x[n, c, i0 + i * dh, j0 + j * dw]
                    if v > best or v != v:  # a NaN wins; the last one, as PyTorch
                        best_p, best = (i0 + i * dh) * W + j0 + j * dw, v
            out[n, c, oh, ow] = best
            index[n, c, oh, ow] = best_p
        else:  # every tap in the padding
            out[n, c, oh, ow] = -float("inf")
            index[n, c, oh, ow] = -1
        e += step


def max_pool2d(out, index, x, kh, kw, sh, sw, ph, pw, dh, dw, threads=DEFAULT_THREADS):
    """out[n, c, oh, ow] = max of x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] over the
    window; index = its flat position ih*W + iw (-1 and -inf for a window wholly in the
    padding). A NaN in the window wins. A thread per output element."""
    launch(_max_pool2d, out.size, threads, out, index, x, kh, kw, sh, sw, ph, pw, dh, dw)


@kernel
def _zero(out):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < out.size:
        out[i] = 0
        i += step


@kernel
def _max_pool2d_scatter(grad_x, grad_out, index):
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < grad_out.size:
        n, c, oh, ow = unravel4(e, C, OH, OW)
        p = index[n, c, oh, ow]
        if p >= 0:
            cuda.atomic.add(grad_x, (n, c, p // W, p % W), grad_out[n, c, oh, ow])
        e += step


def max_pool2d_grad(grad_x, grad_out, index, threads=DEFAULT_THREADS):
    """grad_x[n, c].flat[index[n, c, oh, ow]] += grad_out[n, c, oh, ow]; zero elsewhere.
    Overlapping windows may pick one input, so the scatter adds atomically."""
    launch(_zero, grad_x.size, threads, grad_x.reshape(grad_x.size))
    launch(_max_pool2d_scatter, grad_out.size, threads, grad_x, grad_out, index)


@cuda.jit(device=True, inline=True)
def _divisor(o_h, o_w, kh, kw, sh, sw, ph, pw, H, W, count_include_pad, divisor):
    """PyTorch's avg_pool2d divisor of output (o_h, o_w); 0 for a window wholly outside."""
    i0, j0 = o_h * sh - ph, o_w * sw - pw
    i1, j1 = min(i0 + kh, H + ph), min(j0 + kw, W + pw)
    real = (min(i1, H) - max(i0, 0)) * (min(j1, W) - max(j0, 0))
    if min(i1, H) <= max(i0, 0) or min(j1, W) <= max(j0, 0):
        return 0
    if divisor > 0:
        return divisor
    if count_include_pad:
        return (i1 - i0) * (j1 - j0)
    return real


@cuda.jit(device=True, inline=True)
def _window_sum(x, n, c, i_lo, i_hi, j_lo, j_hi):
    """sum of x[n, c, i_lo:i_hi, j_lo:j_hi] in float64."""
    acc = 0.0
    for i in range(i_lo, i_hi):
        for j in range(j_lo, j_hi):
            acc += x[n, c, i, j]
    return acc


@kernel
def _avg_pool2d(out, x, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < out.size:
        n, c, oh, ow = unravel4(e, C, OH, OW)
        d = _divisor(oh, ow, kh, kw, sh, sw, ph, pw, H, W, count_include_pad, divisor)
        acc = _window_sum(x, n, c, max(0, oh * sh - ph), min(H, oh * sh - ph + kh),
                          max(0, ow * sw - pw), min(W, ow * sw - pw + kw))
        out[n, c, oh, ow] = acc / d if d > 0 else 0.0
        e += step


def avg_pool2d(out, x, kh, kw, sh, sw, ph, pw, count_include_pad, divisor,
               threads=DEFAULT_THREADS):
    """out[n, c, oh, ow] = window sum / divisor, as PyTorch's avg_pool2d (divisor: the
    override when > 0, else the window within the padded input or its real inputs).
    A thread per output element."""
    launch(_avg_pool2d, out.size, threads, out, x, kh, kw, sh, sw, ph, pw,
           count_include_pad, divisor)


@cuda.jit(device=True, inline=True)
def _first_window(pos, k, stride, padding):
    """The first output position whose window of size ``k`` covers input ``pos``."""
    lo = pos + padding - k + 1
    return 0 if lo <= 0 else (lo + stride - 1) // stride


@kernel
def _avg_pool2d_grad(grad_x, grad_out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < grad_x.size:
        n, c, ih, iw = unravel4(e, C, H, W)
        acc = 0.0
        oh = _first_window(ih, kh, sh, ph)
        while oh < OH and oh * sh - ph <= ih:
            ow = _first_window(iw, kw, sw, pw)
            while ow < OW and ow * sw - pw <= iw:
                d = _divisor(oh, ow, kh, kw, sh, sw, ph, pw, H, W, count_include_pad, divisor)
                acc += grad_out[n, c, oh, ow] / d
                ow += 1
            oh += 1
        grad_x[n, c, ih, iw] = acc
        e += step


def avg_pool2d_grad(grad_x, grad_out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor,
                    threads=DEFAULT_THREADS):
    """The adjoint of ``avg_pool2d``: a thread per input element sums its windows."""
    launch(_avg_pool2d_grad, grad_x.size, threads, grad_x, grad_out, kh, kw, sh, sw, ph, pw,
           count_include_pad, divisor)


@kernel
def _adaptive_avg_pool2d(out, x):
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < out.size:
        n, c, oh, ow = unravel4(e, C, OH, OW)
        i_lo, i_hi = _adaptive(oh, OH, H)
        j_lo, j_hi = _adaptive(ow, OW, W)
        out[n, c, oh, ow] = (_window_sum(x, n, c, i_lo, i_hi, j_lo, j_hi)
                             / ((i_hi - i_lo) * (j_hi - j_lo)))
        e += step


def adaptive_avg_pool2d(out, x, threads=DEFAULT_THREADS):
    """out[n, c, oh, ow] = mean of x over the adaptive window rows
    [floor(oh*H/OH), ceil((oh+1)*H/OH)) and likewise columns. A thread per output."""
    launch(_adaptive_avg_pool2d, out.size, threads, out, x)


@kernel
def _adaptive_avg_pool2d_grad(grad_x, grad_out):
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < grad_x.size:
        n, c, ih, iw = unravel4(e, C, H, W)
        acc = 0.0
        # Window starts and ends grow with the output index, so the outputs covering ih
        # are one run: step back from floor(ih*OH/H) while the previous one still ends
        # after ih, then forward while windows start at or before ih.
        oh = (ih * OH) // H
        while oh > 0 and _adaptive(oh - 1, OH, H)[1] > ih:
            oh -= 1
        while oh < OH and _adaptive(oh, OH, H)[0] <= ih:
            i_lo, i_hi = _adaptive(oh, OH, H)
            ow = (iw * OW) // W
            while ow > 0 and _adaptive(ow - 1, OW, W)[1] > iw:
                ow -= 1
            while ow < OW and _adaptive(ow, OW, W)[0] <= iw:
                j_lo, j_hi = _adaptive(ow, OW, W)
                if i_hi > ih and j_hi > iw:
                    acc += grad_out[n, c, oh, ow] / ((i_hi - i_lo) * (j_hi - j_lo))
                ow += 1
            oh += 1
        grad_x[n, c, ih, iw] = acc
        e += step


def adaptive_avg_pool2d_grad(grad_x, grad_out, threads=DEFAULT_THREADS):
    """The adjoint of ``adaptive_avg_pool2d``: a thread per input element gathers the
    windows that cover it."""
    launch(_adaptive_avg_pool2d_grad, grad_x.size, threads, grad_x, grad_out)
