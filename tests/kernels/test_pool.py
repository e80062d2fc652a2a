"""The CPU caching allocator (``kernels.cpu.pool``): large blocks come back and are
handed out again, views keep theirs alive, and storage identity follows views."""
import threading

import numpy as np
import pytest

from kernels.cpu import memory, pool

BIG = (1024, 1024)  # 4 MiB of float32: from the pool


@pytest.fixture(autouse=True)
def _empty_pool():
    pool.empty_cache()
    yield
    pool.empty_cache()


def test_large_arrays_are_plain_aligned_and_reused():
    a = pool.empty(BIG, np.float32)
    assert type(a) is np.ndarray and a.shape == BIG and a.dtype == np.float32
    assert a.flags.c_contiguous and a.flags.writeable and a.ctypes.data % pool.ALIGN == 0
    address = a.ctypes.data
    del a
    assert pool.cached_bytes() >= 4 << 20
    b = pool.empty(BIG, np.float32)
    assert b.ctypes.data == address  # the same block
    assert pool.cached_bytes() == 0
    c = pool.empty((1024 * 1024,), np.int32)  # b holds the block: c gets another
    assert c.ctypes.data != address and c.dtype == np.int32
    del b
    d = pool.empty((2048, 512), np.int32)  # blocks go by byte count, not dtype or shape
    assert d.ctypes.data == address


def test_object_and_structured_dtypes_are_numpys_own():
    a = pool.empty((200000,), np.float64)
    a[:] = 1e300  # stale bytes that must never be read as object references
    del a
    objects = pool.empty((200000,), object)
    assert objects.base is None and objects[0] is None and objects[-1] is None
    fields = [("x", "f4"), ("y", "i8")]  # a list: unhashable as a dict key
    assert pool.empty((4,), fields).dtype == np.dtype(fields)
    assert pool.empty((100000,), fields).shape == (100000,)


def test_a_view_keeps_its_block():
    a = pool.empty(BIG, np.float32)
    a[:] = 7.0
    view = a.reshape(-1)[5:][::3]
    address = a.ctypes.data
    del a
    assert pool.cached_bytes() == 0  # the view still holds it
    b = pool.empty(BIG, np.float32)
    b[:] = -1.0
    assert b.ctypes.data != address and np.all(view == 7.0)
    del view
    assert pool.cached_bytes() >= 4 << 20


def test_small_arrays_bypass_the_pool():
    a = pool.empty((10, 10), np.float64)
    assert a.base is None and a.shape == (10, 10)
    assert pool.empty(3, np.int64).shape == (3,)
    assert pool.empty((), np.float32).shape == ()
    assert pool.empty((0, 5000000), np.float32).shape == (0, 5000000)
    with pytest.raises(ValueError):
        pool.empty((-1, 4), np.float32)


def test_zeros_clear_a_reused_block():
    a = memory.empty(BIG, np.float64)
    a[:] = np.nan
    del a
    z = memory.zeros(BIG, np.float64)
    assert pool.cached_bytes() == 0 and np.all(z == 0)


def test_storage_id_is_shared_by_views_only():
    a, b = memory.empty(BIG, np.float32), memory.empty(BIG, np.float32)
    views = [a.reshape(-1), a[3:], a.reshape(-1)[::2][1:], a.T]
    assert {memory.storage_id(v) for v in views} == {memory.storage_id(a)}
    assert memory.storage_id(b) != memory.storage_id(a)
    small = np.zeros(4)
    assert memory.storage_id(small[1:]) == memory.storage_id(small)


def test_cache_is_capped(monkeypatch):
    monkeypatch.setattr(pool, "CACHE_LIMIT", 6 << 20)
    arrays = [pool.empty(BIG, np.float32) for _ in range(3)]
    del arrays
    assert 4 << 20 <= pool.cached_bytes() <= 6 << 20  # one block kept, two released


def test_threads_allocate_and_free_concurrently():
    errors = []

    def work(me):
        # Each thread keeps a few arrays alive, filled with its own mark: a block handed
        # to two holders at once would show another thread's mark.
        try:
            held = []
            for i in range(200):
                a = pool.empty((512, 1024 + 64 * (i % 3)), np.float32)
                a.fill(me * 1000 + i)
                held.append((a, me * 1000 + i))
                if len(held) > 3:
                    old, mark = held.pop(0)
                    if not np.all(old == mark):
                        errors.append(f"thread {me}: array {mark} was overwritten")
                    del old
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(me,)) for me in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # The threads' blocks are all back: at most four per thread per size.
    assert 0 < pool.cached_bytes() <= 4 * 4 * 3 * pool.block_size(512 * (1024 + 128) * 4)


def test_near_sizes_share_a_size_class():
    for nbytes in (1 << 20, 3 << 20, (5 << 20) + 7, 1 << 30):
        size = pool.block_size(nbytes) - pool.ALIGN  # the size class
        assert nbytes <= size <= 1.125 * nbytes
    assert pool.block_size(4 << 20) == (4 << 20) + pool.ALIGN  # a power of two fills its class
    a = pool.empty((1000, 1000), np.float32)
    address = a.ctypes.data
    del a
    b = pool.empty((990, 1000), np.float32)  # a smaller last batch, say
    assert b.ctypes.data == address


def test_framework_cpu_reports_and_empties_the_cache():
    import framework as fw
    x = fw.zeros(1024, 1024)
    del x
    assert fw.cpu.memory_cached() >= 4 << 20
    fw.cpu.empty_cache()
    assert fw.cpu.memory_cached() == 0


def test_numpy_integer_shapes_and_a_list():
    a = pool.empty((np.int64(1024), np.int32(1024)), np.float32)
    b = pool.empty([512, 2048], "float32")
    assert a.shape == (1024, 1024) and a.base is not None
    assert b.shape == (512, 2048) and b.dtype == np.float32 and b.base is not None
