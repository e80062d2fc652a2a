"""Runs a CPU kernel in its serial or its parallel build, for the reference tests.

Every CPU kernel is compiled twice (``kernels/cpu/_compile.py``) and the dispatcher
runs the parallel build from ``PARALLEL_MIN_WORK`` (2^18) elements. The reference
tests call that parallel build directly on inputs of ~40K elements instead: it is the
same compiled function the dispatcher calls above the threshold, the inputs span
several of the elementwise kernels' 16K-element chunks and several rows or planes
per thread, and the module stays fast. ``sum_reduce`` has no parallel build of its own:
it is an njit function that picks partial sums over slices of R by size (the threshold
compiled in), so both runs call it alike; ``test_reference_threshold.py`` runs it, and
a few other kernels, through the dispatcher above the real threshold.
"""
import pytest

import kernels.cpu as cpu


@pytest.fixture(params=["serial", "parallel"])
def run(request):
    """``run(name, *args)`` calls CPU kernel ``name`` in the build of this test's run."""
    build = request.param

    def call(name, *args):
        fn = getattr(cpu, name)
        getattr(fn, build, fn)(*args)

    return call
