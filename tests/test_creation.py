"""Tensor creation, attributes, conversions and repr."""
import numpy as np
import pytest

import framework as fw
from tests.conftest import skip_if_cuda_available


def test_tensor_dtype_inference():
    assert fw.tensor([1.0, 2.0]).dtype is fw.float32
    assert fw.tensor([1, 2]).dtype is fw.int64
    assert fw.tensor([True]).dtype is fw.bool
    assert fw.tensor(np.zeros(2)).dtype is fw.float64
    assert fw.tensor(np.zeros(2, np.int32)).dtype is fw.int32
    assert fw.tensor(3.5).shape == ()
    assert fw.tensor([[1, 2]], dtype=fw.float64).dtype is fw.float64
    assert fw.tensor([1, 2], dtype="float32").dtype is fw.float32


def test_tensor_copies_data_from_numpy_shares():
    a = np.arange(4.0)
    t = fw.tensor(a)
    f = fw.from_numpy(a)
    a[0] = 100
    assert t[0].item() == 0 and f[0].item() == 100


def test_filled_and_ranges():
    assert fw.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert fw.ones((2,)).tolist() == [1.0, 1.0]
    assert fw.full((2, 2), 7).dtype is fw.int64
    assert fw.full((2,), 1.5).tolist() == [1.5, 1.5]
    assert fw.empty(3, 4).shape == (3, 4)
    assert fw.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert fw.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    x = fw.ones(2, 3, dtype=fw.float64)
    assert fw.zeros_like(x).dtype is fw.float64 and fw.ones_like(x).shape == (2, 3)
    with pytest.raises(ValueError, match="negative dimension"):
        fw.zeros(-1)


def test_random_with_generator_is_reproducible():
    a = fw.randn(3, 4, generator=fw.Generator(7))
    b = fw.randn(3, 4, generator=fw.Generator(7))
    assert np.array_equal(a.numpy(), b.numpy()) and a.dtype is fw.float32
    u = fw.rand(1000, generator=fw.Generator(1)).numpy()
    assert 0 <= u.min() and u.max() < 1
    fw.manual_seed(3)
    c = fw.rand(2)
    fw.manual_seed(3)
    assert np.array_equal(c.numpy(), fw.rand(2).numpy())
    assert sorted(fw.randperm(5, generator=fw.Generator(0)).tolist()) == [0, 1, 2, 3, 4]


def test_attributes_and_conversions():
    x = fw.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.shape == (2, 2) and x.ndim == 2 and x.numel() == 4 and x.size(1) == 2
    assert x.device == fw.device("cpu") and str(x.device) == "cpu"
    assert x.is_leaf and x.grad is None
    assert x.detach().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert x.sum().item() == 10.0
    with pytest.raises(ValueError, match="only a tensor with one element"):
        x.item()
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.to("cpu") is x
    assert x.cpu() is x
    assert x.to(fw.float64).dtype is fw.float64
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<" in repr(x * 2)
    assert repr(fw.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=framework.float64" in repr(fw.ones(1, dtype=fw.float64))


def test_cuda_without_backend_is_one_clear_error():
    skip_if_cuda_available()
    with pytest.raises(RuntimeError, match="cuda"):
        fw.ones(2).to("cuda")


def test_bad_dtype_and_data():
    with pytest.raises(TypeError, match="unsupported dtype"):
        fw.zeros(2, dtype="complex64")
    with pytest.raises((ValueError, TypeError)):
        fw.tensor([[1, 2], [3]])
