"""Reductions: sum, mean, max/min (with indices), argmax/argmin, var, std."""
import builtins
from collections import namedtuple

import numpy as np

from kernels import opcodes

from ... import dtype as dt
from ..function import Function
from . import arrays
from .shapes import normalize_dims, reduce_plan, reduced_shape

values_indices = namedtuple("values_indices", ["values", "indices"])


class Sum(Function):
    """Sum (scaled by ``scale``, so mean is the same single pass) over ``dims``."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, scale):
        ctx.in_shape, ctx.dims, ctx.scale = x.shape, dims, scale
        return arrays.sum_dims(ctx.kernels, x, dims, keepdim, scale)

    @staticmethod
    def backward(ctx, g):
        k = ctx.kernels
        g = g.reshape(reduced_shape(ctx.in_shape, set(ctx.dims), keepdim=True))
        if ctx.scale != 1.0:
            g = arrays.binary(k, opcodes.MUL, g, arrays.scalar_array(k, ctx.scale, g.dtype))
        return arrays.expand(k, g, ctx.in_shape), None, None, None


class Extremum(Function):
    """max or min over ``dims`` (adjacent after planning); returns values and indices."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, is_max):
        k = ctx.kernels
        perm, (a, r, b) = reduce_plan(x.shape, dims)
        if x.size == 0 or r == 0:
            raise ValueError(f"{'max' if is_max else 'min'}: cannot reduce over a dimension "
                             f"of size 0 (input shape {tuple(x.shape)})")
        src = arrays.permute(k, x, perm) if perm is not None else x
        values = k.empty((a, b), x.dtype)
        index = k.empty((a, b), np.int64)
        k.extremum_reduce(values, index, src.reshape(a, r, b), is_max)
        ctx.plan, ctx.in_shape, ctx.index = (perm, (a, r, b)), x.shape, index
        shape = reduced_shape(x.shape, set(dims), keepdim)
        return values.reshape(shape), index.reshape(shape)

    @staticmethod
    def backward(ctx, g, _g_index):
        k = ctx.kernels
        perm, (a, r, b) = ctx.plan
        grad = k.empty((a, r, b), g.dtype)
        k.index_reduce_grad(grad, g.reshape(a, b), ctx.index)
        if perm is None:
            return grad.reshape(ctx.in_shape), None, None, None
        inverse = [0] * len(perm)
        for i, p in enumerate(perm):
            inverse[p] = i
        permuted = tuple(ctx.in_shape[p] for p in perm)
        return arrays.permute(k, grad.reshape(permuted), inverse), None, None, None


def _dims(x, dim, name):
    return normalize_dims(name, dim, x.ndim)


def sum(x, dim=None, keepdim=False, dtype=None):
    """Sum over ``dim`` (None = all, int or tuple); ints and bools sum to int64."""
    if dtype is not None:
        x = x.to(dtype=dtype)
    return Sum.apply(x, _dims(x, dim, "sum"), keepdim, 1.0)


def mean(x, dim=None, keepdim=False):
    """Mean over ``dim``; floating tensors only, as in PyTorch."""
    if not x.dtype.is_floating_point:
        raise TypeError(f"mean(): input dtype should be floating point, got {x.dtype!r}")
    dims = _dims(x, dim, "mean")
    n = int(np.prod([x.shape[d] for d in dims])) if dims else 1
    return Sum.apply(x, dims, keepdim, 1.0 / n if n else float("nan"))


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(x, dim=None, keepdim=False, unbiased=None, correction=None):
    """Variance with Bessel's correction by default (``correction=1``), as in PyTorch."""
    if not x.dtype.is_floating_point:
        raise TypeError(f"var(): input dtype should be floating point, got {x.dtype!r}")
    dims = _dims(x, dim, "var")
    n = int(np.prod([x.shape[d] for d in dims])) if dims else 1
    centered = x - mean(x, dims, keepdim=True)
    denom = builtins.max(n - _correction(unbiased, correction), 0)
    total = sum(centered * centered, dims, keepdim)
    return total / denom if denom else total * float("nan")


def std(x, dim=None, keepdim=False, unbiased=None, correction=None):
    return var(x, dim, keepdim, unbiased, correction).sqrt()


def _extremum(x, dim, keepdim, is_max, name):
    if x.dtype is dt.bool_:
        x = x.to(dtype=dt.int64)
    if dim is None:
        values, _ = Extremum.apply(x, tuple(range(x.ndim)), False, is_max)
        return values
    if isinstance(dim, int):
        return values_indices(*Extremum.apply(x, _dims(x, dim, name), keepdim, is_max))
    values, _ = Extremum.apply(x, _dims(x, dim, name), keepdim, is_max)
    return values


def max(x, dim=None, keepdim=False):
    """The maximum; with an int ``dim``, a (values, indices) pair as in PyTorch."""
    return _extremum(x, dim, keepdim, True, "max")


def min(x, dim=None, keepdim=False):
    return _extremum(x, dim, keepdim, False, "min")


def amax(x, dim=None, keepdim=False):
    return _extremum(x, tuple(_dims(x, dim, "amax")), keepdim, True, "amax")


def amin(x, dim=None, keepdim=False):
    return _extremum(x, tuple(_dims(x, dim, "amin")), keepdim, False, "amin")


def _arg(x, dim, keepdim, is_max, name):
    if dim is None:
        x = x.reshape(-1)
        dim = 0
    _, index = Extremum.apply(x.detach(), _dims(x, dim, name), keepdim, is_max)
    return index


def argmax(x, dim=None, keepdim=False):
    """Index of the first maximum (of the flattened tensor when ``dim`` is None)."""
    return _arg(x, dim, keepdim, True, "argmax")


def argmin(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, False, "argmin")


