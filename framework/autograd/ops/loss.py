"""Cross-entropy fused with log-softmax (one kernel each way)."""
import numpy as np

from kernels import opcodes

from ... import dtype as dt
from ..function import Function
from . import arrays


class CrossEntropy(Function):
    """Per-row loss of logits (N, C) against class indices (N,)."""

    @staticmethod
    def forward(ctx, x, target, label_smoothing, ignore_index):
        k = ctx.kernels
        loss = k.empty((x.shape[0],), x.dtype)
        lse = k.empty((x.shape[0],), np.float64)
        k.cross_entropy(loss, lse, x, target, label_smoothing, ignore_index)
        ctx.save_for_backward(x, lse, target)
        ctx.params = (label_smoothing, ignore_index)
        return loss

    @staticmethod
    def backward(ctx, g):
        x, lse, target = ctx.saved
        grad_x = ctx.kernels.empty(x.shape, g.dtype)
        ctx.kernels.cross_entropy_grad(grad_x, g, x, lse, target, *ctx.params)
        return grad_x, None, None, None


class CrossEntropyReduced(Function):
    """The sum of the per-row losses, divided by ``count`` (a 0-d array: the mean) or
    not (None: the sum), in one graph node. Three nodes (rows, sum, divide) took twice
    the time of PyTorch's whole call at batch 64, in Python, not in the kernels. The
    arithmetic is the three nodes' own, bit for bit."""

    @staticmethod
    def forward(ctx, x, target, label_smoothing, ignore_index, count):
        k = ctx.kernels
        n = x.shape[0]
        rows = k.empty((n,), x.dtype)
        lse = k.empty((n,), np.float64)
        k.cross_entropy(rows, lse, x, target, label_smoothing, ignore_index)
        total = k.empty((1, 1), x.dtype)  # as Sum's forward: rows.sum()
        k.sum_reduce(total, rows.reshape(1, n, 1), 1.0)
        total = total.reshape(())
        if count is not None:
            total = arrays.binary(k, opcodes.DIV, total, count)
        ctx.save_for_backward(x, lse, target, count)
        ctx.params = (label_smoothing, ignore_index)
        return total

    @staticmethod
    def backward(ctx, g):
        x, lse, target, count = ctx.saved
        k = ctx.kernels
        if count is not None:
            g = arrays.binary(k, opcodes.DIV, g, count)  # the divide's backward: g / count
        grad_rows = g.reshape(1)  # the sum's backward: the kernel reads it for every row
        grad_x = k.empty(x.shape, g.dtype)
        k.cross_entropy_grad(grad_x, grad_rows, x, lse, target, *ctx.params)
        return grad_x, None, None, None, None


def cross_entropy_reduced(x, target, label_smoothing, ignore_index, count):
    """The sum of ``cross_entropy_rows`` / ``count`` (a 0-d tensor in x's dtype, or None
    for the plain sum), as a 0-d tensor."""
    if target.dtype is not dt.int64:
        target = target.to(dtype=dt.int64)
    # Integer targets never require grad: no detach() needed to keep them off the graph.
    return CrossEntropyReduced.apply(x, target, float(label_smoothing), int(ignore_index),
                                     count)


def cross_entropy_rows(x, target, label_smoothing, ignore_index):
    """Unreduced cross-entropy of (N, C) logits and (N,) int64 targets."""
    if target.dtype is not dt.int64:
        target = target.to(dtype=dt.int64)
    return CrossEntropy.apply(x, target.detach(), float(label_smoothing), int(ignore_index))
