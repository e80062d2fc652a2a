import numpy as np
import pytest

import framework as fw


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def t64(array, requires_grad=True):
    """A float64 leaf tensor (a copy of ``array``)."""
    return fw.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def assert_close(t, expected, rtol=1e-6, atol=1e-6):
    got = t.detach().numpy() if isinstance(t, fw.Tensor) else np.asarray(t)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
