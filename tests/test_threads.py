"""fw.set_num_threads reaches every BLAS our kernels use."""
from threadpoolctl import threadpool_info

import framework as fw


def test_thread_limit_reaches_the_blas_behind_numbas_dot():
    """Our GEMMs run through Numba's np.dot, i.e. SciPy's BLAS: it must be loaded and
    limited by set_num_threads, not left at one thread per core (two 1-thread MPI ranks
    on 2 cores then ran 12x slower)."""
    before = fw.get_num_threads()
    try:
        fw.set_num_threads(1)
        blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
        assert any("scipy" in i["filepath"] for i in blas), [i["filepath"] for i in blas]
        assert all(i["num_threads"] == 1 for i in blas), blas
        a = fw.ones(64, 64)
        (a @ a).sum().item()  # a GEMM after the limit: still one thread
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    finally:
        fw.set_num_threads(before)
