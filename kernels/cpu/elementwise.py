"""Elementwise kernels with NumPy broadcasting over rank-4 operands.

The framework coalesces every broadcast to at most four dimensions and passes each
operand as a C-contiguous rank-4 array whose dims either equal ``out``'s or are 1.
A dim of size 1 is read with stride 0, so broadcasting never copies. Fixing the rank
at four means one compiled kernel per dtype, whatever the tensors' ranks.

Work is split into chunks of the flat output. Inside a chunk, each run along the last
dim is handed to a loop over *views* indexed from 0: Numba then drops its
negative-index checks and LLVM vectorizes the loop. The op code is branched on once
per run, outside the element loop, for the same reason; exp, log, tanh, sigmoid and
GELU vectorize too, as ``kernels.vmath`` writes them in plain arithmetic.

Numba's cache would key a kernel on this file only; ``kernels/_cache.py`` adds a digest
of every kernel source, so a change to ``scalar.py`` or ``vmath.py`` recompiles it too.
"""
from numba import njit, prange

from .. import opcodes as op
from .. import scalar as s
from ._compile import cpu_kernel

_CHUNK = 1 << 14
inline = njit(inline="always", cache=True, error_model="numpy")


@inline
def _nchunks(n):
    return (n + _CHUNK - 1) // _CHUNK


@inline
def _bstrides(x, shape):
    """Element strides of rank-4 ``x`` read at ``shape``: 0 along broadcast dims."""
    s3 = 1 if x.shape[3] == shape[3] else 0
    s2 = x.shape[3] if x.shape[2] == shape[2] else 0
    s1 = x.shape[3] * x.shape[2] if x.shape[1] == shape[1] else 0
    s0 = x.shape[3] * x.shape[2] * x.shape[1] if x.shape[0] == shape[0] else 0
    return s0, s1, s2, s3


