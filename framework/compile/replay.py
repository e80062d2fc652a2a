"""Running a plan: host steps, the kernels (through a backend executor), then results.

``LaunchExecutor`` calls the plan's kernels one by one from Python. It is the CUDA
path under Numba's simulator (which has no graphs) and the reference the generated CPU
step is tested against; ``cpu.NjitExecutor`` runs the same plan in one dispatch.
"""
import numpy as np

from ..tensor import Tensor
from .capture import copy_from_host
from .plan import OutTensor


def materialize(view, bases):
    """The array ``view`` names, in buffer arrays ``bases`` (index = buffer number)."""
    if bases[view.buffer] is None:
        return view.array  # a fixed buffer: the view seen while recording is still valid
    flat = bases[view.buffer].reshape(-1)
    start = view.offset // view.dtype.itemsize
    return flat[start:start + _size(view.shape)].reshape(view.shape)


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def scalar_value(arg, slots):
    """A kernel's scalar argument: its constant, or its slot cast to the recorded type."""
    if arg.slot is None:
        return arg.value
    return type(arg.value)(slots[arg.slot])


class LaunchExecutor:
    """Runs each kernel call of ``plan`` from Python, with ``kernels`` for fills and copies."""

    def __init__(self, plan, kernels):
        self.plan = plan
        self.kernels = kernels

    def run(self, bases, slots):
        k = self.kernels
        for op in self.plan.ops:
            args = [materialize(a, bases) if hasattr(a, "buffer") else scalar_value(a, slots)
                    for a in op.args]
            if op.name == "fill":
                k.fill(*args)
            elif op.name == "restore":
                k.cast(*args)
            else:
                op.build(*args)


class Replay:
    """One plan with its executor: ``run(tensors)`` replays a call and returns its result."""

    def __init__(self, plan, executor, kernels):
        self.plan = plan
        self.executor = executor
        self.kernels = kernels
        self.slots = np.zeros(max(plan.n_slots, 1))
        self.fresh = [(i, b.shape, b.dtype) for i, b in enumerate(plan.buffers)
                      if b.kind == "output"]
        self.inputs = [(i, b.index) for i, b in enumerate(plan.buffers) if b.kind == "input"]
        self.build_result = _builder(plan.outputs, plan.buffers)
        self.has_guards = bool(plan.leaves or plan.modules or plan.guards)

    def guards_hold(self):
        """Whether the leaves and modules the step touches are as when it was recorded."""
        if not self.has_guards:
            return True
        for note in self.plan.leaves:
            t = note.tensor
            if t.data is not note.data:
                return False
            if note.checks_grad:
                g = t.grad
                if (g is None) != (note.entry_grad is None):
                    return False
                if g is not None and g.data is not note.entry_grad:
                    return False
        for module, training in self.plan.modules:
            if module.training != training:
                return False
        for check in self.plan.guards:
            if not check():
                return False
        return True

    def run(self, inputs):
        """Replay with ``inputs`` (the call's tensors); returns the call's result."""
        bases = [None] * len(self.plan.buffers)
        for i, j in self.inputs:
            bases[i] = inputs[j].data
        empty = self.kernels.empty
        for i, shape, dtype in self.fresh:
            bases[i] = empty(shape, dtype)
        if self.plan.host_steps:
            self._host_steps(bases)
        self.executor.run(bases, self.slots)
        if self.plan.grad_bindings:
            self._bind_grads(bases)
        return self.build_result(bases)

    def _host_steps(self, bases):
        slots = self.slots
        for kind, a, b in self.plan.host_steps:
            if kind == "scalars":
                values = b()
                slots[a:a + len(values)] = values
            elif kind == "effect":
                a()
            else:
                copy_from_host(materialize(a, bases), b())

    def _bind_grads(self, bases):
        for t, view in self.plan.grad_bindings:
            if view is None:
                t.grad = None
                continue
            array = materialize(view, bases)
            if t.grad is None or t.grad.data is not array:
                t.grad = Tensor._wrap(array, t.device, None, 0)


def _builder(template, buffers):
    """A function of the replay's buffer arrays that builds the call's result, made once
    per plan so that a replay does not walk the template."""
    wrap = Tensor._wrap
    if isinstance(template, OutTensor):
        if template.same is not None:
            return lambda bases, same=template.same: same
        view, device = template.view, template.device
        buf = buffers[view.buffer]
        if buf.kind == "output" and view.offset == 0 and view.shape == buf.shape:
            i = view.buffer  # the whole fresh buffer: no view to make
            return lambda bases: wrap(bases[i], device, None, 0)
        return lambda bases: wrap(materialize(view, bases), device, None, 0)
    if isinstance(template, (tuple, list)):
        parts = [_builder(t, buffers) for t in template]
        if isinstance(template, list):
            return lambda bases: [p(bases) for p in parts]
        if len(parts) == 2:
            first, second = parts
            return lambda bases: (first(bases), second(bases))
        return lambda bases: tuple([p(bases) for p in parts])
    if isinstance(template, dict):
        items = [(k, _builder(v, buffers)) for k, v in template.items()]
        return lambda bases: {k: p(bases) for k, p in items}
    return lambda bases: template
