"""Cross-entropy fused with log-softmax (one kernel each way)."""
import numpy as np

from ... import dtype as dt
from ..function import Function


def _one_or_none(k, a, dtype):
    """``a`` (one element) as the kernels' (1,) argument, or an empty one for None."""
    return k.empty((0,), dtype) if a is None else a.reshape(1)


def _rows_forward(ctx, x, target, label_smoothing, ignore_index, total=None, count=None):
    """(per-row losses, per-row logsumexp) of the fused kernel, which also writes the
    rows' sum divided by ``count`` into ``total`` when given; keeps its parameters."""
    k = ctx.kernels
    rows = k.empty((x.shape[0],), x.dtype)
    lse = k.empty((x.shape[0],), np.float64)
    k.cross_entropy(rows, lse, x, target, label_smoothing, ignore_index,
                    _one_or_none(k, total, x.dtype), _one_or_none(k, count, x.dtype))
    ctx.params = (label_smoothing, ignore_index)
    return rows, lse


def _rows_backward(ctx, grad_rows, x, lse, target, count=None):
    """The logits' gradient for ``grad_rows`` ((N,), or (1,) for every row), divided by
    ``count`` (a 0-d array) when given."""
    k = ctx.kernels
    grad_x = k.empty(x.shape, grad_rows.dtype)
    k.cross_entropy_grad(grad_x, grad_rows, x, lse, target, *ctx.params,
                         _one_or_none(k, count, grad_rows.dtype))
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
    not (None: the sum), in one graph node and one kernel call each way. Three nodes
    (rows, sum, divide) took twice the time of PyTorch's whole call at batch 64, in
    Python, not in the kernels; the sum and divide as kernel calls of their own cost
    another ~10%. The arithmetic is the three nodes' own, bit for bit."""

    @staticmethod
    def forward(ctx, x, target, label_smoothing, ignore_index, count):
        total = ctx.kernels.empty((1,), x.dtype)
        _, lse = _rows_forward(ctx, x, target, label_smoothing, ignore_index, total, count)
        ctx.save_for_backward(x, lse, target, count)
        return total.reshape(())

    @staticmethod
    def backward(ctx, g):
        x, lse, target, count = ctx.saved
        # The divide's backward (g / count) and the sum's (one gradient for every row),
        # in the kernel.
        grad_x = _rows_backward(ctx, g.reshape(1), x, lse, target, count)
        return grad_x, None, None, None, None


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
