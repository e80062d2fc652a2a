"""Shape ops and indexing: forward against NumPy, float64 gradcheck."""
import numpy as np
import pytest

import framework as fw
from framework.autograd import gradcheck
from tests.conftest import assert_close, t64


def test_reshape_view_flatten_squeeze_unsqueeze(rng):
    a = rng.standard_normal((2, 1, 3, 4))
    x = t64(a)
    assert_close(x.reshape(6, 4), a.reshape(6, 4))
    assert_close(x.view(-1, 12), a.reshape(-1, 12))
    assert_close(x.reshape((3, -1)), a.reshape(3, -1))
    assert_close(x.flatten(), a.reshape(-1))
    assert_close(x.flatten(1), a.reshape(2, -1))
    assert_close(x.flatten(2, 3), a.reshape(2, 1, 12))
    assert_close(x.squeeze(), a.squeeze())
    assert_close(x.squeeze(1), a.squeeze(1))
    assert_close(x.squeeze(0), a)
    assert_close(x.unsqueeze(0), a[None])
    assert_close(x.unsqueeze(-1), a[..., None])
    assert gradcheck(lambda v: v.reshape(6, 4) * v.flatten().reshape(4, 6).T, [x])
    assert gradcheck(lambda v: v.squeeze().unsqueeze(2), [x])


def test_transpose_permute_T(rng):
    a = rng.standard_normal((2, 3, 4))
    x = t64(a)
    assert_close(x.transpose(0, 2), a.transpose(2, 1, 0))
    assert_close(x.permute(1, 2, 0), a.transpose(1, 2, 0))
    assert_close(x.permute((2, 0, 1)), a.transpose(2, 0, 1))
    assert_close(x.T, a.T)
    assert_close(x.mT, np.swapaxes(a, -1, -2))
    assert gradcheck(lambda v: v.permute(1, 2, 0) * 2, [x])
    assert gradcheck(lambda v: v.transpose(-1, 0), [x])


def test_expand(rng):
    a = rng.standard_normal((3, 1))
    x = t64(a)
    assert_close(x.expand(2, 3, 4), np.broadcast_to(a, (2, 3, 4)))
    assert_close(x.expand(-1, 5), np.broadcast_to(a, (3, 5)))
    assert gradcheck(lambda v: v.expand(2, 3, 4), [x])


def test_cat_stack_split_chunk(rng):
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    x, y, z = t64(a), t64(b), t64(c)
    assert_close(fw.cat([x, y]), np.concatenate([a, b]))
    assert_close(fw.cat([x, z], dim=1), np.concatenate([a, c], 1))
    assert_close(fw.cat([x, z], dim=-1), np.concatenate([a, c], -1))
    assert_close(fw.stack([x, z]), np.stack([a, c]))
    assert_close(fw.stack([x, z], dim=2), np.stack([a, c], 2))
    assert gradcheck(lambda p, q: fw.cat([p, q, p], 0), [x, y])
    assert gradcheck(lambda p, q: fw.stack([p, q], 1), [x, z])
    parts = y.split(3)
    assert [p.shape for p in parts] == [(3, 3), (1, 3)]
    assert_close(parts[1], b[3:])
    parts = y.split([1, 2, 1], dim=0)
    assert_close(parts[1], b[1:3])
    assert gradcheck(lambda v: v.split([1, 2, 1])[1] * 2, [y])
    assert gradcheck(lambda v: tuple(v.split(2, dim=1)), [y])
    chunks = y.chunk(2, dim=1)
    assert [p.shape for p in chunks] == [(4, 2), (4, 1)]
    empty = fw.cat([x, fw.zeros(0, 3, dtype=fw.float64)])
    assert_close(empty, a)


def test_basic_indexing(rng):
    a = rng.standard_normal((4, 5, 6))
    x = t64(a)
    keys = [1, -1, (1, 2), (slice(None), 2), (slice(1, 4, 2),), (Ellipsis, 3),
            (None, 1, slice(None, None, 3)), (slice(None), None, -2), (2, 3, 4),
            (slice(10, 20),), (slice(None, None, 2), Ellipsis, slice(1, None, 4))]
    for key in keys:
        assert_close(x[key], a[key])
        assert gradcheck(lambda v, key=key: v[key], [x])


def test_advanced_indexing_accumulates(rng):
    a = rng.standard_normal((5, 3))
    x = t64(a)
    idx = [0, 2, 2, 4, 0]
    assert_close(x[idx], a[idx])
    assert_close(x[fw.tensor(idx)], a[idx])
    assert_close(x[:, [2, 0]], a[:, [2, 0]])
    rows, cols = np.array([0, 1, 4]), np.array([2, 2, 0])
    assert_close(x[rows, cols], a[rows, cols])
    assert_close(x[fw.arange(3), fw.tensor([1, 0, 2])], a[np.arange(3), [1, 0, 2]])
    x[idx].sum().backward()
    assert_close(x.grad, np.bincount(idx, minlength=5)[:, None] * np.ones((5, 3)))
    assert gradcheck(lambda v: v[idx] * 2, [x])
    assert gradcheck(lambda v: v[rows, cols], [x])


def test_boolean_mask_indexing(rng):
    a = rng.standard_normal((4, 3))
    x = t64(a)
    mask = x > 0
    assert_close(x[mask], a[a > 0])
    assert_close(x[fw.tensor([True, False, True, True])], a[[0, 2, 3]])
    assert gradcheck(lambda v: v[mask] ** 2, [x])


def test_index_errors():
    x = fw.zeros(3, 4)
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match=r"shape \(3, 4\)"):
        x[[0, 7]]
    with pytest.raises(IndexError, match="boolean index"):
        x[fw.tensor([True, False])]


def test_movement_errors():
    x = fw.zeros(2, 3)
    with pytest.raises(ValueError, match=r"reshape: shape \(4, 2\) is invalid for input of size 6"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="only one dimension can be -1"):
        x.reshape(-1, -1)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\)"):
        fw.cat([x, fw.zeros(2, 4)])
    with pytest.raises(TypeError, match="dtype"):
        fw.cat([x, fw.zeros(2, 3, dtype=fw.float64)])
    with pytest.raises(ValueError, match="permutation"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match="cannot expand|cannot be broadcast"):
        x.expand(4, 3)
    with pytest.raises(IndexError, match="out of range"):
        x.sum(2)
    with pytest.raises(ValueError, match="do not add up"):
        x.split([1, 2])
