"""Every CUDA kernel against the CPU kernel on the same inputs, and the spec check."""
import inspect

import numpy as np
import pytest
from kernel_cases import CASES

import kernels.cpu as cpu
import kernels.cuda as cu
from kernels import spec


def _params(fn):
    fn = inspect.unwrap(fn)
    return tuple(inspect.signature(getattr(fn, "py_func", fn)).parameters)


def test_cuda_exports_exactly_the_spec():
    exported = {n for n in dir(cu) if not n.startswith("_") and callable(getattr(cu, n))}
    assert exported == set(spec.KERNELS)
    assert cu.NAME == "cuda"
    memory = {"empty", "zeros", "from_host", "to_host", "arange", "storage_id"}
    for name, args in spec.KERNELS.items():
        # Launching kernels also take threads per block, last and with a default.
        extra = () if name in memory else ("threads",)
        assert _params(getattr(cu, name)) == args + extra, name
        if extra:
            default = inspect.signature(getattr(cu, name)).parameters["threads"].default
            assert isinstance(default, int) and default > 0, name


def test_every_kernel_has_a_case():
    memory = {"empty", "zeros", "from_host", "to_host", "arange", "storage_id"}
    assert set(CASES) == set(spec.KERNELS) - memory


def _run(name, args, dtype, threads):
    """Run kernel ``name`` on copies of ``args`` (floats as ``dtype``) on both backends."""
    args = [a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in args]
    host = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    getattr(cpu, name)(*host)
    dev = [cu.from_host(a, a.dtype) if isinstance(a, np.ndarray) else a for a in args]
    getattr(cu, name)(*dev, threads=threads)
    return ([a for a in host if isinstance(a, np.ndarray)],
            [cu.to_host(a) for a in dev if not isinstance(a, (int, float, bool))])


@pytest.mark.parametrize("threads", [8, 64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_kernel_matches_cpu_float64(name, threads):
    want, got = _run(name, CASES[name](np.random.default_rng(0)), np.float64, threads)
    for w, g in zip(want, got):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", sorted(n for n in CASES if n not in ("sum_squares",)))
def test_kernel_matches_cpu_float32(name):
    want, got = _run(name, CASES[name](np.random.default_rng(1)), np.float32, 32)
    for w, g in zip(want, got):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-5, err_msg=name)


@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True),
                                             (True, True)])
@pytest.mark.parametrize("threads", [8, 256])
def test_matmul_tails_and_broadcast_batches(trans_a, trans_b, threads):
    """Sizes that are not multiples of any tile, a broadcast batch, both transposes."""
    rng = np.random.default_rng(3)
    M, N, K = 19, 21, 23
    a = rng.standard_normal((1, K, M) if trans_a else (1, M, K))
    b = rng.standard_normal((3, N, K) if trans_b else (3, K, N))
    out = cu.empty((3, M, N), np.float64)
    cu.matmul(out, cu.from_host(a, a.dtype), cu.from_host(b, b.dtype), trans_a, trans_b,
              threads=threads)
    a_op = a.swapaxes(1, 2) if trans_a else a
    b_op = b.swapaxes(1, 2) if trans_b else b
    np.testing.assert_allclose(cu.to_host(out), a_op @ b_op, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape,dims", [((5, 300, 1), 1), ((1, 5000, 1), 1), ((4, 37, 3), 1)])
def test_sum_reduce_long_rows_and_int(shape, dims):
    """Long rows take the two-pass shared-memory tree; ints accumulate in int64."""
    rng = np.random.default_rng(4)
    for x in (rng.standard_normal(shape), rng.integers(-5, 5, shape)):
        out = cu.empty((shape[0], shape[2]), np.float64 if x.dtype.kind == "f" else np.int64)
        cu.sum_reduce(out, cu.from_host(x, x.dtype), 1.0, threads=32)
        np.testing.assert_allclose(cu.to_host(out), x.sum(axis=1), rtol=1e-10)


def test_memory_functions():
    x = cu.arange(0, 10, 3, np.int64)
    assert cu.to_host(x).tolist() == [0, 3, 6, 9]
    z = cu.zeros((2, 3), np.float32)
    assert cu.to_host(z).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert cu.storage_id(z) == cu.storage_id(z.reshape(6))
    assert cu.storage_id(z) != cu.storage_id(cu.zeros((2, 3), np.float32))
    assert cu.empty((0, 0, 0, 0), np.float32).size == 0


@pytest.mark.parametrize("threads", [0, 2048])
def test_threads_per_block_out_of_range_is_a_clear_error(threads):
    with pytest.raises(ValueError, match=f"threads per block must be in .1, 1024., got {threads}"):
        cu.fill(cu.empty((4,), np.float32), 1.0, threads=threads)
