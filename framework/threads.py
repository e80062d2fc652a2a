"""The thread count, one setting for Numba's kernels and for BLAS together.

Numba's pool and the BLAS pool both default to every core; running both that wide
oversubscribes the machine, so one call sets them together.
"""
import numba
import scipy.linalg.cython_blas  # noqa: F401  (see set_num_threads)
from threadpoolctl import threadpool_limits

import kernels  # noqa: F401  (sets libgomp's spin policy before Numba's pool starts)

_blas_limit = None


def set_num_threads(n):
    """Use ``n`` threads in Numba kernels and in BLAS (for the calling thread's kernels)."""
    global _blas_limit
    n = int(n)
    if not 1 <= n <= numba.config.NUMBA_NUM_THREADS:
        raise ValueError(f"set_num_threads: n must be in [1, {numba.config.NUMBA_NUM_THREADS}] "
                         f"(the cores Numba was started with), got {n}")
    numba.set_num_threads(n)
    # The limit reaches the BLAS libraries loaded when it is set. Our GEMMs go through
    # Numba's np.dot, i.e. SciPy's OpenBLAS, which Numba loads only when it first
    # compiles one: it is imported above so that it is there and limited too (without,
    # two 1-thread MPI ranks ran 2-thread GEMMs each and a step took 12x longer).
    _blas_limit = threadpool_limits(limits=n, user_api="blas")


def get_num_threads():
    return numba.get_num_threads()
