"""Matrix products: ``matmul`` (vectors, matrices, broadcast batches) and ``linear``."""
from math import prod

from kernels import opcodes

from ... import dtype as dt
from ...tensor import Tensor
from ..function import Function
from . import arrays
from .shapes import broadcast_shapes


def _as_batch3(k, x, batch):
    """``x`` (..., r, c) as (Bt, r, c), or (1, r, c) when its batch is all ones."""
    r, c = x.shape[-2:]
    if tuple(x.shape[:-2]) == tuple(batch):
        return x.reshape(prod(batch), r, c)
    if prod(x.shape[:-2]) == 1:
        return x.reshape(1, r, c)
    return arrays.expand(k, x, tuple(batch) + (r, c)).reshape(prod(batch), r, c)


class MatMul(Function):
    """a @ b for a (..., M, K) and b (..., K, N) with broadcast batch dims."""

    @staticmethod
    def forward(ctx, a, b):
        k = ctx.kernels
        batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
        a3, b3 = _as_batch3(k, a, batch), _as_batch3(k, b, batch)
        bt, m, n = prod(batch), a.shape[-2], b.shape[-1]
        out = k.empty((bt, m, n), a.dtype)
        k.matmul(out, a3, b3, False, False)
        ctx.save_for_backward(a3, b3)
        ctx.shapes = (a.shape, b.shape, tuple(batch))
        return out.reshape(tuple(batch) + (m, n))

    @staticmethod
    def backward(ctx, g):
        k = ctx.kernels
        a3, b3 = ctx.saved
        a_shape, b_shape, batch = ctx.shapes
        bt = prod(batch)
        g3 = g.reshape(bt, g.shape[-2], g.shape[-1])
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = _batched_grad(k, g3, b3, a3.shape[0], bt, lhs=True)
            grad_a = arrays.sum_to_shape(k, grad_a.reshape(_full(a_shape, batch, bt, a3)),
                                         a_shape)
        if need_b:
            grad_b = _batched_grad(k, a3, g3, b3.shape[0], bt, lhs=False)
            grad_b = arrays.sum_to_shape(k, grad_b.reshape(_full(b_shape, batch, bt, b3)),
                                         b_shape)
        return grad_a, grad_b


def _full(shape, batch, bt, x3):
    """The shape a gradient computed for ``x3`` has before summing back to ``shape``."""
    return tuple(batch) + tuple(shape[-2:]) if x3.shape[0] == bt and bt != 1 else shape


def _batched_grad(k, p, q, want_batch, bt, lhs):
    """grad_a = g @ b^T (lhs) or grad_b = a^T @ g, for an operand of batch ``want_batch``.

    When the operand was broadcast over the batch (batch 1 of bt), the gradient sums
    over the batch: for grad_a with a shared b, sum g first then one GEMM; for
    grad_b with a shared b, one GEMM over the stacked rows of a and g.
    """
    if want_batch == bt:
        r, c = (p.shape[1], q.shape[1]) if lhs else (p.shape[2], q.shape[2])
        out = k.empty((bt, r, c), p.dtype)
        k.matmul(out, p, q, not lhs, lhs)
        return out
    if lhs:  # a shared: sum_i g_i @ b_i^T
        if q.shape[0] == 1:
            p = arrays.sum_dims(k, p, (0,), keepdim=True)
            out = k.empty((1, p.shape[1], q.shape[1]), p.dtype)
            k.matmul(out, p, q, False, True)
            return out
        full = k.empty((bt, p.shape[1], q.shape[1]), p.dtype)
        k.matmul(full, p, q, False, True)
        return arrays.sum_dims(k, full, (0,), keepdim=True)
    # b shared: sum_i a_i^T @ g_i
    if p.shape[0] == bt:
        rows = p.reshape(1, bt * p.shape[1], p.shape[2])
        g_rows = q.reshape(1, bt * q.shape[1], q.shape[2])
        out = k.empty((1, p.shape[2], q.shape[2]), p.dtype)
        k.matmul(out, rows, g_rows, True, False)
        return out
    full = k.empty((bt, p.shape[2], q.shape[2]), p.dtype)
    k.matmul(full, p, q, True, False)
    return arrays.sum_dims(k, full, (0,), keepdim=True)


def matmul(a, b):
    """Matrix product with NumPy/PyTorch semantics for 1-D, 2-D and batched operands."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected two Tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    dtype = dt.promote(a.dtype, b.dtype)
    if dtype is dt.bool_:
        raise TypeError("matmul: not supported for bool tensors")
    a, b = a.to(dtype=dtype), b.to(dtype=dtype)
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                         f"({k_a} != {k_b})")
    squeeze = []
    if a.ndim == 1:
        a = a.reshape(1, -1)
        squeeze.append(-2)
    if b.ndim == 1:
        b = b.reshape(-1, 1)
        squeeze.append(-1)
    out = MatMul.apply(a, b)
    if squeeze:
        shape = list(out.shape)
        for d in sorted(squeeze):
            shape[d] = None
        out = out.reshape(tuple(n for n in shape if n is not None))
    return out


class Linear(Function):
    """y = x @ W^T + b for x (R, in), W (out, in), b (out,) or None: one GEMM each way."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        k = ctx.kernels
        rows, features = x.shape[0], weight.shape[0]
        out = k.empty((1, rows, features), x.dtype)
        k.matmul(out, x.reshape(1, rows, -1), weight.reshape(1, features, -1), False, True)
        if bias is not None:
            view = out.reshape(1, 1, rows, features)
            k.binary(view, view, bias.reshape(1, 1, 1, features), opcodes.ADD)
        ctx.save_for_backward(x, weight)
        return out.reshape(rows, features)

    @staticmethod
    def backward(ctx, g):
        k = ctx.kernels
        x, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        g3 = g.reshape(1, g.shape[0], g.shape[1])
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = k.empty((1,) + x.shape, g.dtype)
            k.matmul(grad_x, g3, weight.reshape((1,) + weight.shape), False, False)
            grad_x = grad_x.reshape(x.shape)
        if need_w:
            grad_w = k.empty((1,) + weight.shape, g.dtype)
            k.matmul(grad_w, g3, x.reshape((1,) + x.shape), True, False)
            grad_w = grad_w.reshape(weight.shape)
        if need_b:
            grad_b = arrays.sum_dims(k, g, (0,))
        return grad_x, grad_w, grad_b


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` over the last dim of ``x`` (any leading dims)."""
    if x.ndim == 0:
        raise ValueError("linear: input must have at least 1 dimension")
    if weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                         f"{weight.shape} (expected input[..., {weight.shape[-1]}] and "
                         f"weight (out_features, in_features))")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} does not match weight of "
                         f"shape {weight.shape} (expected ({weight.shape[0]},))")
    if x.dtype is not weight.dtype or (bias is not None and bias.dtype is not weight.dtype):
        raise TypeError(f"linear: dtypes differ: input {x.dtype!r}, weight {weight.dtype!r}"
                        + (f", bias {bias.dtype!r}" if bias is not None else ""))
    lead = x.shape[:-1]
    out = Linear.apply(x.reshape(-1, x.shape[-1]), weight, bias)
    return out.reshape(lead + (weight.shape[0],))
