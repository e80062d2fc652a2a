"""Allocation and host transfer for CPU arrays (plain C-contiguous NumPy arrays; large
ones come from ``pool``, the caching allocator)."""
import numpy as np

from . import pool


empty = pool.empty  # an uninitialized C-contiguous array (shape, dtype)


def zeros(shape, dtype):
    """A zero-filled C-contiguous array: ``empty``'s, then filled. From 1 MiB that is a
    pooled block cleared here, as calloc's fresh pages would be faulted in and zeroed by
    the OS on every call; below, a heap array (calloc's lazy zeroing saves nothing there)."""
    out = pool.empty(shape, dtype)
    out.fill(0)
    return out


def from_host(array, dtype):
    """A C-contiguous array of ``dtype`` holding ``array``'s values (no copy if it is one)."""
    return np.asarray(array, dtype=dtype, order="C")


def to_host(x):
    """The array as a NumPy array on the host (the array itself on the CPU)."""
    return x


def arange(start, stop, step, dtype):
    """Evenly spaced values in [start, stop)."""
    return np.arange(start, stop, step, dtype=dtype)


def storage_id(x):
    """Identity of the memory behind ``x``: equal for an array and its views. A pooled
    array's base is its lease, and its views' base the array: follow arrays to the end."""
    while isinstance(x.base, np.ndarray):
        x = x.base
    return id(x.base if x.base is not None else x)
