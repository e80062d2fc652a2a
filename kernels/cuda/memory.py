"""Allocation and host transfer for CUDA device arrays (Numba ``DeviceNDArray``).

Transfers are explicit (``cuda.to_device``, ``copy_to_host``): a kernel is only ever
handed device arrays, so Numba never copies implicitly behind an op.
"""
import numpy as np
from numba import cuda


def empty(shape, dtype):
    """An uninitialized C-contiguous device array."""
    return cuda.device_array(shape, dtype=np.dtype(dtype))


def zeros(shape, dtype):
    """A zero-filled device array."""
    from .elementwise import fill
    out = empty(shape, dtype)
    if out.size:
        fill(out.reshape(out.size), 0)
    return out


def from_host(array, dtype):
    """A device array of ``dtype`` holding ``array``'s values (one host-to-device copy)."""
    host = np.asarray(array, dtype=dtype, order="C")  # ascontiguousarray would make 0-d 1-d
    return cuda.to_device(host.reshape(host.size)).reshape(host.shape)


def to_host(x):
    """A NumPy copy of device array ``x`` (waits for the kernels that write it)."""
    return x.copy_to_host()


def arange(start, stop, step, dtype):
    """Evenly spaced values in [start, stop), made on the host and copied once."""
    return from_host(np.arange(start, stop, step, dtype=dtype), dtype)


def storage_id(x):
    """Identity of the device allocation behind ``x``: equal for an array and its views."""
    data = getattr(x, "gpu_data", None)
    if data is None:  # the simulator's arrays wrap a NumPy array
        host = getattr(x, "_ary", x)
        return id(host.base if getattr(host, "base", None) is not None else host)
    return id(getattr(data, "owner", None) or data)
