"""Tensor creation: from data, filled, ranges and random draws."""
import numbers

import numpy as np

from . import dtype as dt
from .compile.capture import recorder
from .device import as_device, kernels_for
from .random import default_generator
from .tensor import Tensor


def _infer_dtype(array, data):
    """PyTorch's inference: Python floats give float32, NumPy arrays keep their dtype."""
    if isinstance(data, Tensor):
        return data.dtype
    from_numpy_data = isinstance(data, (np.ndarray, np.generic))
    kind = array.dtype.kind
    if kind == "b":
        return dt.bool_
    if kind == "f":
        return dt.as_dtype(array.dtype) if from_numpy_data else dt.default_float
    if kind in "iu":
        return dt.as_dtype(array.dtype) if from_numpy_data else dt.int64
    raise TypeError(f"tensor(): cannot make a tensor from data of type {array.dtype}")


def _new(array, dtype, device, requires_grad):
    device = as_device(device)
    k = kernels_for(device)
    t = Tensor._wrap(k.from_host(array, dtype.np), device, None, 0)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays, tensors)."""
    if isinstance(data, Tensor):
        array = data.kernels.to_host(data.data)
    else:
        try:
            array = np.asarray(data)
        except ValueError as exc:
            raise ValueError(f"tensor(): data is not a rectangular array: {exc}") from None
        if array.dtype == object:
            raise TypeError("tensor(): data must be numbers or nested sequences of numbers")
    dtype = _infer_dtype(array, data) if dtype is None else dt.as_dtype(dtype)
    return _new(np.array(array, dtype=dtype.np, copy=True), dtype, device, requires_grad)


def from_numpy(array):
    """A tensor sharing memory with a C-contiguous NumPy array (copied if it is not)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected a numpy.ndarray, got {type(array).__name__}")
    return _new(array, dt.as_dtype(array.dtype), None, False)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(int(n) for n in size)
    if any(n < 0 for n in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def _filled(shape, value, dtype, device, requires_grad):
    dtype = dt.default_float if dtype is None else dt.as_dtype(dtype)
    device = as_device(device)
    k = kernels_for(device)
    data = k.zeros(shape, dtype.np) if value == 0 else k.empty(shape, dtype.np)
    if value != 0 and data.size:
        k.fill(data.reshape(-1), value)
    t = Tensor._wrap(data, device, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(_shape(size), 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(_shape(size), 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    dtype = dt.default_float if dtype is None else dt.as_dtype(dtype)
    device = as_device(device)
    t = Tensor._wrap(kernels_for(device).empty(_shape(size), dtype.np), device, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = dt.bool_ if isinstance(fill_value, bool) else (
            dt.int64 if isinstance(fill_value, numbers.Integral) else dt.default_float)
    return _filled(_shape((size,)), fill_value, dtype, device, requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return empty(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    if dtype is None:
        integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = dt.int64 if integral else dt.default_float
    dtype = dt.as_dtype(dtype)
    device = as_device(device)
    data = kernels_for(device).arange(start, end, step, dtype.np)
    t = Tensor._wrap(data, device, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def _random(draw, size, generator, dtype, device, requires_grad):
    dtype = dt.default_float if dtype is None else dt.as_dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"random floats need a floating point dtype, got {dtype!r}")
    gen = (generator or default_generator).numpy
    shape = _shape(size)
    return random_tensor(lambda: draw(gen, shape).astype(dtype.np, copy=False), dtype, device,
                       requires_grad)


def random_tensor(draw, dtype, device, requires_grad=False):
    """A tensor of ``draw()``'s host samples; a step recorded by ``fw.compile`` draws
    new ones from the generator at each replay instead of keeping these."""
    rec = recorder()
    if rec is None:
        return _new(draw(), dtype, device, requires_grad)
    host = draw()
    device = as_device(device)
    # A buffer of the plan's own (never the host array by reference): a replay fills it,
    # and a tensor returned from an earlier call keeps its values.
    data = kernels_for(device).empty(host.shape, dtype.np)
    rec.refill(data, draw, host)
    t = Tensor._wrap(data, device, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    return _random(lambda g, s: g.random(s), size, generator, dtype, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    return _random(lambda g, s: g.standard_normal(s), size, generator, dtype, device,
                   requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None):
    """Integers uniform in [low, high)."""
    if high is None:
        low, high = 0, low
    gen = (generator or default_generator).numpy
    dtype = dt.int64 if dtype is None else dt.as_dtype(dtype)
    shape = _shape((size,))
    return random_tensor(lambda: gen.integers(low, high, size=shape).astype(dtype.np), dtype,
                       device)


def randperm(n, generator=None, device=None):
    """A random permutation of 0..n-1 (int64)."""
    gen = (generator or default_generator).numpy
    return random_tensor(lambda: gen.permutation(n).astype(np.int64), dt.int64, device)
