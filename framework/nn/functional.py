"""``framework.nn.functional`` (``F``): activations, linear, convolution, pooling,
normalization, dropout and losses, as functions of tensors."""
import numpy as np

from ..autograd.engine import no_grad
from ..autograd.ops.arrays import scalar_array
from ..autograd.ops.conv import conv2d
from ..autograd.ops.elementwise import gelu, relu, sigmoid, tanh
from ..autograd.ops.loss import cross_entropy_reduced, cross_entropy_rows
from ..autograd.ops.matmul import linear
from ..autograd.ops.padding import pad
from ..autograd.ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..autograd.ops.softmax import log_softmax, softmax
from ..compile.capture import recorder
from ..creation import random_tensor
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "batch_norm",
           "binary_cross_entropy_with_logits", "conv2d", "cross_entropy", "dropout", "gelu",
           "l1_loss", "linear", "log_softmax", "max_pool2d", "mse_loss", "nll_loss", "pad",
           "relu", "sigmoid", "softmax", "tanh"]

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss, reduction, name):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_targets(target, n_classes, ignore_index, name):
    """The number of targets that are not ``ignore_index`` (the mean's divisor).

    Eagerly, the targets are checked on the host for a precise error. In a step being
    recorded by ``fw.compile`` the count stays a tensor on the device, and the range
    check is the kernel's.
    """
    if not isinstance(target, Tensor) or target.dtype.is_floating_point:
        raise TypeError(f"{name}: target must be an integer tensor of class indices, got "
                        f"{getattr(target, 'dtype', type(target).__name__)}")
    if recorder() is not None:
        return (target != ignore_index).sum()
    values = target.kernels.to_host(target.data)
    if values.size == 0:
        return 0
    lo, hi = values.min(), values.max()
    if 0 <= lo and hi < n_classes and not lo <= ignore_index <= hi:
        return values.size  # the common case, in two reductions
    valid = values[values != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= n_classes):
        bad = valid[(valid < 0) | (valid >= n_classes)][0]
        raise IndexError(f"{name}: target {int(bad)} is out of bounds for {n_classes} classes")
    return valid.size


def _class_last(x, target, name):
    """(N, C, d1, ...) logits and (N, d1, ...) targets as (M, C) and (M,)."""
    if x.ndim < 1:
        raise ValueError(f"{name}: input must have a class dimension, got shape {x.shape}")
    if x.ndim == 1:
        x, target = x.reshape(1, -1), target.reshape(1)
    expected = (x.shape[0],) + x.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{name}: target of shape {target.shape} does not match input of "
                         f"shape {x.shape} (expected {expected})")
    if x.ndim > 2:
        c = x.shape[1]
        x = x.reshape(x.shape[0], c, -1).permute(0, 2, 1).reshape(-1, c)
        target = target.reshape(-1)
    return x, target


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of logits against class indices, log-softmax fused in one kernel.

    With ``reduction='mean'`` the loss is averaged over targets that are not
    ``ignore_index``. Class ``weight`` is not supported.
    """
    if weight is not None:
        raise ValueError("cross_entropy: class weights are not supported; pass weight=None")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    x, t = _class_last(input, target, "cross_entropy")
    count = _check_targets(t, x.shape[1], ignore_index, "cross_entropy")
    if reduction == "sum":
        return cross_entropy_reduced(x, t, label_smoothing, ignore_index, None)
    if reduction == "mean":
        if isinstance(count, Tensor):  # recorded by fw.compile: counted on the device
            count = count.to(dtype=x.dtype)
        elif count:
            count = Tensor._wrap(scalar_array(x.kernels, count, x.dtype.np), x.device, None, 0)
        else:  # every target ignored: PyTorch's NaN
            return cross_entropy_rows(x, t, label_smoothing, ignore_index).sum() * float("nan")
        return cross_entropy_reduced(x, t, label_smoothing, ignore_index, count)
    rows = cross_entropy_rows(x, t, label_smoothing, ignore_index)
    if reduction == "none":
        return rows.reshape(target.shape) if input.ndim > 1 else rows.reshape(())
    return _reduce(rows, reduction, "cross_entropy")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities (N, C) at class indices (N,)."""
    if weight is not None:
        raise ValueError("nll_loss: class weights are not supported; pass weight=None")
    x, t = _class_last(input, target, "nll_loss")
    count = _check_targets(t, x.shape[1], ignore_index, "nll_loss")
    keep = (t != ignore_index)
    safe = t * keep.long()
    picked = -x[Tensor._wrap(x.kernels.arange(0, x.shape[0], 1, np.int64), x.device, None, 0),
                safe] * keep.to(dtype=x.dtype)
    if reduction == "mean":
        if isinstance(count, Tensor):
            return picked.sum() / count.to(dtype=picked.dtype)
        return picked.sum() / count if count else picked.sum() * float("nan")
    if reduction == "none":
        return picked.reshape(target.shape) if input.ndim > 1 else picked.reshape(())
    return _reduce(picked, reduction, "nll_loss")


def _check_same_shape(input, target, name):
    if input.shape != target.shape:
        raise ValueError(f"{name}: input of shape {input.shape} and target of shape "
                         f"{target.shape} must match")


def mse_loss(input, target, reduction="mean"):
    _check_same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    _check_same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """BCE on logits, stable for large |x|: with p = pos_weight,
    loss = (1 - y) * x + (1 + (p - 1) * y) * (log(1 + exp(-|x|)) + max(-x, 0))."""
    _check_same_shape(input, target, "binary_cross_entropy_with_logits")
    softplus_neg = (1 + (-input.abs()).exp()).log() + (-input).relu()
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def dropout(input, p=0.5, training=True, generator=None):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    gen = (generator or default_generator).numpy
    shape, np_dtype = input.shape, input.dtype.np
    mask = random_tensor(lambda: (gen.random(shape) >= p).astype(np_dtype) / (1.0 - p),
                       input.dtype, input.device)
    return input * mask


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over all dims but the channel dim 1 (PyTorch's semantics:
    the running variance is updated with the unbiased batch variance)."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2 dims (N, C, ...), got {input.shape}")
    c = input.shape[1]
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        n = input.numel() // c
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {input.shape}")
        mean = input.mean(dims)
        var = input.var(dims, unbiased=False)
        if running_mean is not None:
            with no_grad():
                running_mean.copy_(running_mean * (1 - momentum) + mean * momentum)
                running_var.copy_(running_var * (1 - momentum) + var * (momentum * n / (n - 1)))
    else:
        mean, var = running_mean, running_var
    out = (input - mean.reshape(shape)) / (var.reshape(shape) + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out
