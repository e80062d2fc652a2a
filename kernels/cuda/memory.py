"""Allocation and host transfer for CUDA device arrays (``_array.DeviceArray`` on a GPU,
the simulator's own arrays under it).

Transfers are explicit (``copy_to_device``, ``copy_to_host``): a kernel is only ever
handed device arrays, so Numba never copies implicitly behind an op.
"""
import threading

import numpy as np
from numba import cuda

from .elementwise import fill


def _device_array_class():
    from ._available import require_cuda
    if require_cuda() == "simulator":
        return None  # the simulator has its own array type
    from ._array import DeviceArray
    return DeviceArray


_DeviceArray = _device_array_class()


class _Keep(threading.local):
    # While a CUDA graph is captured: every allocation, held for the graph's life (its
    # kernels keep the addresses), as PyTorch's graph memory pools do.
    arrays = None


_keep = _Keep()


def keep_allocations(arrays):
    """Append this thread's allocations to ``arrays`` (None: stop); returns the previous."""
    prev = _keep.arrays
    _keep.arrays = arrays
    return prev


def empty(shape, dtype):
    """An uninitialized C-contiguous device array."""
    if _DeviceArray is None:
        out = cuda.device_array(shape, dtype=np.dtype(dtype))
    else:
        out = _DeviceArray(shape, None, dtype)
    if _keep.arrays is not None:
        _keep.arrays.append(out)
    return out


def zeros(shape, dtype):
    """A zero-filled device array."""
    out = empty(shape, dtype)
    if out.size:
        fill(out.reshape(out.size), 0)
    return out


def from_host(array, dtype):
    """A device array of ``dtype`` holding ``array``'s values (one host-to-device copy)."""
    host = np.asarray(array, dtype=dtype, order="C")  # ascontiguousarray would make 0-d 1-d
    if _DeviceArray is None:
        return cuda.to_device(host.reshape(host.size)).reshape(host.shape)
    out = empty(host.shape, host.dtype)
    if out.size:
        out.copy_to_device(host)
    return out


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


def empty_cache():
    """Free the cached, unused device buffers (no-op without the caching allocator)."""
    manager = getattr(cuda.current_context(), "memory_manager", None)
    if hasattr(manager, "empty_cache"):
        manager.empty_cache()
