"""Elementwise kernels in float32, serial and parallel builds, against float64 NumPy.

Every op code of ``binary``, ``compare``, ``binary_grad``, ``unary`` and ``unary_grad``
is checked. The reference is computed in float64 from the very float32 inputs the
kernel gets, so only the kernel's own rounding (a few float32 ulps) is allowed.
"""
import numpy as np
import pytest
from refcheck import close32, f32
from scipy.special import erf

from kernels import opcodes as op

SHAPE = (2, 3, 91, 67)  # 36582 elements: three 16K chunks, runs cut by chunk ends
A_SHAPE, B_SHAPE = (2, 1, 91, 67), (1, 3, 1, 67)


def _operands(code, rng):
    a, b = rng.standard_normal(A_SHAPE), rng.standard_normal(B_SHAPE)
    if code == op.POW:
        a = np.abs(a) + 0.5
    elif code == op.DIV:
        b = np.sign(b) * (np.abs(b) + 0.5)
    elif code in (op.MAXIMUM, op.MINIMUM) or code >= op.EQ:
        a, b = np.round(a * 2) / 2, np.round(b * 2) / 2  # many exact ties
    return f32(a), f32(b)


_BINARY = {op.ADD: np.add, op.SUB: np.subtract, op.MUL: np.multiply, op.DIV: np.divide,
           op.POW: np.power, op.MAXIMUM: np.maximum, op.MINIMUM: np.minimum}
_COMPARE = {op.EQ: np.equal, op.NE: np.not_equal, op.LT: np.less, op.LE: np.less_equal,
            op.GT: np.greater, op.GE: np.greater_equal}


@pytest.mark.parametrize("code", sorted(_BINARY))
def test_binary(run, code):
    a, b = _operands(code, np.random.default_rng(code))
    out = np.empty(SHAPE, np.float32)
    run("binary", out, a, b, code)
    close32(out, _BINARY[code](a.astype(np.float64), b.astype(np.float64)))


@pytest.mark.parametrize("code", sorted(_COMPARE))
def test_compare(run, code):
    a, b = _operands(code, np.random.default_rng(code))
    out = np.empty(SHAPE, bool)
    run("compare", out, a, b, code)
    np.testing.assert_array_equal(out, _COMPARE[code](a, b))


def _binary_grads(code, x, y, g):
    """(d/dx, d/dy) of x <op> y times g, at the broadcast shape, in float64."""
    one = np.ones_like(g)
    if code == op.ADD:
        return g * one, g * one
    if code == op.SUB:
        return g * one, -g * one
    if code == op.MUL:
        return g * y, g * x
    if code == op.DIV:
        return g / y, -g * x / (y * y)
    if code == op.POW:
        return g * y * x ** (y - 1), g * x ** y * np.log(x)
    pick = (x > y) if code == op.MAXIMUM else (x < y)
    other = (y > x) if code == op.MAXIMUM else (y < x)
    tie = 0.5 * (x == y)  # ties split the gradient, as PyTorch does
    return g * (pick + tie), g * (other + tie)


@pytest.mark.parametrize("code", sorted(_BINARY))
def test_binary_grad(run, code):
    rng = np.random.default_rng(100 + code)
    a, b = _operands(code, rng)
    g = f32(rng.standard_normal(SHAPE))
    grad_a, grad_b = np.empty(SHAPE, np.float32), np.empty(SHAPE, np.float32)
    run("binary_grad", grad_a, grad_b, g, a, b, code)
    x, y = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
    want_a, want_b = _binary_grads(code, x, y, g.astype(np.float64))
    close32(grad_a, want_a)
    close32(grad_b, want_b)


