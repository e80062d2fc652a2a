"""Cross-entropy fused with log-softmax: one pass forward, one pass backward.

Rows are independent; threads split them. Each row subtracts its max before exp().
"""
import math

from numba import njit, prange

from ._compile import cpu_kernel


@njit(cache=True)
def _check_targets(target, n_classes, ignore_index):
    # A serial pass of its own: raising inside a prange loop would make it serial.
    for n in range(target.size):
        t = target[n]
        if t != ignore_index and (t < 0 or t >= n_classes):
            raise IndexError("cross_entropy: a target is out of range [0, number of classes)")


@cpu_kernel(size_arg=2)
def cross_entropy(loss, lse, x, target, label_smoothing, ignore_index):
    """loss[n] = -(1-e) * logp[n, t] - e/C * sum_c logp[n, c], logp = x - logsumexp(x[n]).

    Rows whose target equals ``ignore_index`` get loss 0. ``lse`` keeps each row's
    logsumexp for the backward. Loop nest: for n in prange(N): max; sum exp; loss.
    Shapes: x (N, C); target (N,) int64; loss, lse (N,).
    """
    N, C = x.shape
    _check_targets(target, C, ignore_index)
    for n in prange(N):
        row = x[n]
        m = -math.inf
        for c in range(C):
            m = max(m, row[c])
        s = 0.0
        total = 0.0
        for c in range(C):
            s += math.exp(row[c] - m)
            total += row[c]
        z = m + math.log(s)
        lse[n] = z
        t = target[n]
        if t == ignore_index:
            loss[n] = 0.0
            continue
        loss[n] = (1.0 - label_smoothing) * (z - row[t]) + label_smoothing * (z - total / C)


@cpu_kernel(size_arg=0)
def cross_entropy_grad(grad_x, grad_loss, x, lse, target, label_smoothing, ignore_index):
    """grad_x[n, c] = grad_loss[n] * (softmax(x[n])[c] - (1-e)*[c == t] - e/C).

    Loop nest: for n in prange(N): for c in range(C). Shapes as in ``cross_entropy``.
    """
    N, C = x.shape
    for n in prange(N):
        gx, row = grad_x[n], x[n]
        t = target[n]
        if t == ignore_index:
            for c in range(C):
                gx[c] = 0
            continue
        g, z = grad_loss[n], lse[n]
        smooth = label_smoothing / C
        for c in range(C):
            gx[c] = g * (math.exp(row[c] - z) - smooth)
        gx[t] -= g * (1.0 - label_smoothing)
