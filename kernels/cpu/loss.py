"""Cross-entropy fused with log-softmax: one pass forward, one pass backward.

Rows are independent; threads split them. Each row subtracts its max before exp(),
which is ``kernels.vmath``'s vectorizable one in the logits' dtype.
"""
import numpy as np
from numba import njit, prange

from ..irops import cast_like
from ..scalar import div
from ..vmath import vlog
from ._compile import cpu_kernel, dispatcher
from .reduce import _sum_rows, sum_reduce
from .softmax import PARALLEL_MIN_EXP, exp_shifted, line_max, line_sum

_sum_reduce_float = sum_reduce.float


@njit(cache=True, error_model="numpy")
def _check_targets(target, n_classes, ignore_index):
    # A serial pass of its own: raising inside a prange loop would make it serial.
    for n in range(target.size):
        t = target[n]
        if t != ignore_index and (t < 0 or t >= n_classes):
            raise IndexError("cross_entropy: a target is out of range [0, number of classes)")


@cpu_kernel(size_arg=2, parallel_min=PARALLEL_MIN_EXP)
def _rows(loss, lse, x, target, label_smoothing, ignore_index):
    """The per-row losses and logsumexps of ``cross_entropy``.

    Loop nest: for n in prange(N): max; exp into a scratch row; sums; loss.
    """
    N, C = x.shape
    _check_targets(target, C, ignore_index)
    scratch = np.empty_like(x)
    for n in prange(N):
        row = x[n]
        m = line_max(row)
        exp_shifted(scratch[n], row, m)
        z = m + vlog(line_sum(scratch[n]))
        row_sum = line_sum(row)
        lse[n] = z
        t = target[n]
        if t == ignore_index:
            loss[n] = 0.0
            continue
        loss[n] = (1.0 - label_smoothing) * (z - row[t]) + label_smoothing * (z - row_sum / C)


# Module-level names: the njit drivers below call the builds directly.
_rows_serial, _rows_parallel = _rows.serial, _rows.parallel


@njit(inline="always", cache=True, error_model="numpy")
def _divide(total, count):
    if count.size > 0:
        total[0] = div(total[0], count[0])


# The reduced loss (a mean or sum over the rows) in the same call: at batch 64 the sum
# and the divide as kernels of their own cost more than the rows' whole arithmetic.
# Each build is a driver of its own: the serial one must link no parallel code. A
# serial ``prange`` build that called ``sum_reduce.float`` (parallel loops inside)
# segfaulted when loaded from Numba's disk cache into a fresh process, whose threading
# layer nothing had started yet.
@njit(cache=True, error_model="numpy")
def _cross_entropy_serial(loss, lse, x, target, label_smoothing, ignore_index, total,
                          count):
    _rows_serial(loss, lse, x, target, label_smoothing, ignore_index)
    if total.size > 0:
        # ``sum_reduce``'s own path below its threshold, which a serial build's rows are
        # (fewer logits than PARALLEL_MIN_EXP), unless there are no classes: then every
        # row was ignored and every loss is 0, summed alike in any order.
        _sum_rows(total, loss.reshape(1, loss.size), 1.0, np.float64(0))
        _divide(total, count)


@njit(cache=True, error_model="numpy")
def _cross_entropy_parallel(loss, lse, x, target, label_smoothing, ignore_index, total,
                            count):
    _rows_parallel(loss, lse, x, target, label_smoothing, ignore_index)
    if total.size > 0:
        _sum_reduce_float(total.reshape(1, 1), loss.reshape(1, loss.size, 1), 1.0)
        _divide(total, count)


def cross_entropy(loss, lse, x, target, label_smoothing, ignore_index, total, count):
    """loss[n] = -(1-e) * logp[n, t] - e/C * sum_c logp[n, c], logp = x - logsumexp(x[n]).

    Rows whose target equals ``ignore_index`` get loss 0. ``lse`` keeps each row's
    logsumexp for the backward. When ``total`` is not empty, total[0] = the rows'
    sum (``sum_reduce``'s), divided by count[0] when ``count`` is not empty (a mean):
    bit for bit the ``sum_reduce`` and ``binary`` DIV kernels' results.
    Loop nest: for n in prange(N): max; exp into a scratch row; sums; loss.
    Shapes: x (N, C); target (N,) int64; loss, lse (N,); total, count (1,) or (0,).
    """
    # Name, signature and doc only: ``dispatcher`` below calls the two drivers instead.


cross_entropy = dispatcher(cross_entropy, _cross_entropy_serial, _cross_entropy_parallel,
                           size_arg=2, threshold=PARALLEL_MIN_EXP)


@cpu_kernel(size_arg=0, parallel_min=PARALLEL_MIN_EXP)
def cross_entropy_grad(grad_x, grad_loss, x, lse, target, label_smoothing, ignore_index,
                       count):
    """grad_x[n, c] = grad_loss[n] * (softmax(x[n])[c] - (1-e)*[c == t] - e/C).

    Loop nest: for n in prange(N): for c in range(C). Shapes as in ``cross_entropy``;
    grad_loss (N,), or (1,): one gradient for every row (a mean or sum of the rows),
    then divided by count[0] when ``count`` (1,) is not empty (a mean's backward).
    """
    N, C = x.shape
    each, has_count = grad_loss.size > 1, count.size > 0
    for n in prange(N):
        gx, row = grad_x[n], x[n]
        t = target[n]
        if t == ignore_index:
            for c in range(C):
                gx[c] = 0
            continue
        g, z = grad_loss[n] if each else grad_loss[0], lse[n]
        if has_count:  # rounded to g's dtype, as the DIV kernel's stored quotient
            g = cast_like(div(g, count[0]), g)
        smooth = label_smoothing / C
        exp_shifted(gx, row, cast_like(z, row[0]))  # float32 logits: float32 exp
        for c in range(C):
            gx[c] = g * (gx[c] - smooth)
        gx[t] -= g * (1.0 - label_smoothing)
