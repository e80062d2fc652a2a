"""Helpers of the float32-against-float64 reference tests of the CPU kernels."""
import numpy as np


def f32(array):
    """A C-contiguous float32 copy of ``array``: a kernel input."""
    return np.ascontiguousarray(array, dtype=np.float32)


def close32(got, want, rtol=1e-5, atol=1e-6):
    """``got`` (a float32 kernel result) matches the float64 reference ``want`` to
    float32 accuracy: a few units in the last place, relative or absolute."""
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=rtol, atol=atol)
