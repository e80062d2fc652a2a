"""Runs a CPU kernel in its serial or its parallel build, for the reference tests.

Every CPU kernel is compiled twice (``kernels/cpu/_compile.py``) and the dispatcher
runs the parallel build from ``PARALLEL_MIN_WORK`` (2^18) elements. The reference
tests call that parallel build directly on inputs of ~40K elements instead: it is the
same compiled function the dispatcher calls above the threshold, the inputs span
several of the elementwise kernels' 16K-element chunks and several rows or planes
per thread, and the module stays fast. ``sum_reduce`` is the one kernel whose Python
wrapper changes algorithm by size (partial sums over slices of R); for it the
threshold itself is lowered. ``test_reference_threshold.py`` also runs a few kernels
through the dispatcher above the real threshold.
"""
import pytest

import kernels.cpu as cpu
from kernels.cpu import _compile
from kernels.cpu import reduce as cpu_reduce


@pytest.fixture(params=["serial", "parallel"])
def run(request, monkeypatch):
    """``run(name, *args)`` calls CPU kernel ``name`` in the build of this test's run."""
    build = request.param
    if build == "parallel":
        monkeypatch.setattr(_compile, "PARALLEL_MIN_WORK", 1)
        monkeypatch.setattr(cpu_reduce, "PARALLEL_MIN_WORK", 1)

    def call(name, *args):
        fn = getattr(cpu, name)
        getattr(fn, build, fn)(*args)

    return call
