"""``fw.compile``: record a step once, replay it without Python per op.

    step = fw.compile(train_step)       # or @fw.compile
    for x, y in loader:
        loss = step(x, y)

The first call with a new signature (shapes, dtypes, devices and requires_grad of the
tensor arguments, the other arguments' values, grad mode) runs eagerly, so lazily
created state (optimizer moments, cached constants) exists; the second records every
kernel call at the kernel boundary into a plan; later calls replay the plan. On the CPU a
replay is one call of a generated ``@njit`` function; on a GPU the plan's launches run
in order (CUDA-graph replay is opt-in, ``cuda_graph=True``, see ``cuda.py``).

What a replay does, exactly as the eager step would: parameters, ``.grad``, optimizer
state and step counts, the learning rate a scheduler sets, dropout masks and generator
positions. Differences, by design:

- Returned tensors are new tensors without a graph (``requires_grad`` False), never
  overwritten by a later call. A returned tensor that existed before the call (a
  parameter) is returned as it is.
- Python values computed inside the step are constants of the plan (as in tinygrad's
  TinyJit). A new value of a non-tensor argument records a new plan (an unhashable one
  is a TypeError); a host read of a tensor inside the step (``item()``, ``numpy()``,
  ``bool()``, ...) raises ``HostReadError`` while recording rather than freezing a
  value. Python state the step rebinds to a new tensor (``state["total"] =
  state["total"] + loss``) is frozen too: a replay leaves it bound to the recorded
  tensor. Update such state in place (``total += loss`` under ``no_grad``) or return it.
- Replays reuse the storage of ``.grad`` tensors (as ``zero_grad(set_to_none=False)``
  would); holding a gradient tensor across calls sees it change.
- A change the plans can see (a module switched between train and eval, parameters
  or gradients replaced by new tensors, an optimizer's state loaded or its momentum
  switched on, DDP's ``no_sync``) makes the next calls warm up and record again.
- A compiled function reuses its buffers: call it from one thread at a time.
"""
from .capture import HostReadError, recorder

__all__ = ["compile", "CompiledFunction", "HostReadError", "recorder"]


def compile(fn=None, *, max_plans=8, executor="auto"):
    """Compile ``fn`` for replay (see ``framework.compile.api.compile``)."""
    from .api import compile as _compile  # the autograd engine imports this package
    return _compile(fn, max_plans=max_plans, executor=executor)


def __getattr__(name):
    if name == "CompiledFunction":
        from .api import CompiledFunction
        return CompiledFunction
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
