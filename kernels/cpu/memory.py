"""Allocation and host transfer for CPU arrays (plain C-contiguous NumPy arrays)."""
import numpy as np


def empty(shape, dtype):
    """An uninitialized C-contiguous array."""
    return np.empty(shape, dtype=dtype)


def zeros(shape, dtype):
    """A zero-filled C-contiguous array (calloc: pages are zeroed lazily by the OS)."""
    return np.zeros(shape, dtype=dtype)


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
    """Identity of the memory behind ``x``: equal for an array and its views."""
    return id(x.base if x.base is not None else x)
