"""Optimizer updates: one in-place kernel per parameter and step (PyTorch's rules)."""
import math

import numpy as np
from numba import prange

from ._compile import cpu_kernel


@cpu_kernel(size_arg=0)
def sgd_step(param, grad, momentum_buf, lr, momentum, dampening, nesterov, weight_decay,
             first_step):
    """SGD with momentum, dampening, Nesterov and L2 weight decay, in place.

    d = g + wd*p; buf = d (first step) or momentum*buf + (1-dampening)*d;
    d = d + momentum*buf (Nesterov) or buf; p -= lr*d. ``momentum_buf`` is empty
    when momentum is 0. Loop nest: for i in prange(n). All arrays flat, one size.
    """
    use_buf = momentum_buf.size > 0
    for i in prange(param.size):
        d = grad[i] + weight_decay * param[i]
        if use_buf:
            b = d if first_step else momentum * momentum_buf[i] + (1.0 - dampening) * d
            momentum_buf[i] = b
            d = d + momentum * b if nesterov else b
        param[i] -= lr * d


@cpu_kernel(size_arg=0)
def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, decoupled):
    """Adam (``decoupled`` False, L2 decay) or AdamW (decoupled decay), in place.

    m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; (AMSGrad: vmax = max(vmax, v));
    p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). ``max_exp_avg_sq`` is empty
    without AMSGrad. Loop nest: for i in prange(n). All arrays flat, one size.
    """
    bias1 = 1.0 - beta1 ** step
    bias2_sqrt = math.sqrt(1.0 - beta2 ** step)
    step_size = lr / bias1
    amsgrad = max_exp_avg_sq.size > 0
    for i in prange(param.size):
        g = grad[i]
        if decoupled:
            param[i] *= 1.0 - lr * weight_decay
        else:
            g = g + weight_decay * param[i]
        m = beta1 * exp_avg[i] + (1.0 - beta1) * g
        v = beta2 * exp_avg_sq[i] + (1.0 - beta2) * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] -= step_size * m / (math.sqrt(v) / bias2_sqrt + eps)


@cpu_kernel(size_arg=0)
def scale(out, alpha):
    """out *= alpha in place (gradient clipping). for i in prange(n); flat."""
    for i in prange(out.size):
        out[i] *= alpha


@cpu_kernel(size_arg=1)
def sum_squares(out, x):
    """out[0] = sum of x[i]^2 in float64 (for gradient norms). Flat x; out (1,) float64.

    Loop nest: for p in prange(16): partial sum of slice p; then add the partials.
    """
    n = x.size
    parts = 16
    partial = np.zeros(parts)
    for p in prange(parts):
        xs = x[p * n // parts:(p + 1) * n // parts]
        acc = 0.0
        for i in range(xs.size):
            acc += xs[i] * xs[i]
        partial[p] = acc
    out[0] = partial.sum()
