"""A caching device allocator, installed as Numba's memory manager (an EMM plugin).

Numba's own manager calls cuMemAlloc for every array, ~30 us on an H100: more than a
small op's kernel. Training allocates the same sizes every step, so freed buffers are
kept by size class and handed out again, as PyTorch's caching allocator does. Reuse is
safe because every kernel and copy runs on the default stream, in order: a buffer
freed on the host is only rewritten by work queued after the work that read it.
"""
import weakref

from numba import cuda
from numba.cuda.cudadrv.driver import MemoryPointer, NumbaCUDAMemoryManager

_SMALL = 1 << 20        # below this, sizes round up to 512 bytes
_SMALL_ROUND = 512
_LARGE_ROUND = 2 << 20  # above it, to 2 MiB


def size_class(size):
    """The rounded allocation size that serves a request of ``size`` bytes."""
    step = _SMALL_ROUND if size <= _SMALL else _LARGE_ROUND
    return -(-size // step) * step


class CachingMemoryManager(NumbaCUDAMemoryManager):
    """Numba's device memory manager with freed blocks cached per size class."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._free = {}  # size class -> blocks (Numba-owned pointers) ready for reuse

    def memalloc(self, size):
        if size == 0:
            return super().memalloc(size)
        rounded = size_class(size)
        free = self._free.setdefault(rounded, [])
        block = free.pop() if free else self._new_block(rounded)
        # The array gets its own pointer into the block; when the array dies, the
        # finalizer puts the block back instead of freeing it.
        return MemoryPointer(weakref.proxy(self.context), block.device_pointer, size,
                             finalizer=_returner(free, block))

    def _new_block(self, rounded):
        try:
            return super().memalloc(rounded)
        except cuda.cudadrv.driver.CudaAPIError:
            self.empty_cache()  # out of memory: give the cached blocks back, then retry
            return super().memalloc(rounded)

    def empty_cache(self):
        """Free every cached block that no array uses."""
        self._free.clear()
        self.deallocations.clear()


def _returner(free, block):
    def give_back():
        free.append(block)
    return give_back


def install():
    """Use the caching manager for contexts created from now on (call before any
    allocation; an already created context keeps Numba's manager)."""
    cuda.set_memory_manager(CachingMemoryManager)
