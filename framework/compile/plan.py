"""From a recording to a plan: buffers, ordered kernel calls, host steps, guards, outputs.

Every array a recorded kernel touched is bound to a buffer and a byte offset in it:

- ``input``: the data of a tensor passed to the compiled function, new at every call;
- ``scratch``: allocated while recording; the plan keeps it and reuses it at each replay
  (its zero-fill or constant is redone where the recording allocated it);
- ``output``: allocated while recording and returned to the caller; allocated afresh at
  every replay, so a result handed out earlier is never overwritten by a later call;
- ``persistent``: memory that existed before (parameters, gradients, optimizer state,
  cached constants); the plan holds a reference and uses it in place.
"""
import bisect

import numpy as np

from kernels.spec import KERNELS, WRITTEN

from ..tensor import Tensor


def address(array):
    """The first byte of ``array`` (a NumPy or a device array)."""
    iface = getattr(array, "__cuda_array_interface__", None)
    if iface is None:
        iface = array.__array_interface__
    return iface["data"][0]


class Buffer:
    """One piece of memory the plan reads or writes."""

    __slots__ = ("kind", "array", "index", "dtype", "shape")

    def __init__(self, kind, array, index=None):
        self.kind = kind
        self.array = array          # scratch/persistent: the array; output: a template
        self.index = index          # input: position among the call's tensors
        self.dtype = array.dtype
        self.shape = tuple(array.shape)


class View:
    """A C-contiguous view of ``shape`` at ``offset`` bytes into buffer ``buffer``."""

    __slots__ = ("buffer", "offset", "shape", "dtype", "array")

    def __init__(self, buffer, offset, shape, dtype, array):
        self.buffer, self.offset, self.shape, self.dtype = buffer, offset, shape, dtype
        self.array = array  # the array seen while recording (valid for fixed buffers)


class Scalar:
    """A scalar kernel argument: a constant, or slot ``slot`` of the per-replay table."""

    __slots__ = ("value", "slot")

    def __init__(self, value, slot=None):
        self.value, self.slot = value, slot


class Op:
    """A kernel call of the plan: ``build(*args)`` with Views and Scalars resolved."""

    __slots__ = ("name", "build", "args")

    def __init__(self, name, build, args):
        self.name, self.build, self.args = name, build, args


class Plan:
    """What a replay needs; built by ``build_plan`` and run by a backend executor."""

    def __init__(self):
        self.buffers = []
        self.ops = []            # Op, in the recorded order
        self.n_slots = 0
        self.host_steps = []     # callables run before the kernels, in order
        self.leaves = []         # LeafNote of every leaf whose .grad the step touches
        self.modules = []        # (module, training) pairs
        self.guards = []         # callables: the plan holds while all return True
        self.grad_bindings = []  # (tensor, View or None): .grad after every replay
        self.outputs = None      # the result's structure, tensors as (View, device)
        self.device = None


class _Binder:
    """Finds the buffer and offset behind each array of the recording."""

    def __init__(self, plan, inputs, allocations, output_arrays):
        self.plan = plan
        self.ranges = []  # (start, end, buffer); inputs first so they win over aliases
        for i, array in enumerate(inputs):
            self._add_range(Buffer("input", array, i), array)
        for alloc in allocations:
            self._add_range(Buffer("scratch", alloc.array), alloc.array)
        self.ranges.sort(key=lambda r: r[0])
        self.starts = [r[0] for r in self.ranges]
        self.persistent = {}
        self._indexed = {}
        for a in output_arrays:
            found = self._find(a)
            if found is not None and found[0].kind == "scratch":
                found[0].kind = "output"

    def _find(self, array):
        """(buffer, its start address) of the input or allocation holding ``array``."""
        if not array.size:
            return None
        start = address(array)
        i = bisect.bisect_right(self.starts, start) - 1
        if i >= 0 and start + array.nbytes <= self.ranges[i][1]:
            return self.ranges[i][2], self.ranges[i][0]
        return None

    def _add_range(self, buf, array):
        if array.size:
            self.ranges.append((address(array), address(array) + array.nbytes, buf))

    def view(self, array):
        start = address(array) if array.size else None
        found = self._find(array)
        if found is not None:
            buf, base = found
        else:
            key = (start, array.dtype, tuple(array.shape))
            buf = self.persistent.get(key)
            if buf is None:
                buf = self.persistent[key] = Buffer("persistent", array)
            base = start
        if buf not in self._indexed:
            self._indexed[buf] = len(self.plan.buffers)
            self.plan.buffers.append(buf)
        offset = 0 if start is None else start - base
        if array.dtype != buf.dtype or offset % array.itemsize:
            raise RuntimeError("fw.compile: a kernel argument reinterprets memory of dtype "
                               f"{buf.dtype} as {array.dtype}; this step cannot be compiled")
        return View(self._indexed[buf], offset, tuple(array.shape), array.dtype, array)


