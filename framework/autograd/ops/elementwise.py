"""Elementwise ops: arithmetic with broadcasting, comparisons, where, unary math, casts."""
import numbers

import numpy as np

from kernels import opcodes as op

from ... import dtype as dt
from ...tensor import Tensor
from ..function import Function
from . import arrays
from .shapes import broadcast_shapes


class Cast(Function):
    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.in_dtype = x.dtype
        return arrays.cast(ctx.kernels, x, np_dtype)

    @staticmethod
    def backward(ctx, g):
        return arrays.cast(ctx.kernels, g, ctx.in_dtype), None


class Binary(Function):
    """a <op> b for an arithmetic op code, with broadcasting."""

    @staticmethod
    def forward(ctx, a, b, code):
        k = ctx.kernels
        out = arrays.binary(k, code, a, b, name=_NAMES[code])
        ctx.code = code
        if code in (op.ADD, op.SUB):
            ctx.shapes = (a.shape, b.shape)
        else:
            ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx, g):
        k, code = ctx.kernels, ctx.code
        need_a, need_b = ctx.needs_input_grad[:2]
        if code in (op.ADD, op.SUB):
            a_shape, b_shape = ctx.shapes
            grad_a = arrays.sum_to_shape(k, g, a_shape) if need_a else None
            grad_b = None
            if need_b:
                grad_b = arrays.sum_to_shape(k, g, b_shape)
                if code == op.SUB:
                    grad_b = arrays.neg(k, grad_b)
            return grad_a, grad_b, None
        a, b = ctx.saved
        shape = g.shape
        a_, b_, (g4, (a4, b4)) = arrays.rank4(k, shape, a, b)
        none = _no_grad_array(k, g.dtype)
        grad_a = k.empty(shape, g.dtype) if need_a else None
        grad_b = k.empty(shape, g.dtype) if need_b else None
        if g.size:
            k.binary_grad(none if grad_a is None else grad_a.reshape(g4),
                          none if grad_b is None else grad_b.reshape(g4),
                          g.reshape(g4), a_.reshape(a4), b_.reshape(b4), code)
        return (None if grad_a is None else arrays.sum_to_shape(k, grad_a, a.shape),
                None if grad_b is None else arrays.sum_to_shape(k, grad_b, b.shape), None)


_NO_GRAD = {}


def _no_grad_array(k, dtype):
    """A cached size-0 rank-4 array: tells ``binary_grad`` to skip that input."""
    key = (k.NAME, dtype)
    if key not in _NO_GRAD:
        _NO_GRAD[key] = k.empty((0, 0, 0, 0), dtype)
    return _NO_GRAD[key]


class Compare(Function):
    """a <cmp> b for a comparison op code: a bool result, so no gradient."""

    @staticmethod
    def forward(ctx, a, b, code):
        return arrays.binary(ctx.kernels, code, a, b, out_dtype=np.bool_, name=_NAMES[code])

    @staticmethod
    def backward(ctx, g):
        return None, None, None


class Unary(Function):
    """op(x; alpha, beta) for a unary op code."""

    @staticmethod
    def forward(ctx, x, code, alpha, beta):
        out = arrays.unary(ctx.kernels, code, x, alpha, beta)
        ctx.code, ctx.alpha, ctx.beta = code, alpha, beta
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        grad = ctx.kernels.empty(x.shape, g.dtype)
        ctx.kernels.unary_grad(grad.reshape(-1), g.reshape(-1), x.reshape(-1),
                               out.reshape(-1), ctx.code, ctx.alpha, ctx.beta)
        return grad, None, None, None


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        k = ctx.kernels
        ctx.save_for_backward(cond)
        ctx.shapes = (a.shape, b.shape)
        return arrays.where(k, cond, a, b)

    @staticmethod
    def backward(ctx, g):
        k = ctx.kernels
        (cond,) = ctx.saved
        zero = arrays.scalar_array(k, 0, g.dtype)
        need_a, need_b = ctx.needs_input_grad[1:3]
        grad_a = grad_b = None
        if need_a:
            grad_a = arrays.sum_to_shape(k, arrays.where(k, cond, g, zero), ctx.shapes[0])
        if need_b:
            grad_b = arrays.sum_to_shape(k, arrays.where(k, cond, zero, g), ctx.shapes[1])
        return None, grad_a, grad_b


_NAMES = {op.ADD: "add", op.SUB: "sub", op.MUL: "mul", op.DIV: "div", op.POW: "pow",
          op.MAXIMUM: "maximum", op.MINIMUM: "minimum", op.EQ: "eq", op.NE: "ne",
          op.LT: "lt", op.LE: "le", op.GT: "gt", op.GE: "ge"}


def to_dtype(x, dtype):
    """``x`` converted to ``dtype`` (differentiable between float dtypes)."""
    dtype = dt.as_dtype(dtype)
    if x.dtype is dtype:
        return x
    return Cast.apply(x, dtype.np)


