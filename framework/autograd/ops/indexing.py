"""``tensor[key]``: basic indexing as one strided gather, advanced indexing as a flat gather.

Basic keys (ints, slices with steps, None, Ellipsis) select a strided sub-array,
described by an offset and per-dim strides and copied by one kernel. Integer arrays
and boolean masks follow NumPy's rules; the flat positions they pick are computed on
the host from the key alone, and the gradient scatter-adds into those positions, so
repeated indices accumulate.
"""
import numbers

import numpy as np

from ...tensor import Tensor, array_on_device_of
from ..function import Function
from . import arrays
from .shapes import broadcast_shapes, contiguous_strides


class StridedIndex(Function):
    @staticmethod
    def forward(ctx, x, shape, strides, offset):
        ctx.view, ctx.in_shape = (shape, strides, offset), x.shape
        return arrays.strided_copy(ctx.kernels, x, shape, strides, offset)

    @staticmethod
    def backward(ctx, g):
        k = ctx.kernels
        shape, strides, offset = ctx.view
        grad = k.zeros(ctx.in_shape, g.dtype)
        arrays.strided_write(k, grad, g, shape, strides, offset)
        return grad, None, None, None


class FlatIndex(Function):
    @staticmethod
    def forward(ctx, x, positions):
        k = ctx.kernels
        out = k.empty(positions.shape, x.dtype)
        k.gather_flat(out.reshape(-1), x.reshape(-1), positions.reshape(-1))
        ctx.in_shape, ctx.positions = x.shape, positions
        return out

    @staticmethod
    def backward(ctx, g):
        k = ctx.kernels
        grad = k.zeros(ctx.in_shape, g.dtype)
        k.scatter_add_flat(grad.reshape(-1), g.reshape(-1), ctx.positions.reshape(-1))
        return grad, None


def _is_basic(item):
    return (item is None or item is Ellipsis or isinstance(item, slice)
            or (isinstance(item, numbers.Integral) and not isinstance(item, bool)))


def _basic_view(shape, key):
    """(shape, strides, offset) in elements of ``x[key]`` for a basic ``key``."""
    n_real = sum(1 for item in key if item is not None and item is not Ellipsis)
    if n_real > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)} "
                         f"(got {n_real})")
    if sum(1 for item in key if item is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    expanded = []
    for item in key:
        if item is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - n_real))
        else:
            expanded.append(item)
    if not any(item is Ellipsis for item in key):
        expanded.extend([slice(None)] * (len(shape) - n_real))
    src = contiguous_strides(shape)
    out_shape, out_strides, offset, d = [], [], 0, 0
    for item in expanded:
        if item is None:
            out_shape.append(1)
            out_strides.append(0)
            continue
        size = shape[d]
        if isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError(f"slice step must be positive, got {item.step}")
            start, stop, step = item.indices(size)
            n = len(range(start, stop, step))
            out_shape.append(n)
            out_strides.append(step * src[d])
            offset += start * src[d] if n else 0
        else:
            i = int(item)
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size "
                                 f"{size}")
            offset += (i % size) * src[d]
        d += 1
    return tuple(out_shape), tuple(out_strides), offset


def _host_index(item):
    """An advanced-index item as a host NumPy array (or a basic item unchanged)."""
    if isinstance(item, Tensor):
        arr = item.kernels.to_host(item.data)
    elif isinstance(item, (list, np.ndarray)):
        arr = np.asarray(item)
    else:
        return item
    if arr.dtype.kind not in "biu":
        raise IndexError(f"tensors used as indices must be integer or bool, got {arr.dtype}")
    return arr


def _normalize_key(key):
    if not isinstance(key, tuple):
        key = (key,)
    return tuple(int(item) if isinstance(item, Tensor) and item.ndim == 0
                 and item.dtype.np.kind in "iu" else item for item in key)


def _positions(x, key):
    """Flat positions (host int64 array of the selection's shape) of an advanced ``key``."""
    host_key = tuple(_host_index(item) for item in key)
    try:
        return np.arange(x.numel(), dtype=np.int64).reshape(x.shape)[host_key]
    except IndexError as exc:
        raise IndexError(f"indexing a tensor of shape {x.shape}: {exc}") from None


def getitem(x, key):
    key = _normalize_key(key)
    if all(_is_basic(item) for item in key):
        shape, strides, offset = _basic_view(x.shape, key)
        return StridedIndex.apply(x, shape, strides, offset)
    return FlatIndex.apply(x, x.kernels.from_host(_positions(x, key), np.int64))


def setitem(x, key, value):
    """``x[key] = value`` in place, not recorded by autograd (the caller checks grad mode).

    Basic keys write through one strided scatter. Advanced keys write the selected flat
    positions; where a position repeats, the last value wins, as in NumPy.
    """
    k = x.kernels
    key = _normalize_key(key)
    basic = all(_is_basic(item) for item in key)
    if basic:
        shape, strides, offset = _basic_view(x.shape, key)
    else:
        positions = _positions(x, key)
        shape = positions.shape
    src = _assigned_values(x, value, shape)
    if basic:
        arrays.strided_write(k, x.data, src, shape, strides, offset)
    elif positions.size:
        _write_positions(k, x.data, src, positions.reshape(-1))


def _assigned_values(x, value, shape):
    """``value`` as an array of ``x``'s dtype and device, broadcast to ``shape``."""
    src = array_on_device_of(x, value, "setitem: value")
    try:
        fits = broadcast_shapes("setitem", tuple(src.shape), shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"setitem: value of shape {tuple(src.shape)} cannot be broadcast to "
                         f"the selected shape {tuple(shape)}")
    return arrays.expand(x.kernels, arrays.cast(x.kernels, src, x.data.dtype), shape)


def _write_positions(k, data, src, positions):
    """data.flat[positions] = src.flat, the last value winning at repeated positions.

    Kernels have no scatter that assigns, so the values are gathered into a full-size
    array (through an index map built on the host) and selected by a mask.
    """
    n = data.size
    last = positions.size - 1 - np.unique(positions[::-1], return_index=True)[1]
    chosen = positions[last]
    index_map = np.zeros(n, np.int64)
    index_map[chosen] = last
    mask = np.zeros(n, bool)
    mask[chosen] = True
    full = k.empty((n,), data.dtype)
    k.gather_flat(full, src.reshape(-1), k.from_host(index_map, np.int64))
    flat = data.reshape(1, 1, 1, n)
    k.where(flat, k.from_host(mask, np.bool_).reshape(1, 1, 1, n), full.reshape(1, 1, 1, n),
            flat)
