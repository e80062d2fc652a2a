"""Optimizer updates: one in-place kernel per parameter and step (PyTorch's rules)."""
import math

import numpy as np
from numba import njit, prange

from ._compile import cpu_kernel

inline = njit(inline="always", cache=True, error_model="numpy")


@cpu_kernel(size_arg=0)
def sgd_step(param, grad, momentum_buf, lr, momentum, dampening, nesterov, weight_decay,
             first_step):
    """SGD with momentum, dampening, Nesterov and L2 weight decay, in place.

    d = g + wd*p; buf = d (first step) or momentum*buf + (1-dampening)*d;
    d = d + momentum*buf (Nesterov) or buf; p -= lr*d. ``momentum_buf`` is empty
    when momentum is 0. Loop nest: for i in prange(n). All arrays flat, one size.
    Coefficients take the parameter's dtype, so float32 stays float32 and vectorizes.
    """
    t = param.dtype.type
    lr, momentum, weight_decay = t(lr), t(momentum), t(weight_decay)
    keep = t(1.0 - dampening)
    use_buf = momentum_buf.size > 0
    for i in prange(param.size):
        d = grad[i] + weight_decay * param[i]
        if use_buf:
            b = d if first_step else momentum * momentum_buf[i] + keep * d
            momentum_buf[i] = b
            d = d + momentum * b if nesterov else b
        param[i] -= lr * d


@inline
def _adam_one(param, grad, exp_avg, exp_avg_sq, i, decay, l2, betas, eps, step_size,
              bias2_sqrt, v_floor):
    """One element's update; returns the new second moment (for AMSGrad's running max).

    ``betas`` = (b1, 1-b1, b2, 1-b2), precomputed in the parameter's dtype.
    """
    beta1, keep1, beta2, keep2 = betas
    p = param[i]
    g = grad[i] + l2 * p
    m = beta1 * exp_avg[i] + keep1 * g
    v = beta2 * exp_avg_sq[i] + keep2 * g * g
    exp_avg[i] = m
    exp_avg_sq[i] = v
    v_hat = max(v_floor, v)
    param[i] = p * decay - step_size * m / (math.sqrt(v_hat) / bias2_sqrt + eps)
    return v_hat


# The parallel build of this loop vectorizes where the serial one does not (measured on
# 401K float32 parameters, 2 threads: 0.12 ms parallel, 1.32 ms serial; at 64K: 18 us vs
# 242 us), which outweighs waking the thread pool well below the default threshold.
@cpu_kernel(size_arg=0, parallel_min=1 << 13)
def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, decoupled):
    """Adam (``decoupled`` False, L2 decay) or AdamW (decoupled decay), in place.

    m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; (AMSGrad: vmax = max(vmax, v));
    p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). ``max_exp_avg_sq`` is empty
    without AMSGrad. Loop nest: for i in prange(n). All arrays flat, one size. The
    options become coefficients and one branch outside the loop, and the coefficients
    take the parameter's dtype (float32 math for float32 parameters, as in PyTorch), so
    the loop vectorizes.
    """
    t = param.dtype.type
    bias2_sqrt = t(math.sqrt(1.0 - beta2 ** step))
    step_size = t(lr / (1.0 - beta1 ** step))
    decay = t(1.0 - lr * weight_decay if decoupled else 1.0)
    l2 = t(0.0 if decoupled else weight_decay)
    betas = (t(beta1), t(1.0 - beta1), t(beta2), t(1.0 - beta2))
    eps = t(eps)
    if max_exp_avg_sq.size > 0:
        for i in prange(param.size):
            max_exp_avg_sq[i] = _adam_one(param, grad, exp_avg, exp_avg_sq, i, decay, l2,
                                          betas, eps, step_size, bias2_sqrt,
                                          max_exp_avg_sq[i])
    else:
        for i in prange(param.size):
            _adam_one(param, grad, exp_avg, exp_avg_sq, i, decay, l2, betas, eps,
                      step_size, bias2_sqrt, t(0.0))


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
