"""``framework.cuda``: the GPU, as ``torch.cuda`` names it. Nothing here imports a
CUDA package until it is called."""
from .device import Device, kernels_for


def is_available():
    """True when tensors can go to ``"cuda"`` (a GPU, or Numba's simulator)."""
    try:
        kernels_for(Device("cuda"))
    except RuntimeError:
        return False
    return True


def _cuda():
    kernels_for(Device("cuda"))  # the one clear error when there is no GPU
    from numba import cuda
    return cuda


def synchronize():
    """Wait until every queued kernel and copy on the GPU has finished (for timing)."""
    _cuda().synchronize()


def get_device_name():
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    name = getattr(_cuda().get_current_device(), "name", "Numba CUDA simulator")
    return name.decode() if isinstance(name, bytes) else str(name)


def empty_cache():
    """Free the device memory that the caching allocator holds for reuse."""
    from kernels.cuda import memory
    memory.empty_cache()
