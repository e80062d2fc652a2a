"""One clear error when the CUDA backend cannot run here, and the simulator's setup."""


def require_cuda():
    """"gpu" or "simulator"; or ImportError, one line saying why CUDA is unusable here."""
    try:
        from numba import cuda
    except ImportError as exc:
        raise ImportError(f"the numba-cuda package is not installed ({exc}); install it "
                          f"with: pip install 'numbagrad[cuda]'") from None
    if not cuda.is_available():
        raise ImportError("no CUDA GPU was found (to use Numba's CUDA simulator instead, "
                          "set NUMBA_ENABLE_CUDASIM=1 before Python starts)")
    try:
        from numba.cuda.core import config
    except ImportError:  # older numba-cuda
        from numba.core import config
    if not config.ENABLE_CUDASIM:
        return "gpu"
    _host_shapes_as_tuples(cuda.simulator.cudadrv.devicearray.FakeCUDAArray)
    return "simulator"


def _host_shapes_as_tuples(fake_array):
    """A real device array's ``shape`` is a plain tuple on the host; the simulator's is a
    tuple that refuses negative indices (as shapes do inside kernels). Host code here
    indexes shapes from the end, so under the simulator it gets what a GPU gives it."""
    fake_array.shape = property(lambda self: self._ary.shape)
