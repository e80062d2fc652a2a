"""Each backend exports exactly the kernels in kernels/spec.py, with those arguments."""
import inspect

import numpy as np
import pytest
from kernel_cases import CASES as _CASES

import kernels.cpu as cpu
from kernels import spec


def _params(fn):
    fn = inspect.unwrap(fn)
    return tuple(inspect.signature(getattr(fn, "py_func", fn)).parameters)


def test_cpu_exports_exactly_the_spec():
    exported = {n for n in dir(cpu) if not n.startswith("_") and callable(getattr(cpu, n))}
    assert exported == set(spec.KERNELS)
    for name, args in spec.KERNELS.items():
        assert _params(getattr(cpu, name)) == args, name


def _twins():
    for name in spec.KERNELS:
        fn = getattr(cpu, name)
        if hasattr(fn, "parallel"):
            yield name, fn


@pytest.mark.parametrize("name,fn", list(_twins()))
def test_serial_and_parallel_builds_agree(name, fn):
    """Both builds of a kernel give one answer, on odd sizes that leave tails."""
    rng = np.random.default_rng(0)
    cases = _CASES[name](rng)
    outs = []
    for build in (fn.serial, fn.parallel):
        args = [a.copy() if isinstance(a, np.ndarray) else a for a in cases]
        build(*args)
        outs.append([a for a in args if isinstance(a, np.ndarray)])
    for s, p in zip(*outs):
        np.testing.assert_allclose(s, p, rtol=1e-12, atol=1e-12)


def test_every_twin_has_a_case():
    assert {n for n, _ in _twins()} <= set(_CASES)


def test_written_arguments_name_every_kernels_output():
    """fw.compile trusts WRITTEN to know which buffers a kernel overwrites."""
    from kernels.spec import KERNELS, WRITTEN
    allocators = {"empty", "zeros", "from_host", "to_host", "arange", "storage_id"}
    used = {a for args in KERNELS.values() for a in args}
    assert WRITTEN <= used
    for name, args in KERNELS.items():
        if name not in allocators:
            assert args[0] in WRITTEN, f"{name}'s first argument {args[0]} is an output"
    # an optional output after the scalars
    assert "total" in WRITTEN and "total" in KERNELS["cross_entropy"]
