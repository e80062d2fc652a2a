"""Array-level building blocks over kernels, shared by forward and backward passes.

Everything here takes a kernel package ``k`` and raw C-contiguous device arrays and
returns new arrays; nothing records a graph. Shapes are checked here, in Python.
"""
import numpy as np

from kernels import opcodes

from .shapes import broadcast_shapes, contiguous_strides, rank4_plan, reduce_plan, reduced_shape

_STRIDE_DTYPE = np.int64


def _strided_args(shape, strides):
    """``shape`` and ``strides`` as the kernels' int64 vectors; a 0-d view is one element."""
    if not shape:
        shape, strides = (1,), (0,)
    return np.asarray(shape, _STRIDE_DTYPE), np.asarray(strides, _STRIDE_DTYPE)


def strided_copy(k, x, shape, strides, offset=0):
    """A new contiguous array of ``shape`` reading ``x``'s flat data at ``offset`` + strides."""
    out = k.empty(shape, x.dtype)
    if out.size:
        k.strided_gather(out.reshape(-1), x.reshape(-1), *_strided_args(shape, strides), offset)
    return out


def strided_write(k, out, x, shape, strides, offset=0):
    """Write ``x`` (of ``shape``) into ``out``'s flat data at ``offset`` + strides, in place:
    the inverse of ``strided_copy``. The positions must be distinct."""
    if x.size:
        k.strided_scatter(out.reshape(-1), x.reshape(-1), *_strided_args(shape, strides), offset)


def expand(k, x, shape):
    """``x`` broadcast to ``shape`` and materialized."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    plan = rank4_plan(shape, (x.shape,))
    if plan is not None:
        out4, (x4,) = plan
        out = k.empty(shape, x.dtype)
        if out.size:
            k.broadcast(out.reshape(out4), x.reshape(x4))
        return out
    lead = len(shape) - x.ndim
    src = contiguous_strides(tuple(x.shape))
    strides = [0] * lead + [0 if x.shape[i] == 1 and shape[lead + i] != 1 else src[i]
                            for i in range(x.ndim)]
    return strided_copy(k, x, tuple(shape), strides)


def permute(k, x, perm):
    """``x`` with its dims reordered by ``perm``, materialized."""
    if list(perm) == sorted(perm):
        return x
    src = contiguous_strides(tuple(x.shape))
    return strided_copy(k, x, tuple(x.shape[p] for p in perm), [src[p] for p in perm])


def cast(k, x, np_dtype):
    if x.dtype == np_dtype:
        return x
    out = k.empty(x.shape, np_dtype)
    k.cast(out.reshape(-1), x.reshape(-1))
    return out


def binary(k, op, a, b, out_dtype=None, name="binary op"):
    """``a <op> b`` with broadcasting, op an ``opcodes`` arithmetic or comparison code."""
    if a.shape == b.shape:  # the common case needs no broadcast plan
        shape = a.shape
        out4 = a4 = b4 = (1, 1, 1, a.size)
    else:
        shape = broadcast_shapes(name, a.shape, b.shape)
        a, b, (out4, (a4, b4)) = rank4(k, shape, a, b)
    out = k.empty(shape, a.dtype if out_dtype is None else out_dtype)
    if out.size:
        kernel = k.compare if op >= opcodes.EQ else k.binary
        kernel(out.reshape(out4), a.reshape(a4), b.reshape(b4), op)
    return out


def rank4(k, shape, *arrays):
    """A rank-4 plan for ``arrays`` at ``shape``; they are materialized in the rare case
    that needs more than four dims."""
    plan = rank4_plan(tuple(shape), tuple(x.shape for x in arrays))
    if plan is None:
        arrays = [expand(k, x, shape) for x in arrays]
        plan = rank4_plan(tuple(shape), (tuple(shape),) * len(arrays))
    return (*arrays, plan)


def where(k, cond, a, b):
    shape = broadcast_shapes("where", cond.shape, a.shape, b.shape)
    cond, a, b, (out4, (c4, a4, b4)) = rank4(k, shape, cond, a, b)
    out = k.empty(shape, a.dtype)
    if out.size:
        k.where(out.reshape(out4), cond.reshape(c4), a.reshape(a4), b.reshape(b4))
    return out


def unary(k, op, x, alpha=0.0, beta=0.0):
    out = k.empty(x.shape, x.dtype)
    k.unary(out.reshape(-1), x.reshape(-1), op, alpha, beta)
    return out


_SCALARS = {}
_SCALARS_MAX = 1024


def scalar_array(k, value, np_dtype):
    """A 0-d array holding ``value``, for a Python number mixed with a tensor.

    Filled by a kernel, not copied from the host: on a GPU a host copy would wait for
    every queued kernel. Arrays are cached per (backend, value, dtype): they are only
    ever read, and training code repeats the same few constants every step.
    """
    key = (k.NAME, type(value), value, np.dtype(np_dtype))
    out = _SCALARS.get(key)
    if out is None:
        if len(_SCALARS) >= _SCALARS_MAX:
            _SCALARS.clear()
        out = k.empty((), np_dtype)
        k.fill(out.reshape(1), value)
        _SCALARS[key] = out
    return out


def sum_dims(k, x, dims, keepdim=False, scale=1.0):
    """Sum of ``x`` over ``dims`` (scaled, so mean is one pass); ints and bools sum to int64."""
    shape = x.shape
    dims = tuple(sorted(dims))
    perm, (a, r, b) = reduce_plan(tuple(shape), dims)
    if perm is not None:
        # Reduce each run of adjacent dims in turn, innermost first: every pass reads
        # its input in place, where permuting first would copy the whole input.
        runs = [[dims[0]]]
        for d in dims[1:]:
            if d == runs[-1][-1] + 1:
                runs[-1].append(d)
            else:
                runs.append([d])
        for i, run in enumerate(reversed(runs)):
            x = sum_dims(k, x, run, keepdim=True, scale=scale if i == len(runs) - 1 else 1.0)
        return x.reshape(reduced_shape(shape, set(dims), keepdim))
    out_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.int64)
    out = k.empty((a, b), out_dtype)
    k.sum_reduce(out, x.reshape(a, r, b), scale)
    return out.reshape(reduced_shape(shape, set(dims), keepdim))


def sum_to_shape(k, g, shape):
    """Sum a broadcast gradient ``g`` back to an input's ``shape``."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    dims = list(range(lead)) + [lead + i for i, n in enumerate(shape)
                                if n == 1 and g.shape[lead + i] != 1]
    return sum_dims(k, g, dims).reshape(shape)


def neg(k, x):
    return unary(k, opcodes.NEG, x)
