"""Each backend exports exactly the kernels in kernels/spec.py, with those arguments."""
import inspect

import numpy as np
import pytest

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


def _r(rng, *shape):
    return rng.standard_normal(shape)


_I64 = np.int64
_CASES = {
    "binary": lambda g: [np.zeros((2, 3, 5, 7)), _r(g, 2, 1, 5, 7), _r(g, 1, 3, 1, 7), 2],
    "compare": lambda g: [np.zeros((2, 3, 5, 7), bool), _r(g, 2, 1, 5, 7), _r(g, 1, 3, 1, 7), 18],
    "binary_grad": lambda g: [np.zeros((2, 3, 5, 7)), np.zeros((2, 3, 5, 7)),
                              _r(g, 2, 3, 5, 7), _r(g, 2, 1, 5, 7), _r(g, 1, 3, 1, 7) + 3, 3],
    "where": lambda g: [np.zeros((1, 3, 5, 7)), _r(g, 1, 3, 1, 7) > 0, _r(g, 1, 3, 5, 7),
                        _r(g, 1, 1, 1, 7)],
    "unary": lambda g: [np.zeros(1001), _r(g, 1001), 8, 0.0, 0.0],
    "unary_grad": lambda g: [np.zeros(1001), _r(g, 1001), _r(g, 1001), _r(g, 1001), 6, 0.0, 0.0],
    "broadcast": lambda g: [np.zeros((2, 3, 5, 7)), _r(g, 2, 1, 5, 1)],
    "cast": lambda g: [np.zeros(1001, np.float32), _r(g, 1001)],
    "fill": lambda g: [np.zeros(1001), 2.5],
    "axpy": lambda g: [_r(g, 1001), _r(g, 1001), 0.5],
    "extremum_reduce": lambda g: [np.zeros((3, 7)), np.zeros((3, 7), _I64), _r(g, 3, 11, 7), True],
    "index_reduce_grad": lambda g: [np.zeros((3, 11, 7)), _r(g, 3, 7),
                                    g.integers(0, 11, (3, 7))],
    "softmax": lambda g: [np.zeros((3, 11, 7)), _r(g, 3, 11, 7), True],
    "softmax_grad": lambda g: [np.zeros((3, 11, 7)), _r(g, 3, 11, 7), _r(g, 3, 11, 7), False],
    "logsumexp": lambda g: [np.zeros((3, 7)), _r(g, 3, 11, 7)],
    "logsumexp_grad": lambda g: [np.zeros((3, 11, 7)), _r(g, 3, 7), _r(g, 3, 11, 7),
                                 _r(g, 3, 7)],
    "strided_gather": lambda g: [np.zeros(60), _r(g, 200), np.array([3, 4, 5], _I64),
                                 np.array([40, 1, 7], _I64), 3],
    "strided_scatter": lambda g: [np.zeros(200), _r(g, 60), np.array([3, 4, 5], _I64),
                                  np.array([40, 1, 7], _I64), 3],
    "im2col": lambda g: [np.zeros((2, 3 * 9, 16)), _r(g, 2, 3, 7, 7), 3, 3, 2, 1],
    "col2im": lambda g: [np.zeros((2, 3, 7, 7)), _r(g, 2, 3 * 9, 16), 3, 3, 2, 1],
    "max_pool2d": lambda g: [np.zeros((2, 3, 3, 3)), np.zeros((2, 3, 3, 3), _I64),
                             _r(g, 2, 3, 7, 7), 3, 3, 2, 1],
    "max_pool2d_grad": lambda g: [np.zeros((2, 3, 7, 7)), _r(g, 2, 3, 3, 3),
                                  g.integers(0, 49, (2, 3, 3, 3))],
    "avg_pool2d": lambda g: [np.zeros((2, 3, 3, 3)), _r(g, 2, 3, 7, 7), 3, 3, 2, 1],
    "avg_pool2d_grad": lambda g: [np.zeros((2, 3, 7, 7)), _r(g, 2, 3, 3, 3), 3, 3, 2, 1],
    "cross_entropy": lambda g: [np.zeros(9), np.zeros(9), _r(g, 9, 5), g.integers(0, 5, 9),
                                0.1, 2],
    "cross_entropy_grad": lambda g: [np.zeros((9, 5)), _r(g, 9), _r(g, 9, 5), _r(g, 9) + 3,
                                     g.integers(0, 5, 9), 0.1, 2],
    "normalize_u8": lambda g: [np.zeros(1001, np.float32),
                               g.integers(0, 256, 1001).astype(np.uint8), 1 / 255, -0.5],
    "sgd_step": lambda g: [_r(g, 101), _r(g, 101), _r(g, 101), 0.1, 0.9, 0.1, True, 0.01,
                           False],
    "adam_step": lambda g: [_r(g, 101), _r(g, 101), _r(g, 101), np.abs(_r(g, 101)),
                            np.abs(_r(g, 101)), 0.01, 0.9, 0.999, 1e-8, 0.01, 3, True],
    "scale": lambda g: [_r(g, 101), 0.5],
    "sum_squares": lambda g: [np.zeros(1), _r(g, 1001)],
    "gather_flat": lambda g: [np.zeros(50), _r(g, 30), g.integers(0, 30, 50)],
}


def test_every_twin_has_a_case():
    assert {n for n, _ in _twins()} <= set(_CASES)
