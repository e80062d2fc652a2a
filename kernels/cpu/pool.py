"""A caching allocator for large host arrays: freed blocks are kept and handed out again.

glibc serves a large ``malloc`` (from 128 KiB, up to 32 MiB as its threshold adapts)
with a fresh ``mmap`` and gives the pages back on ``free``, so every new multi-MB
temporary of an eager step is faulted in page by page, zeroed by the kernel, again.
Measured on 2 cores: ``Conv2d(1->32)`` forward+backward at batch 64 took 3.2-14 ms with
1,500 page faults per call, and 0.55-1.0 ms with none when its blocks came from here.
PyTorch's CUDA allocator caches for the same reason; this one does it for the CPU.

A block is a raw byte array of one of eight size classes per power of two; an array
handed out views it through a ``_Lease``, its ``base``, whose ``__del__`` runs when the
last view of it is gone (views keep the array, and so the lease, alive) and puts the
block back on the free list of its class. Free blocks are capped at ``CACHE_LIMIT``
bytes (beyond it a block goes back to the system); ``empty_cache`` releases them all.
Arrays under 1 MiB skip all this: glibc mostly recycles those from its heap.
"""
import ctypes
import math
import threading

import numpy as np

# From this many bytes an array comes from the pool. Taking a block and giving it back
# costs ~2.5 us; a MiB of fresh pages costs ~60 us to fault in, while glibc serves
# most smaller arrays from its heap once its mmap threshold has grown.
MIN_BYTES = 1 << 20
# Block sizes: eight classes per power of two, so that near sizes (a last, smaller
# batch; inputs of varying length) share blocks, at most 1/8 of a block unused.
OCTAVE_BITS = 3
# Bytes of free blocks kept at most.
CACHE_LIMIT = 1 << 30
# Arrays start on a cache line (NumPy's own data starts 16 bytes into one): a block
# has this many bytes beyond its size class, to slide the array's start by.
ALIGN = 64

# Reentrant: a lease can die, and give its block back, inside a garbage collection that
# an allocation under the lock set off.
_lock = threading.RLock()
_free = {}  # block size -> (raw block, its aligned start address) pairs free for reuse
_cached = [0]  # bytes in _free


class _Lease:
    """Made per block size by ``_lease_type``: a ctypes byte array over a block's memory
    (NumPy takes it as a buffer in ~0.6 us; an ``__array_interface__`` took ~3.5), the
    base of the array cut from it. It returns the block when it dies."""
    __slots__ = ()

    def __del__(self):
        try:
            _give_back(self.block)  # the (block, start) pair
        except Exception:  # interpreter shutdown: module globals may be gone
            pass


_lease_types = {}  # block size -> its _Lease type


def _lease_type(size):
    kind = _lease_types.get(size)
    if kind is None:
        kind = _lease_types[size] = type(
            "_Lease", (ctypes.c_char * (size - ALIGN), _Lease), {"__slots__": ("block",)})
    return kind


_itemsizes = {}  # dtype (as callers pass it) -> bytes per element; 0: never pooled


def _itemsize(dtype):
    kind = np.dtype(dtype)
    # Object arrays must start as None references, not a reused block's stale bytes.
    size = _itemsizes[dtype] = 0 if kind.hasobject else kind.itemsize
    return size


def _give_back(entry):
    size = entry[0].size
    with _lock:
        if _cached[0] + size <= CACHE_LIMIT:
            _free.setdefault(size, []).append(entry)
            _cached[0] += size


def empty(shape, dtype):
    """An uninitialized C-contiguous array of ``shape`` and ``dtype``."""
    # This runs for every op: the size from a cached itemsize and one product.
    try:
        itemsize = _itemsizes.get(dtype)
    except TypeError:  # an unhashable dtype spec (a list of fields): NumPy's own
        return np.empty(shape, dtype)
    if itemsize is None:
        itemsize = _itemsize(dtype)
    count = math.prod(shape) if type(shape) is tuple else np.prod(shape)
    nbytes = int(count) * itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    size = block_size(nbytes)
    with _lock:
        entries = _free.get(size)
        entry = entries.pop() if entries else None
        if entry is not None:
            _cached[0] -= size
    if entry is None:
        block = np.empty(size, np.uint8)
        # Kept with the block: ``.ctypes.data`` costs ~1.6 us, a third of a reuse.
        address = block.ctypes.data
        entry = (block, address + (-address % ALIGN))
    lease = _lease_type(size).from_address(entry[1])
    lease.block = entry
    return np.ndarray(shape, dtype, buffer=lease)


def block_size(nbytes):
    """Bytes of the block for ``nbytes``: its size class, plus the alignment slack (so
    that a power of two, the commonest size, fills its class exactly)."""
    step = 1 << max(0, nbytes.bit_length() - 1 - OCTAVE_BITS)
    return -(-nbytes // step) * step + ALIGN


def cached_bytes():
    """Bytes of free blocks held for reuse."""
    return _cached[0]


def empty_cache():
    """Give every free block back to the system."""
    with _lock:
        _free.clear()
        _cached[0] = 0
