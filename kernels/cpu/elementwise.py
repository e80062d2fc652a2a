"""Elementwise kernels with NumPy broadcasting over rank-4 operands.

The framework coalesces every broadcast to at most four dimensions and passes each
operand as a C-contiguous rank-4 array whose dims either equal ``out``'s or are 1.
A dim of size 1 is read with stride 0, so broadcasting never copies. Fixing the rank
at four means one compiled kernel per dtype, whatever the tensors' ranks.
"""
from numba import njit, prange

from .. import scalar
from ._compile import cpu_kernel

_CHUNK = 8192


@njit(inline="always", cache=True)
def _bstrides(x, shape):
    """Element strides of rank-4 ``x`` read at ``shape``: 0 along broadcast dims."""
    s3 = 1 if x.shape[3] == shape[3] else 0
    s2 = x.shape[3] if x.shape[2] == shape[2] else 0
    s1 = x.shape[3] * x.shape[2] if x.shape[1] == shape[1] else 0
    s0 = x.shape[3] * x.shape[2] * x.shape[1] if x.shape[0] == shape[0] else 0
    return s0, s1, s2, s3


@njit(inline="always", cache=True)
def _offset(p, shape, st):
    """Offset into an operand with strides ``st`` of flat output position ``p``."""
    i3 = p % shape[3]
    r = p // shape[3]
    i2 = r % shape[2]
    r = r // shape[2]
    i1 = r % shape[1]
    i0 = r // shape[1]
    return i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3]


@cpu_kernel()
def binary(out, a, b, op):
    """out = a <op> b with broadcasting; op is a ``scalar`` arithmetic or comparison code.

    Loop nest: for chunk in prange(chunks): for row-run in chunk: for i in run:
    out[p] = op(a[pa], b[pb]). Shapes: out, a, b rank 4 (a, b broadcastable to out).
    Threads split the flat output into disjoint chunks.
    """
    shape = out.shape
    sa = _bstrides(a, shape)
    sb = _bstrides(b, shape)
    o, af, bf = out.reshape(-1), a.reshape(-1), b.reshape(-1)
    n = o.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        p, stop = c * _CHUNK, min(n, (c + 1) * _CHUNK)
        while p < stop:
            run = min(shape[3] - p % shape[3], stop - p)
            pa, pb = _offset(p, shape, sa), _offset(p, shape, sb)
            if op >= scalar.EQ:
                for k in range(run):
                    o[p + k] = scalar.compare_value(op, af[pa + k * sa[3]], bf[pb + k * sb[3]])
            else:
                for k in range(run):
                    o[p + k] = scalar.binary_value(op, af[pa + k * sa[3]], bf[pb + k * sb[3]])
            p += run


@cpu_kernel()
def binary_grad(grad_a, grad_b, grad_out, a, b, op):
    """grad_a = g * d(a op b)/da, grad_b = g * d(a op b)/db at the broadcast shape.

    Loop nest: for chunk in prange(chunks): for p in chunk: grad_a[p], grad_b[p].
    Shapes: grad_a, grad_b, grad_out rank 4 of the output shape (the framework sums
    them back to each input's shape); a, b broadcastable to it. An empty grad array
    (size 0) means that input needs no gradient.
    """
    shape = grad_out.shape
    sa = _bstrides(a, shape)
    sb = _bstrides(b, shape)
    ga, gb, g = grad_a.reshape(-1), grad_b.reshape(-1), grad_out.reshape(-1)
    af, bf = a.reshape(-1), b.reshape(-1)
    want_a, want_b = ga.size > 0, gb.size > 0
    n = g.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        p, stop = c * _CHUNK, min(n, (c + 1) * _CHUNK)
        while p < stop:
            run = min(shape[3] - p % shape[3], stop - p)
            pa, pb = _offset(p, shape, sa), _offset(p, shape, sb)
            for k in range(run):
                x, y = af[pa + k * sa[3]], bf[pb + k * sb[3]]
                if want_a:
                    ga[p + k] = scalar.binary_grad_x(op, x, y, g[p + k])
                if want_b:
                    gb[p + k] = scalar.binary_grad_y(op, x, y, g[p + k])
            p += run


@cpu_kernel()
def where(out, cond, a, b):
    """out = cond ? a : b with broadcasting of all three to ``out`` (rank 4).

    Loop nest: for chunk in prange(chunks): for p in chunk: out[p] = ...
    """
    shape = out.shape
    sc = _bstrides(cond, shape)
    sa = _bstrides(a, shape)
    sb = _bstrides(b, shape)
    o, cf, af, bf = out.reshape(-1), cond.reshape(-1), a.reshape(-1), b.reshape(-1)
    n = o.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        p, stop = c * _CHUNK, min(n, (c + 1) * _CHUNK)
        while p < stop:
            run = min(shape[3] - p % shape[3], stop - p)
            pc, pa, pb = _offset(p, shape, sc), _offset(p, shape, sa), _offset(p, shape, sb)
            for k in range(run):
                o[p + k] = af[pa + k * sa[3]] if cf[pc + k * sc[3]] else bf[pb + k * sb[3]]
            p += run


@cpu_kernel()
def unary(out, x, op, alpha, beta):
    """out = op(x; alpha, beta) over flat contiguous arrays of one size.

    Loop nest: for i in prange(n): out[i] = f(x[i]). Threads split i.
    """
    for i in prange(out.size):
        out[i] = scalar.unary_value(op, x[i], alpha, beta)


@cpu_kernel()
def unary_grad(grad_x, grad_out, x, out, op, alpha, beta):
    """grad_x = grad_out * op'(x), with ``out`` = op(x) reused where cheaper.

    Loop nest: for i in prange(n): grad_x[i] = ... ; all arrays flat, one size.
    """
    for i in prange(grad_x.size):
        grad_x[i] = scalar.unary_grad(op, x[i], out[i], grad_out[i], alpha, beta)


@cpu_kernel()
def cast(out, x):
    """out = x converted to out's dtype; flat arrays. for i in prange(n)."""
    for i in prange(out.size):
        out[i] = x[i]


@cpu_kernel()
def fill(out, value):
    """out[i] = value for every i; flat array. for i in prange(n)."""
    for i in prange(out.size):
        out[i] = value


@cpu_kernel()
def axpy(out, x, alpha):
    """out += alpha * x (gradient accumulation); flat arrays of one size."""
    for i in prange(out.size):
        out[i] += alpha * x[i]
