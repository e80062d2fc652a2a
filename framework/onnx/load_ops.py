"""The import table: one factory per ONNX op type, returning the function that runs it.

A factory gets the node's ``NodeSpec`` (attributes, name, what is known at load time)
and returns a callable of the node's input values. Values are tensors, or small host
NumPy arrays for shape arithmetic (the Shape/Gather/Unsqueeze/Concat chains exporters
emit around Reshape), which then runs in NumPy. Unsupported attributes are an
``OnnxError`` at load time, naming the node and the attribute.
"""
import math

import numpy as np

from .. import dtype as dt
from ..autograd.ops import elementwise as ew
from ..autograd.ops import matmul as mm
from ..autograd.ops import movement as mv
from ..autograd.ops import reduce as rd
from ..autograd.ops import softmax as sm
from ..tensor import Tensor
from .errors import OnnxError


class NodeSpec:
    """What a factory may know about one node."""

    def __init__(self, node, attrs, path, opset, static):
        self.name, self.op_type = node.name or node.output[0], node.op_type
        self.attrs, self.path, self.opset = attrs, path, opset
        self.inputs, self.outputs = list(node.input), list(node.output)
        self.static = static  # value name -> host array known at load time

    def attr(self, key, default=None):
        return self.attrs.get(key, default)

    def const_input(self, i):
        """Input ``i`` as a host array when it is known at load time, else None."""
        if i < len(self.inputs) and self.inputs[i]:
            return self.static.get(self.inputs[i])
        return None

    def error(self, message):
        return OnnxError(f"{self.path}: node '{self.name}' ({self.op_type}): {message}")


def _host(v):
    return not isinstance(v, Tensor)


def _ints(v):
    return [int(i) for i in np.asarray(v.numpy() if isinstance(v, Tensor) else v).reshape(-1)]


def _elementwise(fw_fn, np_fn):
    def factory(spec):
        def run(a, b):
            if _host(a) and _host(b):
                return np_fn(np.asarray(a), np.asarray(b))
            return fw_fn(a, b)
        return run
    return factory


def _int_div(a, b):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return np.trunc(a / b).astype(np.result_type(a, b))
    return a / b


def _variadic(fw_fn, np_fn):
    def factory(spec):
        def run(*xs):
            out = xs[0]
            for x in xs[1:]:
                out = np_fn(out, x) if _host(out) and _host(x) else fw_fn(out, x)
            return out
        return run
    return factory


def _unary(fw_fn):
    return lambda spec: fw_fn


def _not(spec):
    return lambda x: np.logical_not(x) if _host(x) else ew.compare(x, False, ew.op.EQ)


def _compare(code):
    return lambda a, b: ew.compare(a, b, code)


def _where(spec):
    def run(cond, a, b):
        if _host(cond) and _host(a) and _host(b):
            return np.where(cond, a, b)
        if _host(cond):
            cond = Tensor._wrap((a if not _host(a) else b).kernels.from_host(
                np.asarray(cond, bool), np.bool_), (a if not _host(a) else b).device, None, 0)
        return ew.where(cond, a, b)
    return run


def _gelu(spec):
    if spec.attr("approximate", "none") != "none":
        raise spec.error(f"attribute approximate={spec.attr('approximate')!r} is not "
                         f"supported (only 'none', the exact erf form)")
    return ew.gelu


def _clip(spec):
    lo, hi = spec.const_input(1), spec.const_input(2)
    lo = spec.attr("min") if lo is None else lo  # attributes before opset 11
    hi = spec.attr("max") if hi is None else hi
    for i, v in ((1, lo), (2, hi)):
        if len(spec.inputs) > i and spec.inputs[i] and v is None:
            raise spec.error("min/max computed at run time are not supported (only "
                             "initializers or Constants)")
    lo = None if lo is None else float(np.asarray(lo).reshape(()))
    hi = None if hi is None else float(np.asarray(hi).reshape(()))
    if lo is None and hi is None:
        return lambda x, *_: x
    return lambda x, *_: ew.clamp(x, lo, hi)


def _softmax(log):
    def factory(spec):
        if spec.opset < 13:
            raise spec.error(f"opset {spec.opset} softmax (flattening semantics) is not "
                             f"supported; re-export with opset 13 or later")
        axis = spec.attr("axis", -1)
        fn = sm.log_softmax if log else sm.softmax
        return lambda x: fn(x, axis)
    return factory


