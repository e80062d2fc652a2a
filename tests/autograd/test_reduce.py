"""Reductions and the softmax family: forward against NumPy, float64 gradcheck."""
import numpy as np
import pytest

import framework as fw
from framework.autograd import gradcheck
from tests.conftest import assert_close, t64

DIMS = [None, 0, 1, -1, (0, 2), (1, 2), (0, 1, 2), ()]


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_mean(rng, dim, keepdim):
    a = rng.standard_normal((3, 4, 5))
    x = t64(a)
    np_dim = dim if dim != () else ()
    assert_close(x.sum(dim, keepdim), a.sum(axis=np_dim, keepdims=keepdim), rtol=1e-12)
    if dim != ():
        assert_close(x.mean(dim, keepdim), a.mean(axis=np_dim, keepdims=keepdim), rtol=1e-12)
    assert gradcheck(lambda v: v.sum(dim, keepdim), [x])
    assert gradcheck(lambda v: v.mean(dim, keepdim) if dim != () else v.sum(()), [x])


@pytest.mark.parametrize("dim", [None, 0, 2, (0, 2), (1, 2)])
def test_var_std(rng, dim):
    a = rng.standard_normal((3, 4, 5))
    x = t64(a)
    assert_close(x.var(dim), a.var(axis=dim, ddof=1), rtol=1e-10)
    assert_close(x.var(dim, unbiased=False), a.var(axis=dim), rtol=1e-10)
    assert_close(x.std(dim, keepdim=True), a.std(axis=dim, ddof=1, keepdims=True), rtol=1e-10)
    assert gradcheck(lambda v: v.var(dim), [x])
    assert gradcheck(lambda v: v.std(dim), [x])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_min_with_indices(rng, dim):
    a = rng.standard_normal((4, 6, 3))
    x = t64(a)
    values, indices = x.max(dim)
    assert_close(values, a.max(axis=dim))
    np.testing.assert_array_equal(indices.numpy(), a.argmax(axis=dim))
    assert indices.dtype is fw.int64
    vmin, imin = x.min(dim, keepdim=True)
    assert_close(vmin, a.min(axis=dim, keepdims=True))
    np.testing.assert_array_equal(imin.numpy(), a.argmin(axis=dim)[..., None].reshape(
        vmin.shape))
    assert gradcheck(lambda v: v.max(dim)[0], [x])
    assert gradcheck(lambda v: v.min(dim, keepdim=True).values, [x])


def test_max_whole_tensor_and_tuple_dims(rng):
    a = rng.standard_normal((4, 5, 3))
    x = t64(a)
    assert_close(x.max(), a.max())
    assert_close(x.min(), a.min())
    assert_close(x.max(dim=(0, 2)), a.max(axis=(0, 2)))
    assert_close(x.amin((0, 1), keepdim=True), a.min(axis=(0, 1), keepdims=True))
    assert gradcheck(lambda v: v.max(), [x])
    assert gradcheck(lambda v: v.amax((0, 2)), [x])
    assert x.argmax().item() == a.argmax()
    np.testing.assert_array_equal(x.argmin(1).numpy(), a.argmin(axis=1))
    np.testing.assert_array_equal(x.argmax(2, keepdim=True).numpy(),
                                  a.argmax(axis=2)[..., None])


def test_max_propagates_nan():
    x = fw.tensor([1.0, float("nan"), 3.0])
    assert np.isnan(x.max().item())
    assert x.argmax().item() == 1


def test_integer_and_bool_sums():
    i = fw.tensor([[1, 2], [3, 4]])
    assert i.sum().item() == 10 and i.sum().dtype is fw.int64
    assert fw.tensor([True, False, True]).sum().item() == 2
    assert i.max().item() == 4


def test_large_reductions_use_parallel_paths(rng):
    a = rng.standard_normal((1 << 20,)).astype(np.float32)
    x = fw.tensor(a)
    np.testing.assert_allclose(x.sum().item(), a.astype(np.float64).sum(), rtol=1e-6)
    np.testing.assert_allclose(x.mean().item(), a.astype(np.float64).mean(), rtol=1e-5,
                               atol=1e-7)
    b = rng.standard_normal((1030, 1030)).astype(np.float32)
    assert_close(fw.tensor(b).sum(0), b.astype(np.float64).sum(0), rtol=1e-5, atol=1e-4)
    assert_close(fw.tensor(b).sum(1), b.astype(np.float64).sum(1), rtol=1e-5, atol=1e-4)
    assert_close(fw.tensor(b).amax(1), b.max(1))


def test_empty_reductions():
    x = fw.zeros(0, 3)
    assert_close(x.sum(0), np.zeros(3))
    assert x.sum().item() == 0
    with pytest.raises(ValueError, match="size 0"):
        x.max()


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family(rng, dim):
    a = rng.standard_normal((3, 4, 5)) * 3
    x = t64(a)
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    sm = e / e.sum(axis=dim, keepdims=True)
    assert_close(x.softmax(dim), sm, rtol=1e-10)
    assert_close(x.log_softmax(dim), np.log(sm), rtol=1e-10)
    lse = np.log(np.exp(a).sum(axis=dim))
    assert_close(x.logsumexp(dim), lse, rtol=1e-10)
    assert_close(x.logsumexp(dim, keepdim=True), np.expand_dims(lse, dim), rtol=1e-10)
    assert gradcheck(lambda v: v.softmax(dim), [x])
    assert gradcheck(lambda v: v.log_softmax(dim), [x])
    assert gradcheck(lambda v: v.logsumexp(dim), [x])


def test_softmax_stable_for_large_inputs():
    x = fw.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]])
    s = x.softmax(1).numpy()
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s.sum(1), [1.0, 1.0], rtol=1e-6)
    ls = x.log_softmax(-1).numpy()
    np.testing.assert_allclose(ls[1], np.log([1 / 3] * 3), rtol=1e-6)
    np.testing.assert_allclose(x.logsumexp(1).numpy(), [1002.4076, -998.90137], rtol=1e-6)
    assert np.isfinite(fw.tensor([1e30, 1e30], dtype=fw.float64).logsumexp(0).item())


@pytest.mark.parametrize("length", [5, 300])  # the short-row path and the line path
def test_log_softmax_keeps_float32_digits_far_from_zero(length):
    # float32 rows around +-1000: (x - max) - log(sum) keeps the digits that a logsumexp
    # rounded to float32 first (spacing 6e-5 there) would lose
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, length)) + np.array([[1000.0], [-1000.0]])).astype(np.float32)
    got = fw.tensor(x).log_softmax(-1).numpy()
    x64 = x.astype(np.float64)
    want = x64 - x64.max(1, keepdims=True)
    want -= np.log(np.exp(want).sum(1, keepdims=True))
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)


def test_softmax_parallel_path(rng):
    a = rng.standard_normal((2100, 500)).astype(np.float32)  # above PARALLEL_MIN_WORK
    e = np.exp(a - a.max(1, keepdims=True))
    assert_close(fw.tensor(a).softmax(1), e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)
