"""Scalar math written once and inlined into every elementwise kernel, on any target.

One small function per op, so that each is typed on its own and the element loops
that call them stay branch-free and vectorize. Unary functions take ``(x, alpha,
beta)``, their derivatives ``(x, y, g, alpha, beta)`` with y = f(x) and g the
incoming gradient; binary functions take ``(x, y)`` and their derivatives
``(x, y, g)``.

exp, log, tanh, sigmoid and GELU come from ``vmath``: arithmetic that vectorizes on the CPU,
rebound to the GPU's native functions by ``kernels/cuda``.
"""
import math

from numba import njit

from .vmath import vexp, vgelu, vgelu_slope, vlog, vsigmoid, vtanh


scalar = njit(inline="always", cache=True, error_model="numpy")


# ----- unary ---------------------------------------------------------------------
@scalar
def neg(x, alpha, beta):
    return -x


@scalar
def neg_grad(x, y, g, alpha, beta):
    return -g


@scalar
def exp(x, alpha, beta):
    return vexp(x)


@scalar
def exp_grad(x, y, g, alpha, beta):
    return g * y


@scalar
def log(x, alpha, beta):
    return vlog(x)


@scalar
def log_grad(x, y, g, alpha, beta):
    return g / x


@scalar
def sqrt(x, alpha, beta):
    return math.sqrt(x) if x >= 0 else math.nan


@scalar
def sqrt_grad(x, y, g, alpha, beta):
    return g * 0.5 / y


@scalar
def abs_(x, alpha, beta):
    return abs(x)


@scalar
def sign(x, alpha, beta):
    return int(x > 0) - int(x < 0)


@scalar
def abs_grad(x, y, g, alpha, beta):
    return g * (int(x > 0) - int(x < 0))


@scalar
def tanh(x, alpha, beta):
    return vtanh(x)


@scalar
def tanh_grad(x, y, g, alpha, beta):
    return g * (1.0 - y * y)


@scalar
def sigmoid(x, alpha, beta):
    return vsigmoid(x)


@scalar
def sigmoid_grad(x, y, g, alpha, beta):
    return g * y * (1.0 - y)


@scalar
def relu(x, alpha, beta):
    return x if x > 0 else x * 0


@scalar
def relu_grad(x, y, g, alpha, beta):
    return g if x > 0 else g * 0


@scalar
def gelu(x, alpha, beta):
    return vgelu(x)


@scalar
def gelu_grad(x, y, g, alpha, beta):
    return g * vgelu_slope(x)


@scalar
def clamp(x, alpha, beta):
    return min(max(x, alpha), beta)


@scalar
def clamp_grad(x, y, g, alpha, beta):
    return g if (x >= alpha and x <= beta) else g * 0


@scalar
def zero_grad(x, y, g, alpha, beta):
    return g * 0


# ----- binary --------------------------------------------------------------------
@scalar
def add(x, y):
    return x + y


@scalar
def sub(x, y):
    return x - y


@scalar
def mul(x, y):
    return x * y


@scalar
def div(x, y):
    return x / y


@scalar
def pow_(x, y):
    return x ** y


@scalar
def maximum(x, y):
    return x if (x >= y or x != x) else y  # NaN propagates, as in torch.maximum


@scalar
def minimum(x, y):
    return x if (x <= y or x != x) else y


@scalar
def first_grad(x, y, g):
    return g


@scalar
def neg_first_grad(x, y, g):
    return -g


@scalar
def mul_grad_x(x, y, g):
    return g * y


@scalar
def mul_grad_y(x, y, g):
    return g * x


@scalar
def div_grad_x(x, y, g):
    return g / y


@scalar
def div_grad_y(x, y, g):
    return -g * x / (y * y)


@scalar
def pow_grad_x(x, y, g):
    return g * 0 if y == 0 else g * y * x ** (y - 1)


@scalar
def pow_grad_y(x, y, g):
    if x == 0 and y >= 0:
        return g * 0
    return g * x ** y * math.log(x)


@scalar
def maximum_grad_x(x, y, g):
    # Ties split the gradient evenly, as PyTorch does.
    return g if x > y else (g * 0.5 if x == y else g * 0)


@scalar
def maximum_grad_y(x, y, g):
    return g if y > x else (g * 0.5 if x == y else g * 0)


@scalar
def minimum_grad_x(x, y, g):
    return g if x < y else (g * 0.5 if x == y else g * 0)


@scalar
def minimum_grad_y(x, y, g):
    return g if y < x else (g * 0.5 if x == y else g * 0)


@scalar
def eq(x, y):
    return x == y


@scalar
def ne(x, y):
    return x != y


@scalar
def lt(x, y):
    return x < y


@scalar
def le(x, y):
    return x <= y


@scalar
def gt(x, y):
    return x > y


@scalar
def ge(x, y):
    return x >= y


# ----- pooling windows -----------------------------------------------------------
@scalar
def window_taps(start, k, dilation, size):
    """[lo, hi): the taps t of a window whose input start + t*dilation is in [0, size)."""
    if dilation == 1:  # no integer division on the common path
        return min(k, max(0, -start)), max(min(k, max(0, -start)), min(k, size - start))
    lo = 0 if start >= 0 else min(k, (-start + dilation - 1) // dilation)
    last = size - 1 - start
    hi = min(k, last // dilation + 1) if last >= 0 else 0
    return lo, max(lo, hi)


@scalar
def adaptive_window(o, out_size, size):
    """[floor(o*size/out_size), ceil((o+1)*size/out_size)): PyTorch's adaptive window."""
    return (o * size) // out_size, ((o + 1) * size + out_size - 1) // out_size