def _cast(spec):
    import onnx
    np_dtype = onnx.helper.tensor_dtype_to_np_dtype(spec.attr("to"))
    if np.dtype(np_dtype) not in dt._BY_NP:
        raise spec.error(f"cast to {np.dtype(np_dtype)} is not supported")
    target = dt._BY_NP[np.dtype(np_dtype)]
    return lambda x: x.astype(np_dtype) if _host(x) else ew.to_dtype(x, target)


def _matmul(spec):
    return mm.matmul


def _gemm(spec):
    alpha, beta = spec.attr("alpha", 1.0), spec.attr("beta", 1.0)
    trans_a, trans_b = spec.attr("transA", 0), spec.attr("transB", 0)
    if not trans_a and trans_b and alpha == 1.0 and beta == 1.0:
        def linear(a, b, c=None):
            if c is None or c.ndim == 1:
                return mm.linear(a, b, c)
            return mm.linear(a, b) + c
        return linear

    def gemm(a, b, c=None):
        out = mm.matmul(a.t() if trans_a else a, b.t() if trans_b else b)
        if alpha != 1.0:
            out = out * alpha
        if c is not None:
            out = out + (c * beta if beta != 1.0 else c)
        return out
    return gemm


def _identity(spec):
    if spec.op_type == "Dropout" and len(spec.outputs) > 1 and spec.outputs[1]:
        raise spec.error("the mask output of Dropout is not supported")
    return lambda x, *_: x


def _flatten(spec):
    axis = spec.attr("axis", 1)

    def run(x):
        a = axis + len(x.shape) if axis < 0 else axis
        lead = math.prod(x.shape[:a])
        shape = (lead, math.prod(x.shape[a:]))
        return np.reshape(x, shape) if _host(x) else mv.reshape(x, shape)
    return run


def _reshape(spec):
    allow_zero = spec.attr("allowzero", 0)

    def run(x, shape):
        shape = _ints(shape)
        if not allow_zero:
            shape = [x.shape[i] if n == 0 else n for i, n in enumerate(shape)]
        return np.reshape(x, shape) if _host(x) else mv.reshape(x, shape)
    return run


def _transpose(spec):
    perm = spec.attr("perm")

    def run(x):
        p = perm if perm is not None else list(range(len(x.shape)))[::-1]
        return np.transpose(x, p) if _host(x) else mv.permute(x, p)
    return run


def _expand(spec):
    def run(x, shape):
        target = np.broadcast_shapes(tuple(x.shape), tuple(_ints(shape)))
        return np.broadcast_to(x, target).copy() if _host(x) else mv.expand(x, target)
    return run


def _axes_of(spec, x_ndim, axes_value):
    axes = spec.attr("axes")
    if axes is None and axes_value is not None:
        axes = _ints(axes_value)
    if axes is None:
        return None
    return [a + x_ndim if a < 0 else a for a in axes]


def _unsqueeze(spec):
    def run(x, axes_value=None):
        axes = spec.attr("axes") if axes_value is None else _ints(axes_value)
        rank = len(x.shape) + len(axes)
        axes = sorted(a + rank if a < 0 else a for a in axes)
        shape = list(x.shape)
        for a in axes:
            shape.insert(a, 1)
        return np.reshape(x, shape) if _host(x) else mv.reshape(x, tuple(shape))
    return run


def _squeeze(spec):
    def run(x, axes_value=None):
        axes = _axes_of(spec, len(x.shape), axes_value)
        shape = [n for d, n in enumerate(x.shape)
                 if not (n == 1 and (axes is None or d in axes))]
        return np.reshape(x, shape) if _host(x) else mv.reshape(x, tuple(shape))
    return run


def _concat(spec):
    axis = spec.attr("axis")

    def run(*xs):
        if all(_host(x) for x in xs):
            return np.concatenate([np.asarray(x) for x in xs], axis)
        ref = next(x for x in xs if not _host(x))
        return mv.cat([x if not _host(x) else Tensor._wrap(
            ref.kernels.from_host(np.asarray(x), ref.data.dtype), ref.device, None, 0)
            for x in xs], axis)
    return run


