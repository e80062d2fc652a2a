"""Launch geometry shared by every CUDA kernel wrapper.

Kernels loop grid-stride, so a launch never needs more than ``MAX_BLOCKS`` blocks:
beyond that each thread takes several elements. Every public wrapper takes
``threads`` (threads per block) as an argument whose default is ``DEFAULT_THREADS``.
Both defaults can be set at import from the environment; the simulator tests set
them tiny (8 threads, 4 blocks) so that multi-block, tail and grid-stride paths run
on small inputs.
"""
import os
import threading

from numba import cuda

DEFAULT_THREADS = int(os.environ.get("NUMBAGRAD_CUDA_THREADS", "256"))
MAX_BLOCKS = int(os.environ.get("NUMBAGRAD_CUDA_MAX_BLOCKS", "4096"))
# Shared-memory reduction trees are sized for the largest block CUDA allows.
MAX_THREADS = 1024

# Numba warns of every launch of fewer than 128 blocks. A framework launches small
# grids for small tensors by design, so the warning is off unless the user set it.
if "NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS" not in os.environ:
    try:
        from numba.cuda.core import config as _cuda_config
    except ImportError:  # older numba-cuda keeps Numba's own config
        from numba.core import config as _cuda_config
    _cuda_config.CUDA_LOW_OCCUPANCY_WARNINGS = 0

# All CUDA kernels are compiled lazily per argument types and cached on disk.
kernel = cuda.jit(cache=True)
device = cuda.jit(device=True, cache=True)


def blocks_for(n, threads):
    """Blocks for ``n`` grid-stride work items: one item per thread up to MAX_BLOCKS."""
    return max(1, min((n + threads - 1) // threads, MAX_BLOCKS))


def launch(fn, n, threads, *args):
    """Run ``fn`` over ``n`` work items (nothing when n == 0)."""
    if not 0 < threads <= MAX_THREADS:
        raise ValueError(f"threads per block must be in [1, {MAX_THREADS}], got {threads}")
    if n > 0:
        run(fn, blocks_for(n, threads), threads, args)


class _Capture(threading.local):
    # A cuda.core GraphBuilder while ``graph.capture`` records this thread's launches.
    builder = None


_capture = _Capture()


def capture_into(builder):
    """Send this thread's launches into ``builder`` (None: launch them); returns the
    previous target."""
    prev = _capture.builder
    _capture.builder = builder
    return prev


def run(fn, grid, block, args):
    """Launch kernel ``fn`` on ``grid`` x ``block`` threads (ints or 3-tuples).

    Numba's launch path re-derives, on every call, what the previous call with the same
    argument types already knew (argument types, the compiled function, a memory view
    per array): ~35 us on an H100 host, several times a small op's kernel. The first
    launch per argument kinds goes through Numba (compiling if needed); later ones
    reuse its compiled function and marshal the arguments directly (``_fast``).
    """
    builder = _capture.builder
    if builder is not None:  # recorded into a CUDA graph: Numba takes a builder as stream
        fn[grid, block, builder](*args)
        return
    key = (fn, _kinds(args))
    entry = _FAST.get(key)
    if entry is None:
        fn[grid, block](*args)
        _FAST[key] = _fast_entry(fn, args)
    elif entry is False:
        fn[grid, block](*args)
    else:
        _fast.launch(entry, grid, block, args)


_FAST = {}  # (kernel, argument kinds) -> fast-launch entry, or False: use Numba's path


def _kinds(args):
    """What decides the compiled overload: dtype and rank of arrays (C-contiguous by the
    kernel contract), the Python type of scalars, the length of tuples."""
    return tuple((type(a), a.dtype, a.ndim) if hasattr(a, "ndim") else
                 (tuple, len(a)) if isinstance(a, tuple) else type(a) for a in args)


def _fast_entry(fn, args):
    if _fast is None:
        return False
    try:
        return _fast.entry(fn, args)
    except Exception:  # an internal of this numba-cuda version differs: keep Numba's path
        return False


def _import_fast():
    """The direct launch module, or None: the simulator runs kernels as Python, and an
    older numba-cuda may lack the internals it uses."""
    from ._available import require_cuda
    if require_cuda() != "gpu":
        return None
    try:
        from . import _fast
    except ImportError:
        return None
    return _fast


_fast = _import_fast()


def tree_threads(threads):
    """``threads`` rounded down to a power of two in [1, MAX_THREADS], as the
    shared-memory reduction trees halve the active threads each round."""
    t = 1
    while t * 2 <= min(threads, MAX_THREADS):
        t *= 2
    return t
