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