@inline
def _run_view(x, p, shape, st, run):
    """The elements of operand ``x`` for the output run starting at flat position ``p``:
    ``run`` of them, or one when ``x`` is broadcast along the last dim."""
    i3 = p % shape[3]
    r = p // shape[3]
    i2 = r % shape[2]
    r = r // shape[2]
    start = (r // shape[1]) * st[0] + (r % shape[1]) * st[1] + i2 * st[2] + i3 * st[3]
    return x[start:start + (run if st[3] else 1)]


@inline
def _zip(o, a, b, f):
    """o[i] = f(a[i], b[i]), where a length-1 operand is a broadcast scalar.

    Of two operands at least one spans the run (the output is their broadcast).
    """
    n = o.size
    if a.size == n and b.size == n:
        for i in range(n):
            o[i] = f(a[i], b[i])
    elif a.size == n:
        bv = b[0]
        for i in range(n):
            o[i] = f(a[i], bv)
    else:
        av = a[0]
        for i in range(n):
            o[i] = f(av, b[i])


@inline
def _zip3(o, x, y, z, f):
    """o[i] = f(x[i], y[i], z[i]) where length-1 operands are broadcast (strided, scalar code)."""
    n = o.size
    dx, dy, dz = x.size > 1 or n == 1, y.size > 1 or n == 1, z.size > 1 or n == 1
    for i in range(n):
        o[i] = f(x[i * dx], y[i * dy], z[i * dz])


@inline
def _arith_run(o, a, b, code):
    if code == op.ADD:
        _zip(o, a, b, s.add)
    elif code == op.SUB:
        _zip(o, a, b, s.sub)
    elif code == op.MUL:
        _zip(o, a, b, s.mul)
    elif code == op.DIV:
        _zip(o, a, b, s.div)
    elif code == op.POW:
        _zip(o, a, b, s.pow_)
    elif code == op.MAXIMUM:
        _zip(o, a, b, s.maximum)
    else:
        _zip(o, a, b, s.minimum)


@inline
def _compare_run(o, a, b, code):
    if code == op.EQ:
        _zip(o, a, b, s.eq)
    elif code == op.NE:
        _zip(o, a, b, s.ne)
    elif code == op.LT:
        _zip(o, a, b, s.lt)
    elif code == op.LE:
        _zip(o, a, b, s.le)
    elif code == op.GT:
        _zip(o, a, b, s.gt)
    else:
        _zip(o, a, b, s.ge)


@inline
def _grad_x_run(o, x, y, g, code):
    if code == op.ADD or code == op.SUB:
        _zip3(o, x, y, g, s.first_grad)
    elif code == op.MUL:
        _zip3(o, x, y, g, s.mul_grad_x)
    elif code == op.DIV:
        _zip3(o, x, y, g, s.div_grad_x)
    elif code == op.POW:
        _zip3(o, x, y, g, s.pow_grad_x)
    elif code == op.MAXIMUM:
        _zip3(o, x, y, g, s.maximum_grad_x)
    else:
        _zip3(o, x, y, g, s.minimum_grad_x)


@inline
def _grad_y_run(o, x, y, g, code):
    if code == op.ADD:
        _zip3(o, x, y, g, s.first_grad)
    elif code == op.SUB:
        _zip3(o, x, y, g, s.neg_first_grad)
    elif code == op.MUL:
        _zip3(o, x, y, g, s.mul_grad_y)
    elif code == op.DIV:
        _zip3(o, x, y, g, s.div_grad_y)
    elif code == op.POW:
        _zip3(o, x, y, g, s.pow_grad_y)
    elif code == op.MAXIMUM:
        _zip3(o, x, y, g, s.maximum_grad_y)
    else:
        _zip3(o, x, y, g, s.minimum_grad_y)


@inline
def _select(c, x, y):
    return x if c else y


@cpu_kernel()
def binary(out, a, b, code):
    """out = a <op> b with broadcasting; ``code`` an ``opcodes`` arithmetic code.

    Loop nest: for chunk in prange(chunks): for run in chunk: for i in run:
    out[i] = f(a[i], b[i]). Shapes: out, a, b rank 4 (a, b broadcastable to out).
    Threads split the flat output into disjoint chunks.
    """
    shape = out.shape
    sa, sb = _bstrides(a, shape), _bstrides(b, shape)
    o, af, bf = out.reshape(-1), a.reshape(-1), b.reshape(-1)
    for c in prange(_nchunks(o.size)):
        p, stop = c * _CHUNK, min(o.size, (c + 1) * _CHUNK)
        while p < stop:
            run = min(shape[3] - p % shape[3], stop - p)
            _arith_run(o[p:p + run], _run_view(af, p, shape, sa, run),
                       _run_view(bf, p, shape, sb, run), code)
            p += run


@cpu_kernel()
def broadcast(out, x):
    """out = x broadcast to out's shape (rank 4; x's dims equal out's or are 1).

    Loop nest: for chunk in prange(chunks): for run in chunk: for i in run.
    """
    shape = out.shape
    sx = _bstrides(x, shape)
    o, xf = out.reshape(-1), x.reshape(-1)
    for c in prange(_nchunks(o.size)):
        p, stop = c * _CHUNK, min(o.size, (c + 1) * _CHUNK)
        while p < stop:
            run = min(shape[3] - p % shape[3], stop - p)
            ov, xv = o[p:p + run], _run_view(xf, p, shape, sx, run)
            if xv.size == run:
                for i in range(run):
                    ov[i] = xv[i]
            else:
                v = xv[0]
                for i in range(run):
                    ov[i] = v
            p += run


@cpu_kernel()
def compare(out, a, b, code):
    """out (bool) = a <cmp> b with broadcasting; ``code`` an ``opcodes`` comparison.

    Same loop nest, shapes and split as ``binary``.
    """
    shape = out.shape
    sa, sb = _bstrides(a, shape), _bstrides(b, shape)
    o, af, bf = out.reshape(-1), a.reshape(-1), b.reshape(-1)
    for c in prange(_nchunks(o.size)):
        p, stop = c * _CHUNK, min(o.size, (c + 1) * _CHUNK)
        while p < stop:
            run = min(shape[3] - p % shape[3], stop - p)
            _compare_run(o[p:p + run], _run_view(af, p, shape, sa, run),
                         _run_view(bf, p, shape, sb, run), code)
            p += run


@cpu_kernel(size_arg=2)
def binary_grad(grad_a, grad_b, grad_out, a, b, code):
    """grad_a = g * d(a op b)/da, grad_b = g * d(a op b)/db at the broadcast shape.

    Loop nest: for chunk in prange(chunks): for run in chunk: grad_a run, grad_b run.
    Shapes: grad_a, grad_b, grad_out rank 4 of the output shape (the framework sums
    them back to each input's shape); a, b broadcastable to it. An empty grad array
    (size 0) means that input needs no gradient.
    """
    shape = grad_out.shape
    sa, sb = _bstrides(a, shape), _bstrides(b, shape)
    ga, gb, g = grad_a.reshape(-1), grad_b.reshape(-1), grad_out.reshape(-1)
    af, bf = a.reshape(-1), b.reshape(-1)
    for c in prange(_nchunks(g.size)):
        p, stop = c * _CHUNK, min(g.size, (c + 1) * _CHUNK)
        while p < stop:
            run = min(shape[3] - p % shape[3], stop - p)
            av, bv = _run_view(af, p, shape, sa, run), _run_view(bf, p, shape, sb, run)
            if ga.size:
                _grad_x_run(ga[p:p + run], av, bv, g[p:p + run], code)
            if gb.size:
                _grad_y_run(gb[p:p + run], av, bv, g[p:p + run], code)
            p += run


@cpu_kernel()
def where(out, cond, a, b):
    """out = cond ? a : b with broadcasting of all three to ``out`` (rank 4).

    Loop nest: for chunk in prange(chunks): for run in chunk: for i in run.
    """
    shape = out.shape
    sc, sa, sb = _bstrides(cond, shape), _bstrides(a, shape), _bstrides(b, shape)
    o, cf, af, bf = out.reshape(-1), cond.reshape(-1), a.reshape(-1), b.reshape(-1)
    for c in prange(_nchunks(o.size)):
        p, stop = c * _CHUNK, min(o.size, (c + 1) * _CHUNK)
        while p < stop:
            run = min(shape[3] - p % shape[3], stop - p)
            _zip3(o[p:p + run], _run_view(cf, p, shape, sc, run),
                  _run_view(af, p, shape, sa, run), _run_view(bf, p, shape, sb, run), _select)
            p += run


@inline
def _map(o, x, f, alpha, beta):
    for i in range(o.size):
        o[i] = f(x[i], alpha, beta)


@inline
def _unary_run(o, x, code, alpha, beta):
    if code == op.NEG:
        _map(o, x, s.neg, alpha, beta)
    elif code == op.EXP:
        _map(o, x, s.exp, alpha, beta)
    elif code == op.LOG:
        _map(o, x, s.log, alpha, beta)
    elif code == op.SQRT:
        _map(o, x, s.sqrt, alpha, beta)
    elif code == op.ABS:
        _map(o, x, s.abs_, alpha, beta)
    elif code == op.TANH:
        _map(o, x, s.tanh, alpha, beta)
    elif code == op.SIGMOID:
        _map(o, x, s.sigmoid, alpha, beta)
    elif code == op.RELU:
        _map(o, x, s.relu, alpha, beta)
    elif code == op.GELU:
        _map(o, x, s.gelu, alpha, beta)
    elif code == op.CLAMP:
        _map(o, x, s.clamp, alpha, beta)
    else:
        _map(o, x, s.sign, alpha, beta)


@inline
def _map_grad(gx, g, x, y, f, alpha, beta):
    for i in range(gx.size):
        gx[i] = f(x[i], y[i], g[i], alpha, beta)


@inline
def _unary_grad_run(gx, g, x, y, code, alpha, beta):
    if code == op.NEG:
        _map_grad(gx, g, x, y, s.neg_grad, alpha, beta)
    elif code == op.EXP:
        _map_grad(gx, g, x, y, s.exp_grad, alpha, beta)
    elif code == op.LOG:
        _map_grad(gx, g, x, y, s.log_grad, alpha, beta)
    elif code == op.SQRT:
        _map_grad(gx, g, x, y, s.sqrt_grad, alpha, beta)
    elif code == op.ABS:
        _map_grad(gx, g, x, y, s.abs_grad, alpha, beta)
    elif code == op.TANH:
        _map_grad(gx, g, x, y, s.tanh_grad, alpha, beta)
    elif code == op.SIGMOID:
        _map_grad(gx, g, x, y, s.sigmoid_grad, alpha, beta)
    elif code == op.RELU:
        _map_grad(gx, g, x, y, s.relu_grad, alpha, beta)
    elif code == op.GELU:
        _map_grad(gx, g, x, y, s.gelu_grad, alpha, beta)
    elif code == op.CLAMP:
        _map_grad(gx, g, x, y, s.clamp_grad, alpha, beta)
    else:
        _map_grad(gx, g, x, y, s.zero_grad, alpha, beta)


@cpu_kernel()
def unary(out, x, code, alpha, beta):
    """out = f(x; alpha, beta) over flat contiguous arrays of one size.

    Loop nest: for chunk in prange(chunks): for i in chunk: out[i] = f(x[i]).
    """
    for c in prange(_nchunks(out.size)):
        lo, hi = c * _CHUNK, min(out.size, (c + 1) * _CHUNK)
        _unary_run(out[lo:hi], x[lo:hi], code, alpha, beta)


@cpu_kernel()
def unary_grad(grad_x, grad_out, x, out, code, alpha, beta):
    """grad_x = grad_out * f'(x), with ``out`` = f(x) reused where cheaper.

    Loop nest: for chunk in prange(chunks): for i in chunk. All arrays flat, one size.
    """
    for c in prange(_nchunks(grad_x.size)):
        lo, hi = c * _CHUNK, min(grad_x.size, (c + 1) * _CHUNK)
        _unary_grad_run(grad_x[lo:hi], grad_out[lo:hi], x[lo:hi], out[lo:hi], code,
                        alpha, beta)


@cpu_kernel()
def cast(out, x):
    """out = x converted to out's dtype (nonzero -> True for bool); flat arrays."""
    for c in prange(_nchunks(out.size)):
        lo, hi = c * _CHUNK, min(out.size, (c + 1) * _CHUNK)
        o, xs = out[lo:hi], x[lo:hi]
        for i in range(o.size):
            o[i] = xs[i]


@cpu_kernel()
def fill(out, value):
    """out[i] = value for every i; flat array."""
    for c in prange(_nchunks(out.size)):
        lo, hi = c * _CHUNK, min(out.size, (c + 1) * _CHUNK)
        o = out[lo:hi]
        for i in range(o.size):
            o[i] = value


@cpu_kernel()
def axpy(out, x, alpha):
    """out += alpha * x (gradient accumulation); flat arrays of one size."""
    for c in prange(_nchunks(out.size)):
        lo, hi = c * _CHUNK, min(out.size, (c + 1) * _CHUNK)
        o, xs = out[lo:hi], x[lo:hi]
        for i in range(o.size):
            o[i] += alpha * xs[i]
