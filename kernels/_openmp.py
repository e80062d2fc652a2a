"""Keep Numba's OpenMP threads from starving the BLAS threads.

Numba's OpenMP pool and OpenBLAS's pool share the cores. By default libgomp's idle
threads busy-wait ~300k spins after each parallel kernel, starving the BLAS threads of
the GEMM that follows: a GEMM plus a parallel bias add took 8.8 ms instead of 0.4 ms on
2 cores. A short spin keeps back-to-back kernels fast and hands the cores back.

libgomp reads the variable once, when Numba first starts its pool, so it is set when
the ``kernels`` package is imported, before anything can start that pool. A value the
user set wins.
"""
import os

os.environ.setdefault("GOMP_SPINCOUNT", "1000")
