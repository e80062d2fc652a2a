"""Device functions: the scalar math of ``kernels.scalar`` and the op-code switches.

``kernels/scalar.py`` holds each op's math once, as plain Python compiled by Numba;
here the same Python functions are compiled again as CUDA device functions, so the
CPU and the GPU share one definition of every op and every derivative. The CPU's
vectorizable exp/log/tanh/sigmoid/GELU (``kernels.vmath``) are rebound to the GPU's native
functions, which are fast there.
"""
import types

from numba import cuda

from .. import opcodes as op
from .. import scalar as s
from .. import vmath
from ._launch import device

_NATIVE = {name: device(fn) for name, fn in vmath.NATIVE.items()}


def _dev(fn):
    py = fn.py_func
    rebound = types.FunctionType(py.__code__, {**py.__globals__, **_NATIVE}, py.__name__,
                                 py.__defaults__, py.__closure__)
    rebound.__qualname__ = py.__qualname__
    return device(rebound)


neg, exp, log, sqrt, abs_, tanh = map(_dev, (s.neg, s.exp, s.log, s.sqrt, s.abs_, s.tanh))
sigmoid, relu, gelu, clamp, sign = map(_dev, (s.sigmoid, s.relu, s.gelu, s.clamp, s.sign))
neg_grad, exp_grad, log_grad, sqrt_grad = map(_dev, (s.neg_grad, s.exp_grad, s.log_grad,
                                                     s.sqrt_grad))
abs_grad, tanh_grad, sigmoid_grad = map(_dev, (s.abs_grad, s.tanh_grad, s.sigmoid_grad))
relu_grad, gelu_grad, clamp_grad, zero_grad = map(_dev, (s.relu_grad, s.gelu_grad,
                                                         s.clamp_grad, s.zero_grad))
add, sub, mul, div, pow_, maximum, minimum = map(_dev, (s.add, s.sub, s.mul, s.div, s.pow_,
                                                        s.maximum, s.minimum))
first_grad, neg_first_grad = _dev(s.first_grad), _dev(s.neg_first_grad)
window_taps, adaptive_window = _dev(s.window_taps), _dev(s.adaptive_window)
mul_grad_x, mul_grad_y, div_grad_x, div_grad_y = map(_dev, (s.mul_grad_x, s.mul_grad_y,
                                                            s.div_grad_x, s.div_grad_y))
pow_grad_x, pow_grad_y = _dev(s.pow_grad_x), _dev(s.pow_grad_y)
maximum_grad_x, maximum_grad_y = _dev(s.maximum_grad_x), _dev(s.maximum_grad_y)
minimum_grad_x, minimum_grad_y = _dev(s.minimum_grad_x), _dev(s.minimum_grad_y)
eq, ne, lt, le, gt, ge = map(_dev, (s.eq, s.ne, s.lt, s.le, s.gt, s.ge))


# The op code is the same for every thread of a launch, so these branches never
# diverge within a warp.
@device
def binary_op(code, x, y):
    if code == op.ADD:
        return add(x, y)
    if code == op.SUB:
        return sub(x, y)
    if code == op.MUL:
        return mul(x, y)
    if code == op.DIV:
        return div(x, y)
    if code == op.POW:
        return pow_(x, y)
    if code == op.MAXIMUM:
        return maximum(x, y)
    return minimum(x, y)


@device
def compare_op(code, x, y):
    if code == op.EQ:
        return eq(x, y)
    if code == op.NE:
        return ne(x, y)
    if code == op.LT:
        return lt(x, y)
    if code == op.LE:
        return le(x, y)
    if code == op.GT:
        return gt(x, y)
    return ge(x, y)


@device
def binary_grad_x(code, x, y, g):
    if code == op.ADD or code == op.SUB:
        return first_grad(x, y, g)
    if code == op.MUL:
        return mul_grad_x(x, y, g)
    if code == op.DIV:
        return div_grad_x(x, y, g)
    if code == op.POW:
        return pow_grad_x(x, y, g)
    if code == op.MAXIMUM:
        return maximum_grad_x(x, y, g)
    return minimum_grad_x(x, y, g)


@device
def binary_grad_y(code, x, y, g):
    if code == op.ADD:
        return first_grad(x, y, g)
    if code == op.SUB:
        return neg_first_grad(x, y, g)
    if code == op.MUL:
        return mul_grad_y(x, y, g)
    if code == op.DIV:
        return div_grad_y(x, y, g)
    if code == op.POW:
        return pow_grad_y(x, y, g)
    if code == op.MAXIMUM:
        return maximum_grad_y(x, y, g)
    return minimum_grad_y(x, y, g)


@device
def unary_op(code, x, alpha, beta):
    if code == op.NEG:
        return neg(x, alpha, beta)
    if code == op.EXP:
        return exp(x, alpha, beta)
    if code == op.LOG:
        return log(x, alpha, beta)
    if code == op.SQRT:
        return sqrt(x, alpha, beta)
    if code == op.ABS:
        return abs_(x, alpha, beta)
    if code == op.TANH:
        return tanh(x, alpha, beta)
    if code == op.SIGMOID:
        return sigmoid(x, alpha, beta)
    if code == op.RELU:
        return relu(x, alpha, beta)
    if code == op.GELU:
        return gelu(x, alpha, beta)
    if code == op.CLAMP:
        return clamp(x, alpha, beta)
    return sign(x, alpha, beta)


@device
def unary_grad_op(code, x, y, g, alpha, beta):
    if code == op.NEG:
        return neg_grad(x, y, g, alpha, beta)
    if code == op.EXP:
        return exp_grad(x, y, g, alpha, beta)
    if code == op.LOG:
        return log_grad(x, y, g, alpha, beta)
    if code == op.SQRT:
        return sqrt_grad(x, y, g, alpha, beta)
    if code == op.ABS:
        return abs_grad(x, y, g, alpha, beta)
    if code == op.TANH:
        return tanh_grad(x, y, g, alpha, beta)
    if code == op.SIGMOID:
        return sigmoid_grad(x, y, g, alpha, beta)
    if code == op.RELU:
        return relu_grad(x, y, g, alpha, beta)
    if code == op.GELU:
        return gelu_grad(x, y, g, alpha, beta)
    if code == op.CLAMP:
        return clamp_grad(x, y, g, alpha, beta)
    return zero_grad(x, y, g, alpha, beta)


@device
def block_sum(shared, value):
    """Sum of ``value`` over the block by a shared-memory tree; valid in thread 0.

    ``shared`` holds at least blockDim.x entries; blockDim.x is a power of two.
    """
    tid = cuda.threadIdx.x
    shared[tid] = value
    cuda.syncthreads()  # every thread's value is in shared memory before any is added
    half = cuda.blockDim.x // 2
    while half > 0:
        if tid < half:
            shared[tid] += shared[tid + half]
        cuda.syncthreads()  # this round's sums are written before the next round reads them
        half //= 2
    return shared[0]


@device
def unravel4(i, n1, n2, n3):
    """(i0, i1, i2, i3) of flat position ``i`` in a C-ordered (., n1, n2, n3) array."""
    i3 = i % n3
    r = i // n3
    i2 = r % n2
    r = r // n2
    return r // n1, r % n1, i2, i3

