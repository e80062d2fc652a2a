"""max_pool2d, avg_pool2d and adaptive_avg_pool2d with PyTorch's arguments and shapes."""
import numpy as np

from ..function import Function
from .conv import as_batch, drop_batch, pair


class MaxPool2d(Function):
    """out = max over each (dilated) window; the argmax is kept for backward."""

    @staticmethod
    def forward(ctx, x, geometry, out_hw, return_indices):
        k = ctx.kernels
        shape = x.shape[:2] + out_hw
        out = k.empty(shape, x.dtype)
        index = k.empty(shape, np.int64)
        k.max_pool2d(out, index, x, *geometry)
        ctx.x_shape, ctx.index = x.shape, index
        # A second output only when asked: the engine would fill its missing gradient.
        return (out, index) if return_indices else out

    @staticmethod
    def backward(ctx, g, *_g_index):
        grad_x = ctx.kernels.empty(ctx.x_shape, g.dtype)
        ctx.kernels.max_pool2d_grad(grad_x, g, ctx.index)
        return grad_x, None, None, None


class AvgPool2d(Function):
    """out = window sum / divisor (PyTorch's count_include_pad and divisor_override)."""

    @staticmethod
    def forward(ctx, x, geometry, out_hw):
        k = ctx.kernels
        out = k.empty(x.shape[:2] + out_hw, x.dtype)
        k.avg_pool2d(out, x, *geometry)
        ctx.geometry, ctx.x_shape = geometry, x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        grad_x = ctx.kernels.empty(ctx.x_shape, g.dtype)
        ctx.kernels.avg_pool2d_grad(grad_x, g, *ctx.geometry)
        return grad_x, None, None


class AdaptiveAvgPool2d(Function):
    """out[.., oh, ow] = mean over rows [oh*H//OH, ceil((oh+1)*H/OH)), likewise columns."""

    @staticmethod
    def forward(ctx, x, out_hw):
        out = ctx.kernels.empty(x.shape[:2] + out_hw, x.dtype)
        ctx.kernels.adaptive_avg_pool2d(out, x)
        ctx.x_shape = x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        grad_x = ctx.kernels.empty(ctx.x_shape, g.dtype)
        ctx.kernels.adaptive_avg_pool2d_grad(grad_x, g)
        return grad_x, None


def pool_out_size(size, k, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output size; in ceil mode the last window must start inside
    the input or the left padding."""
    span = size + 2 * padding - dilation * (k - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, fn, shown):
    """(kernel, stride, padding, dilation) pairs and the output size of (N, C, H, W)
    input, checked; ``shown`` is the input's shape as the caller passed it."""
    kernel = pair(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None or stride == () else pair(stride, "stride", fn)
    padding, dilation = pair(padding, "padding", fn), pair(dilation, "dilation", fn)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{fn}: kernel_size, stride and dilation must be >= 1 and padding "
                         f">= 0, got kernel_size={kernel}, stride={stride}, "
                         f"dilation={dilation}, padding={padding}")
    for a in range(2):
        extent = dilation[a] * (kernel[a] - 1) + 1
        if 2 * padding[a] > extent:
            raise ValueError(f"{fn}: padding {padding} should be at most half of the "
                             f"(dilated) kernel size {kernel}, dilation {dilation}")
    out_hw = tuple(pool_out_size(x.shape[2 + a], kernel[a], stride[a], padding[a],
                                 dilation[a], ceil_mode) for a in range(2))
    if min(out_hw) < 1:
        raise ValueError(f"{fn}: kernel of size {kernel} (dilation {dilation}) does not fit "
                         f"the input of shape {shown} with padding {padding}: output "
                         f"size would be {out_hw}")
    return kernel, stride, padding, dilation, out_hw


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over (dilated) windows of (N, C, H, W) or (C, H, W) input; padding counts as
    -inf.

    ``stride`` defaults to ``kernel_size``. With ``return_indices`` also returns the
    argmax of each window as a flat position ih*W + iw in its input plane (int64).
    """
    x, shown, unbatched = as_batch(x, "max_pool2d")
    kernel, stride, padding, dilation, out_hw = _pool_geometry(
        x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d", shown)
    geometry = (*kernel, *stride, *padding, *dilation)
    out = MaxPool2d.apply(x, geometry, out_hw, bool(return_indices))
    return drop_batch(out) if unbatched else out


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over windows of (N, C, H, W) or (C, H, W) input, as PyTorch's ``avg_pool2d``.

    The divisor is ``divisor_override`` when given, else the window's size within the
    padded input (``count_include_pad``) or its number of real inputs.
    """
    x, shown, unbatched = as_batch(x, "avg_pool2d")
    kernel, stride, padding, _, out_hw = _pool_geometry(
        x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d", shown)
    if divisor_override is not None and (isinstance(divisor_override, bool) or not
                                         isinstance(divisor_override, (int, np.integer))
                                         or divisor_override < 1):
        raise ValueError(f"avg_pool2d: divisor_override must be a positive int or None, got "
                         f"{divisor_override!r}")
    geometry = (*kernel, *stride, *padding, bool(count_include_pad),
                int(divisor_override or 0))
    out = AvgPool2d.apply(x, geometry, out_hw)
    return drop_batch(out) if unbatched else out


def adaptive_avg_pool2d(x, output_size):
    """Mean over PyTorch's adaptive windows of (N, C, H, W) or (C, H, W) input, so that
    the output is ``output_size`` (an int or a pair; a None entry keeps that input size)."""
    x, shown, unbatched = as_batch(x, "adaptive_avg_pool2d")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, "
                             f"got {tuple(output_size)}")
        output_size = tuple(x.shape[2 + a] if s is None else s
                            for a, s in enumerate(output_size))
    out_hw = pair(output_size, "output_size", "adaptive_avg_pool2d")
    if min(out_hw) < 1 or min(x.shape[2:]) < 1:
        raise ValueError(f"adaptive_avg_pool2d: output size {out_hw} and the input's spatial "
                         f"size {tuple(x.shape[2:])} must be positive (input shape {shown})")
    out = AdaptiveAvgPool2d.apply(x, out_hw)
    return drop_batch(out) if unbatched else out
