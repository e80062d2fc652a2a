"""conv2d (im2col + GEMM), max_pool2d and avg_pool2d."""
import numpy as np

from kernels import opcodes

from ..function import Function
from . import arrays


def _pair(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 2 or v[0] != v[1]:
            raise ValueError(f"{name}={tuple(v)}: only square values are supported")
        v = v[0]
    v = int(v)
    return v


def out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def _pooled_shape(shape, kernel, stride, padding):
    n, c, h, w = shape
    return (n, c, out_size(h, kernel, stride, padding), out_size(w, kernel, stride, padding))


class Conv2d(Function):
    """y = W (O, C*kh*kw) @ im2col(x) + b, per image."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        k = ctx.kernels
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        oh, ow = out_size(h, kh, stride, padding), out_size(w, kw, stride, padding)
        cols = k.empty((n, c * kh * kw, oh * ow), x.dtype)
        k.im2col(cols, x, kh, kw, stride, padding)
        w3 = weight.reshape(1, o, c * kh * kw)
        out = k.empty((n, o, oh * ow), x.dtype)
        k.matmul(out, w3, cols, False, False)
        if bias is not None:
            view = out.reshape(1, n, o, oh * ow)
            k.binary(view, view, bias.reshape(1, 1, o, 1), opcodes.ADD)
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (x.shape, kh, kw, stride, padding)
        return out.reshape(n, o, oh, ow)

    @staticmethod
    def backward(ctx, g):
        k = ctx.kernels
        cols, weight = ctx.saved
        x_shape, kh, kw, stride, padding = ctx.geometry
        n, o = g.shape[:2]
        g3 = g.reshape(n, o, -1)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        if need_w:
            per_image = k.empty((n, o, cols.shape[1]), g.dtype)
            k.matmul(per_image, g3, cols, False, True)
            grad_w = arrays.sum_dims(k, per_image, (0,)).reshape(weight.shape)
        if need_b:
            grad_b = arrays.sum_dims(k, g3, (0, 2))
        if need_x:
            grad_cols = k.empty(cols.shape, g.dtype)
            k.matmul(grad_cols, weight.reshape(1, o, -1), g3, True, False)
            grad_x = k.empty(x_shape, g.dtype)
            k.col2im(grad_x, grad_cols, kh, kw, stride, padding)
        return grad_x, grad_w, grad_b, None, None


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        k = ctx.kernels
        shape = _pooled_shape(x.shape, kernel, stride, padding)
        out = k.empty(shape, x.dtype)
        index = k.empty(shape, np.int64)
        k.max_pool2d(out, index, x, kernel, kernel, stride, padding)
        ctx.x_shape, ctx.index = x.shape, index
        return out

    @staticmethod
    def backward(ctx, g):
        grad_x = ctx.kernels.empty(ctx.x_shape, g.dtype)
        ctx.kernels.max_pool2d_grad(grad_x, g, ctx.index)
        return grad_x, None, None, None


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        k = ctx.kernels
        out = k.empty(_pooled_shape(x.shape, kernel, stride, padding), x.dtype)
        k.avg_pool2d(out, x, kernel, kernel, stride, padding)
        ctx.geometry = (x.shape, kernel, stride, padding)
        return out

    @staticmethod
    def backward(ctx, g):
        x_shape, kernel, stride, padding = ctx.geometry
        grad_x = ctx.kernels.empty(x_shape, g.dtype)
        ctx.kernels.avg_pool2d_grad(grad_x, g, kernel, kernel, stride, padding)
        return grad_x, None, None, None


def _check_image(x, name):
    if x.ndim != 4:
        raise ValueError(f"{name}: expected input of shape (N, C, H, W), got {x.shape}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name}: expected a floating point input, got {x.dtype!r}")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) of (N, C, H, W) input."""
    _check_image(x, "conv2d")
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    if _pair(dilation, "dilation") != 1 or groups != 1:
        raise ValueError("conv2d: only dilation=1 and groups=1 are supported")
    if weight.ndim != 4 or weight.shape[1] != x.shape[1]:
        raise ValueError(f"conv2d: weight of shape {weight.shape} does not match input of "
                         f"shape {x.shape} (expected (out_channels, {x.shape[1]}, kh, kw))")
    if weight.shape[2] != weight.shape[3]:
        raise ValueError(f"conv2d: only square kernels are supported, got {weight.shape[2:]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"conv2d: bias of shape {bias.shape} does not match "
                         f"{weight.shape[0]} output channels")
    if stride < 1 or padding < 0:
        raise ValueError(f"conv2d: stride must be >= 1 and padding >= 0, got {stride}, {padding}")
    for size in x.shape[2:]:
        if out_size(size, weight.shape[2], stride, padding) < 1:
            raise ValueError(f"conv2d: kernel {weight.shape[2]} with padding {padding} does "
                             f"not fit input of spatial size {tuple(x.shape[2:])}")
    if x.dtype is not weight.dtype:
        raise TypeError(f"conv2d: input is {x.dtype!r} but weight is {weight.dtype!r}")
    return Conv2d.apply(x, weight, bias, stride, padding)


def _pool_args(x, kernel_size, stride, padding, name):
    _check_image(x, name)
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    padding = _pair(padding, "padding")
    if padding > kernel // 2:
        raise ValueError(f"{name}: padding {padding} should be at most half of kernel size "
                         f"{kernel}")
    for size in x.shape[2:]:
        if out_size(size, kernel, stride, padding) < 1:
            raise ValueError(f"{name}: kernel {kernel} does not fit input of spatial size "
                             f"{tuple(x.shape[2:])}")
    return kernel, stride, padding


def max_pool2d(x, kernel_size, stride=None, padding=0):
    return MaxPool2d.apply(x, *_pool_args(x, kernel_size, stride, padding, "max_pool2d"))


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    return AvgPool2d.apply(x, *_pool_args(x, kernel_size, stride, padding, "avg_pool2d"))
