"""Direct 3x3 convolution on padded planes (CUDA); layouts as ``kernels/cpu/conv3x3.py``.

A thread per output element (planes, packed weights, convolution output); the weight
gradient takes a block per weight entry, which sums its products over the batch.
"""
from numba import cuda, float64

from ._device import block_sum
from ._launch import DEFAULT_THREADS, MAX_BLOCKS, MAX_THREADS, launch, kernel, run, tree_threads
from .conv import bias_grad


@kernel
def _planes(planes, x):
    N, C, H, W = x.shape
    pitch = W + 1
    L = planes.shape[1]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < planes.size:
        c, r = e // L, e % L
        row, col = r // pitch, r % pitch
        n, h = row // (H + 1), row % (H + 1)
        if n < N and h >= 1 and col >= 1:
            planes[c, r] = x[n, c, h - 1, col - 1]
        else:
            planes[c, r] = 0
        e += step


def conv3x3_planes(planes, x, threads=DEFAULT_THREADS):
    """planes[c] = channel c of x as zero-padded planes. Shapes: x (N, C, H, W); planes
    (C, >= (N*(H+1) + 2)*(W+1)). A thread per plane entry."""
    launch(_planes, planes.size, threads, planes, x)


@kernel
def _pack(packed, weight, transpose):
    outs = weight.shape[1] if transpose else weight.shape[0]
    inner = packed.shape[1]
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < packed.size:
        b, c, kt = e // (inner * 36), (e // 36) % inner, e % 36
        o, t = b * 4 + kt // 9, kt % 9
        if o >= outs:
            packed[b, c, kt] = 0
        elif transpose:
            packed[b, c, kt] = weight[c, o, 2 - t // 3, 2 - t % 3]
        else:
            packed[b, c, kt] = weight[o, c, t // 3, t % 3]
        e += step


def conv3x3_pack(packed, weight, transpose, threads=DEFAULT_THREADS):
    """packed[b, c, 9*k + 3*i + j] = weight[4*b + k, c, i, j] (0 past the last output
    channel); with ``transpose``, weight[c, 4*b + k, 2 - i, 2 - j]. Shapes: weight
    (O, C, 3, 3); packed (ceil(O/4), C, 36), or (ceil(C/4), O, 36) with ``transpose``.
    A thread per packed entry."""
    launch(_pack, packed.size, threads, packed, weight, transpose)


@kernel
def _conv3x3(out, x_planes, packed_weight, bias):
    N, O, H, W = out.shape
    C = x_planes.shape[0]
    pitch = W + 1
    has_bias = bias.size > 0
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < out.size:
        n, o, r = e // (O * H * W), (e // (H * W)) % O, e % (H * W)
        q = (n * (H + 1) + r // W) * pitch + r % W
        b, k = o // 4, (o % 4) * 9
        acc = 0.0  # float64: the sum of C*9 products, rounded once into out
        if has_bias:
            acc += bias[o]
        for c in range(C):
            for t in range(9):
                acc += packed_weight[b, c, k + t] * x_planes[c, q + (t // 3) * pitch + t % 3]
        out[n, o, r // W, r % W] = acc
        e += step


def conv3x3(out, x_planes, packed_weight, bias, threads=DEFAULT_THREADS):
    """out[n, o, h, w] = bias[o] + sum over c, i, j of weight[o, c, i, j] *
    x[n, c, h + i - 1, w + j - 1] (0 outside), x as ``x_planes`` and the weight as
    ``packed_weight`` (``conv3x3_pack``); no bias when empty. Shapes: out (N, O, H, W);
    x_planes (C, >= (N*(H+1) + 2)*(W+1)); packed_weight (ceil(O/4), C, 36); bias (O,) or
    (0,). A thread per output element."""
    launch(_conv3x3, out.size, threads, out, x_planes, packed_weight, bias)


@kernel
def _weight_grad(grad_weight, grad_out, x_planes):
    shared = cuda.shared.array(MAX_THREADS, float64)
    N, O, h, w = grad_out.shape
    C = grad_weight.shape[1]
    pitch = w + 1
    per_image = (h + 1) * pitch
    r = cuda.blockIdx.x
    while r < grad_weight.size:  # grid-stride over blocks; uniform per block
        o, c, t = r // (C * 9), (r // 9) % C, r % 9
        shift = pitch + 1 - (t // 3) * pitch - t % 3  # x's entry sits this far before g's
        acc = 0.0
        e = cuda.threadIdx.x
        while e < N * h * w:
            n, y, x = e // (h * w), (e // w) % h, e % w
            p = n * per_image + (y + 1) * pitch + x + 1  # (y, x)'s entry in the planes
            acc += grad_out[n, o, y, x] * x_planes[c, p - shift]
            e += cuda.blockDim.x
        total = block_sum(shared, acc)
        if cuda.threadIdx.x == 0:
            grad_weight[o, c, t // 3, t % 3] = total
        r += cuda.gridDim.x


def conv3x3_weight_grad(grad_weight, grad_bias, grad_out, x_planes, threads=DEFAULT_THREADS):
    """grad_weight[o, c, i, j] = sum over n, y, x of grad_out[n, o, y, x] *
    x[n, c, y + i - 1, x + j - 1] (0 outside), x as ``x_planes``; grad_bias[o] = sum over
    n, y, x of grad_out[n, o, y, x] (skipped when empty). Shapes: grad_weight
    (O, C, 3, 3); grad_bias (O,) or (0,); grad_out (N, O, H, W); x_planes
    (C, >= (N*(H+1) + 2)*(W+1)). A block per weight entry; a block per output channel
    sums the bias gradient."""
    if not 0 < threads <= MAX_THREADS:
        raise ValueError(f"threads per block must be in [1, {MAX_THREADS}], got {threads}")
    if grad_weight.size:
        run(_weight_grad, min(grad_weight.size, MAX_BLOCKS), tree_threads(threads),
            (grad_weight, grad_out, x_planes))
    if grad_bias.size > 0:  # an empty batch too: its bias gradient is 0
        n, o = grad_out.shape[0], grad_out.shape[1]
        bias_grad(grad_bias, grad_out.reshape(n, o, grad_out.shape[2] * grad_out.shape[3]),
                  threads)
