"""Elementwise kernels with NumPy broadcasting over rank-4 operands (CUDA).

Same contract as ``kernels/cpu/elementwise.py``: operands are C-contiguous rank-4
arrays whose dims equal ``out``'s or are 1. One thread per output element,
grid-stride; a broadcast operand is read with stride 0 along its size-1 dims. When
every operand has the output's shape, a flat kernel skips the index arithmetic.
"""
from numba import cuda

from . import _device as d
from ._launch import DEFAULT_THREADS, kernel, launch


def flat(x):
    """``x`` as a 1-D view (device arrays are always C-contiguous here)."""
    return x.reshape(x.size)


def bstrides(x, shape):
    """Element strides of rank-4 ``x`` read at rank-4 ``shape``: 0 along broadcast dims."""
    n0, n1, n2, n3 = x.shape
    return (n1 * n2 * n3 if n0 == shape[0] else 0, n2 * n3 if n1 == shape[1] else 0,
            n3 if n2 == shape[2] else 0, 1 if n3 == shape[3] else 0)


@d.device
def _at(x, i0, i1, i2, i3, st):
    return x[i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3]]


@kernel
def _binary_flat(o, a, b, code):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        o[i] = d.binary_op(code, a[i], b[i])
        i += step


@kernel
def _binary4(o, a, b, code, dims, sa, sb):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        i0, i1, i2, i3 = d.unravel4(i, dims[0], dims[1], dims[2])
        o[i] = d.binary_op(code, _at(a, i0, i1, i2, i3, sa), _at(b, i0, i1, i2, i3, sb))
        i += step


@kernel
def _compare_flat(o, a, b, code):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        o[i] = d.compare_op(code, a[i], b[i])
        i += step


@kernel
def _compare4(o, a, b, code, dims, sa, sb):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        i0, i1, i2, i3 = d.unravel4(i, dims[0], dims[1], dims[2])
        o[i] = d.compare_op(code, _at(a, i0, i1, i2, i3, sa), _at(b, i0, i1, i2, i3, sb))
        i += step


def _elementwise(flat_kernel, kernel4, out, a, b, code, threads):
    shape = out.shape
    o = flat(out)
    if a.shape == shape and b.shape == shape:
        launch(flat_kernel, o.size, threads, o, flat(a), flat(b), code)
    else:
        launch(kernel4, o.size, threads, o, flat(a), flat(b), code, shape[1:],
               bstrides(a, shape), bstrides(b, shape))


def binary(out, a, b, code, threads=DEFAULT_THREADS):
    """out = a <op> b with broadcasting; ``code`` an ``opcodes`` arithmetic code.
    One thread per output element. Shapes: out, a, b rank 4."""
    _elementwise(_binary_flat, _binary4, out, a, b, code, threads)


def compare(out, a, b, code, threads=DEFAULT_THREADS):
    """out (bool) = a <cmp> b with broadcasting; ``code`` an ``opcodes`` comparison."""
    _elementwise(_compare_flat, _compare4, out, a, b, code, threads)


@kernel
def _binary_grad(ga, gb, g, a, b, code, dims, sa, sb):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < g.size:
        i0, i1, i2, i3 = d.unravel4(i, dims[0], dims[1], dims[2])
        x, y = _at(a, i0, i1, i2, i3, sa), _at(b, i0, i1, i2, i3, sb)
        if ga.size:
            ga[i] = d.binary_grad_x(code, x, y, g[i])
        if gb.size:
            gb[i] = d.binary_grad_y(code, x, y, g[i])
        i += step


def binary_grad(grad_a, grad_b, grad_out, a, b, code, threads=DEFAULT_THREADS):
    """grad_a = g * d(a op b)/da, grad_b = g * d(a op b)/db at the broadcast shape.

    grad_a, grad_b, grad_out rank 4 of the output shape; an empty grad array means
    that input needs no gradient. One thread per output element.
    """
    shape = grad_out.shape
    launch(_binary_grad, grad_out.size, threads, flat(grad_a), flat(grad_b), flat(grad_out),
           flat(a), flat(b), code, shape[1:], bstrides(a, shape), bstrides(b, shape))


@kernel
def _where(o, c, a, b, dims, sc, sa, sb):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        i0, i1, i2, i3 = d.unravel4(i, dims[0], dims[1], dims[2])
        if _at(c, i0, i1, i2, i3, sc):
            o[i] = _at(a, i0, i1, i2, i3, sa)
        else:
            o[i] = _at(b, i0, i1, i2, i3, sb)
        i += step


def where(out, cond, a, b, threads=DEFAULT_THREADS):
    """out = cond ? a : b with broadcasting of all three to ``out`` (rank 4)."""
    shape = out.shape
    launch(_where, out.size, threads, flat(out), flat(cond), flat(a), flat(b), shape[1:],
           bstrides(cond, shape), bstrides(a, shape), bstrides(b, shape))


@kernel
def _broadcast(o, x, dims, sx):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        i0, i1, i2, i3 = d.unravel4(i, dims[0], dims[1], dims[2])
        o[i] = _at(x, i0, i1, i2, i3, sx)
        i += step


def broadcast(out, x, threads=DEFAULT_THREADS):
    """out = x broadcast to out's shape (rank 4; x's dims equal out's or are 1)."""
    shape = out.shape
    launch(_broadcast, out.size, threads, flat(out), flat(x), shape[1:], bstrides(x, shape))


@kernel
def _unary(o, x, code, alpha, beta):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        o[i] = d.unary_op(code, x[i], alpha, beta)
        i += step


def unary(out, x, code, alpha, beta, threads=DEFAULT_THREADS):
    """out = f(x; alpha, beta) over flat arrays of one size."""
    launch(_unary, out.size, threads, out, x, code, alpha, beta)


@kernel
def _unary_grad(gx, g, x, y, code, alpha, beta):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < gx.size:
        gx[i] = d.unary_grad_op(code, x[i], y[i], g[i], alpha, beta)
        i += step


def unary_grad(grad_x, grad_out, x, out, code, alpha, beta, threads=DEFAULT_THREADS):
    """grad_x = grad_out * f'(x), with ``out`` = f(x) reused where cheaper; flat."""
    launch(_unary_grad, grad_x.size, threads, grad_x, grad_out, x, out, code, alpha, beta)


@kernel
def _cast(o, x):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        o[i] = x[i]
        i += step


def cast(out, x, threads=DEFAULT_THREADS):
    """out = x converted to out's dtype (nonzero -> True for bool); flat arrays."""
    launch(_cast, out.size, threads, out, x)


@kernel
def _fill(o, value):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        o[i] = value
        i += step


def fill(out, value, threads=DEFAULT_THREADS):
    """out[i] = value for every i; flat array."""
    launch(_fill, out.size, threads, out, value)


@kernel
def _axpy(o, x, alpha):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < o.size:
        o[i] += alpha * x[i]
        i += step


def axpy(out, x, alpha, threads=DEFAULT_THREADS):
    """out += alpha * x (gradient accumulation); flat arrays of one size."""
    launch(_axpy, out.size, threads, out, x, alpha)
