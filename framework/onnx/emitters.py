"""The export table: one emitter per ``Function`` class, writing its ONNX nodes.

An emitter receives the tracer, the op's arguments as ``Function.apply`` got them
(tensors, raw constant arrays, and the op's own non-tensor arguments) and its output
tensors. Ops that one ``Function`` covers by an op code (``Binary``, ``Unary``,
``Compare``) look the code up in a second small table.
"""
import math

import numpy as np

from kernels import opcodes as op

from ..autograd.ops import (conv, conv3x3, elementwise, matmul, movement, padding, pooling,
                            reduce, softmax)
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


def _conv2d(g, args, outs):
    """Conv2d.apply(x, weight, bias, (sh, sw, ph, pw, dh, dw), (OH, OW))."""
    x, weight, bias, (sh, sw, ph, pw, dh, dw), out_hw = args
    kernel = list(weight.shape[2:])
    ends = [_end_pad(size, k, s, p, d, o) for size, k, s, p, d, o in
            zip(x.shape[2:], kernel, (sh, sw), (ph, pw), (dh, dw), out_hw)]
    inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
    g.node("Conv", inputs, [g.output(outs[0])], kernel_shape=kernel, strides=[sh, sw],
           dilations=[dh, dw], group=x.shape[1] // weight.shape[1], pads=[ph, pw] + ends)


def _conv3x3(g, args, outs):
    """Conv3x3.apply(x, weight, bias): conv2d's direct path, 3x3, stride 1, padding 1."""
    x, weight, bias = args
    _conv2d(g, [x, weight, bias, (1, 1, 1, 1, 1, 1), tuple(x.shape[2:])], outs)


def _end_pad(size, k, stride, begin, dilation, out):
    """The bottom/right padding that gives ``out`` outputs: the begin padding unless the
    output asks for more (PyTorch's "same" puts an odd pixel at the end)."""
    return max(begin, (out - 1) * stride + dilation * (k - 1) + 1 - size - begin)


def _pool_floor_out(size, k, stride, pad, dilation):
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def _pool_attrs(x, kernel, stride, pad, dilation, out_hw):
    ceil = any(o != _pool_floor_out(n, k, s, p, d) for n, k, s, p, d, o in
               zip(x.shape[2:], kernel, stride, pad, dilation, out_hw))
    return dict(kernel_shape=list(kernel), strides=list(stride), pads=list(pad) * 2,
                ceil_mode=int(ceil))


def _max_pool2d(g, args, outs):
    """MaxPool2d.apply(x, (kh, kw, sh, sw, ph, pw, dh, dw), (OH, OW), return_indices)."""
    x, geo, out_hw = args[:3]
    attrs = _pool_attrs(x, geo[0:2], geo[2:4], geo[4:6], geo[6:8], out_hw)
    g.node("MaxPool", [g.value(x)], [g.output(outs[0])], dilations=list(geo[6:8]), **attrs)


def _avg_pool2d(g, args, outs):
    """AvgPool2d.apply(x, (kh, kw, sh, sw, ph, pw, count_include_pad, divisor), (OH, OW))."""
    x, geo, out_hw = args
    if geo[7]:
        raise g.unsupported(f"avg_pool2d with divisor_override={geo[7]} (ONNX AveragePool "
                            "has no divisor attribute)")
    attrs = _pool_attrs(x, geo[0:2], geo[2:4], geo[4:6], (1, 1), out_hw)
    g.node("AveragePool", [g.value(x)], [g.output(outs[0])],
           count_include_pad=int(geo[6]), **attrs)


def _adaptive_avg_pool2d(g, args, outs):
    """AdaptiveAvgPool2d.apply(x, (OH, OW)): global or evenly tiled average pooling."""
    x, out_hw = args
    size = tuple(x.shape[2:])
    if tuple(out_hw) == (1, 1):
        g.node("GlobalAveragePool", [g.value(x)], [g.output(outs[0])])
        return
    if any(n % o for n, o in zip(size, out_hw)):
        raise g.unsupported(f"adaptive_avg_pool2d from {size} to {tuple(out_hw)} (windows of "
                            "unequal sizes have no ONNX node)")
    kernel = [n // o for n, o in zip(size, out_hw)]
    g.node("AveragePool", [g.value(x)], [g.output(outs[0])], kernel_shape=kernel,
           strides=kernel, pads=[0, 0, 0, 0])


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def _pad(g, args, outs):
    """Pad.apply(x, pad, mode, value): ONNX Pad of the positive pads, Slice of the
    negative ones. Reflect and replicate pad in the input's own coordinates, so they
    crop after padding; circular wraps around what cropping leaves, so it crops first."""
    x, pad, mode, value = args
    pairs = [(0, 0)] * (len(x.shape) - len(pad) // 2) + [
        (pad[2 * i], pad[2 * i + 1]) for i in reversed(range(len(pad) // 2))]
    if mode == "circular" and g.opset < 19:
        raise g.unsupported(f"circular padding before opset 19 (ONNX Pad's wrap mode; the "
                            f"export asked for opset {g.opset})")
    name = g.value(x)
    crop = any(lo < 0 or hi < 0 for lo, hi in pairs)
    if crop and mode == "circular":
        name = _crop(g, name, pairs, g.fresh("t"))
    grow = [max(lo, 0) for lo, _ in pairs] + [max(hi, 0) for _, hi in pairs]
    last = crop and mode != "circular"
    inputs = [name, g.const(np.array(grow, np.int64), "pads")]
    if mode == "constant" and value:
        inputs.append(g.const(np.array(value, x.data.dtype), "value"))
    name = g.node("Pad", inputs, [g.fresh("t") if last else g.output(outs[0])],
                  mode=_PAD_MODES[mode])
    if last:
        _crop(g, name, pairs, g.output(outs[0]))


def _crop(g, name, pairs, out_name):
    """Slice off the negative pads of ``pairs`` (one (before, after) per dim)."""
    axes = [d for d, (lo, hi) in enumerate(pairs) if lo < 0 or hi < 0]
    starts = [max(-pairs[d][0], 0) for d in axes]
    # Ends count from the end, so a dynamic batch dim never enters the arithmetic.
    ends = [pairs[d][1] if pairs[d][1] < 0 else np.iinfo(np.int64).max for d in axes]
    return g.node("Slice", [name, g.const(np.array(starts, np.int64), "starts"),
                            g.const(np.array(ends, np.int64), "ends"),
                            g.const(np.array(axes, np.int64), "axes")], [out_name])


EMITTERS = {
    elementwise.Binary: _binary, elementwise.Compare: _compare,
    elementwise.Unary: _unary, elementwise.Cast: _cast, elementwise.Where: _where,
    matmul.MatMul: _matmul, matmul.Linear: _linear,
    movement.Reshape: _reshape, movement.Permute: _permute, movement.Expand: _expand,
    movement.Cat: _cat, movement.Split: _split, movement.Clone: _identity,
    movement.ToDevice: _identity, Assign: _assign,
    reduce.Sum: _sum, reduce.Extremum: _extremum,
    softmax.Softmax: _softmax, softmax.LogSumExp: _logsumexp,
    conv.Conv2d: _conv2d, conv3x3.Conv3x3: _conv3x3, pooling.MaxPool2d: _max_pool2d,
    pooling.AvgPool2d: _avg_pool2d, pooling.AdaptiveAvgPool2d: _adaptive_avg_pool2d,
    padding.Pad: _pad,
}
