"""``pad``: PyTorch's ``F.pad`` in constant, reflect, replicate and circular mode.

``pad`` lists (before, after) pairs from the last dim backwards, as PyTorch's:
(left, right, top, bottom, front, back). Constant mode copies the input, or the part
of it that negative pads leave, into a region of an output filled with ``value``:
strided kernels, no index array. The other modes are one gather: each output element
reads one input element through an int64 map of flat source positions, made on the
host once per (shape, pad, mode); the gradient scatter-adds back through the same map,
since at the borders several outputs read one input.
"""
import numbers
from math import prod

import numpy as np

from ...tensor import Tensor
from ..function import Function
from . import arrays
from .shapes import contiguous_strides

MODES = ("constant", "reflect", "replicate", "circular")


class Pad(Function):
    """out = x padded over its last len(pad) / 2 dims (see ``pad``)."""

    @staticmethod
    def forward(ctx, x, pad, mode, value):
        k = ctx.kernels
        ctx.x_shape, ctx.pad, ctx.mode, ctx.index = x.shape, pad, mode, None
        out = k.empty(padded_shape(x.shape, pad), x.dtype)
        if mode == "constant":
            # The fill as a scalar of the output's kind, so that fill is not compiled
            # again for an int value into a float array.
            _constant_forward(k, out, x, pad, np.dtype(x.dtype).type(value).item())
        elif out.size:
            ctx.index = source_map(k, x.shape, pad, mode)
            k.gather_flat(out.reshape(-1), x.reshape(-1), ctx.index)
        return out

    @staticmethod
    def backward(ctx, g):
        k = ctx.kernels
        if ctx.mode == "constant":
            return _constant_backward(k, g, ctx.x_shape, ctx.pad), None, None, None
        grad_x = k.zeros(ctx.x_shape, g.dtype)
        if g.size:
            k.scatter_add_flat(grad_x.reshape(-1), g.reshape(-1), ctx.index)
        return grad_x, None, None, None


