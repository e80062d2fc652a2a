"""CUDA graphs: capture a sequence of this backend's launches once, launch it as a unit.

Written without a GPU to run it on: ``fw.compile`` uses it only when asked
(``executor="cuda_graph"``); the plan's launch-by-launch replay is the default and is
what the simulator tests run.

Capture uses a cuda.core ``GraphBuilder``, which records on a stream of its own (the
legacy default stream cannot be captured). Every launch made while capturing goes to
the builder (``_launch.capture_into``), and every allocation is held for the graph's
life (``memory.keep_allocations``): a kernel wrapper's scratch buffers are baked into
the graph by address. "relaxed" mode lets such an allocation happen during capture.
"""
from . import _launch, memory
from ._available import require_cuda


def check_available():
    """Raise a one-line error where graphs cannot run (Numba's simulator has none)."""
    if require_cuda() != "gpu":
        raise RuntimeError("CUDA graphs need a real GPU; Numba's CUDA simulator has none "
                           "(use fw.compile's default executor, which replays launch by "
                           "launch)")


def capture(record):
    """A CUDA graph of the launches ``record()`` makes, and the buffers it must keep."""
    check_available()
    from cuda.core import Device
    device = Device()
    device.set_current()
    builder = device.create_graph_builder()
    kept = []
    builder.begin_building(mode="relaxed")
    prev_target = _launch.capture_into(builder)
    prev_keep = memory.keep_allocations(kept)
    try:
        record()
    except BaseException:
        _end_quietly(builder)  # the capture's own error is the one worth reporting
        raise
    finally:
        memory.keep_allocations(prev_keep)
        _launch.capture_into(prev_target)
    return builder.end_building().complete(), kept


def _end_quietly(builder):
    try:
        builder.end_building()
    except Exception:  # noqa: BLE001 - a broken capture may refuse to end; nothing to add
        pass


def launch(graph):
    """Launch ``graph`` on the default stream, after the work queued there before it."""
    from numba.cuda.cudadrv import driver
    graph.launch(driver._to_core_stream(0))
