"""``x[key] = value``: NumPy's results for basic and advanced keys, clear errors, and a
version bump so that a backward through an overwritten saved array raises."""
import numpy as np
import pytest

import framework as fw
from tests.conftest import t64

KEYS = [
    (1,), (slice(None), 2), (slice(1, None, 2), Ellipsis), (None, 0, slice(None, None, 3)),
    (np.array([0, 2, 0]), np.array([1, 3, 1])),      # repeats: the last value wins
    (np.arange(12).reshape(3, 4) % 5 == 0,),          # a boolean mask
    (slice(None), np.array([3, 0])),
]


@pytest.mark.parametrize("key", KEYS, ids=range(len(KEYS)))
@pytest.mark.parametrize("scalar", [True, False])
def test_setitem_matches_numpy(key, scalar, rng):
    base = rng.standard_normal((3, 4))
    want = base.copy()
    selected = want[key].shape
    value = 2.5 if scalar else rng.standard_normal(selected[-1:] if selected else ())
    want[key] = value
    x = fw.tensor(base)
    x[key if len(key) > 1 else key[0]] = value if scalar else fw.tensor(value)
    np.testing.assert_array_equal(x.numpy(), want)


def test_setitem_casts_and_broadcasts():
    x = fw.zeros(2, 3, dtype=fw.int64)
    x[:, 1:] = fw.tensor([1.7, -2.2])
    assert x.tolist() == [[0, 1, -2], [0, 1, -2]]


def test_setitem_errors():
    x = fw.zeros(2, 3)
    with pytest.raises(ValueError, match=r"value of shape \(4,\) cannot be broadcast to the "
                                         r"selected shape \(2, 3\)"):
        x[...] = fw.zeros(4)
    with pytest.raises(IndexError, match="out of bounds"):
        x[5] = 1.0
    leaf = fw.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="__setitem__: in-place update of a leaf"):
        leaf[0] = 1.0
    with pytest.raises(RuntimeError, match="value requires grad"):
        x[0] = fw.ones(3, requires_grad=True)


def test_setitem_bumps_the_version_of_a_saved_array():
    x = t64([0.5, 1.5, 2.5])
    y = x.sigmoid()
    with fw.no_grad():
        y[np.array([1])] = 0.0
    assert y._version == 1
    with pytest.raises(RuntimeError, match="SigmoidBackward .* __setitem__"):
        y.sum().backward()
