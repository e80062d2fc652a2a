"""The CUDA tests run in their own pytest process: on a GPU, or under Numba's simulator
(``NUMBA_ENABLE_CUDASIM=1`` must be set before Numba is first imported, which the main
test process has long done). ``tests/test_cuda_simulator.py`` starts that process;
on a GPU machine run ``NUMBAGRAD_TEST_CUDA=1 python -m pytest tests/cuda``.
"""
import contextlib
import warnings

import numpy as np
import pytest


def pytest_collection_modifyitems(config, items):
    from numba import cuda
    if not cuda.is_available():
        skip = pytest.mark.skip(reason="no CUDA GPU and NUMBA_ENABLE_CUDASIM is not set")
        for item in items:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(7)



@pytest.fixture
def no_implicit_copies():
    """The ``_no_implicit_copies`` context manager."""
    return _no_implicit_copies


@contextlib.contextmanager
def _no_implicit_copies():
    """Fail if a kernel launch inside the block is handed a host array.

    Numba then copies it to the device and back behind the caller's back. On a GPU,
    Numba reports that as a performance warning; the simulator copies silently and
    never warns, so there every kernel launch's arguments are inspected instead.
    """
    from kernels.cuda._available import require_cuda
    offenders = []
    if require_cuda() == "simulator":
        from numba.cuda.simulator.kernel import FakeCUDAKernel
        launch = FakeCUDAKernel.__call__

        def checked(self, *args):
            if not self._device:  # a launch from the host, not a device-function call
                offenders.extend(f"{self.fn.__name__} argument {i} (host array of shape "
                                 f"{a.shape})" for i, a in enumerate(args)
                                 if isinstance(a, np.ndarray) and a.ndim > 0)
            return launch(self, *args)

        FakeCUDAKernel.__call__ = checked
        try:
            yield
        finally:
            FakeCUDAKernel.__call__ = launch
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        offenders.extend(str(w.message) for w in caught
                         if "Host array used in CUDA kernel" in str(w.message))
    assert not offenders, "implicit host/device copies: " + "; ".join(offenders)
