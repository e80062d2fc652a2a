"""The export table: one emitter per ``Function`` class, writing its ONNX nodes.

An emitter receives the tracer, the op's arguments as ``Function.apply`` got them
(tensors, raw constant arrays, and the op's own non-tensor arguments) and its output
tensors. Ops that one ``Function`` covers by an op code (``Binary``, ``Unary``,
``Compare``) look the code up in a second small table.
"""
import math

import numpy as np

from kernels import opcodes as op

from ..autograd.ops import conv, elementwise, matmul, movement, reduce, softmax
from ..tensor import Assign

_BINARY = {op.ADD: "Add", op.SUB: "Sub", op.MUL: "Mul", op.DIV: "Div", op.POW: "Pow",
           op.MAXIMUM: "Max", op.MINIMUM: "Min"}
_COMPARE = {op.EQ: "Equal", op.LT: "Less", op.LE: "LessOrEqual", op.GT: "Greater",
            op.GE: "GreaterOrEqual"}
_UNARY = {op.NEG: "Neg", op.EXP: "Exp", op.LOG: "Log", op.SQRT: "Sqrt", op.ABS: "Abs",
          op.TANH: "Tanh", op.SIGMOID: "Sigmoid", op.RELU: "Relu", op.SIGN: "Sign"}


def _binary(g, args, outs):
    a, b, code = args
    if code not in _BINARY:
        raise g.unsupported(f"binary op code {code}")
    g.node(_BINARY[code], [g.value(a), g.value(b)], [g.output(outs[0])])


def _compare(g, args, outs):
    a, b, code = args
    inputs = [g.value(a), g.value(b)]
    if code == op.NE:
        equal = g.node("Equal", inputs, [g.fresh("eq")])
        g.node("Not", [equal], [g.output(outs[0])])
    elif code in _COMPARE:
        g.node(_COMPARE[code], inputs, [g.output(outs[0])])
    else:
        raise g.unsupported(f"comparison op code {code}")


def _unary(g, args, outs):
    x, code, alpha, beta = args
    name, out = g.value(x), outs[0]
    if code in _UNARY:
        g.node(_UNARY[code], [name], [g.output(out)])
    elif code == op.GELU:
        _gelu(g, name, out)
    elif code == op.CLAMP:
        dtype = out.data.dtype
        lo = g.const(np.array(alpha, dtype)) if math.isfinite(alpha) else ""
        hi = g.const(np.array(beta, dtype)) if math.isfinite(beta) else ""
        g.node("Clip", [name, lo, hi], [g.output(out)])
    else:
        raise g.unsupported(f"unary op code {code}")


def _gelu(g, name, out):
    if g.opset >= 20:
        g.node("Gelu", [name], [g.output(out)])
        return
    # Before opset 20: x * 0.5 * (1 + erf(x / sqrt(2))), the exact form.
    dtype = out.data.dtype
    scaled = g.node("Div", [name, g.const(np.array(math.sqrt(2.0), dtype))], [g.fresh("t")])
    erf = g.node("Erf", [scaled], [g.fresh("t")])
    one_plus = g.node("Add", [erf, g.const(np.array(1.0, dtype))], [g.fresh("t")])
    half_x = g.node("Mul", [name, g.const(np.array(0.5, dtype))], [g.fresh("t")])
    g.node("Mul", [half_x, one_plus], [g.output(out)])


def _cast(g, args, outs):
    x, np_dtype = args
    to = g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype))
    g.node("Cast", [g.value(x)], [g.output(outs[0])], to=to)


def _where(g, args, outs):
    g.node("Where", [g.value(a) for a in args], [g.output(outs[0])])


def _matmul(g, args, outs):
    g.node("MatMul", [g.value(args[0]), g.value(args[1])], [g.output(outs[0])])


def _linear(g, args, outs):
    x, weight, bias = args
    inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
    g.node("Gemm", inputs, [g.output(outs[0])], transB=1)


def _reshape(g, args, outs):
    x, shape = args
    shape = list(shape)
    if g.dynamic_batch and shape and all(shape):
        # -1 infers dim 0 from the input's size, so a batch carried in (or folded into)
        # it follows the input; a reshape that does not involve the batch infers the
        # same value it had.
        shape[0] = -1
    g.node("Reshape", [g.value(x), g.const(np.array(shape, np.int64), "shape")],
           [g.output(outs[0])])


def _permute(g, args, outs):
    x, perm = args
    g.node("Transpose", [g.value(x)], [g.output(outs[0])], perm=list(perm))


def _expand(g, args, outs):
    x, shape = args
    _expand_to(g, g.value(x), x, shape, g.output(outs[0]))


def _expand_to(g, name, x, shape, out_name):
    lead = len(shape) - len(x.shape)
    # Dims the input already has need no expanding: 1 there keeps them (and the batch)
    # as they come, since Expand broadcasts both ways.
    target = [1 if i >= lead and x.shape[i - lead] == n else n for i, n in enumerate(shape)]
    return g.node("Expand", [name, g.const(np.array(target, np.int64), "shape")],
                  [out_name])


def _cat(g, args, outs):
    dim, xs = args[0], args[1:]
    g.node("Concat", [g.value(x) for x in xs], [g.output(outs[0])], axis=dim)


def _split(g, args, outs):
    x, dim, sizes = args
    g.node("Split", [g.value(x), g.const(np.array(sizes, np.int64), "split")],
           [g.output(o) for o in outs], axis=dim)