def padded_shape(shape, pad):
    """``shape`` with pair i of ``pad`` added to dim -1 - i."""
    out = list(shape)
    for i in range(len(pad) // 2):
        out[-1 - i] += pad[2 * i] + pad[2 * i + 1]
    return tuple(out)


def _kept_region(shape, pad):
    """What constant padding keeps of the input: (shape, start in the input, start in
    the output), per dim. Negative pads crop the input; positive ones shift it."""
    region, x_start, out_start = list(shape), [0] * len(shape), [0] * len(shape)
    for i in range(len(pad) // 2):
        d, lo, hi = len(shape) - 1 - i, pad[2 * i], pad[2 * i + 1]
        x_start[d], out_start[d] = max(-lo, 0), max(lo, 0)
        region[d] = shape[d] - max(-lo, 0) - max(-hi, 0)
    return tuple(region), x_start, out_start


def _strided_region(shape, starts):
    """(strides, offset) in elements of the block of a C-contiguous ``shape`` array that
    begins at index ``starts``."""
    strides = contiguous_strides(tuple(shape))
    return strides, sum(s * i for s, i in zip(strides, starts))


def _constant_forward(k, out, x, pad, value):
    region, x_start, out_start = _kept_region(x.shape, pad)
    if out.size > prod(region):
        k.fill(out.reshape(-1), value)
    if not prod(region):
        return
    src = x
    if region != x.shape:
        src = arrays.strided_copy(k, x, region, *_strided_region(x.shape, x_start))
    arrays.strided_write(k, out, src, region, *_strided_region(out.shape, out_start))


def _constant_backward(k, g, x_shape, pad):
    region, x_start, out_start = _kept_region(x_shape, pad)
    if not prod(region):
        return k.zeros(x_shape, g.dtype)
    kept = arrays.strided_copy(k, g, region, *_strided_region(g.shape, out_start))
    if region == x_shape:
        return kept
    grad_x = k.zeros(x_shape, g.dtype)
    arrays.strided_write(k, grad_x, kept, region, *_strided_region(x_shape, x_start))
    return grad_x


def _source_indices(size, lo, hi, mode):
    """Input index along one dim for each of its size + lo + hi output positions."""
    j = np.arange(size + lo + hi, dtype=np.int64)
    if mode == "circular":
        # PyTorch wraps around what is left after cropping, not the whole dim.
        start = max(-lo, 0)
        kept = size - start - max(-hi, 0)
        return start + (j - max(lo, 0)) % kept
    i = j - lo  # the position in the input's own coordinates
    if mode == "replicate":
        return np.clip(i, 0, size - 1)
    return (size - 1) - np.abs((size - 1) - np.abs(i))  # reflect: |pads| < size


def _host_source_map(shape, pad, mode):
    """Flat input position of every output element, as a host int64 array."""
    n_dims = len(pad) // 2
    plane = shape[len(shape) - n_dims:]
    strides = contiguous_strides(tuple(plane))
    within = np.zeros((), np.int64)
    for d in range(n_dims):
        i = n_dims - 1 - d  # pair i pads dim d of the plane
        along = _source_indices(plane[d], pad[2 * i], pad[2 * i + 1], mode) * strides[d]
        within = np.add.outer(within, along)
    planes = np.arange(prod(shape[:len(shape) - n_dims]), dtype=np.int64) * prod(plane)
    return np.add.outer(planes, within.reshape(-1)).reshape(-1)


# Source maps depend on (backend, shape, pad, mode) only and a model pads the same
# shapes every step: memoized so that a step neither rebuilds a map on the host nor
# copies it to the device again. Bounded in entries and bytes; maps are only read.
_MAPS = {}
_MAPS_MAX = 32
_MAPS_MAX_BYTES = 256 << 20


def source_map(k, shape, pad, mode):
    """The device int64 map of ``_host_source_map``, memoized per backend."""
    key = (k.NAME, tuple(shape), tuple(pad), mode)
    index = _MAPS.get(key)
    if index is None:
        index = k.from_host(_host_source_map(shape, pad, mode), np.int64)
        held = sum(a.nbytes for a in _MAPS.values())
        if len(_MAPS) >= _MAPS_MAX or held + index.nbytes > _MAPS_MAX_BYTES:
            _MAPS.clear()
        if index.nbytes <= _MAPS_MAX_BYTES:
            _MAPS[key] = index
    return index


def _check_pad_arg(pad, x):
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise ValueError(f"pad: padding length must be divisible by 2, got {len(pad)} values "
                         f"{pad}")
    if len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding {pad} pads {len(pad) // 2} dims but the input of "
                         f"shape {x.shape} has only {x.ndim}")
    return pad


def _dims_and_pairs(shape, pad):
    """(dim, size, lo, hi) of every padded dim."""
    return [(len(shape) - 1 - i, shape[-1 - i], pad[2 * i], pad[2 * i + 1])
            for i in range(len(pad) // 2)]


def _check_constant(shape, pad):
    for d, size, lo, hi in _dims_and_pairs(shape, pad):
        if size - max(-lo, 0) - max(-hi, 0) < 0:
            raise ValueError(f"pad: negative padding ({lo}, {hi}) of dim {d} removes more "
                             f"than its size {size} (input shape {shape})")


def _check_rank(shape, pad, mode):
    n = len(pad) // 2
    if n not in (1, 2, 3) or len(shape) not in (n + 1, n + 2):
        raise ValueError(
            f"pad: mode '{mode}' pads the last 1, 2 or 3 dims of an input with 1 or 2 more "
            f"dims ((C, W) or (N, C, W) for 2 values, (C, H, W) or (N, C, H, W) for 4, "
            f"(C, D, H, W) or (N, C, D, H, W) for 6); got {len(pad)} padding values for an "
            f"input of shape {shape}")


def _check_border_modes(shape, pad, mode):
    """Reflect and replicate need every output position to have an input to copy;
    circular may wrap around what is left after cropping at most once."""
    for d, size, lo, hi in _dims_and_pairs(shape, pad):
        where = f"padding ({lo}, {hi}) of dim {d} of size {size} (input shape {shape})"
        if mode == "circular":
            kept = size - max(-lo, 0) - max(-hi, 0)
            if kept < 0:
                raise ValueError(f"pad: circular {where} removes more than the dim holds")
            if max(lo, hi) > kept:
                raise ValueError(f"pad: circular {where} would wrap around more than once: "
                                 f"each pad must be at most {kept}")
            continue
        if size + lo + hi < 1 or size < 1:
            raise ValueError(f"pad: {mode} {where} leaves no element to pad from: the "
                             f"input and the output must have at least one")
        if mode == "reflect" and max(lo, hi) >= size:
            raise ValueError(f"pad: reflect {where}: each pad must be less than the size")


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims of ``input``, as PyTorch's ``F.pad``.

    Args:
        input: a tensor.
        pad: (before, after) pairs of ints from the last dim backwards:
            (left, right), (left, right, top, bottom), ...; negative values crop.
        mode: "constant" (any rank, up to every dim), or "reflect" (mirror without
            repeating the edge; each pad less than the dim's size), "replicate" (repeat
            the edge), "circular" (wrap around) over the last 1, 2 or 3 dims of an
            input with 1 or 2 leading (channel, batch) dims.
        value: the fill of constant mode (default 0); other modes take none (or 0).

    Returns:
        A new tensor; its gradient flows back to ``input``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: input must be a Tensor, got {type(input).__name__}")
    pad = _check_pad_arg(pad, input)
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, MODES))}, got "
                         f"{mode!r}")
    if mode == "constant":
        if value is None:
            value = 0
        elif isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"pad: value must be a real number or None, got {value!r}")
        _check_constant(input.shape, pad)
    else:
        if value is not None and value != 0:  # PyTorch lets a 0 through
            raise ValueError(f"pad: mode '{mode}' takes no value (got value={value!r})")
        _check_rank(input.shape, pad, mode)
        _check_border_modes(input.shape, pad, mode)
        value = None
    return Pad.apply(input, pad, mode, value)
