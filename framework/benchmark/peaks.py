"""The machine's own ceilings, measured by the benchmark run itself (never typed in)."""
import time

import numpy as np


def _best(fn, rounds):
    fn()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_peak_gflops(n=2048, rounds=3):
    """float32 GEMM rate of NumPy's BLAS at n^3 (with the current BLAS thread limit)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    out = np.empty((n, n), np.float32)
    return 2 * n ** 3 / _best(lambda: np.matmul(a, b, out=out), rounds) / 1e9


def copy_bandwidth_gbs(n=1 << 24, rounds=5):
    """Bytes read plus written per second by a plain copy of ``n`` float32 values."""
    src = np.ones(n, np.float32)
    dst = np.empty_like(src)
    return 2 * 4 * n / _best(lambda: np.copyto(dst, src), rounds) / 1e9


def measure(scale=1.0):
    """Both peaks; ``scale`` < 1 shrinks the problem (for tests)."""
    n = max(64, int(2048 * scale))
    return {"matmul_gflops": matmul_peak_gflops(n), "matmul_n": n,
            "copy_gbs": copy_bandwidth_gbs(max(1 << 12, int((1 << 24) * scale)))}
