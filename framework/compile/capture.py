"""Recording a step at the kernel boundary, and the hooks framework code calls meanwhile.

While ``fw.compile`` records, ``kernels_for`` hands every op a ``RecordingKernels`` in
place of the device's kernel package: the same names, each call run for real and logged
with the arrays it touched. Function code does not change and does not know.

Framework code that keeps host-side state across steps (optimizers, schedulers, dropout,
the autograd engine's ``.grad`` bookkeeping) asks ``recorder()`` whether a step is being
recorded and, if so, tells it how to redo its host part at each replay. It never learns
how replay works.
"""
import os
import threading
import traceback

from kernels.spec import KERNELS

# Kernel-package functions that allocate: their results are the plan's own buffers.
_ALLOCATORS = ("empty", "zeros", "from_host", "arange")
# Pure host queries: nothing to replay.
_QUERIES = ("storage_id",)


class HostReadError(RuntimeError):
    """A compiled function read a tensor's value on the host while it was recorded."""


class _Active(threading.local):
    recorder = None


_active = _Active()


def recorder():
    """The ``Recorder`` recording on this thread, or None (eager execution)."""
    return _active.recorder


class Call:
    """One logged kernel call: the build that ran and the arguments it got."""

    __slots__ = ("name", "build", "args", "scalars_from", "slot")

    def __init__(self, name, build, args):
        self.name, self.build, self.args = name, build, args
        self.scalars_from = None  # a host function recomputing the scalar args per replay
        self.slot = None          # where the plan keeps those values


class Allocation:
    """A buffer allocated while recording; ``init`` says what a replay must redo."""

    __slots__ = ("array", "init", "value")

    def __init__(self, array, init, value=None):
        self.array = array
        self.init = init      # "empty" (nothing), "zeros", or "const" (copy ``value`` in)
        self.value = value


class LeafNote:
    """What a compiled step assumes of a leaf tensor's ``.grad`` and ``.data``."""

    __slots__ = ("tensor", "data", "entry_grad", "checks_grad", "final_grad")

    def __init__(self, tensor, resets):
        self.tensor = tensor
        self.data = tensor.data
        # A step that first drops the gradient does not care what it was; one that writes
        # into it needs the same array (or none) at every call.
        self.checks_grad = not resets
        self.entry_grad = None if tensor.grad is None else tensor.grad.data
        self.final_grad = None


