import gzip
import os
from pathlib import Path

import numpy as np
import pytest

import framework as fw

# tests/cuda runs in its own process (tests/simulator_child.py), because the simulator
# must be switched on before Numba is first imported.
if os.environ.get("NUMBAGRAD_TEST_CUDA") != "1":
    collect_ignore = ["cuda"]

SIMULATOR_TEST = "test_cuda_backend_under_the_simulator"


def pytest_collection_finish(session):
    """Start the simulator's child run now, to run beside the rest of the suite."""
    if session.config.option.collectonly:
        return
    if any(item.name == SIMULATOR_TEST for item in session.items):
        from simulator_child import SimulatorRun
        session.config.simulator_run = SimulatorRun()


def pytest_sessionfinish(session):
    run = getattr(session.config, "simulator_run", None)
    if run is not None:
        run.stop()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def t64(array, requires_grad=True):
    """A float64 leaf tensor (a copy of ``array``)."""
    return fw.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def skip_if_cuda_available():
    """For tests of the error a machine without a GPU gives: a GPU machine skips them."""
    if fw.cuda.is_available():
        pytest.skip("expects no CUDA device, and this machine has one")


def assert_close(t, expected, rtol=1e-6, atol=1e-6):
    got = t.detach().numpy() if isinstance(t, fw.Tensor) else np.asarray(t)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def write_idx(path, array, magic):
    """Write a uint8 array as an IDX file (gzipped if the name ends in .gz)."""
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(data, mtime=0) if str(path).endswith(".gz") else data)
    return data


@pytest.fixture(scope="session")
def mnist_dir():
    """The original MNIST files in ../shared/data/mnist (tests never download them)."""
    assert (SHARED_MNIST / "train-images-idx3-ubyte.gz").is_file(), \
        f"MNIST not found at {SHARED_MNIST}; the tests read it from ../shared/data/mnist"
    return SHARED_MNIST


@pytest.fixture(scope="session")
def mnist_subset_dir(tmp_path_factory, mnist_dir):
    """A small MNIST-format data set (first 2000 train / 500 test images) for fast runs."""
    from framework.data.mnist import _read_bytes, parse_idx
    out = tmp_path_factory.mktemp("mnist_subset")
    for prefix, n in (("train", 2000), ("t10k", 500)):
        images = parse_idx(_read_bytes(str(mnist_dir / f"{prefix}-images-idx3-ubyte.gz")),
                           "x", 2051, 3)
        labels = parse_idx(_read_bytes(str(mnist_dir / f"{prefix}-labels-idx1-ubyte.gz")),
                           "x", 2049, 1)
        write_idx(out / f"{prefix}-images-idx3-ubyte", images[:n], 2051)
        write_idx(out / f"{prefix}-labels-idx1-ubyte.gz", labels[:n], 2049)
    return out
