"""Shape arithmetic shared by the ops: broadcasting, rank-4 plans, reduction plans.

All of it is bookkeeping on shape tuples, done in Python before any kernel runs, so a
bad shape is reported with the op's name instead of failing inside a kernel.
"""
from functools import lru_cache
from math import prod

# Shape plans depend on shape tuples alone and the same few shapes recur every step,
# so they are memoized: this keeps per-op Python overhead to a dict lookup.
_memo = lru_cache(maxsize=4096)


@_memo
def broadcast_shapes(op, *shapes):
    """The NumPy broadcast of ``shapes``; a ValueError naming ``op`` if they don't broadcast."""
    ndim = max(len(s) for s in shapes)
    out = []
    for d in range(ndim):
        size = 1
        for s in shapes:
            n = s[d - ndim + len(s)] if d >= ndim - len(s) else 1
            if n != 1:
                if size != 1 and n != size:
                    shown = " and ".join(str(tuple(s)) for s in shapes)
                    raise ValueError(f"{op}: shapes {shown} cannot be broadcast together "
                                     f"(dimension {d - ndim} is {size} vs {n})")
                size = n
        out.append(size)
    return tuple(out)


@_memo
def rank4_plan(out_shape, shapes):
    """Coalesce a broadcast to at most 4 dims: (out4, [operand4, ...]) or None if it needs more.

    Adjacent dims merge when every operand is broadcast along both or along neither,
    so each operand stays a plain contiguous reshape of its data.
    """
    n = len(out_shape)
    padded = [(1,) * (n - len(s)) + tuple(s) for s in shapes]
    dims = []  # (size, broadcast flags per operand)
    for d, size in enumerate(out_shape):
        if size == 1:
            continue
        flags = tuple(p[d] == 1 for p in padded)
        if dims and dims[-1][1] == flags:
            dims[-1] = (dims[-1][0] * size, flags)
        else:
            dims.append((size, flags))
    if len(dims) > 4:
        return None
    if any(size == 0 for size, _ in dims):
        dims = [(0, tuple(False for _ in shapes))]
    lead = (1,) * (4 - len(dims))
    out4 = lead + tuple(size for size, _ in dims)
    ops4 = [lead + tuple(1 if flags[i] else size for size, flags in dims)
            for i in range(len(shapes))]
    return out4, ops4


def normalize_dim(op, dim, ndim):
    """``dim`` as a non-negative int, or an IndexError naming ``op``."""
    n = max(ndim, 1)
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dims "
                         f"(expected in [{-n}, {n - 1}])")
    return dim % n


def normalize_dims(op, dim, ndim):
    """``dim`` (None, int or sequence) as a sorted tuple of distinct non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        return (normalize_dim(op, dim, ndim),)
    dims = tuple(normalize_dim(op, d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise ValueError(f"{op}: dim {tuple(dim)} names a dimension twice")
    return tuple(sorted(dims))


@_memo
def reduce_plan(shape, dims):
    """How to view a reduction over ``dims`` as (A, R, B) over the middle axis.

    Returns (perm, (A, R, B)): ``perm`` is None when the reduced dims (ignoring those
    of size 1) are adjacent, so the data is used as it is; otherwise the permutation
    that moves them to the end (one copy), giving B = 1.
    """
    dims = frozenset(dims)
    active = [d for d in range(len(shape)) if shape[d] != 1]
    red = [d for d in active if d in dims]
    kept = [d for d in active if d not in dims]
    if not red:
        return None, (prod(shape), 1, 1)
    first, last = active.index(red[0]), active.index(red[-1])
    if last - first + 1 == len(red):
        a = prod(shape[d] for d in active[:first])
        b = prod(shape[d] for d in active[last + 1:])
        return None, (a, prod(shape[d] for d in red), b)
    perm = tuple(kept + red) + tuple(d for d in range(len(shape)) if shape[d] == 1)
    return perm, (prod(shape[d] for d in kept), prod(shape[d] for d in red), 1)


@_memo
def _reduced_shape(shape, dims, keepdim):
    if keepdim:
        return tuple(1 if d in dims else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in dims)


def reduced_shape(shape, dims, keepdim):
    """The shape after reducing ``dims`` of ``shape``."""
    return _reduced_shape(tuple(shape), frozenset(dims), bool(keepdim))


@_memo
def contiguous_strides(shape):
    """Element strides of a C-contiguous array of ``shape``."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))
