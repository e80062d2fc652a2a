"""conv2d by im2col and batched GEMMs, in one of two column layouts.

Whole batch: cols (1, C*kh*kw, N, OH, OW), so group g's rows are one contiguous block
and ``matmul`` takes the groups as its batch: y (G, O/G, N*L) = W (G, O/G, K/G) @ cols
(G, K/G, N*L); ``conv_output`` moves y to (N, O, L) and adds the bias. Per image
(groups 1, few columns): cols (N, K, 1, OH, OW) and out (N, O, L) = W @ cols[n] + b, by
a GEMM per image or, for the fewest columns, ``conv_from_columns``' loops over them.
On the CPU, 3x3 kernels with stride 1, padding 1, dilation 1 and one group, on two or
more channels, take the direct path of ``conv3x3.py`` instead.
"""
import numpy as np

from kernels import opcodes

from ..function import Function
from . import arrays, conv3x3


def pair(v, name, fn):
    """(a, b) from an int or a pair of ints, as PyTorch's size arguments."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{fn}: {name} must be an int or a pair, got {tuple(v)}")
        return int(v[0]), int(v[1])
    if isinstance(v, (bool, float)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {v!r}")
    return int(v), int(v)


def check_image(x, fn):
    """True for one unbatched image (C, H, W), False for a batch (N, C, H, W); a clear
    error for any other rank or a non-floating dtype."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected input of shape (N, C, H, W) or (C, H, W), got "
                         f"{x.shape}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{fn}: expected a floating point input, got {x.dtype!r}")
    return x.ndim == 3


def batch_of_one(x):
    """(C, H, W) as (1, C, H, W), for ops that run on batches (PyTorch's unbatched input)."""
    return x.reshape((1,) + x.shape)


def as_batch(x, fn):
    """(x as a batch, x's shape as passed, whether it was one unbatched image): errors
    name the shape the caller passed, the op runs on a batch."""
    unbatched = check_image(x, fn)
    return (batch_of_one(x) if unbatched else x), x.shape, unbatched


def drop_batch(result):
    """The results of an op run on ``batch_of_one``, without their batch dim."""
    if isinstance(result, tuple):
        return tuple(drop_batch(r) for r in result)
    return result.reshape(result.shape[1:])


def conv_out_size(size, k, stride, pad_lo, pad_hi, dilation):
    return (size + pad_lo + pad_hi - dilation * (k - 1) - 1) // stride + 1


# Up to this many columns per image (C*kh*kw, groups 1), a GEMM per image (or the loops
# below) beats one GEMM over the whole batch: BLAS runs a K = 9 GEMM with N*L columns
# far below its peak, and the per-image products land in (N, O, L) without a layout pass.
PER_IMAGE_MAX_K = 32
# Up to this many, loops over the columns (``conv_from_columns``) beat a GEMM per image
# and write the bias with the output (the MNIST CNN's first layer, K = 9, unrolled);
# from 18 columns on they lost to the GEMM (fwd+bwd, 2 threads: K = 18 1.90 vs 1.38 ms,
# K = 25 2.23 vs 1.76 ms, K = 27 3.33 vs 2.86 ms).
COLUMN_LOOPS_MAX_K = 9
# 3x3 convolutions with stride 1, padding 1, dilation 1 and one group, on this many
# input channels or more, take the direct path (``conv3x3.py``) on the CPU. One channel
# keeps the column loops (direct: 1.43-1.49 x PyTorch against 0.94-1.09, fwd+bwd of the
# MNIST CNN's first layer). CUDA keeps im2col and GEMMs: its direct kernels (a thread
# per output) have not been timed on a GPU.
DIRECT_3X3_MIN_CHANNELS = 2


