"""Cross-entropy fused with log-softmax (one kernel each way)."""
import numpy as np

from kernels import opcodes

from ... import dtype as dt
from ..function import Function
from . import arrays


def _rows_forward(ctx, x, target, label_smoothing, ignore_index):
    """(per-row losses, per-row logsumexp) of the fused kernel; keeps its parameters."""
    k = ctx.kernels
    rows = k.empty((x.shape[0],), x.dtype)
    lse = k.empty((x.shape[0],), np.float64)
    k.cross_entropy(rows, lse, x, target, label_smoothing, ignore_index)
    ctx.params = (label_smoothing, ignore_index)
    return rows, lse


def _rows_backward(ctx, grad_rows, x, lse, target):
    """The logits' gradient for ``grad_rows`` ((N,), or (1,) for every row)."""
    grad_x = ctx.kernels.empty(x.shape, grad_rows.dtype)
    ctx.kernels.cross_entropy_grad(grad_x, grad_rows, x, lse, target, *ctx.params)
    return grad_x


class CrossEntropy(Function):
    """Per-row loss of logits (N, C) against class indices (N,)."""

    @staticmethod
    def forward(ctx, x, target, label_smoothing, ignore_index):
        loss, lse = _rows_forward(ctx, x, target, label_smoothing, ignore_index)
        ctx.save_for_backward(x, lse, target)
        return loss

    @staticmethod
    def backward(ctx, g):
        x, lse, target = ctx.saved
        return _rows_backward(ctx, g, x, lse, target), None, None, None


class CrossEntropyReduced(Function):
    """The sum of the per-row losses, divided by ``count`` (a 0-d array: the mean) or
    not (None: the sum), in one graph node. Three nodes (rows, sum, divide) took twice
    the time of PyTorch's whole call at batch 64, in Python, not in the kernels. The
    arithmetic is the three nodes' own, bit for bit."""

    @staticmethod
    def forward(ctx, x, target, label_smoothing, ignore_index, count):
        k = ctx.kernels
        n = x.shape[0]
        rows, lse = _rows_forward(ctx, x, target, label_smoothing, ignore_index)
        total = k.empty((1, 1), x.dtype)  # as Sum's forward: rows.sum()
        k.sum_reduce(total, rows.reshape(1, n, 1), 1.0)
        total = total.reshape(())
        if count is not None:
            total = arrays.binary(k, opcodes.DIV, total, count)
        ctx.save_for_backward(x, lse, target, count)
        return total

    @staticmethod
    def backward(ctx, g):
        x, lse, target, count = ctx.saved
        k = ctx.kernels
        if count is not None:
            g = arrays.binary(k, opcodes.DIV, g, count)  # the divide's backward: g / count
        # The sum's backward: a (1,) gradient the kernel reads for every row.
        return _rows_backward(ctx, g.reshape(1), x, lse, target), None, None, None, None


def cross_entropy_reduced(x, target, label_smoothing, ignore_index, count):
    """The sum of ``cross_entropy_rows`` / ``count`` (a 0-d tensor in x's dtype, or None
    for the plain sum), as a 0-d tensor."""
    # Integer targets never require grad: no detach() needed to keep them off the graph.
    return CrossEntropyReduced.apply(x, _int64(target), float(label_smoothing),
                                     int(ignore_index), count)


def cross_entropy_rows(x, target, label_smoothing, ignore_index):
    """Unreduced cross-entropy of (N, C) logits and (N,) int64 targets."""
    return CrossEntropy.apply(x, _int64(target).detach(), float(label_smoothing),
                              int(ignore_index))


def _int64(target):
    return target if target.dtype is dt.int64 else target.to(dtype=dt.int64)