def _split(spec):
    axis, n_out = spec.attr("axis", 0), len(spec.outputs)

    def run(x, split=None):
        split = spec.attr("split") if split is None else split  # an attribute before 13
        size = x.shape[axis]
        sizes = _ints(split) if split is not None else \
            [-(-size // n_out)] * (n_out - 1) + [size - -(-size // n_out) * (n_out - 1)]
        return tuple(mv.split(x, sizes, axis))
    return run


def _shape(spec):
    start, end = spec.attr("start", 0), spec.attr("end")
    return lambda x: np.array(x.shape[start:end], np.int64)


def _gather(spec):
    axis = spec.attr("axis", 0)

    def run(x, index):
        if _host(x):
            return np.take(np.asarray(x), np.asarray(index), axis=axis)
        if not _host(index):
            index = index.numpy()
        a = axis + x.ndim if axis < 0 else axis
        index = np.asarray(index)
        item = int(index) if index.ndim == 0 else index
        return x[(slice(None),) * a + (item,)]
    return run


def _slice(spec):
    def run(x, starts, ends, axes=None, steps=None):
        starts, ends = _ints(starts), _ints(ends)
        axes = list(range(len(starts))) if axes is None else _ints(axes)
        steps = [1] * len(starts) if steps is None else _ints(steps)
        if min(steps, default=1) < 1:
            raise spec.error(f"steps {steps}: only positive steps are supported")
        key = [slice(None)] * len(x.shape)
        for a, start, end, step in zip(axes, starts, ends, steps):
            key[a % len(x.shape)] = slice(start, end, step)  # Python clamps as ONNX does
        return np.asarray(x)[tuple(key)] if _host(x) else x[tuple(key)]
    return run


def _reduce(fw_fn, np_fn):
    def factory(spec):
        keepdims = bool(spec.attr("keepdims", 1))
        noop = spec.attr("noop_with_empty_axes", 0)

        def run(x, axes_value=None):
            axes = _axes_of(spec, len(x.shape), axes_value)
            if not axes:
                if noop:
                    return x
                axes = list(range(len(x.shape)))
            if _host(x):
                return np_fn(np.asarray(x), axis=tuple(axes), keepdims=keepdims)
            return fw_fn(x, tuple(axes), keepdims)
        return run
    return factory


def _logsumexp(x, axes, keepdim):
    if len(axes) == 1:
        return sm.logsumexp(x, axes[0], keepdim)
    top = rd.amax(x, axes, keepdim=True).detach()
    out = (x - top).exp().sum(axes, keepdim=True).log() + top
    return out if keepdim else mv.squeeze(out, axes)


def _arg(is_max):
    def factory(spec):
        if spec.attr("select_last_index", 0):
            raise spec.error("attribute select_last_index=1 is not supported")
        axis, keepdims = spec.attr("axis", 0), bool(spec.attr("keepdims", 1))
        fn = rd.argmax if is_max else rd.argmin
        return lambda x: fn(x, axis, keepdims)
    return factory


NODES = {
    "Add": _elementwise(ew.add, np.add), "Sub": _elementwise(ew.sub, np.subtract),
    "Mul": _elementwise(ew.mul, np.multiply), "Div": _elementwise(ew.div, _int_div),
    "Pow": _elementwise(ew.pow, np.power),
    "Max": _variadic(ew.maximum, np.maximum), "Min": _variadic(ew.minimum, np.minimum),
    "Sum": _variadic(ew.add, np.add),
    "Equal": _elementwise(_compare(ew.op.EQ), np.equal),
    "Less": _elementwise(_compare(ew.op.LT), np.less),
    "LessOrEqual": _elementwise(_compare(ew.op.LE), np.less_equal),
    "Greater": _elementwise(_compare(ew.op.GT), np.greater),
    "GreaterOrEqual": _elementwise(_compare(ew.op.GE), np.greater_equal),
    "Not": _not, "Where": _where,
    "Relu": _unary(ew.relu), "Sigmoid": _unary(ew.sigmoid), "Tanh": _unary(ew.tanh),
    "Exp": _unary(ew.exp), "Log": _unary(ew.log), "Sqrt": _unary(ew.sqrt),
    "Abs": _unary(ew.abs), "Neg": _unary(ew.neg), "Sign": _unary(ew.sign),
    "Gelu": _gelu, "Clip": _clip, "Cast": _cast,
    "Softmax": _softmax(False), "LogSoftmax": _softmax(True),
    "MatMul": _matmul, "Gemm": _gemm,
    "Identity": _identity, "Dropout": _identity,
    "Flatten": _flatten, "Reshape": _reshape, "Transpose": _transpose, "Expand": _expand,
    "Unsqueeze": _unsqueeze, "Squeeze": _squeeze, "Concat": _concat, "Split": _split,
    "Shape": _shape, "Gather": _gather, "Slice": _slice,
    "ReduceSum": _reduce(rd.sum, np.sum), "ReduceMean": _reduce(rd.mean, np.mean),
    "ReduceMax": _reduce(rd.amax, np.max), "ReduceMin": _reduce(rd.amin, np.min),
    "ReduceLogSumExp": _reduce(_logsumexp, None),
    "ArgMax": _arg(True), "ArgMin": _arg(False),
}
