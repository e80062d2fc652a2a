"""``framework.cpu``: host memory, beside ``framework.cuda``'s device memory."""


def empty_cache():
    """Give back to the system the large host blocks that the caching allocator keeps
    for reuse (``kernels.cpu.pool``; at most 1 GiB is kept)."""
    from kernels.cpu import pool
    pool.empty_cache()


def memory_cached():
    """Bytes of large host blocks held free for reuse."""
    from kernels.cpu import pool
    return pool.cached_bytes()