def _operands(a, b, name):
    """Both operands as tensors or constant arrays of one dtype, and that dtype."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.data.dtype is b.data.dtype:
            return a, b, a.dtype
        dtype = dt.promote(a.dtype, b.dtype)
        return to_dtype(a, dtype), to_dtype(b, dtype), dtype
    tensor, other = (a, b) if isinstance(a, Tensor) else (b, a)
    if isinstance(other, numbers.Number) and not isinstance(other, np.ndarray):
        dtype = dt.scalar_dtype(tensor.dtype, other)
        const = arrays.scalar_array(tensor.kernels, other, dtype.np)
    elif isinstance(other, (np.ndarray, list, tuple)):
        arr = np.asarray(other)
        dtype = dt.promote(tensor.dtype, dt.as_dtype(arr.dtype))
        const = tensor.kernels.from_host(arr, dtype.np)
    else:
        raise TypeError(f"{name}: unsupported operand of type {type(other).__name__} "
                        f"with a Tensor")
    tensor = to_dtype(tensor, dtype)
    return (tensor, const, dtype) if isinstance(a, Tensor) else (const, tensor, dtype)


def _floating(x):
    """An operand of a float-only op (true division): ints become float32."""
    if isinstance(x, Tensor):
        return x if x.dtype.is_floating_point else to_dtype(x, dt.default_float)
    if isinstance(x, numbers.Number):
        return float(x)
    arr = np.asarray(x)
    return arr if arr.dtype.kind == "f" else arr.astype(dt.default_float.np)


def _arith(a, b, code, float_result=False):
    if float_result:
        a, b = _floating(a), _floating(b)
    a, b, dtype = _operands(a, b, _NAMES[code])
    if dtype is dt.bool_ and code in (op.ADD, op.SUB, op.MUL):
        raise TypeError(f"{_NAMES[code]}: not supported for bool tensors; cast with .int() first")
    return Binary.apply(a, b, code)


def add(a, b):
    return _arith(a, b, op.ADD)


def sub(a, b):
    return _arith(a, b, op.SUB)


def mul(a, b):
    return _arith(a, b, op.MUL)


def div(a, b):
    """True division; integer inputs give a float32 result, as in PyTorch."""
    return _arith(a, b, op.DIV, float_result=True)


def pow(a, b):
    if _is_integer(a) and _is_integer(b):
        return _integer_pow(a, b)
    return _arith(a, b, op.POW)


def _is_integer(x):
    if isinstance(x, Tensor):
        return not x.dtype.is_floating_point and x.dtype is not dt.bool_
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _integer_pow(a, b):
    """Integer powers as PyTorch: a negative Python exponent is an error; a negative
    exponent in a tensor gives 1 ** -k = 1, (-1) ** -k = (-1) ** k and 0 otherwise. The
    kernel only ever sees exponents >= 0 (0 ** -1 in integers has no value)."""
    if not isinstance(b, Tensor):
        if b < 0:
            raise ValueError(f"pow: integers to negative integer powers are not allowed "
                             f"(base dtype {a.dtype}, exponent {b})")
        return _arith(a, b, op.POW)
    if not isinstance(a, Tensor):
        a = Tensor._wrap(arrays.scalar_array(b.kernels, a, np.int64), b.device, None, 0)
    negative = b < 0
    powers = _arith(a, where(negative, -b, b), op.POW)
    unit = where(a == 1, a == 1, a == -1)  # a is 1 or -1
    return where(negative, where(unit, powers, 0), powers)


def maximum(a, b):
    return _arith(a, b, op.MAXIMUM)


def minimum(a, b):
    return _arith(a, b, op.MINIMUM)


def compare(a, b, code):
    """A bool tensor of ``a <cmp> b``; comparisons record no graph."""
    a, b, _ = _operands(a, b, _NAMES[code])
    return Compare.apply(a, b, code)


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (all broadcast)."""
    if not isinstance(condition, Tensor) or condition.dtype is not dt.bool_:
        raise TypeError("where: condition must be a bool Tensor, got "
                        f"{getattr(condition, 'dtype', type(condition).__name__)}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor._wrap(arrays.scalar_array(condition.kernels, a, dt.default_float.np
                                             if isinstance(a, float) else np.int64),
                         condition.device, None, 0)
    a, b, _ = _operands(a, b, "where")
    broadcast_shapes("where", condition.shape, a.shape, b.shape)
    return Where.apply(condition, a, b)


def _unary(x, code, alpha=0.0, beta=0.0, floating=True):
    if floating and not x.dtype.is_floating_point:
        x = to_dtype(x, dt.default_float)
    return Unary.apply(x, code, float(alpha), float(beta))


def neg(x):
    if x.dtype is dt.bool_:
        raise TypeError("neg: not supported for bool tensors; use logical_not")
    return _unary(x, op.NEG, floating=False)


def exp(x):
    return _unary(x, op.EXP)


def log(x):
    return _unary(x, op.LOG)


def sqrt(x):
    return _unary(x, op.SQRT)


def abs(x):
    return _unary(x, op.ABS, floating=False)


def tanh(x):
    return _unary(x, op.TANH)


def sigmoid(x):
    return _unary(x, op.SIGMOID)


def relu(x):
    return _unary(x, op.RELU, floating=False)


def gelu(x):
    """GELU with the exact erf form (PyTorch's default ``approximate='none'``)."""
    return _unary(x, op.GELU)


def sign(x):
    return _unary(x, op.SIGN, floating=False)


def clamp(x, min=None, max=None):
    """Clamp into [min, max]; either bound may be None. Gradient flows inside the range."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    lo = -np.inf if min is None else min
    hi = np.inf if max is None else max
    if not x.dtype.is_floating_point and (isinstance(lo, float) or isinstance(hi, float)):
        x = to_dtype(x, dt.default_float)
    return _unary(x, op.CLAMP, lo, hi, floating=False)
