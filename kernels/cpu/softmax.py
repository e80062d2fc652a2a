"""Softmax, log-softmax and logsumexp over the middle axis of ``(A, R, B)``.

Each (a, b) line is independent; threads split the A*B lines, and each line is
taken as a 1-D view so its loops index from 0. Every line subtracts its maximum
first so exp() never overflows, and accumulates in float64.
"""
import math

from numba import prange

from ._compile import cpu_kernel


@cpu_kernel(size_arg=1)
def softmax(out, x, log_output):
    """out = softmax(x) (or log_softmax when ``log_output``) along R.

    Loop nest: for (a, b) in prange(A*B): max over r; sum exp over r; write r.
    Shapes: out, x (A, R, B).
    """
    A, R, B = x.shape
    for t in prange(A * B):
        xs, os = x[t // B, :, t % B], out[t // B, :, t % B]
        m = -math.inf
        for r in range(R):
            m = max(m, xs[r])
        if m == -math.inf:
            m = 0.0
        s = 0.0
        for r in range(R):
            s += math.exp(xs[r] - m)
        if log_output:
            lse = m + math.log(s)
            for r in range(R):
                os[r] = xs[r] - lse
        else:
            inv = 1.0 / s
            for r in range(R):
                os[r] = math.exp(xs[r] - m) * inv


@cpu_kernel(size_arg=1)
def softmax_grad(grad_x, grad_out, out, log_output):
    """Backward of ``softmax`` from its output y.

    softmax: grad_x = y * (g - sum_r g*y); log_softmax: grad_x = g - exp(y) * sum_r g.
    Loop nest: for (a, b) in prange(A*B): reduce over r; write r. Shapes all (A, R, B).
    """
    A, R, B = out.shape
    for t in prange(A * B):
        a, b = t // B, t % B
        gx, g, y = grad_x[a, :, b], grad_out[a, :, b], out[a, :, b]
        s = 0.0
        if log_output:
            for r in range(R):
                s += g[r]
            for r in range(R):
                gx[r] = g[r] - math.exp(y[r]) * s
        else:
            for r in range(R):
                s += g[r] * y[r]
            for r in range(R):
                gx[r] = y[r] * (g[r] - s)


@cpu_kernel(size_arg=1)
def logsumexp(out, x):
    """out[a, b] = log sum_r exp(x[a, r, b]), stable for large inputs.

    Loop nest: for (a, b) in prange(A*B): max over r; sum exp over r.
    Shapes: x (A, R, B), out (A, B).
    """
    A, R, B = x.shape
    o = out.reshape(-1)
    for t in prange(A * B):
        xs = x[t // B, :, t % B]
        m = -math.inf
        for r in range(R):
            m = max(m, xs[r])
        if m == -math.inf or m == math.inf:
            o[t] = m
            continue
        s = 0.0
        for r in range(R):
            s += math.exp(xs[r] - m)
        o[t] = m + math.log(s)


@cpu_kernel(size_arg=0)
def logsumexp_grad(grad_x, grad_out, x, out):
    """grad_x[a, r, b] = grad_out[a, b] * exp(x[a, r, b] - out[a, b]).

    Loop nest: for (a, b) in prange(A*B): for r. Shapes: grad_x, x (A, R, B); others (A, B).
    """
    A, R, B = x.shape
    for t in prange(A * B):
        a, b = t // B, t % B
        gx, xs = grad_x[a, :, b], x[a, :, b]
        g, lse = grad_out[a, b], out[a, b]
        for r in range(R):
            gx[r] = g * math.exp(xs[r] - lse)
