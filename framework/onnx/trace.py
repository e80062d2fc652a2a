"""The export tracer: watches every op of one forward pass and builds ONNX nodes.

It is installed as the thread's op observer (``autograd.engine.observe``), so it sees
each ``Function.apply`` with its arguments as given and its output tensors. Tensors it
has not seen produced are parameters and buffers (initializers under their
``state_dict`` names) or constants; raw arrays among the arguments are constants too.
Module boundaries are tracked by wrapping each sub-module's ``forward`` for the
duration of the trace, so an error can name the module path where an op was used.
"""
import numpy as np

from .errors import OnnxError

_UNAVAILABLE = object()  # an output ONNX cannot express (indices of a multi-dim max)


def host_array(value):
    """A raw kernel array (NumPy or CUDA device array) as a NumPy array."""
    if hasattr(value, "copy_to_host"):
        return value.copy_to_host()
    return np.asarray(value)


class Tracer:
    """Observer of one traced forward pass; collects nodes, initializers and names."""

    def __init__(self, onnx, model, opset, batch_size, dynamic_batch, emitters):
        self.onnx, self.opset = onnx, opset
        self.batch_size, self.dynamic_batch = batch_size, dynamic_batch
        self.emitters = emitters
        self.nodes, self.initializers = [], []
        self.names = {}            # id(tensor or raw array) -> value name
        self.keep = []             # every object named, alive so that ids stay unique
        self.owned = {}            # id(parameter or buffer) -> its state_dict name
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            self.owned.setdefault(id(t), name)
        self.path = []             # (name, module) of the modules being called
        self.suspended = 0
        self.count = 0

    # ----- names -------------------------------------------------------------------
    def fresh(self, stem):
        self.count += 1
        return f"{stem}_{self.count}"

    def bind(self, obj, name):
        self.names[id(obj)] = name
        if hasattr(obj, "requires_grad"):
            # detach() and similar wrap the same array in a new tensor the tracer never
            # sees made: the array's identity still names the value.
            self.names[id(obj.data)] = name
        self.keep.append(obj)
        return name

    def value(self, arg):
        """The value name of a tensor or raw-array argument, registering constants."""
        name = self.names.get(id(arg))
        if name is None and hasattr(arg, "requires_grad"):
            name = self.names.get(id(arg.data))
        if name is _UNAVAILABLE:
            raise OnnxError(f"fw.onnx.export: a value used in {self.where()} has no ONNX "
                            f"equivalent (the indices of a max/min over several dims)")
        if name is not None:
            return name
        data = arg.data if hasattr(arg, "requires_grad") else arg
        owner = self.owned.get(id(arg))
        name = owner if owner is not None else self.fresh("const")
        self.initializers.append(self.onnx.numpy_helper.from_array(
            np.ascontiguousarray(host_array(data)), name))
        return self.bind(arg, name)

    def const(self, array, stem="const"):
        """A new initializer holding ``array``; returns its name."""
        name = self.fresh(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def output(self, tensor):
        return self.bind(tensor, self.fresh("t"))

    def unavailable(self, tensor):
        self.bind(tensor, _UNAVAILABLE)

    # ----- nodes -------------------------------------------------------------------
    def node(self, op_type, inputs, outputs, **attrs):
        """Append one node; ``inputs`` may hold '' for an omitted optional input."""
        prefix = self.path[-1][0] if self.path and self.path[-1][0] else "model"
        self.nodes.append(self.onnx.helper.make_node(
            op_type, list(inputs), list(outputs), name=self.fresh(f"{prefix}/{op_type}"),
            **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def where(self):
        """The module path being traced, for error messages."""
        if not self.path:
            return "the model's forward"
        name, module = self.path[-1]
        return f"module '{name or '(root)'}' ({type(module).__name__})"

    # ----- the observer ------------------------------------------------------------
    def __call__(self, cls, args, outputs):
        if self.suspended:
            return
        emit = self.emitters.get(cls)
        if emit is None:
            raise OnnxError(f"fw.onnx.export: op {cls.__name__} has no ONNX mapping (used in "
                            f"{self.where()})")
        emit(self, args, outputs)

    def unsupported(self, what):
        return OnnxError(f"fw.onnx.export: {what} has no ONNX mapping (used in "
                         f"{self.where()})")
