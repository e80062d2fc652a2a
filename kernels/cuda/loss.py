"""Cross-entropy fused with log-softmax (CUDA): a thread per row forward, a thread
per logit backward. Each row subtracts its max before exp()."""
import math

from numba import cuda

from .. import opcodes
from ._launch import DEFAULT_THREADS, kernel, launch
from .elementwise import binary
from .memory import empty
from .reduce import sum_reduce


@kernel
def _cross_entropy(loss, lse, x, target, label_smoothing, ignore_index):
    N, C = x.shape
    n, step = cuda.grid(1), cuda.gridsize(1)
    while n < N:
        m = -math.inf
        for c in range(C):
            m = max(m, x[n, c])
        s = 0.0
        total = 0.0
        for c in range(C):
            s += math.exp(x[n, c] - m)
            total += x[n, c]
        z = m + math.log(s)
        lse[n] = z
        t = target[n]
        if t == ignore_index:
            loss[n] = 0.0
        else:
            loss[n] = ((1.0 - label_smoothing) * (z - x[n, t])
                       + label_smoothing * (z - total / C))
        n += step


def cross_entropy(loss, lse, x, target, label_smoothing, ignore_index, total, count,
                  threads=DEFAULT_THREADS):
    """loss[n] = -(1-e) * logp[n, t] - e/C * sum_c logp[n, c]; rows whose target is
    ``ignore_index`` get 0; ``lse`` keeps each row's logsumexp. When ``total`` is not
    empty, total[0] = the rows' sum, divided by count[0] when ``count`` is not empty,
    by this module's ``sum_reduce`` and ``binary`` kernels. Shapes: x (N, C);
    target (N,) int64; loss, lse (N,); total, count (1,) or (0,)."""
    launch(_cross_entropy, x.shape[0], threads, loss, lse, x, target, label_smoothing,
           ignore_index)
    if total.size:
        sum_reduce(total.reshape(1, 1), loss.reshape(1, loss.size, 1), 1.0, threads=threads)
        if count.size:
            view = total.reshape(1, 1, 1, 1)
            binary(view, view, count.reshape(1, 1, 1, 1), opcodes.DIV, threads=threads)


@kernel
def _cross_entropy_grad(grad_x, grad_loss, x, lse, target, label_smoothing, ignore_index):
    N, C = x.shape
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < N * C:
        n, c = i // C, i % C
        t = target[n]
        if t == ignore_index:
            grad_x[n, c] = 0
        else:
            g = grad_loss[n if grad_loss.size > 1 else 0]
            v = math.exp(x[n, c] - lse[n]) - label_smoothing / C
            if c == t:
                v -= 1.0 - label_smoothing
            grad_x[n, c] = g * v
        i += step


def cross_entropy_grad(grad_x, grad_loss, x, lse, target, label_smoothing, ignore_index,
                       count, threads=DEFAULT_THREADS):
    """grad_x[n, c] = grad_loss[n] * (softmax(x[n])[c] - (1-e)*[c == t] - e/C);
    grad_loss (N,), or (1,): one gradient for every row, then divided by count[0] when
    ``count`` (1,) is not empty."""
    if count.size:  # the divide as its own launch: the quotient rounded as the CPU's
        scaled = empty(grad_loss.shape, grad_loss.dtype)
        binary(scaled.reshape(1, 1, 1, -1), grad_loss.reshape(1, 1, 1, -1),
               count.reshape(1, 1, 1, 1), opcodes.DIV, threads=threads)
        grad_loss = scaled
    launch(_cross_entropy_grad, grad_x.size, threads, grad_x, grad_loss, x, lse, target,
           label_smoothing, ignore_index)
