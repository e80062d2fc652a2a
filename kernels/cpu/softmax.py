"""Softmax, log-softmax and logsumexp over the middle axis of ``(A, R, B)``.

Each (a, b) line is independent; threads split the A*B lines. Every line subtracts
its maximum first so exp() never overflows, and accumulates in float64.
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
        a, b = t // B, t % B
        m = -math.inf
        for r in range(R):
            m = max(m, x[a, r, b])
        if m == -math.inf:
            m = 0.0
        s = 0.0
        for r in range(R):
            s += math.exp(x[a, r, b] - m)
        if log_output:
            lse = m + math.log(s)
            for r in range(R):
                out[a, r, b] = x[a, r, b] - lse
        else:
            inv = 1.0 / s
            for r in range(R):
                out[a, r, b] = math.exp(x[a, r, b] - m) * inv


@cpu_kernel(size_arg=1)
def softmax_grad(grad_x, grad_out, out, log_output):
    """Backward of ``softmax`` from its output y.

    softmax: grad_x = y * (g - sum_r g*y); log_softmax: grad_x = g - exp(y) * sum_r g.
    Loop nest: for (a, b) in prange(A*B): reduce over r; write r. Shapes all (A, R, B).
    """
    A, R, B = out.shape
    for t in prange(A * B):
        a, b = t // B, t % B
        s = 0.0
        if log_output:
            for r in range(R):
                s += grad_out[a, r, b]
            for r in range(R):
                grad_x[a, r, b] = grad_out[a, r, b] - math.exp(out[a, r, b]) * s
        else:
            for r in range(R):
                s += grad_out[a, r, b] * out[a, r, b]
            for r in range(R):
                grad_x[a, r, b] = out[a, r, b] * (grad_out[a, r, b] - s)


@cpu_kernel(size_arg=1)
def logsumexp(out, x):
    """out[a, b] = log sum_r exp(x[a, r, b]), stable for large inputs.

    Loop nest: for (a, b) in prange(A*B): max over r; sum exp over r.
    Shapes: x (A, R, B), out (A, B).
    """
    A, R, B = x.shape
    o = out.reshape(-1)
    for t in prange(A * B):
        a, b = t // B, t % B
        m = -math.inf
        for r in range(R):
            m = max(m, x[a, r, b])
        if m == -math.inf or m == math.inf:
            o[t] = m
            continue
        s = 0.0
        for r in range(R):
            s += math.exp(x[a, r, b] - m)
        o[t] = m + math.log(s)


@cpu_kernel(size_arg=0)
def logsumexp_grad(grad_x, grad_out, x, out):
    """grad_x[a, r, b] = grad_out[a, b] * exp(x[a, r, b] - out[a, b]).

    Loop nest: for (a, b) in prange(A*B): for r. Shapes: grad_x, x (A, R, B); others (A, B).
    """
    A, R, B = x.shape
    for t in prange(A * B):
        a, b = t // B, t % B
        for r in range(R):
            grad_x[a, r, b] = grad_out[a, b] * math.exp(x[a, r, b] - out[a, b])