def test_where_broadcast_cast_fill_axpy(run):
    rng = np.random.default_rng(3)
    cond = rng.standard_normal((2, 1, 91, 1)) > 0
    a, b = f32(rng.standard_normal(A_SHAPE)), f32(rng.standard_normal(B_SHAPE))
    out = np.empty(SHAPE, np.float32)
    run("where", out, cond, a, b)
    np.testing.assert_array_equal(out, np.where(cond, a, b))
    run("broadcast", out, a)
    np.testing.assert_array_equal(out, np.broadcast_to(a, SHAPE))

    x64 = rng.standard_normal(40000) * 1e3
    x32 = np.empty(x64.size, np.float32)
    run("cast", x32, x64)
    np.testing.assert_array_equal(x32, x64.astype(np.float32))  # round to nearest
    back = np.empty(x64.size, np.float64)
    run("cast", back, x32)
    np.testing.assert_array_equal(back, x32.astype(np.float64))
    nonzero = np.empty(x64.size, bool)
    run("cast", nonzero, np.where(x64 > 0, x32, 0).astype(np.float32))
    np.testing.assert_array_equal(nonzero, x64 > 0)

    run("fill", x32, 2.5)
    assert np.all(x32 == 2.5)
    acc, x = f32(rng.standard_normal(40000)), f32(rng.standard_normal(40000))
    want = acc.astype(np.float64) + 0.3 * x.astype(np.float64)
    run("axpy", acc, x, 0.3)
    close32(acc, want)


_ALPHA, _BETA = -0.7, 0.9  # clamp's bounds; the other ops ignore them
_POSITIVE = (op.LOG, op.SQRT)


def _unary_ref(code, x):
    return {op.NEG: lambda: -x, op.EXP: lambda: np.exp(x), op.LOG: lambda: np.log(x),
            op.SQRT: lambda: np.sqrt(x), op.ABS: lambda: np.abs(x),
            op.TANH: lambda: np.tanh(x), op.SIGMOID: lambda: 1 / (1 + np.exp(-x)),
            op.RELU: lambda: np.maximum(x, 0), op.GELU: lambda: 0.5 * x * (1 + erf(x / 2 ** 0.5)),
            op.CLAMP: lambda: np.clip(x, _ALPHA, _BETA), op.SIGN: lambda: np.sign(x)}[code]()


def _unary_grad_ref(code, x, y, g):
    """g * f'(x), with y = f(x) as the kernel is given it."""
    pdf = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    return {op.NEG: lambda: -g, op.EXP: lambda: g * y, op.LOG: lambda: g / x,
            op.SQRT: lambda: g * 0.5 / y, op.ABS: lambda: g * np.sign(x),
            op.TANH: lambda: g * (1 - y * y), op.SIGMOID: lambda: g * y * (1 - y),
            op.RELU: lambda: g * (x > 0), op.GELU: lambda: g * (0.5 * (1 + erf(x / 2 ** 0.5))
                                                                 + x * pdf),
            op.CLAMP: lambda: g * ((x >= _ALPHA) & (x <= _BETA)),
            op.SIGN: lambda: 0 * g}[code]()


UNARY_CODES = [op.NEG, op.EXP, op.LOG, op.SQRT, op.ABS, op.TANH, op.SIGMOID, op.RELU,
               op.GELU, op.CLAMP, op.SIGN]


def _unary_input(code, rng):
    x = rng.standard_normal(40001) * 3
    x[:5] = 0.0  # the kinks of relu, abs, sign
    return f32(np.abs(x) + 0.05 if code in _POSITIVE else x)


@pytest.mark.parametrize("code", UNARY_CODES)
def test_unary(run, code):
    x = _unary_input(code, np.random.default_rng(code))
    out = np.empty_like(x)
    run("unary", out, x, code, _ALPHA, _BETA)
    close32(out, _unary_ref(code, x.astype(np.float64)))


@pytest.mark.parametrize("code", UNARY_CODES)
def test_unary_grad(run, code):
    rng = np.random.default_rng(50 + code)
    x = _unary_input(code, rng)
    x64 = x.astype(np.float64)
    y = f32(_unary_ref(code, x64))
    g = f32(rng.standard_normal(x.size))
    grad = np.empty_like(x)
    run("unary_grad", grad, g, x, y, code, _ALPHA, _BETA)
    close32(grad, _unary_grad_ref(code, x64, y.astype(np.float64), g.astype(np.float64)))