class Conv2d(Function):
    """out[n, o] = sum over the group's channels and taps of w * x, + b[o]."""

    @staticmethod
    def forward(ctx, x, weight, bias, geometry, out_hw):
        k = ctx.kernels
        n, c = x.shape[:2]
        o, cg, kh, kw = weight.shape
        groups, kg, l = c // cg, cg * kh * kw, out_hw[0] * out_hw[1]
        per_image = groups == 1 and kg <= PER_IMAGE_MAX_K
        cols = k.empty((n, kg, 1) + out_hw if per_image else (1, c * kh * kw, n) + out_hw,
                       x.dtype)
        k.im2col(cols, x, kh, kw, *geometry)
        out = k.empty((n, o) + out_hw, x.dtype)
        if per_image and kg <= COLUMN_LOOPS_MAX_K:
            k.conv_from_columns(out.reshape(n, o, l), weight.reshape(o, kg),
                                cols.reshape(n, kg, l),
                                k.empty((0,), x.dtype) if bias is None else bias)
        elif per_image:
            k.matmul(out.reshape(n, o, l), weight.reshape(1, o, kg), cols.reshape(n, kg, l),
                     False, False)
            if bias is not None:
                view = out.reshape(1, n, o, l)
                k.binary(view, view, bias.reshape(1, 1, o, 1), opcodes.ADD)
        else:
            y = k.empty((groups, o // groups, n * l), x.dtype)
            k.matmul(y, weight.reshape(groups, o // groups, kg),
                     cols.reshape(groups, kg, n * l), False, False)
            k.conv_output(out.reshape(n, o, l), y.reshape(o, n, l),
                          k.empty((0,), x.dtype) if bias is None else bias)
        ctx.save_for_backward(cols if ctx.needs_input_grad[1] else None, weight)
        ctx.geometry, ctx.x_shape, ctx.per_image = geometry, x.shape, per_image
        return out

    @staticmethod
    def backward(ctx, g):
        cols, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if ctx.per_image:
            grad_x, grad_w, grad_b = _per_image_grads(ctx, g, cols, weight, need_x, need_w,
                                                      need_b)
        else:
            grad_x, grad_w, grad_b = _whole_batch_grads(ctx, g, cols, weight, need_x, need_w,
                                                        need_b)
        return grad_x, grad_w, grad_b, None, None


def _per_image_grads(ctx, g, cols, weight, need_x, need_w, need_b):
    """Gradients when cols is (N, K, 1, OH, OW): the weight's and bias's in one pass over
    the columns (the fewest columns) or by GEMMs per image; the input's by a GEMM batch
    over the images and col2im."""
    k = ctx.kernels
    n, o, oh, ow = g.shape
    kg = cols.shape[1] if cols is not None else weight.size // o
    g3 = g.reshape(n, o, oh * ow)
    grad_x = grad_w = grad_b = None
    if need_w and kg <= COLUMN_LOOPS_MAX_K:
        grad_w = k.empty((o, kg), g.dtype)
        grad_b = k.empty((o if need_b else 0,), g.dtype)
        k.conv_weight_grad_from_columns(grad_w, grad_b, g3, cols.reshape(n, kg, oh * ow))
        grad_w, grad_b = grad_w.reshape(weight.shape), grad_b if need_b else None
    else:
        if need_w:
            per_image = k.empty((n, o, kg), g.dtype)
            k.matmul(per_image, g3, cols.reshape(n, kg, oh * ow), False, True)
            grad_w = arrays.sum_dims(k, per_image, (0,)).reshape(weight.shape)
        if need_b:
            grad_b = arrays.sum_dims(k, g3, (0, 2))
    if need_x:
        grad_cols = k.empty((n, kg, 1, oh, ow), g.dtype)
        k.matmul(grad_cols.reshape(n, kg, oh * ow), weight.reshape(1, o, kg), g3, True, False)
        grad_x = k.empty(ctx.x_shape, g.dtype)
        k.col2im(grad_x, grad_cols, *weight.shape[2:], *ctx.geometry)
    return grad_x, grad_w, grad_b


def _whole_batch_grads(ctx, g, cols, weight, need_x, need_w, need_b):
    """Gradients when cols is (1, C*kh*kw, N, OH, OW): one GEMM per group."""
    k = ctx.kernels
    n, o, oh, ow = g.shape
    _, cg, kh, kw = weight.shape
    c = ctx.x_shape[1]
    groups, kg, nl = c // cg, cg * kh * kw, n * oh * ow
    grad_y = k.empty((o, n, oh * ow), g.dtype)
    grad_b = k.empty((o if need_b else 0,), g.dtype)
    k.conv_grad_output(grad_y, grad_b, g.reshape(n, o, oh * ow))
    grad_y = grad_y.reshape(groups, o // groups, nl)
    grad_x = grad_w = None
    if need_w:
        # cols @ grad_y^T, then transposed: BLAS ran this orientation of the product faster
        # (the MNIST CNN's second layer, 288 x 64 from 12544-long rows: 1.31-1.44 ms
        # against 1.52-1.59 for grad_y @ cols^T).
        grad_wt = k.empty((groups, kg, o // groups), g.dtype)
        k.matmul(grad_wt, cols.reshape(groups, kg, nl), grad_y, False, True)
        grad_w = arrays.permute(k, grad_wt, (0, 2, 1)).reshape(weight.shape)
    if need_x:
        grad_cols = k.empty((1, c * kh * kw, n, oh, ow), g.dtype)
        k.matmul(grad_cols.reshape(groups, kg, nl), weight.reshape(groups, o // groups, kg),
                 grad_y, True, False)
        grad_x = k.empty(ctx.x_shape, g.dtype)
        k.col2im(grad_x, grad_cols, kh, kw, *ctx.geometry)
    return grad_x, grad_w, grad_b if need_b else None


def same_padding(kernel, dilation):
    """PyTorch's "same": total d*(k-1) per dim, the odd one on the right/bottom."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple(t // 2 for t in totals), tuple(t - t // 2 for t in totals)


def _conv_padding(padding, kernel, stride, dilation):
    """(top, left) and (bottom, right) padding from an int, a pair, "valid" or "same"."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', "
                             f"got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' is not supported for strided "
                             f"convolutions (stride={stride})")
        return same_padding(kernel, dilation)
    pad = pair(padding, "padding", "conv2d")
    return pad, pad


def _check_conv_operands(x, weight, bias, groups, shown):
    """Clear errors for operands that do not fit; ``shown`` is the input's shape as the
    caller passed it (an unbatched image's, not its batch of one's)."""
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (out_channels, in_channels/groups, kh, kw), "
                         f"got shape {weight.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    c, o = x.shape[1], weight.shape[0]
    if c == 0 or weight.shape[1] == 0:
        raise ValueError(f"conv2d: input of shape {shown} and weight of shape {weight.shape} "
                         f"leave no input channel to convolve")
    if c % groups or o % groups:
        raise ValueError(f"conv2d: groups={groups} must divide both the input's {c} channels "
                         f"(input shape {shown}) and the weight's {o} output channels "
                         f"(weight shape {weight.shape})")
    if weight.shape[1] * groups != c:
        raise ValueError(f"conv2d: weight of shape {weight.shape} does not match input of "
                         f"shape {shown} with groups={groups} (expected (out_channels, "
                         f"{c // groups}, kh, kw))")
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"conv2d: bias of shape {bias.shape} does not match {o} output "
                         f"channels")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype is not x.dtype:
            raise TypeError(f"conv2d: input is {x.dtype!r} but {name} is {t.dtype!r}")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) of (N, C, H, W) input.

    Args:
        x: input (N, C, H, W), or one image (C, H, W) for an output (O, OH, OW).
        weight: (out_channels, C / groups, kh, kw).
        bias: (out_channels,) or None.
        stride, dilation: an int or a pair (>= 1).
        padding: an int or a pair (>= 0), "valid" (none) or "same" (output size =
            input size; stride 1 only; an odd total puts the extra on the bottom/right).
        groups: splits input and output channels into this many independent groups.
    """
    x, shown, unbatched = as_batch(x, "conv2d")
    _check_conv_operands(x, weight, bias, groups, shown)
    stride, dilation = pair(stride, "stride", "conv2d"), pair(dilation, "dilation", "conv2d")
    kernel = weight.shape[2:]
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv2d: stride and dilation must be >= 1, got stride={stride}, "
                         f"dilation={dilation}")
    lo, hi = _conv_padding(padding, kernel, stride, dilation)
    if min(lo) < 0:
        raise ValueError(f"conv2d: padding must be >= 0, got {lo}")
    out_hw = tuple(conv_out_size(x.shape[2 + a], kernel[a], stride[a], lo[a], hi[a],
                                 dilation[a]) for a in range(2))
    if min(out_hw) < 1:
        padded = tuple(x.shape[2 + a] + lo[a] + hi[a] for a in range(2))
        extent = tuple(dilation[a] * (kernel[a] - 1) + 1 for a in range(2))
        raise ValueError(f"conv2d: kernel of size {tuple(kernel)} (dilated extent {extent}) "
                         f"does not fit the padded input of spatial size {padded} (input "
                         f"shape {shown}, padding {lo})")
    if x.device.type == "cpu" and x.shape[1] >= DIRECT_3X3_MIN_CHANNELS and \
            conv3x3.fits(kernel, stride, lo, hi, dilation, groups):
        out = conv3x3.Conv3x3.apply(x, weight, bias)
        return drop_batch(out) if unbatched else out
    geometry = (stride[0], stride[1], lo[0], lo[1], dilation[0], dilation[1])
    out = Conv2d.apply(x, weight, bias, geometry, out_hw)
    return drop_batch(out) if unbatched else out