def _assign(g, args, outs):
    """``target`` overwritten in place: later uses of it read a new value name."""
    (value,), (target,) = args, outs
    name = g.value(value)
    if tuple(value.shape) != target.shape:
        name = _expand_to(g, name, value, target.shape, g.fresh("t"))
    if value.data.dtype != target.data.dtype:
        to = g.onnx.helper.np_dtype_to_tensor_dtype(target.data.dtype)
        name = g.node("Cast", [name], [g.fresh("t")], to=to)
    g.node("Identity", [name], [g.output(target)])


def _identity(g, args, outs):
    g.node("Identity", [g.value(args[0])], [g.output(outs[0])])


def _axes(g, dims):
    return g.const(np.array(dims, np.int64), "axes")


def _sum(g, args, outs):
    x, dims, keepdim, scale = args
    name, out = g.value(x), outs[0]
    if x.data.dtype != out.data.dtype:
        to = g.onnx.helper.np_dtype_to_tensor_dtype(out.data.dtype)
        name = g.node("Cast", [name], [g.fresh("t")], to=to)
    count = math.prod(x.shape[d] for d in dims)
    if scale != 1.0 and count and abs(scale * count - 1.0) < 1e-12:
        g.node("ReduceMean", [name, _axes(g, dims)], [g.output(out)], keepdims=int(keepdim))
    elif scale == 1.0:
        g.node("ReduceSum", [name, _axes(g, dims)], [g.output(out)], keepdims=int(keepdim))
    else:
        total = g.node("ReduceSum", [name, _axes(g, dims)], [g.fresh("t")],
                       keepdims=int(keepdim))
        g.node("Mul", [total, g.const(np.array(scale, out.data.dtype))], [g.output(out)])


def _extremum(g, args, outs):
    x, dims, keepdim, is_max = args
    values, index = outs
    name = g.value(x)
    g.node("ReduceMax" if is_max else "ReduceMin", [name, _axes(g, dims)],
           [g.output(values)], keepdims=int(keepdim))
    if len(dims) == 1:
        g.node("ArgMax" if is_max else "ArgMin", [name], [g.output(index)],
               axis=dims[0], keepdims=int(keepdim))
    else:
        g.unavailable(index)


def _softmax(g, args, outs):
    x, dim, log_output = args
    g.node("LogSoftmax" if log_output else "Softmax", [g.value(x)], [g.output(outs[0])],
           axis=dim)


def _logsumexp(g, args, outs):
    x, dim, keepdim = args
    g.node("ReduceLogSumExp", [g.value(x), _axes(g, [dim])], [g.output(outs[0])],
           keepdims=int(keepdim))


def _pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [int(v), int(v)]


def _pads(padding):
    """ONNX pads (top, left, bottom, right) from an int, an (h, w) pair or 4 values."""
    p = list(padding) if isinstance(padding, (tuple, list)) else [int(padding)] * 2
    return p + p if len(p) == 2 else p


def _conv2d(g, args, outs):
    x, weight, bias, stride, padding = args[:5]
    dilation = args[5] if len(args) > 5 else 1
    groups = args[6] if len(args) > 6 else 1
    inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
    # PyTorch's padding="same" puts the odd pixel after, as ONNX's SAME_UPPER does.
    pads = dict(auto_pad="SAME_UPPER" if padding == "same" else "VALID") \
        if isinstance(padding, str) else dict(pads=_pads(padding))
    g.node("Conv", inputs, [g.output(outs[0])], kernel_shape=list(weight.shape[2:]),
           strides=_pair(stride), dilations=_pair(dilation), group=int(groups), **pads)


def _pool_attrs(args):
    """Attributes of a traced pooling op (x, kernel, stride, padding[, dilation, ceil])."""
    _, kernel, stride, padding = args[:4]
    attrs = dict(kernel_shape=_pair(kernel), strides=_pair(stride), pads=_pads(padding))
    if len(args) > 5 and args[5]:
        attrs["ceil_mode"] = 1
    return attrs, (args[4] if len(args) > 4 else 1)


def _max_pool2d(g, args, outs):
    attrs, dilation = _pool_attrs(args)
    g.node("MaxPool", [g.value(args[0])], [g.output(outs[0])], dilations=_pair(dilation),
           **attrs)


def _avg_pool2d(g, args, outs):
    attrs, _ = _pool_attrs(args)
    # Our kernel divides by the whole window, padding included (PyTorch's default).
    g.node("AveragePool", [g.value(args[0])], [g.output(outs[0])], count_include_pad=1,
           **attrs)


EMITTERS = {
    elementwise.Binary: _binary, elementwise.Compare: _compare,
    elementwise.Unary: _unary, elementwise.Cast: _cast, elementwise.Where: _where,
    matmul.MatMul: _matmul, matmul.Linear: _linear,
    movement.Reshape: _reshape, movement.Permute: _permute, movement.Expand: _expand,
    movement.Cat: _cat, movement.Split: _split, movement.Clone: _identity,
    movement.ToDevice: _identity, Assign: _assign,
    reduce.Sum: _sum, reduce.Extremum: _extremum,
    softmax.Softmax: _softmax, softmax.LogSumExp: _logsumexp,
    conv.Conv2d: _conv2d, conv.MaxPool2d: _max_pool2d, conv.AvgPool2d: _avg_pool2d,
}
