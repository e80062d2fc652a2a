"""Optimizer updates (CUDA): one in-place kernel per parameter and step.

The host wrapper turns the options into coefficients of the parameter's dtype (float32
math for float32 parameters, as in PyTorch and the CPU kernels); a thread per element.
"""
import math

import numpy as np
from numba import cuda, float64

from . import _device as d
from ._launch import DEFAULT_THREADS, MAX_BLOCKS, MAX_THREADS, kernel, launch, run, tree_threads
from .memory import empty


@kernel
def _sgd(param, grad, buf, lr, momentum, weight_decay, keep, nesterov, first_step):
    use_buf = buf.size > 0
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < param.size:
        g = grad[i] + weight_decay * param[i]
        if use_buf:
            b = g if first_step else momentum * buf[i] + keep * g
            buf[i] = b
            g = g + momentum * b if nesterov else b
        param[i] -= lr * g
        i += step


def sgd_step(param, grad, momentum_buf, lr, momentum, dampening, nesterov, weight_decay,
             first_step, threads=DEFAULT_THREADS):
    """SGD with momentum, dampening, Nesterov and L2 weight decay, in place (see the
    CPU kernel for the rule). ``momentum_buf`` is empty when momentum is 0."""
    t = param.dtype.type
    launch(_sgd, param.size, threads, param, grad, momentum_buf, t(lr), t(momentum),
           t(weight_decay), t(1.0 - dampening), bool(nesterov), bool(first_step))


@kernel
def _adam(param, grad, exp_avg, exp_avg_sq, vmax, decay, l2, beta1, keep1, beta2, keep2,
          eps, step_size, bias2_sqrt):
    amsgrad = vmax.size > 0
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < param.size:
        p = param[i]
        g = grad[i] + l2 * p
        m = beta1 * exp_avg[i] + keep1 * g
        v = beta2 * exp_avg_sq[i] + keep2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(vmax[i], v)
            vmax[i] = v
        param[i] = p * decay - step_size * m / (math.sqrt(v) / bias2_sqrt + eps)
        i += step


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, decoupled, threads=DEFAULT_THREADS):
    """Adam (``decoupled`` False, L2 decay) or AdamW, in place; ``max_exp_avg_sq`` is
    empty without AMSGrad. Same rule and coefficients as the CPU kernel."""
    t = param.dtype.type
    launch(_adam, param.size, threads, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq,
           t(1.0 - lr * weight_decay if decoupled else 1.0),
           t(0.0 if decoupled else weight_decay), t(beta1), t(1.0 - beta1), t(beta2),
           t(1.0 - beta2), t(eps), t(lr / (1.0 - beta1 ** step)),
           t(math.sqrt(1.0 - beta2 ** step)))


@kernel
def _scale(out, alpha):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < out.size:
        out[i] *= alpha
        i += step


def scale(out, alpha, threads=DEFAULT_THREADS):
    """out *= alpha in place (gradient clipping); flat."""
    launch(_scale, out.size, threads, out, alpha)


@kernel
def _sum_squares_partial(partial, x):
    """partial[block] = sum of x[i]^2 over the block's grid-stride elements."""
    shared = cuda.shared.array(MAX_THREADS, float64)
    acc = 0.0
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < x.size:
        acc += float64(x[i]) * x[i]
        i += step
    total = d.block_sum(shared, acc)
    if cuda.threadIdx.x == 0:
        partial[cuda.blockIdx.x] = total


def sum_squares(out, x, threads=DEFAULT_THREADS):
    """out[0] = sum of x[i]^2 in float64 (for gradient norms); x flat, out (1,) float64.

    Two passes of the shared-memory tree: blocks write partial sums, then one block
    adds them.
    """
    threads = tree_threads(threads)
    blocks = max(1, min((x.size + threads - 1) // threads, MAX_BLOCKS, threads))
    partial = empty((blocks,), np.float64)
    run(_sum_squares_partial, blocks, threads, (partial, x))
    run(_sum_partials, 1, threads, (out, partial))


@kernel
def _sum_partials(out, partial):
    shared = cuda.shared.array(MAX_THREADS, float64)
    acc = 0.0
    i = cuda.threadIdx.x
    while i < partial.size:
        acc += partial[i]
        i += cuda.blockDim.x
    total = d.block_sum(shared, acc)
    if cuda.threadIdx.x == 0:
        out[0] = total
