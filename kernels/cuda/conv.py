"""im2col/col2im and the output layout kernels of convolution (CUDA).

The column buffer is (A, C*kh*kw, B, OH, OW) with image n = a*B + b, as on the CPU.
Forward kernels take a thread per output element. ``col2im`` takes a thread per
*input* element and gathers the entries that read it, so no two threads write one
element and the sums are deterministic.
"""
from numba import cuda, float64

from ._device import block_sum, unravel4
from ._launch import (DEFAULT_THREADS, MAX_BLOCKS, MAX_THREADS, kernel, launch, run,
                      tree_threads)


@kernel
def _im2col(cols, x, kh, kw, sh, sw, ph, pw, dh, dw):
    N, C, H, W = x.shape
    K, B, OH, OW = cols.shape[1], cols.shape[2], cols.shape[3], cols.shape[4]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < cols.size:
        a, kk, b, r = e // (K * B * OH * OW), (e // (B * OH * OW)) % K, \
            (e // (OH * OW)) % B, e % (OH * OW)
        oh, ow = r // OW, r % OW
        c, ij = kk // (kh * kw), kk % (kh * kw)
        ih = oh * sh - ph + (ij // kw) * dh
        iw = ow * sw - pw + (ij % kw) * dw
        if 0 <= ih < H and 0 <= iw < W:
            cols[a, kk, b, oh, ow] = x[a * B + b, c, ih, iw]
        else:
            cols[a, kk, b, oh, ow] = 0
        e += step


def im2col(cols, x, kh, kw, sh, sw, ph, pw, dh, dw, threads=DEFAULT_THREADS):
    """cols[a, (c*kh + i)*kw + j, b, oh, ow] = x[a*B + b, c, oh*sh - ph + i*dh,
    ow*sw - pw + j*dw] (0 outside). Shapes: x (N, C, H, W); cols (A, C*kh*kw, B, OH, OW),
    A*B = N. A thread per entry."""
    launch(_im2col, cols.size, threads, cols, x, kh, kw, sh, sw, ph, pw, dh, dw)


@cuda.jit(device=True, inline=True)
def _tap_of(pos, o, stride, padding, dilation, k):
    """The tap index t < k with o*stride - padding + t*dilation == pos, or -1."""
    d = pos - (o * stride - padding)
    if d < 0 or d % dilation != 0 or d // dilation >= k:
        return -1
    return d // dilation


@cuda.jit(device=True, inline=True)
def _first_output(pos, k, stride, padding, dilation):
    """The first output whose window (extent (k-1)*dilation + 1) can cover input ``pos``."""
    lo = pos + padding - (k - 1) * dilation
    return 0 if lo <= 0 else (lo + stride - 1) // stride


@kernel
def _col2im(grad_x, cols, kh, kw, sh, sw, ph, pw, dh, dw):
    N, C, H, W = grad_x.shape
    B, OH, OW = cols.shape[2], cols.shape[3], cols.shape[4]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < grad_x.size:
        n, c, ih, iw = unravel4(e, C, H, W)
        a, b = n // B, n % B
        acc = 0.0
        oh = _first_output(ih, kh, sh, ph, dh)
        while oh < OH and oh * sh - ph <= ih:
            i = _tap_of(ih, oh, sh, ph, dh, kh)
            ow = _first_output(iw, kw, sw, pw, dw)
            while i >= 0 and ow < OW and ow * sw - pw <= iw:
                j = _tap_of(iw, ow, sw, pw, dw, kw)
                if j >= 0:
                    acc += cols[a, (c * kh + i) * kw + j, b, oh, ow]
                ow += 1
            oh += 1
        grad_x[n, c, ih, iw] = acc
        e += step


def col2im(grad_x, cols, kh, kw, sh, sw, ph, pw, dh, dw, threads=DEFAULT_THREADS):
    """grad_x[n, c, ih, iw] = sum of the cols entries im2col read from (n, c, ih, iw):
    the adjoint of ``im2col``. A thread per input element gathers them."""
    launch(_col2im, grad_x.size, threads, grad_x, cols, kh, kw, sh, sw, ph, pw, dh, dw)


@kernel
def _conv_output(out, y, bias):
    N, O, L = out.shape
    has_bias = bias.size > 0
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < out.size:
        n, o, q = e // (O * L), (e // L) % O, e % L
        if has_bias:
            out[n, o, q] = y[o, n, q] + bias[o]
        else:
            out[n, o, q] = y[o, n, q]
        e += step


def conv_output(out, y, bias, threads=DEFAULT_THREADS):
    """out[n, o, l] = y[o, n, l] + bias[o] (no bias when ``bias`` is empty).
    Shapes: out (N, O, L); y (O, N, L); bias (O,) or (0,). A thread per element."""
    launch(_conv_output, out.size, threads, out, y, bias)


@kernel
def _transpose_nol(grad_y, grad_out):
    O, N, L = grad_y.shape
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < grad_y.size:
        o, n, q = e // (N * L), (e // L) % N, e % L
        grad_y[o, n, q] = grad_out[n, o, q]
        e += step


@kernel
def _bias_grad(grad_bias, grad_out):
    shared = cuda.shared.array(MAX_THREADS, float64)
    N, O, L = grad_out.shape
    o = cuda.blockIdx.x
    while o < O:  # grid-stride over blocks; uniform per block
        acc = 0.0
        e = cuda.threadIdx.x
        while e < N * L:
            acc += grad_out[e // L, o, e % L]
            e += cuda.blockDim.x
        total = block_sum(shared, acc)
        if cuda.threadIdx.x == 0:
            grad_bias[o] = total
        o += cuda.gridDim.x


def conv_grad_output(grad_y, grad_bias, grad_out, threads=DEFAULT_THREADS):
    """grad_y[o, n, l] = grad_out[n, o, l]; grad_bias[o] = sum over n, l (skipped when
    empty). Shapes: grad_y (O, N, L); grad_out (N, O, L); grad_bias (O,) or (0,).
    A thread per grad_y element; a block per channel sums the bias gradient."""
    launch(_transpose_nol, grad_y.size, threads, grad_y, grad_out)
    if grad_bias.size > 0:  # an empty batch too: its bias gradient is 0
        bias_grad(grad_bias, grad_out, threads)


def bias_grad(grad_bias, grad_out, threads):
    """grad_bias[o] = sum over n, l of grad_out[n, o, l] (0 for an empty batch); a block
    per channel. Shapes: grad_out (N, O, L); grad_bias (O,), not empty."""
    if not 0 < threads <= MAX_THREADS:
        raise ValueError(f"threads per block must be in [1, {MAX_THREADS}], got {threads}")
    run(_bias_grad, min(grad_bias.size, MAX_BLOCKS), tree_threads(threads),
        (grad_bias, grad_out))


@kernel
def _conv_from_columns(out, weight, columns, bias):
    N, O, L = out.shape
    K = weight.shape[1]
    has_bias = bias.size > 0
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < out.size:
        n, o, q = e // (O * L), (e // L) % O, e % L
        acc = 0.0  # float64: the sum of K products, rounded once into out
        if has_bias:
            acc += bias[o]
        for k in range(K):
            acc += weight[o, k] * columns[n, k, q]
        out[n, o, q] = acc
        e += step


def conv_from_columns(out, weight, columns, bias, threads=DEFAULT_THREADS):
    """out[n, o, l] = bias[o] + sum_k weight[o, k] * columns[n, k, l] (no bias when empty).
    Shapes: out (N, O, L); weight (O, K); columns (N, K, L); bias (O,) or (0,). A thread
    per output element."""
    launch(_conv_from_columns, out.size, threads, out, weight, columns, bias)


@kernel
def _conv_weight_grad_from_columns(grad_weight, grad_bias, grad_out, columns):
    shared = cuda.shared.array(MAX_THREADS, float64)
    N, O, L = grad_out.shape
    K = columns.shape[1]
    rows = O * (K + 1) if grad_bias.size > 0 else O * K
    r = cuda.blockIdx.x
    while r < rows:  # grid-stride over blocks; uniform per block
        o, k = r // (K + 1), r % (K + 1)  # k == K: the bias
        if grad_bias.size == 0:
            o, k = r // K, r % K
        acc = 0.0
        e = cuda.threadIdx.x
        while e < N * L:
            g = grad_out[e // L, o, e % L]
            acc += g if k == K else g * columns[e // L, k, e % L]
            e += cuda.blockDim.x
        total = block_sum(shared, acc)
        if cuda.threadIdx.x == 0:
            if k == K:
                grad_bias[o] = total
            else:
                grad_weight[o, k] = total
        r += cuda.gridDim.x


def conv_weight_grad_from_columns(grad_weight, grad_bias, grad_out, columns,
                                  threads=DEFAULT_THREADS):
    """grad_weight[o, k] = sum over n, l of grad_out[n, o, l] * columns[n, k, l];
    grad_bias[o] = sum over n, l of grad_out[n, o, l] (skipped when empty). Shapes:
    grad_weight (O, K); grad_bias (O,) or (0,); grad_out (N, O, L); columns (N, K, L).
    A block per weight (and bias) entry sums its products."""
    if not 0 < threads <= MAX_THREADS:
        raise ValueError(f"threads per block must be in [1, {MAX_THREADS}], got {threads}")
    rows = grad_weight.size + grad_bias.size
    if rows:
        run(_conv_weight_grad_from_columns, min(rows, MAX_BLOCKS), tree_threads(threads),
            (grad_weight, grad_bias, grad_out, columns))
