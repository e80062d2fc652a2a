"""Scalar math written once and inlined into every elementwise kernel.

Op codes (``opcodes.py``) are plain ints so that one compiled kernel serves a whole op family; the
branch on the code is loop-invariant, which LLVM hoists out of the element loop.
"""
import math

from numba import njit

from .opcodes import (ABS, ADD, CLAMP, DIV, EQ, EXP, GELU, GT, LE, LOG, LT, MAXIMUM, MUL,
                      NE, NEG, POW, RELU, SIGMOID, SQRT, SUB, TANH)

_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(inline="always", cache=True)
def binary_value(op, x, y):
    if op == ADD:
        return x + y
    if op == SUB:
        return x - y
    if op == MUL:
        return x * y
    if op == DIV:
        return x / y
    if op == POW:
        return x ** y
    if op == MAXIMUM:
        # NaN propagates, as in torch.maximum.
        return x if (x >= y or x != x) else y
    return x if (x <= y or x != x) else y


@njit(inline="always", cache=True)
def binary_grad_x(op, x, y, g):
    """d(x op y)/dx * g."""
    if op == ADD or op == SUB:
        return g
    if op == MUL:
        return g * y
    if op == DIV:
        return g / y
    if op == POW:
        if y == 0:
            return g * 0
        return g * y * x ** (y - 1)
    if op == MAXIMUM:
        return g if x > y else (g * 0.5 if x == y else g * 0)
    return g if x < y else (g * 0.5 if x == y else g * 0)


@njit(inline="always", cache=True)
def binary_grad_y(op, x, y, g):
    """d(x op y)/dy * g."""
    if op == ADD:
        return g
    if op == SUB:
        return -g
    if op == MUL:
        return g * x
    if op == DIV:
        return -g * x / (y * y)
    if op == POW:
        if x == 0 and y >= 0:
            return g * 0
        return g * x ** y * math.log(x)
    if op == MAXIMUM:
        return g if y > x else (g * 0.5 if x == y else g * 0)
    return g if y < x else (g * 0.5 if x == y else g * 0)


@njit(inline="always", cache=True)
def compare_value(op, x, y):
    if op == EQ:
        return x == y
    if op == NE:
        return x != y
    if op == LT:
        return x < y
    if op == LE:
        return x <= y
    if op == GT:
        return x > y
    return x >= y


@njit(inline="always", cache=True)
def sigmoid(x):
    # Two branches keep exp() from overflowing for large |x|.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(inline="always", cache=True)
def unary_value(op, x, alpha, beta):
    if op == NEG:
        return -x
    if op == EXP:
        return math.exp(x)
    if op == LOG:
        return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)
    if op == SQRT:
        return math.sqrt(x) if x >= 0 else math.nan
    if op == ABS:
        return abs(x)
    if op == TANH:
        return math.tanh(x)
    if op == SIGMOID:
        return sigmoid(x)
    if op == RELU:
        return x if x > 0 else x * 0
    if op == GELU:
        return 0.5 * x * (1.0 + math.erf(x * _INV_SQRT_2))
    if op == CLAMP:
        return min(max(x, alpha), beta)
    return (x > 0) - (x < 0)


@njit(inline="always", cache=True)
def unary_grad(op, x, y, g, alpha, beta):
    """g * d op(x)/dx, given the input ``x`` and the forward output ``y``."""
    if op == NEG:
        return -g
    if op == EXP:
        return g * y
    if op == LOG:
        return g / x
    if op == SQRT:
        return g * 0.5 / y
    if op == ABS:
        return g * ((x > 0) - (x < 0))
    if op == TANH:
        return g * (1.0 - y * y)
    if op == SIGMOID:
        return g * y * (1.0 - y)
    if op == RELU:
        return g if x > 0 else g * 0
    if op == GELU:
        cdf = 0.5 * (1.0 + math.erf(x * _INV_SQRT_2))
        pdf = math.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return g * (cdf + x * pdf)
    if op == CLAMP:
        return g if (x >= alpha and x <= beta) else g * 0
    return g * 0
