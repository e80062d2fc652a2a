"""Softmax, log-softmax and logsumexp along R of ``(A, R, B)`` (CUDA).

One thread per (a, b) line, as lines in training are short (classes); each line
subtracts its maximum before exp() and accumulates in float64, as on the CPU.
"""
import math

from numba import cuda

from ._launch import DEFAULT_THREADS, device, kernel, launch


@device
def _line_max(x, a, b):
    """max over r of x[a, r, b] (-inf for an all -inf line)."""
    m = -math.inf
    for r in range(x.shape[1]):
        m = max(m, x[a, r, b])
    return m


@kernel
def _softmax(out, x, log_output):
    A, R, B = x.shape
    t, step = cuda.grid(1), cuda.gridsize(1)
    while t < A * B:
        a, b = t // B, t % B
        m = _line_max(x, a, b)
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
        t += step


def softmax(out, x, log_output, threads=DEFAULT_THREADS):
    """out = softmax(x) (or log_softmax when ``log_output``) along R; a thread per line."""
    A, R, B = x.shape
    launch(_softmax, A * B, threads, out, x, log_output)


@kernel
def _softmax_grad(grad_x, grad_out, out, log_output):
    A, R, B = out.shape
    t, step = cuda.grid(1), cuda.gridsize(1)
    while t < A * B:
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
        t += step


def softmax_grad(grad_x, grad_out, out, log_output, threads=DEFAULT_THREADS):
    """Backward of ``softmax`` from its output y: y * (g - sum g*y), or for
    log_softmax g - exp(y) * sum g. A thread per line; shapes all (A, R, B)."""
    A, R, B = out.shape
    launch(_softmax_grad, A * B, threads, grad_x, grad_out, out, log_output)


@kernel
def _logsumexp(out, x):
    A, R, B = x.shape
    t, step = cuda.grid(1), cuda.gridsize(1)
    while t < A * B:
        a, b = t // B, t % B
        m = _line_max(x, a, b)
        if m == -math.inf or m == math.inf:
            out[a, b] = m
        else:
            s = 0.0
            for r in range(R):
                s += math.exp(x[a, r, b] - m)
            out[a, b] = m + math.log(s)
        t += step


def logsumexp(out, x, threads=DEFAULT_THREADS):
    """out[a, b] = log sum_r exp(x[a, r, b]), stable; a thread per line."""
    A, R, B = x.shape
    launch(_logsumexp, A * B, threads, out, x)


@kernel
def _logsumexp_grad(grad_x, grad_out, x, out):
    A, R, B = x.shape
    t, step = cuda.grid(1), cuda.gridsize(1)
    while t < A * R * B:
        a, rest = t // (R * B), t % (R * B)
        b = rest % B
        grad_x[a, rest // B, b] = grad_out[a, b] * math.exp(x[a, rest // B, b] - out[a, b])
        t += step


def logsumexp_grad(grad_x, grad_out, x, out, threads=DEFAULT_THREADS):
    """grad_x[a, r, b] = grad_out[a, b] * exp(x[a, r, b] - out[a, b]); a thread per element."""
    launch(_logsumexp_grad, grad_x.size, threads, grad_x, grad_out, x, out)
