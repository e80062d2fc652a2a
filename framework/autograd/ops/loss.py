"""Cross-entropy fused with log-softmax (one kernel each way)."""
import numpy as np

from ... import dtype as dt
from ..function import Function


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


def cross_entropy_rows(x, target, label_smoothing, ignore_index):
    """Unreduced cross-entropy of (N, C) logits and (N,) int64 targets."""
    if target.dtype is not dt.int64:
        target = target.to(dtype=dt.int64)
    return CrossEntropy.apply(x, target.detach(), float(label_smoothing), int(ignore_index))
