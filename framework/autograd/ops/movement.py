"""Shape and layout ops: reshape, permute, expand, cat, split, clone, device transfer.

Reshapes are free views of contiguous data; everything that reorders elements is one
strided-gather kernel, and its backward the matching scatter or a reduction.
"""
from math import prod

from ...device import kernels_for
from ...tensor import Tensor
from ..function import Function
from . import arrays
from .shapes import broadcast_shapes, normalize_dim


class Reshape(Function):
    returns_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return arrays.permute(ctx.kernels, x, perm)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.perm)
        for i, p in enumerate(ctx.perm):
            inverse[p] = i
        return arrays.permute(ctx.kernels, g, inverse), None


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return arrays.expand(ctx.kernels, x, shape)

    @staticmethod
    def backward(ctx, g):
        return arrays.sum_to_shape(ctx.kernels, g, ctx.in_shape), None


def _slab(shape, dim):
    """(A, R, B) around ``dim``: elements before, along and after it."""
    return prod(shape[:dim]), shape[dim], prod(shape[dim + 1:])


class Cat(Function):
    """Concatenation along ``dim``: each input is a slab (A, R_i, B) of the output."""

    @staticmethod
    def forward(ctx, dim, *xs):
        k = ctx.kernels
        shape = list(xs[0].shape)
        shape[dim] = sum(x.shape[dim] for x in xs)
        out = k.empty(tuple(shape), xs[0].dtype)
        ctx.pieces = []
        a, total, b = _slab(shape, dim)
        offset = 0
        for x in xs:
            piece = ((a, x.shape[dim], b), (total * b, b, 1), offset * b)
            arrays.strided_write(k, out, x, *piece)
            ctx.pieces.append((piece, x.shape))
            offset += x.shape[dim]
        return out

    @staticmethod
    def backward(ctx, g):
        grads = [None]
        for need, ((shape, strides, offset), in_shape) in zip(ctx.needs_input_grad[1:],
                                                                ctx.pieces):
            grads.append(arrays.strided_copy(ctx.kernels, g, shape, strides, offset)
                         .reshape(in_shape) if need else None)
        return tuple(grads)


class Split(Function):
    """Split along ``dim`` into pieces of ``sizes``; one node with several outputs."""

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.in_shape, ctx.dim = x.shape, dim
        a, total, b = _slab(x.shape, dim)
        outs, offset = [], 0
        for n in sizes:
            shape = x.shape[:dim] + (n,) + x.shape[dim + 1:]
            outs.append(arrays.strided_copy(ctx.kernels, x, (a, n, b), (total * b, b, 1),
                                            offset * b).reshape(shape))
            offset += n
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        # The gradient of a split is the concatenation of its outputs' gradients.
        return Cat.forward(ctx, ctx.dim, *grads), None, None


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        out = ctx.kernels.empty(x.shape, x.dtype)
        ctx.kernels.cast(out.reshape(-1), x.reshape(-1))
        return out

    @staticmethod
    def backward(ctx, g):
        return g


class ToDevice(Function):
    """A copy on another device; its backward copies the gradient back."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.out_device = device
        target = kernels_for(device)
        return target.from_host(ctx.kernels.to_host(x), x.dtype)

    @staticmethod
    def backward(ctx, g):
        source = kernels_for(ctx.out_device)
        return ctx.kernels.from_host(source.to_host(g), g.dtype), None


def _infer_shape(shape, numel, name):
    shape = tuple(int(n) for n in shape)
    if shape.count(-1) > 1:
        raise ValueError(f"{name}: only one dimension can be -1, got {shape}")
    if -1 in shape:
        known = prod(n for n in shape if n != -1)
        if known == 0 or numel % known:
            raise ValueError(f"{name}: shape {shape} is invalid for input of size {numel}")
        shape = tuple(numel // known if n == -1 else n for n in shape)
    if any(n < 0 for n in shape) or prod(shape) != numel:
        raise ValueError(f"{name}: shape {shape} is invalid for input of size {numel}")
    return shape


def reshape(x, shape):
    shape = _infer_shape(shape, x.numel(), "reshape")
    return x if shape == x.shape else Reshape.apply(x, shape)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    start = normalize_dim("flatten", start_dim, x.ndim)
    end = normalize_dim("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    return reshape(x, shape)


def squeeze(x, dim=None):
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = {normalize_dim("squeeze", d, x.ndim)
                for d in ((dim,) if isinstance(dim, int) else dim)}
        shape = tuple(n for d, n in enumerate(x.shape) if not (d in dims and n == 1))
    return reshape(x, shape)


def unsqueeze(x, dim):
    d = normalize_dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def expand(x, shape):
    shape = tuple(shape)
    if len(shape) < x.ndim:
        raise ValueError(f"expand: target shape {shape} has fewer dims than the tensor's "
                         f"shape {x.shape}")
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n
                  for i, n in enumerate(shape))
    if broadcast_shapes("expand", x.shape, shape) != shape:
        raise ValueError(f"expand: cannot expand shape {x.shape} to {shape}")
    return x if shape == x.shape else Expand.apply(x, shape)


def permute(x, dims):
    perm = tuple(normalize_dim("permute", d, x.ndim) for d in dims)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {tuple(dims)} are not a permutation of the "
                         f"{x.ndim} dims of a tensor of shape {x.shape}")
    return x if perm == tuple(range(x.ndim)) else Permute.apply(x, perm)


def transpose(x, dim0, dim1):
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    d0 = normalize_dim("transpose", dim0, x.ndim)
    d1 = normalize_dim("transpose", dim1, x.ndim)
    perm = list(range(x.ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return permute(x, perm)


def cat(tensors, dim=0):
    """Concatenate tensors of one dtype and device along ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError("cat: expected a sequence of Tensors")
    first = tensors[0]
    d = normalize_dim("cat", dim, first.ndim)
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, first.shape))
                                       if j != d):
            raise ValueError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{first.shape}; all dims but dim {d} must match")
        if t.dtype is not first.dtype:
            raise TypeError(f"cat: tensor {i} has dtype {t.dtype!r} but tensor 0 has "
                            f"{first.dtype!r}")
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated")
    return Cat.apply(d, *tensors)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: expects tensors of one shape, got {sorted(shapes)}")
    d = normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(x, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of listed sizes."""
    d = normalize_dim("split", dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sections {sizes} do not add up to the size {n} of "
                             f"dim {d} (shape {x.shape})")
    return Split.apply(x, d, tuple(sizes))


def chunk(x, chunks, dim=0):
    n = x.shape[normalize_dim("chunk", dim, x.ndim)]
    return split(x, max(1, -(-n // chunks)), dim)


def clone(x):
    return Clone.apply(x)


def to_device(x, device):
    return ToDevice.apply(x, device)

