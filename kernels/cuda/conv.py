"""im2col/col2im for convolution and max/average pooling (CUDA).

Images are (N, C, H, W), C-contiguous. Forward kernels take a thread per output
element. The backward kernels take a thread per *input* element and gather the
entries that read it, so no two threads write one element and the sums are
deterministic; only ``max_pool2d_grad`` scatters, with atomic adds.
"""
from numba import cuda

from ._device import unravel4
from ._launch import DEFAULT_THREADS, device, kernel, launch


@device
def _first_window(pos, k, stride, padding):
    """The first output position whose window of size ``k`` covers input ``pos``."""
    lo = pos + padding - k + 1
    return 0 if lo <= 0 else (lo + stride - 1) // stride


@kernel
def _im2col(cols, x, kh, kw, stride, padding, OW):
    N, C, H, W = x.shape
    K, L = cols.shape[1], cols.shape[2]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < cols.size:
        n, rest = e // (K * L), e % (K * L)
        kk, col = rest // L, rest % L
        c, ij = kk // (kh * kw), kk % (kh * kw)
        ih = (col // OW) * stride - padding + ij // kw
        iw = (col % OW) * stride - padding + ij % kw
        if 0 <= ih < H and 0 <= iw < W:
            cols[n, kk, col] = x[n, c, ih, iw]
        else:
            cols[n, kk, col] = 0
        e += step


def _out_width(W, kw, stride, padding):
    return (W + 2 * padding - kw) // stride + 1


def im2col(cols, x, kh, kw, stride, padding, threads=DEFAULT_THREADS):
    """cols[n, (c*kh + i)*kw + j, oh*OW + ow] = x[n, c, oh*s - p + i, ow*s - p + j]
    (0 outside). Shapes: x (N, C, H, W); cols (N, C*kh*kw, OH*OW)."""
    launch(_im2col, cols.size, threads, cols, x, kh, kw, stride, padding,
           _out_width(x.shape[3], kw, stride, padding))


@kernel
def _col2im(grad_x, cols, kh, kw, stride, padding, OW):
    N, C, H, W = grad_x.shape
    L = cols.shape[2]
    OH = L // OW
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < grad_x.size:
        n, c, ih, iw = unravel4(e, C, H, W)
        acc = 0.0
        oh = _first_window(ih, kh, stride, padding)
        while oh < OH and oh * stride - padding <= ih:
            i = ih - (oh * stride - padding)
            ow = _first_window(iw, kw, stride, padding)
            while ow < OW and ow * stride - padding <= iw:
                j = iw - (ow * stride - padding)
                acc += cols[n, (c * kh + i) * kw + j, oh * OW + ow]
                ow += 1
            oh += 1
        grad_x[n, c, ih, iw] = acc
        e += step


def col2im(grad_x, cols, kh, kw, stride, padding, threads=DEFAULT_THREADS):
    """grad_x[n, c, ih, iw] = sum of the cols entries im2col read from (n, c, ih, iw):
    the adjoint of ``im2col``. A thread per input element gathers them."""
    launch(_col2im, grad_x.size, threads, grad_x, cols, kh, kw, stride, padding,
           _out_width(grad_x.shape[3], kw, stride, padding))


@kernel
def _max_pool2d(out, index, x, kh, kw, stride, padding):
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < out.size:
        n, c, oh, ow = unravel4(e, C, OH, OW)
        i_lo, j_lo = max(0, oh * stride - padding), max(0, ow * stride - padding)
        i_hi = min(H, oh * stride - padding + kh)
        j_hi = min(W, ow * stride - padding + kw)
        bi, bj = i_lo, j_lo
        best = x[n, c, bi, bj]
        for i in range(i_lo, i_hi):
            for j in range(j_lo, j_hi):
                v = x[n, c, i, j]
                if not (v <= best) and best == best:  # NaN replaces, then sticks
                    bi, bj, best = i, j, v
        out[n, c, oh, ow] = best
        index[n, c, oh, ow] = bi * W + bj
        e += step


def max_pool2d(out, index, x, kh, kw, stride, padding, threads=DEFAULT_THREADS):
    """out[n, c, oh, ow] = max of the window; index = its flat position ih*W + iw.
    Padding counts as -inf; a NaN in the window wins. A thread per output element."""
    launch(_max_pool2d, out.size, threads, out, index, x, kh, kw, stride, padding)


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
        plane = e // (OH * OW)  # n * C + c
        rest = e % (OH * OW)
        oh, ow = rest // OW, rest % OW
        n, c = plane // C, plane % C
        p = index[n, c, oh, ow]
        cuda.atomic.add(grad_x, (n, c, p // W, p % W), grad_out[n, c, oh, ow])
        e += step


def max_pool2d_grad(grad_x, grad_out, index, threads=DEFAULT_THREADS):
    """grad_x[n, c].flat[index[n, c, oh, ow]] += grad_out[n, c, oh, ow]; zero elsewhere.
    Overlapping windows may pick one input, so the scatter adds atomically."""
    launch(_zero, grad_x.size, threads, grad_x.reshape(grad_x.size))
    launch(_max_pool2d_scatter, grad_out.size, threads, grad_x, grad_out, index)


@kernel
def _avg_pool2d(out, x, kh, kw, stride, padding):
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    inv = 1.0 / (kh * kw)
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < out.size:
        n, c, oh, ow = unravel4(e, C, OH, OW)
        acc = 0.0
        for i in range(max(0, oh * stride - padding), min(H, oh * stride - padding + kh)):
            for j in range(max(0, ow * stride - padding), min(W, ow * stride - padding + kw)):
                acc += x[n, c, i, j]
        out[n, c, oh, ow] = acc * inv
        e += step


def avg_pool2d(out, x, kh, kw, stride, padding, threads=DEFAULT_THREADS):
    """out[n, c, oh, ow] = mean of the window, zero padding counted (PyTorch's default)."""
    launch(_avg_pool2d, out.size, threads, out, x, kh, kw, stride, padding)


@kernel
def _avg_pool2d_grad(grad_x, grad_out, kh, kw, stride, padding):
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    inv = 1.0 / (kh * kw)
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < grad_x.size:
        n, c, ih, iw = unravel4(e, C, H, W)
        acc = 0.0
        oh = _first_window(ih, kh, stride, padding)
        while oh < OH and oh * stride - padding <= ih:
            ow = _first_window(iw, kw, stride, padding)
            while ow < OW and ow * stride - padding <= iw:
                acc += grad_out[n, c, oh, ow]
                ow += 1
            oh += 1
        grad_x[n, c, ih, iw] = acc * inv
        e += step


def avg_pool2d_grad(grad_x, grad_out, kh, kw, stride, padding, threads=DEFAULT_THREADS):
    """The adjoint of ``avg_pool2d``: a thread per input element sums its windows."""
    launch(_avg_pool2d_grad, grad_x.size, threads, grad_x, grad_out, kh, kw, stride, padding)
