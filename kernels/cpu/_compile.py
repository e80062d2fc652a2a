"""One place that decides between a serial and a parallel build of a kernel.

Waking Numba's thread pool costs a few microseconds, more than a small op's whole
work, so every CPU kernel is compiled twice from the same source: ``njit`` for small
inputs and ``njit(parallel=True)`` for large ones. ``prange`` is a plain ``range`` in
the serial build.
"""
import functools
import types

from numba import njit

# Below this many elements of work the serial build wins. Waking Numba's pool right
# after a GEMM costs up to ~40 us (BLAS threads still spin on the cores), so the MNIST
# MLP's activations (at most 131K elements, at batch 256) stay serial: an MLP step at
# batch 64 took 2.83 ms with a 32K threshold and 2.17 ms with 2M (bench/RESULTS.md).
# From here on the parallel build wins even with the pool asleep (2 cores, 200 us idle
# before each call, serial/parallel: broadcast 50/30 us and add 102/45 at 262K
# elements, 148/56 and 292/145 at 800K). A 1M threshold left serial the sum and its
# backward's broadcast in a (512, 1000) softmax's benchmark, and the CNN's 401K- and
# 802K-element ops; now the MLP's SGD updates of its 401K and 262K weights run in
# parallel too, and its epochs were no slower against PyTorch (bench/RESULTS.md).
PARALLEL_MIN_WORK = 1 << 18


def cpu_kernel(size_arg=0, fastmath=False, parallel_min=None):
    """Compile ``fn`` serially and in parallel; call the one that fits the work size.

    Args:
        size_arg: index of the argument whose ``size`` measures the work.
        fastmath: passed to Numba (``{"reassoc"}`` lets sum loops vectorize).
        parallel_min: elements from which the parallel build runs, for kernels doing
            much more work per element than a copy (default ``PARALLEL_MIN_WORK``).
    """

    # error_model="numpy": a float divided by zero is inf or NaN, as in NumPy and
    # PyTorch; Numba's default raises ZeroDivisionError from inside the kernel.
    def wrap(fn):
        parallel = njit(parallel=True, cache=True, fastmath=fastmath, error_model="numpy")(fn)
        # A distinct qualname gives the serial build its own on-disk cache entry.
        serial_fn = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                                       fn.__defaults__, fn.__closure__)
        serial_fn.__qualname__ = fn.__qualname__ + "_serial"
        serial = njit(cache=True, fastmath=fastmath, error_model="numpy")(serial_fn)

        threshold = PARALLEL_MIN_WORK if parallel_min is None else parallel_min
        return dispatcher(fn, serial, parallel, size_arg, threshold)

    return wrap


def dispatcher(fn, serial, parallel, size_arg, threshold):
    """The kernel ``fn`` (its name, doc and signature) calling ``parallel`` from
    ``threshold`` elements of argument ``size_arg``, else ``serial``; ``.serial``,
    ``.parallel`` and ``.build_for`` give the builds to compiled code."""

    @functools.wraps(fn)
    def dispatch(*args):
        if args[size_arg].size >= threshold:
            return parallel(*args)
        return serial(*args)

    def build_for(*args):
        # fw.compile picks the build once, at record time, for a generated step to call.
        return parallel if args[size_arg].size >= threshold else serial

    dispatch.parallel = parallel
    dispatch.serial = serial
    dispatch.build_for = build_for
    return dispatch