class Recorder:
    """Logs one run of a step: kernel calls, allocations, and host steps to redo."""

    def __init__(self, name, known_leaves=()):
        self.name = name
        # Leaves a warm-up call touched, with their gradient as this call starts: a
        # gradient found dropped when first touched was reset inside the step (``p.grad =
        # None``), so the plan need not check what it was.
        self._entry_grads = {id(n.tensor): n.tensor.grad for n in known_leaves}
        self.ops = []          # Call, or ("init", Allocation), in execution order
        self.allocations = []  # kept alive while recording: no address is reused
        self.host_steps = []   # ("scalars", Call, getter) | ("effect", fn) | ("refill", ...)
        self.leaves = {}       # id(tensor) -> LeafNote
        self.modules = {}      # id(module) -> (module, training flag)
        self.guards = []       # callables that must return True for a replay
        self._scalars_from = None
        self._proxies = {}

    # ----- the scope ---------------------------------------------------------------
    def __enter__(self):
        from ..device import kernels_scope
        if _active.recorder is not None:
            raise RuntimeError("fw.compile: a step is already being recorded on this thread")
        _active.recorder = self
        self._prev_wrap = kernels_scope(self._proxy)
        return self

    def __exit__(self, *exc):
        from ..device import kernels_scope
        kernels_scope(self._prev_wrap)
        _active.recorder = None
        return False

    def device_types(self):
        """The device types whose kernels the step ran ("cpu", "cuda")."""
        return set(self._proxies)

    def _proxy(self, module):
        proxy = self._proxies.get(module.NAME)
        if proxy is None:
            proxy = self._proxies[module.NAME] = RecordingKernels(module, self)
        return proxy

    # ----- hooks for framework code ------------------------------------------------
    def scalars_from(self, getter):
        """The next kernel call's scalar arguments are ``getter()`` at every replay.

        ``getter`` returns them in the kernel's argument order; it runs on the host before
        the step's kernels, in the order the hooks were registered.
        """
        self._scalars_from = getter

    def on_replay(self, effect):
        """Run ``effect()`` (a host-side state change, like a scheduler's) at each replay."""
        self.host_steps.append(("effect", effect))

    def host_call(self, fn, arrays):
        """At this point of each replay, call ``fn(*arrays)`` on the host, in order with the
        kernels (a collective between backward and the optimizer, say). ``arrays`` are
        arrays the step's kernels use; ``fn`` may read and write them in place."""
        self.ops.append(Call("host", fn, tuple(arrays)))

    def refill(self, array, producer, first):
        """Copy host array ``first`` into ``array`` (allocated while recording) now, and
        ``producer()`` before each replay (a generator's next draw, say)."""
        copy_from_host(array, first)
        self.host_steps.append(("refill", array, producer))

    def guard(self, check):
        """Replay only while ``check()`` is true (checked before anything runs)."""
        self.guards.append(check)

    def note_grad(self, tensor, resets=False):
        """``tensor.grad`` is about to be dropped (``resets``) or written by the step."""
        if id(tensor) not in self.leaves:
            if tensor.grad is None and self._entry_grads.get(id(tensor)) is not None:
                resets = True
            self.leaves[id(tensor)] = LeafNote(tensor, resets)

    def note_module(self, module):
        """The step calls ``module``: replay only while its train/eval flag is the same."""
        if id(module) not in self.modules:
            self.modules[id(module)] = (module, module.training)

    # ----- logging (called by RecordingKernels) ------------------------------------
    def log_call(self, name, build, args):
        call = Call(name, build, args)
        if self._scalars_from is not None:
            call.scalars_from, self._scalars_from = self._scalars_from, None
            self.host_steps.append(("scalars", call, call.scalars_from))
        self.ops.append(call)
        return build(*args)

    def log_allocation(self, array, init, value=None):
        alloc = Allocation(array, init, value)
        self.allocations.append(alloc)
        if init != "empty":
            self.ops.append(("init", alloc))
        return array

    def finish(self):
        """Note where each noted leaf's gradient ends up (rebound after every replay)."""
        for note in self.leaves.values():
            grad = note.tensor.grad
            note.final_grad = None if grad is None else grad.data

    def host_read_error(self):
        where = _caller_outside_framework()
        return HostReadError(
            f"fw.compile({self.name}): a tensor's value was read on the host (item(), "
            f"numpy(), tolist(), bool(), float() or printing){where} while the step was "
            "being recorded. A replayed step runs no Python, so the value would be frozen "
            "from this call: move the read out of the compiled function (return the tensor "
            "and read it after the call), or run this function without fw.compile.")


class RecordingKernels:
    """A device's kernel package with every call logged by a ``Recorder``."""

    def __init__(self, module, recorder):
        self._module = module
        self._recorder = recorder
        self.NAME = module.NAME

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if name in KERNELS and name not in _QUERIES:
            attr = self._wrap(name, attr)
            setattr(self, name, attr)  # later lookups skip __getattr__
        return attr

    def _wrap(self, name, kernel):
        rec = self._recorder
        if name == "to_host":
            def read(x):
                raise rec.host_read_error()
            return read
        if name in _ALLOCATORS:
            return _allocator(rec, self._module, name, kernel)
        choose = getattr(kernel, "build_for", None)

        def call(*args):
            return rec.log_call(name, kernel if choose is None else choose(*args), args)
        return call


def _allocator(rec, module, name, kernel):
    def allocate(*args):
        out = kernel(*args)
        if name == "from_host" and out is args[0]:
            return out  # no copy: the caller's own host array, used by reference
        if name in ("from_host", "arange"):
            # A constant of the plan: kept as recorded, restored if the step writes it.
            snapshot = module.empty(out.shape, out.dtype)
            if out.size:
                module.cast(snapshot.reshape(-1), out.reshape(-1))
            return rec.log_allocation(out, "const", snapshot)
        return rec.log_allocation(out, name)
    return allocate


def copy_from_host(dst, host):
    """Copy host array ``host`` into array ``dst`` (NumPy or device), shapes as ``dst``."""
    import numpy as np
    host = np.ascontiguousarray(host, dtype=dst.dtype).reshape(dst.shape)
    if isinstance(dst, np.ndarray):
        np.copyto(dst, host)
    else:
        dst.copy_to_device(host)


def _caller_outside_framework():
    """' at file:line' of the innermost frame outside numbagrad's own code."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not os.path.abspath(frame.filename).startswith(root):
            return f" at {frame.filename}:{frame.lineno}"
    return ""
