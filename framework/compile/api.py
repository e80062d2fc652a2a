"""``fw.compile`` and ``CompiledFunction``: the plan cache and its guards (see the
package docstring for what a replay does)."""
import functools
from collections import OrderedDict

from ..autograd import engine
from ..device import kernels_for
from ..tensor import Tensor
from .capture import Recorder, recorder
from .plan import build_plan
from .replay import LaunchExecutor, Replay


def compile(fn=None, *, max_plans=8, executor="auto"):
    """Compile ``fn`` (a training or inference step) for replay; usable as a decorator.

    Args:
        fn: the function; it may close over modules, optimizers, schedulers and
            generators, and take tensors and other values as arguments.
        max_plans: signatures kept per compiled function (the oldest dropped first),
            and plans kept per signature (one per state the guards tell apart).
        executor: "auto" (one generated njit function on the CPU, launch by launch on
            a GPU), "launch" (kernel by kernel from Python, for debugging and tests), or
            "cuda_graph" (a captured CUDA graph; never run on a real GPU yet, opt-in).
    """
    if fn is None:
        return functools.partial(compile, max_plans=max_plans, executor=executor)
    if not callable(fn):
        raise TypeError(f"fw.compile: expected a function, got {type(fn).__name__}")
    if executor not in ("auto", "launch", "cuda_graph"):
        raise ValueError(f"fw.compile: executor must be 'auto', 'launch' or 'cuda_graph', "
                         f"got {executor!r}")
    if not isinstance(max_plans, int) or max_plans < 1:
        raise ValueError(f"fw.compile: max_plans must be a positive int, got {max_plans!r}")
    return CompiledFunction(fn, max_plans, executor)


class _Entry:
    """What is known of one call signature: eager calls seen, then recorded plans."""

    __slots__ = ("warm", "replays")

    def __init__(self):
        self.warm = None     # the warm-up call's recorder, until the next call records
        self.replays = []


class CompiledFunction:
    """``fn`` with a cache of recorded plans; call it as you would call ``fn``."""

    def __init__(self, fn, max_plans=8, executor="auto"):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.max_plans = max_plans
        self.executor = executor
        self.entries = OrderedDict()
        self.stats = {"eager": 0, "recorded": 0, "replayed": 0}

    def __call__(self, *args, **kwargs):
        if recorder() is not None:  # called from a step being recorded: part of it
            return self.fn(*args, **kwargs)
        tensors, key = _signature(args, kwargs)
        entry = self.entries.get(key)
        if entry is not None:
            for replay in entry.replays:
                if replay.guards_hold():
                    self.stats["replayed"] += 1
                    return replay.run(tensors)
        return self._eager_or_record(args, kwargs, tensors, key, entry)

    def _eager_or_record(self, args, kwargs, tensors, key, entry):
        if self.executor == "cuda_graph" and any(t.device.type == "cuda" for t in tensors):
            from kernels.cuda.graph import check_available
            check_available()
        if entry is None:
            entry = self.entries[key] = _Entry()
            if len(self.entries) > self.max_plans:  # the oldest signature goes first
                self.entries.popitem(last=False)
        if entry.warm is None:
            # Every recording follows an eager warm-up call (a new signature, or a guard
            # that missed): state made lazily (optimizer moments, after a state_dict was
            # loaded, say) then exists before the plan is kept. The warm-up runs under a
            # recorder too, so a host read fails on this call already.
            self.stats["eager"] += 1
            entry.warm = Recorder(self._name())
            with entry.warm:
                return self.fn(*args, **kwargs)
        warm, entry.warm = entry.warm, None
        result, replay = self._record(args, kwargs, tensors, warm)
        entry.replays.insert(0, replay)
        del entry.replays[self.max_plans:]
        self.stats["recorded"] += 1
        return result

    def _name(self):
        return getattr(self.fn, "__name__", "step")

    def _record(self, args, kwargs, tensors, warm):
        rec = Recorder(self._name(), known_leaves=warm.leaves.values())
        with rec:
            result = self.fn(*args, **kwargs)
        rec.finish()
        plan = build_plan(rec, [t.data for t in tensors], result, _plan_device(rec, tensors))
        kernels = kernels_for(plan.device)
        return result, Replay(plan, self._executor(plan, kernels), kernels)

    def _executor(self, plan, kernels):
        if self.executor == "launch":
            return LaunchExecutor(plan, kernels)
        if plan.device.type == "cpu":
            from .cpu import NjitExecutor
            return NjitExecutor(plan)
        if self.executor == "cuda_graph":
            from .cuda import GraphExecutor
            return GraphExecutor(plan, kernels)
        return LaunchExecutor(plan, kernels)

    def __repr__(self):
        return f"<compiled {getattr(self.fn, '__name__', self.fn)!r} {self.stats}>"


def _plan_device(rec, tensors):
    """The one device the step's kernels ran on."""
    from ..device import Device
    names = rec.device_types()
    if not names:
        return tensors[0].device if tensors else Device("cpu")
    if len(names) > 1:
        raise RuntimeError(f"fw.compile({rec.name}): the step ran kernels on several "
                           f"devices ({', '.join(sorted(names))}); a compiled step runs on "
                           "one device: move the data to it before the call")
    (name,) = names
    if tensors and tensors[0].device.type == name:
        return tensors[0].device
    return Device(name)


def _signature(args, kwargs):
    """The tensors among the arguments (in order) and the key that selects a plan."""
    if not kwargs and all(type(a) is Tensor for a in args):  # the common case, fast
        key = tuple([_tensor_key(t) for t in args])
        return args, (engine.is_grad_enabled(),) + key + _aliases(args)
    tensors = []
    key = [engine.is_grad_enabled()]
    _walk(args, tensors, key)
    if kwargs:
        _walk(sorted(kwargs.items()), tensors, key)
    return tensors, tuple(key) + _aliases(tensors)


def _tensor_key(t):
    return t.data.shape, t.data.dtype, t.device.type, t.device.index, t.requires_grad


def _aliases(tensors):
    """Which tensor arguments share memory (a plan binds each piece of memory once).

    Reshapes are this framework's only views, so arrays over one allocation overlap
    whole: the allocation's identity, as the device's ``storage_id`` gives it (a pooled
    CPU array's views reach it through two bases), tells them apart.
    """
    ids = [t.kernels.storage_id(t.data) for t in tensors]
    if len(set(ids)) == len(ids):
        return ()
    return (("aliases", tuple(ids.index(i) for i in ids)),)


def _walk(value, tensors, key):
    if isinstance(value, Tensor):
        tensors.append(value)
        key.append(_tensor_key(value))
    elif isinstance(value, (tuple, list)):
        key.append((type(value), len(value)))
        for v in value:
            _walk(v, tensors, key)
    elif isinstance(value, dict):
        key.append((dict, tuple(value)))
        for v in value.values():
            _walk(v, tensors, key)
    else:
        try:
            hash(value)
        except TypeError:
            raise TypeError(
                f"fw.compile: an argument of type {type(value).__name__} is neither a "
                "Tensor nor hashable; a plan keys on the values of non-tensor arguments. "
                "Pass arrays as tensors (fw.from_numpy) and other values as hashable "
                "ones (tuples, numbers, strings)") from None
        key.append((type(value), value))  # 1, 1.0 and True hash alike
