"""``export(model, example, path)``: trace one forward pass and write an ONNX file."""
import os

import numpy as np

from ..autograd.engine import no_grad, observe
from ..io import write_atomic
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ..tensor import Tensor
from .emitters import EMITTERS
from .errors import OnnxError, require_onnx
from .trace import Tracer

DEFAULT_OPSET = 21
MIN_OPSET = 18  # reduction axes are inputs from 18 on; older opsets are not emitted


def export(model, example_input, path, input_names=None, output_names=None,
           dynamic_batch=True, opset=None):
    """Trace ``model`` on ``example_input`` and write it to ``path`` as ONNX.

    The weights become initializers under their ``state_dict`` names. The module runs
    in the mode the caller set (call ``model.eval()`` first for inference), under
    ``no_grad``. Nothing is written unless the whole model exports and passes
    ``onnx.checker.check_model(full_check=True)``; the file is written atomically.

    Args:
        model: a ``Module``.
        example_input: a tensor, or a tuple of tensors for a model of several inputs.
        path: the file to write.
        input_names, output_names: graph value names (default ``input``/``output``,
            numbered when there are several).
        dynamic_batch: make dim 0 of inputs and outputs a symbolic ``batch``.
        opset: the ONNX opset (default 21, at least 18).

    Returns:
        The ``onnx.ModelProto`` that was written.

    Raises:
        OnnxError: an op without an ONNX mapping (named with the module path where it
            was used), bad arguments, or a model the checker rejects.
    """
    onnx = require_onnx("fw.onnx.export")
    examples = _examples(example_input)
    opset = _opset(onnx, opset)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise OnnxError(f"fw.onnx.export: cannot write {path}: directory {directory} does "
                        f"not exist")
    if not isinstance(model, Module):
        raise OnnxError(f"fw.onnx.export: expected a Module, got {type(model).__name__}")
    batch = examples[0].shape[0] if examples[0].ndim else None
    tracer = Tracer(onnx, model, opset, batch, dynamic_batch and batch is not None, EMITTERS)
    in_names = _names(input_names, len(examples), "input")
    for t, name in zip(examples, in_names):
        tracer.bind(t, name)
    outputs = _run(model, examples, tracer)
    out_names = _names(output_names, len(outputs), "output")
    _name_outputs(tracer, outputs, out_names, set(in_names))
    graph = onnx.helper.make_graph(
        tracer.nodes, type(model).__name__,
        [_value_info(onnx, tracer, t, n) for t, n in zip(examples, in_names)],
        [_value_info(onnx, tracer, t, n) for t, n in zip(outputs, out_names)],
        tracer.initializers)
    proto = _model(onnx, graph, opset)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OnnxError(f"fw.onnx.export: the traced graph fails the ONNX checker: "
                        f"{first}") from None
    write_atomic(path, proto.SerializeToString())
    return proto


def _examples(example_input):
    return _tensors(example_input, "example_input must be")


def _tensors(value, what):
    """``value`` (a Tensor, or a tuple or list of them) as a tuple of Tensors."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    if not items or not all(isinstance(t, Tensor) for t in items):
        raise OnnxError(f"fw.onnx.export: {what} a Tensor or a tuple of Tensors, got "
                        f"{type(value).__name__}")
    return tuple(items)


def _opset(onnx, opset):
    newest = onnx.defs.onnx_opset_version()
    opset = DEFAULT_OPSET if opset is None else int(opset)
    if not MIN_OPSET <= opset <= newest:
        raise OnnxError(f"fw.onnx.export: opset {opset} is not supported; use "
                        f"{MIN_OPSET}..{newest}")
    return opset


def _names(names, n, stem):
    if names is None:
        return [stem] if n == 1 else [f"{stem}_{i}" for i in range(n)]
    names = list(names)
    if len(names) != n or len(set(names)) != n or not all(isinstance(s, str) for s in names):
        raise OnnxError(f"fw.onnx.export: {stem}_names must be {n} distinct strings, got "
                        f"{names}")
    return names


def _run(model, examples, tracer):
    """One forward pass under the tracer; returns the outputs as a tuple of tensors."""
    wrapped = _wrap_modules(model, tracer)
    try:
        with no_grad(), observe(tracer):
            out = model(*examples)
    finally:
        for module in wrapped:
            del module.__dict__["forward"]
    return _tensors(out, "the model must return")


def _wrap_modules(model, tracer):
    """Give each module a ``forward`` that tracks the module path (undone afterwards)."""
    wrapped = []
    for name, module in model.named_modules():
        forward = module.forward

        def traced(*args, _name=name, _module=module, _forward=forward, **kwargs):
            tracer.path.append((_name, _module))
            try:
                if _is_eval_batch_norm(_module, args):
                    return _batch_norm(tracer, _module, _forward, args[0])
                return _forward(*args, **kwargs)
            finally:
                tracer.path.pop()

        module.__dict__["forward"] = traced
        wrapped.append(module)
    return wrapped


def _is_eval_batch_norm(module, args):
    return (isinstance(module, _BatchNorm) and not module.training
            and module.track_running_stats and len(args) == 1)


def _batch_norm(tracer, module, forward, x):
    """A BatchNorm in eval mode as one BatchNormalization node (not its arithmetic)."""
    tracer.suspended += 1
    try:
        out = forward(x)
    finally:
        tracer.suspended -= 1
    dtype = x.data.dtype
    c = module.num_features
    scale = tracer.value(module.weight) if module.weight is not None else \
        tracer.const(np.ones(c, dtype), "scale")
    bias = tracer.value(module.bias) if module.bias is not None else \
        tracer.const(np.zeros(c, dtype), "bias")
    tracer.node("BatchNormalization",
                [tracer.value(x), scale, bias, tracer.value(module.running_mean),
                 tracer.value(module.running_var)],
                [tracer.output(out)], epsilon=float(module.eps))
    return out


def _name_outputs(tracer, outputs, out_names, graph_inputs):
    """Rename the outputs' values to ``out_names`` (an Identity where a value is not a
    node output, or is returned twice)."""
    produced = {o for node in tracer.nodes for o in node.output}
    renamed = {}
    for t, new in zip(outputs, out_names):
        old = tracer.value(t)
        if old in produced and old not in renamed and old not in graph_inputs:
            renamed[old] = new
        else:
            tracer.node("Identity", [old], [new])
    for node in tracer.nodes:
        for seq in (node.input, node.output):
            for i, name in enumerate(seq):
                if name in renamed:
                    seq[i] = renamed[name]


def _value_info(onnx, tracer, t, name):
    dims = list(t.shape)
    if tracer.dynamic_batch and dims and dims[0] == tracer.batch_size:
        dims[0] = "batch"
    elem = onnx.helper.np_dtype_to_tensor_dtype(t.data.dtype)
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def _model(onnx, graph, opset):
    from .. import __version__
    opsets = [onnx.helper.make_opsetid("", opset)]
    return onnx.helper.make_model(graph, opset_imports=opsets, producer_name="numbagrad",
                                  producer_version=__version__,
                                  ir_version=onnx.helper.find_min_ir_version_for(opsets))
