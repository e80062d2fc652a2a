"""conv2d's direct path: 3x3 kernels, stride 1, padding 1, no dilation, one group.

The input (and, backward, the output gradient) is laid out once as zero-padded planes
(``kernels/cpu/conv3x3.py``), and the kernels multiply straight from them: no column
buffer nine times the input's size, no GEMM, no layout pass on the output. The input
gradient is the same forward kernel on the output gradient's planes, with the weights
transposed and flipped.
"""
from ..function import Function
from . import arrays


def planes_shape(channels, n, h, w):
    """Shape of the padded planes of (n, channels, h, w) images (kernel ``conv3x3_planes``):
    rows of a multiple of 16 entries, so that every row of a 64-byte aligned array starts
    on a cache line (the weight gradient's vector loads then do not straddle two)."""
    return channels, -(-(n * (h + 1) + 2) * (w + 1) // 16) * 16


def packed_shape(outs, ins):
    """Shape of ``conv3x3_pack``'s weights: blocks of 4 output channels' 36 taps."""
    return (outs + 3) // 4, ins, 36


def fits(kernel, stride, padding_lo, padding_hi, dilation, groups):
    """Whether conv2d's arguments are the ones this path computes."""
    return (tuple(kernel) == (3, 3) and stride == (1, 1) and dilation == (1, 1)
            and tuple(padding_lo) == (1, 1) and tuple(padding_hi) == (1, 1) and groups == 1)


class Conv3x3(Function):
    """out[n, o, y, x] = sum over channels c and taps (i, j) of weight[o, c, i, j] *
    input[n, c, y + i - 1, x + j - 1] (zero padding), + bias[o]."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        k = ctx.kernels
        n, c, h, w = x.shape
        o = weight.shape[0]
        planes = k.empty(planes_shape(c, n, h, w), x.dtype)
        k.conv3x3_planes(planes, x)
        packed = k.empty(packed_shape(o, c), x.dtype)
        k.conv3x3_pack(packed, weight, False)
        out = k.empty((n, o, h, w), x.dtype)
        k.conv3x3(out, planes, packed, k.empty((0,), x.dtype) if bias is None else bias)
        ctx.save_for_backward(planes if ctx.needs_input_grad[1] else None, weight)
        return out

    @staticmethod
    def backward(ctx, g):
        k = ctx.kernels
        planes, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        n, o, h, w = g.shape
        c = weight.shape[1]
        grad_x = grad_w = grad_b = None
        if need_w:
            grad_w = k.empty(weight.shape, g.dtype)
            grad_b = k.empty((o if need_b else 0,), g.dtype)
            k.conv3x3_weight_grad(grad_w, grad_b, g, planes)
            grad_b = grad_b if need_b else None
        elif need_b:
            grad_b = arrays.sum_dims(k, g.reshape(n, o, h * w), (0, 2))
        if need_x:
            grad_planes = k.empty(planes_shape(o, n, h, w), g.dtype)
            k.conv3x3_planes(grad_planes, g)
            packed = k.empty(packed_shape(c, o), g.dtype)
            k.conv3x3_pack(packed, weight, True)
            grad_x = k.empty((n, c, h, w), g.dtype)
            k.conv3x3(grad_x, grad_planes, packed, k.empty((0,), g.dtype))
        return grad_x, grad_w, grad_b