def build_plan(rec, inputs, result, device):
    """Turn recorder ``rec`` of one call (``inputs``: its tensors' arrays, ``result``:
    what it returned) into a ``Plan``."""
    plan = Plan()
    plan.device = device
    binder = _Binder(plan, inputs, rec.allocations, [t.data for t in _tensors_in(result)])
    written = set()
    for entry in rec.ops:
        if isinstance(entry, tuple):
            _init_op(plan, binder, entry[1], written)
        else:
            plan.ops.append(_call_op(plan, binder, entry, written))
    _drop_unneeded_restores(plan, written)
    _host_steps(plan, binder, rec)
    plan.leaves = list(rec.leaves.values())
    plan.modules = list(rec.modules.values())
    plan.guards = list(rec.guards)
    for note in plan.leaves:
        grad = note.final_grad
        plan.grad_bindings.append((note.tensor, None if grad is None else binder.view(grad)))
    plan.outputs = _template(result, binder)
    return plan


def _call_op(plan, binder, call, written):
    if call.name == "host":  # a host function between kernels: may write any of its arrays
        views = [binder.view(a) for a in call.args]
        written.update(v.buffer for v in views)
        return Op("host", call.build, views)
    names = KERNELS[call.name]
    args = []
    n_scalars = sum(1 for a in call.args if not _is_array(a))
    slot = plan.n_slots if call.scalars_from is not None else None
    if slot is not None:
        plan.n_slots += n_scalars
        call.slot = slot
    for name, a in zip(names, call.args):
        if _is_array(a):
            v = binder.view(a)
            if name in WRITTEN:
                written.add(v.buffer)
            args.append(v)
        else:
            args.append(Scalar(a, slot))
            if slot is not None:
                slot += 1
    return Op(call.name, call.build, args)


def _init_op(plan, binder, alloc, written):
    a = alloc.array
    if not a.size:
        return
    v = binder.view(a.reshape(-1))
    if alloc.init == "zeros":
        plan.ops.append(Op("fill", None, [v, Scalar(_zero(a.dtype))]))
    else:
        src = binder.view(alloc.value.reshape(-1))
        plan.ops.append(Op("restore", None, [v, src]))


def _drop_unneeded_restores(plan, written):
    # A constant that no kernel overwrites keeps its recorded value in place; an output
    # buffer is new at each replay and must be filled.
    keep = []
    for op in plan.ops:
        if op.name == "restore":
            buf = plan.buffers[op.args[0].buffer]
            if op.args[0].buffer not in written and buf.kind != "output":
                continue
        keep.append(op)
    plan.ops = keep


def _host_steps(plan, binder, rec):
    for step in rec.host_steps:
        kind = step[0]
        if kind == "scalars":
            _, call, getter = step
            plan.host_steps.append(("scalars", call.slot, getter))
        elif kind == "effect":
            plan.host_steps.append(("effect", step[1], None))
        else:
            _, array, producer = step
            plan.host_steps.append(("refill", binder.view(array), producer))


def _zero(dtype):
    return dtype.type(0).item()


def _is_array(a):
    return hasattr(a, "shape") and hasattr(a, "dtype") and not np.isscalar(a)


def _tensors_in(result):
    if isinstance(result, Tensor):
        yield result
    elif isinstance(result, (tuple, list)):
        for r in result:
            yield from _tensors_in(r)
    elif isinstance(result, dict):
        for r in result.values():
            yield from _tensors_in(r)


class OutTensor:
    """A returned tensor: a view of the plan's buffers, rebuilt at every replay."""

    __slots__ = ("view", "device", "same")

    def __init__(self, view, device, same):
        self.view, self.device = view, device
        self.same = same  # a pre-existing tensor returned as it is (a parameter, say)


def _template(result, binder):
    if isinstance(result, Tensor):
        v = binder.view(result.data)
        kind = binder.plan.buffers[v.buffer].kind
        same = result if kind == "persistent" else None
        return OutTensor(v, result.device, same)
    if isinstance(result, (tuple, list)):
        items = [_template(r, binder) for r in result]
        return type(result)(items) if isinstance(result, list) else tuple(items)
    if isinstance(result, dict):
        return {k: _template(v, binder) for k, v in result.items()}
    return result
