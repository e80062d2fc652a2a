"""The CUDA tests run in their own pytest process: on a GPU, or under Numba's simulator
(``NUMBA_ENABLE_CUDASIM=1`` must be set before Numba is first imported, which the main
test process has long done). ``tests/test_cuda_simulator.py`` starts that process;
on a GPU machine run ``NUMBAGRAD_TEST_CUDA=1 python -m pytest tests/cuda``.
"""
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

