"""Version counters: catch a backward that would read a saved array changed in place.

Every tensor storage carries one counter, shared by the tensors that view it (reshapes,
``detach``). Each in-place write bumps it. When a graph node is recorded, the counters
of the tensors whose arrays it saved for backward are noted with their values; the
engine compares them before running the node's backward and raises a RuntimeError on
a change, as PyTorch does, instead of returning a wrong gradient.

Counters are made lazily: a tensor gets one when an op saves its memory, a view of it
is taken, or it is written in place; other tensors carry none.
"""
from kernels import opcodes as op


class VersionCounter:
    """How many in-place writes a storage has seen, and the last writer."""

    # Class defaults: making a counter (on the recording path) sets nothing.
    value = 0
    writer = None  # name of the last in-place op (formatted only on error)
    shape = None   # shape of the tensor it wrote through


def counter_of(tensor):
    """The tensor's counter, made on first use."""
    counter = tensor._version_counter
    if counter is None:
        counter = tensor._version_counter = VersionCounter()
    return counter


def share_counter(view, base):
    """Make ``view`` (a tensor over ``base``'s memory) count with ``base``."""
    view._version_counter = counter_of(base)


def bump(tensor, writer):
    """Record one in-place write to ``tensor``'s storage by ``writer`` (an op name)."""
    counter = counter_of(tensor)
    counter.value += 1
    counter.writer = writer
    counter.shape = tensor.data.shape


def record_saved(ctx, args, outputs):
    """Note the counters of the inputs and outputs whose arrays ``ctx`` saved.

    ``ctx.versions`` becomes a flat list: counter, its value, the saved array, per
    saved array that is an input's or output's memory. Arrays the op made for itself are
    private to the node and need no counter. This runs for every recorded op, so it
    is kept to identity tests and no per-entry objects; only a save that is no input or
    output itself (a reshape of one, or a private array) pays for a storage lookup.
    """
    tensor_type = type(outputs[0])
    entries = []
    for saved in ctx.saved:
        for owner in outputs:
            if owner.data is saved:
                break
        else:
            for owner in args:
                if isinstance(owner, tensor_type) and owner.data is saved:
                    break
            else:
                owner = _owner_by_storage(ctx, saved, args, outputs, tensor_type)
                if owner is None:
                    continue
        counter = owner._version_counter
        if counter is None:
            counter = owner._version_counter = VersionCounter()
        entries += (counter, counter.value, saved)
    if entries:
        ctx.versions = entries


def _owner_by_storage(ctx, saved, args, outputs, tensor_type):
    """The input or output tensor sharing ``saved``'s memory, or None."""
    if not hasattr(saved, "shape"):
        return None
    k = ctx.kernels
    sid = k.storage_id(saved)
    for arg in args:
        if isinstance(arg, tensor_type) and k.storage_id(arg.data) == sid:
            return arg
    for out in outputs:
        # A device copy's output lives where this node's kernels cannot look.
        if out.device == ctx.device and k.storage_id(out.data) == sid:
            return out
    return None


def check_saved(node):
    """Raise if an array ``node`` saved was changed in place since it was saved."""
    entries = node.versions
    for j in range(0, len(entries), 3):
        if entries[j].value != entries[j + 1]:
            raise _modified_error(node, *entries[j:j + 3])


def _modified_error(node, counter, value, saved):
    """The RuntimeError for ``saved`` (of ``node``), written since it was at ``value``."""
    index = next(i for i, a in enumerate(node.saved) if a is saved)
    return RuntimeError(
        f"one of the arrays needed for gradient computation has been modified by an "
        f"inplace operation: {op_name(node)}Backward saved {_role(node, counter)} (saved "
        f"array {index}, shape {tuple(saved.shape)}) at version {value}, but it is now at "
        f"version {counter.value}; last modified by {counter.writer} on a tensor of shape "
        f"{counter.shape}. Compute it out of place, or clone() the tensor before writing "
        f"to it.")


def _role(node, counter):
    """Which of the node's tensors a counter belongs to, for the error message."""
    for n, t in enumerate(node.inputs):
        if t is not None and t._version_counter is counter:
            return f"its input {n}"
    return "an output or an input that needs no grad"


_UNARY = {op.NEG: "Neg", op.EXP: "Exp", op.LOG: "Log", op.SQRT: "Sqrt", op.ABS: "Abs",
          op.TANH: "Tanh", op.SIGMOID: "Sigmoid", op.RELU: "Relu", op.GELU: "Gelu",
          op.CLAMP: "Clamp", op.SIGN: "Sign"}
_BINARY = {op.ADD: "Add", op.SUB: "Sub", op.MUL: "Mul", op.DIV: "Div", op.POW: "Pow",
           op.MAXIMUM: "Maximum", op.MINIMUM: "Minimum"}


def op_name(node):
    """The op behind a graph node: its Function's name, or the math for op-code ones."""
    name = node.fn.__name__
    table = {"Unary": _UNARY, "Binary": _BINARY}.get(name)
    code = getattr(node, "code", None)
    if table is not None and code in table:
        return table[code]
    return name
