"""``load(path)``: an ONNX file as a ``Module`` that runs the graph on our ops."""
import os
from collections import ChainMap, Counter

import numpy as np

from ..creation import from_numpy
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from . import load_conv, load_ops
from .errors import OnnxError, require_onnx

NODES = {**load_ops.NODES, **load_conv.NODES}
_DOMAINS = ("", "ai.onnx")


class _Step:
    """One node ready to run: its function and the names it reads and writes."""

    __slots__ = ("spec", "fn", "inputs", "outputs")

    def __init__(self, spec, fn):
        self.spec, self.fn = spec, fn
        self.inputs = spec.inputs
        while self.inputs and not self.inputs[-1]:
            self.inputs = self.inputs[:-1]  # trailing omitted optional inputs
        self.outputs = [o for o in spec.outputs]


class OnnxModule(Module):
    """A loaded ONNX graph. Floating-point initializers are parameters (under their
    ONNX names); integer initializers and Constant nodes' values are buffers.
    ``.to("cuda")`` moves them like any module's."""

    def __init__(self, path, opset, inputs, outputs, steps, tensors, constants, static):
        super().__init__()
        object.__setattr__(self, "_meta", (os.path.basename(path), opset, inputs, outputs))
        object.__setattr__(self, "_steps", steps)
        object.__setattr__(self, "_static", static)
        for name, array in list(tensors.items()) + list(constants.items()):
            t = from_numpy(np.ascontiguousarray(array))
            if t.dtype.is_floating_point and name in tensors:
                self._parameters[name] = Parameter(t)
            else:
                self._buffers[name] = t

    def forward(self, *inputs):
        _, _, in_names, out_names = self._meta
        if len(inputs) != len(in_names):
            raise TypeError(f"{self._meta[0]}: the graph takes {len(in_names)} input(s) "
                            f"{in_names}, got {len(inputs)}")
        env = dict(self._parameters)
        env.update(self._buffers)
        env.update(self._static)  # integer values stay on the host: shapes, axes, indices
        for name, x in zip(in_names, inputs):
            if not isinstance(x, Tensor):
                raise TypeError(f"{self._meta[0]}: input {name!r} must be a Tensor, got "
                                f"{type(x).__name__}")
            env[name] = x
        for step in self._steps:
            _run_step(step, env)
        # An output computed in shape arithmetic is a host array: hand back a tensor.
        outs = tuple(v if isinstance(v, Tensor) else from_numpy(np.array(v)).to(
            inputs[0].device if inputs else None) for v in (env[n] for n in out_names))
        return outs[0] if len(outs) == 1 else outs

    def extra_repr(self):
        file, opset, inputs, outputs = self._meta
        ops = Counter(step.spec.op_type for step in self._steps)
        listed = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in ops.items())
        return (f"file={file!r}, opset={opset}, inputs={inputs}, outputs={outputs}, "
                f"nodes=[{listed}]")


def _run_step(step, env):
    try:
        out = step.fn(*[env[name] if name else None for name in step.inputs])
    except (ValueError, TypeError, IndexError, RuntimeError) as exc:
        if isinstance(exc, OnnxError):
            raise
        raise step.spec.error(str(exc).replace("\n", " ")) from None
    if len(step.outputs) == 1:
        env[step.outputs[0]] = out
    else:
        for name, value in zip(step.outputs, out if isinstance(out, tuple) else (out,)):
            if name:
                env[name] = value


def load(path, device=None):
    """Read an ONNX file as an ``OnnxModule`` (in eval mode) on ``device``.

    Raises:
        OnnxError: the file is missing, not ONNX, truncated, invalid, or uses an op or
            attribute numbagrad does not run (named with the node).
    """
    onnx = require_onnx("fw.onnx.load")
    path = os.fspath(path)
    proto = _read(onnx, path)
    opset = next((o.version for o in proto.opset_import if o.domain in _DOMAINS), None)
    if opset is None:
        raise OnnxError(f"{path}: the model imports no standard ONNX opset")
    graph = proto.graph
    tensors = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    static = {name: a for name, a in tensors.items() if a.dtype.kind not in "fc"}
    constants = {}
    steps = []
    for node in graph.node:
        step = _prepare(onnx, node, path, opset, ChainMap(static, tensors, constants),
                        constants, static)
        if step is not None:
            steps.append(step)
    inputs = [v.name for v in graph.input if v.name not in tensors]
    outputs = [v.name for v in graph.output]
    module = OnnxModule(path, opset, inputs, outputs, steps, tensors, constants, static)
    module.eval()
    return module.to(device) if device is not None else module


def _read(onnx, path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise OnnxError(f"{path}: no such file") from None
    except OSError as exc:
        raise OnnxError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        proto = onnx.load_model_from_string(raw)
    except Exception as exc:  # protobuf's DecodeError and friends have no common base
        raise OnnxError(f"{path} is not an ONNX model (truncated or another format?): "
                        f"{_one_line(exc)}") from None
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as exc:
        raise OnnxError(f"{path} is not a valid ONNX model (truncated or another format?): "
                        f"{_one_line(exc)}") from None
    if not proto.graph.node and not proto.graph.output:
        raise OnnxError(f"{path} is not an ONNX model: it has no graph")
    return proto


def _one_line(exc):
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


def _prepare(onnx, node, path, opset, known, constants, static):
    """The step for ``node``, or None for a Constant (its value joins ``constants``
    when floating-point, else ``static``: host values for shapes and indices)."""
    attrs = {a.name: _attr(onnx, a) for a in node.attribute}
    spec = load_ops.NodeSpec(node, attrs, path, opset, known)
    if node.domain not in _DOMAINS:
        raise spec.error(f"op domain {node.domain!r} is not supported")
    if node.op_type == "Constant":
        value = _constant(onnx, spec, attrs)
        if value.dtype.kind in "fc":
            constants[node.output[0]] = value
        else:
            static[node.output[0]] = value
        return None
    factory = NODES.get(node.op_type)
    if factory is None:
        raise spec.error(f"op {node.op_type} is not supported by numbagrad")
    return _Step(spec, factory(spec))


def _attr(onnx, attribute):
    value = onnx.helper.get_attribute_value(attribute)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return [v.decode() if isinstance(v, bytes) else v for v in value]
    return value


def _constant(onnx, spec, attrs):
    if "value" in attrs:
        return onnx.numpy_helper.to_array(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return np.array(attrs[key], dtype)
    raise spec.error(f"Constant with attribute(s) {sorted(attrs)} is not supported")
