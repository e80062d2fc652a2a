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


def test_idle_spin_defaults_are_set_and_user_values_win():
    from kernels import _spin
    env = {"GOMP_SPINCOUNT": "5"}
    assert _spin.set_defaults(env, set()) == []
    assert env == {"GOMP_SPINCOUNT": "5", "OPENBLAS_THREAD_TIMEOUT": "16"}


def test_a_thread_library_loaded_before_us_is_named():
    """``import torch`` before numbagrad loads libgomp with its long busy-wait (the
    MNIST CNN step ran 2.7x slower): say which library and which variable."""
    import subprocess
    import sys
    from kernels import _spin
    loaded = {"/x/torch/lib/libgomp.so.1", "/x/numpy.libs/libscipy_openblas64_-1.so"}
    early = _spin.set_defaults({}, loaded)
    assert early == ["/x/torch/lib/libgomp.so.1 (wants GOMP_SPINCOUNT=1000)"]
    assert _spin.set_defaults({"GOMP_SPINCOUNT": "0"}, loaded) == []
    # In a fresh process: the real check, with SciPy's BLAS loaded first (it is always
    # installed; libgomp exists only where Numba's OpenMP layer runs).
    code = ("import warnings; warnings.simplefilter('error'); import scipy.linalg\n"
            "try:\n    import framework\nexcept RuntimeWarning as w:\n    print(w)")
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert "scipy" in out and "OPENBLAS_THREAD_TIMEOUT=16" in out, out
