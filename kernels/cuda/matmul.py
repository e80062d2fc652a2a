# The kernel templates below read their tile sizes (BM, BN, ...) and helper kernels
# (load_a, ...) from the globals that _compile binds, so a linter sees them undefined.
# ruff: noqa: F821
"""Batched GEMM (CUDA): shared-memory tiles with register blocking.

Each block computes a BM x BN tile of one batch entry's output. Per step of BK along
K, the block's threads copy a BM x BK tile of op(a) and a BK x BN tile of op(b) into
shared memory (reading along whichever dim is contiguous, so the loads coalesce for
either transpose flag), then every thread accumulates a TM x TN sub-tile in registers
from TM + TN shared reads per k. A thread's rows are ty, ty + BM/TM, ... and its
columns tx, tx + BN/TN, ...: neighbouring threads read neighbouring shared words and
write neighbouring outputs. The next tile's global loads are issued into registers
before the current tile's products, so their latency overlaps the arithmetic (at
4096^3 on an H100: 11.9 TFLOP/s without, 15.6 with; bench/RESULTS.md). Accumulation
is in the output's dtype (fp32 for fp32, as cuBLAS without TF32).

The kernel source is written once; each tile configuration is compiled from it with
its sizes bound as compile-time constants (the trick ``kernels/cpu/_compile.py`` uses
to give the serial build its own globals).
"""
import types

from numba import cuda

from ._launch import DEFAULT_THREADS, run

# name: (BM, BN, BK, TM, TN), all 256 threads but "tiny". The largest tile that still
# gives every SM a block is used: fewer FLOPs per load with smaller tiles, but the MNIST
# shapes (128 x 512) make only 4 blocks of "large". "tiny" (16 threads) serves launches
# asked to use fewer than 256 threads (the simulator tests).
TILES = {"large": (128, 128, 16, 8, 8), "small": (64, 64, 16, 4, 4), "narrow": (32, 32, 16, 2, 2),
         "tiny": (8, 8, 4, 2, 2)}
# Padding of the shared A tile's rows, so that the transposing stores of a
# non-transposed ``a`` hit distinct banks.
_PAD_A = 4


def _pos_a(s, trans_a):
    """(row m, column k) in op(a)'s tile of this thread's ``s``-th load."""
    e = cuda.threadIdx.x + s * NT
    if trans_a:  # a[k, m]: consecutive threads take consecutive m
        return e % BM, e // BM
    return e // BK, e % BK  # a[m, k]: consecutive threads take consecutive k


def _pos_b(s, trans_b):
    """(row k, column n) in op(b)'s tile of this thread's ``s``-th load."""
    e = cuda.threadIdx.x + s * NT
    if trans_b:  # b[n, k]
        return e % BK, e // BK
    return e // BN, e % BN  # b[k, n]


def _load_a(dst, s, a, za, m0, k0, trans_a, M, K):
    """dst[s] = this thread's ``s``-th element of op(a)'s tile at (m0, k0); 0 outside.
    (Stored, not returned: a returned 0 would widen float32 loads to float64.)"""
    mm, kk = pos_a(s, trans_a)
    m, k = m0 + mm, k0 + kk
    if m < M and k < K:
        dst[s] = a[za, k, m] if trans_a else a[za, m, k]
    else:
        dst[s] = 0


def _load_b(dst, s, b, zb, n0, k0, trans_b, N, K):
    """As ``_load_a`` for op(b)'s tile at (k0, n0)."""
    kk, nn = pos_b(s, trans_b)
    k, n = k0 + kk, n0 + nn
    if n < N and k < K:
        dst[s] = b[zb, n, k] if trans_b else b[zb, k, n]
    else:
        dst[s] = 0


def _gemm(out, a, b, trans_a, trans_b):
    M, N = out.shape[1], out.shape[2]
    K = a.shape[1] if trans_a else a.shape[2]
    z = cuda.blockIdx.z
    za = z if a.shape[0] > 1 else 0
    zb = z if b.shape[0] > 1 else 0
    a_tile = cuda.shared.array((BK, A_COLS), dtype=out.dtype)  # a_tile[k, m], padded
    b_tile = cuda.shared.array((BK, BN), dtype=out.dtype)      # b_tile[k, n]
    acc = cuda.local.array((TM, TN), dtype=out.dtype)
    a_reg = cuda.local.array(TM, dtype=out.dtype)
    b_reg = cuda.local.array(TN, dtype=out.dtype)
    a_next = cuda.local.array(A_LOADS, dtype=out.dtype)
    b_next = cuda.local.array(B_LOADS, dtype=out.dtype)
    tid = cuda.threadIdx.x
    tx, ty = tid % NTX, tid // NTX
    m0, n0 = cuda.blockIdx.y * BM, cuda.blockIdx.x * BN
    for i in range(TM):
        for j in range(TN):
            acc[i, j] = 0
    for s in range(A_LOADS):
        load_a(a_next, s, a, za, m0, 0, trans_a, M, K)
    for s in range(B_LOADS):
        load_b(b_next, s, b, zb, n0, 0, trans_b, N, K)
    for k0 in range(0, K, BK):
        for s in range(A_LOADS):
            mm, kk = pos_a(s, trans_a)
            a_tile[kk, mm] = a_next[s]
        for s in range(B_LOADS):
            kk, nn = pos_b(s, trans_b)
            b_tile[kk, nn] = b_next[s]
        cuda.syncthreads()  # both tiles are complete before any thread reads them
        # Issue the next tile's global loads now: they complete while this tile's
        # products run, instead of stalling the block after the next barrier.
        if k0 + BK < K:
            for s in range(A_LOADS):
                load_a(a_next, s, a, za, m0, k0 + BK, trans_a, M, K)
            for s in range(B_LOADS):
                load_b(b_next, s, b, zb, n0, k0 + BK, trans_b, N, K)
        for kk in range(BK):
            for i in range(TM):
                a_reg[i] = a_tile[kk, ty + i * NTY]
            for j in range(TN):
                b_reg[j] = b_tile[kk, tx + j * NTX]
            for i in range(TM):
                for j in range(TN):
                    acc[i, j] += a_reg[i] * b_reg[j]
        cuda.syncthreads()  # all reads of these tiles are done before they are overwritten
    for i in range(TM):
        m = m0 + ty + i * NTY
        if m < M:
            for j in range(TN):
                n = n0 + tx + j * NTX
                if n < N:
                    out[z, m, n] = acc[i, j]


def _compile(name):
    """The GEMM kernel for tile configuration ``name``, sizes bound as constants."""
    BM, BN, BK, TM, TN = TILES[name]
    ntx, nty = BN // TN, BM // TM
    nt = ntx * nty
    consts = dict(BM=BM, BN=BN, BK=BK, TM=TM, TN=TN, NTX=ntx, NTY=nty, NT=nt,
                  A_COLS=BM + _PAD_A, A_LOADS=BM * BK // nt, B_LOADS=BK * BN // nt)
    scope = {**globals(), **consts}
    scope["pos_a"] = cuda.jit(device=True, cache=True)(_bind(_pos_a, scope, name))
    scope["pos_b"] = cuda.jit(device=True, cache=True)(_bind(_pos_b, scope, name))
    scope["load_a"] = cuda.jit(device=True, cache=True)(_bind(_load_a, scope, name))
    scope["load_b"] = cuda.jit(device=True, cache=True)(_bind(_load_b, scope, name))
    return cuda.jit(cache=True)(_bind(_gemm, scope, name)), nt


def _bind(fn, scope, name):
    """A copy of ``fn`` whose globals are ``scope``, with its own name for the disk cache."""
    bound = types.FunctionType(fn.__code__, scope, f"{fn.__name__}_{name}")
    bound.__qualname__ = f"{fn.__name__}_{name}"
    return bound


_KERNELS = {}
_SM_COUNT = []


def _sm_count():
    if not _SM_COUNT:
        _SM_COUNT.append(getattr(cuda.get_current_device(), "MULTIPROCESSOR_COUNT", 1))
    return _SM_COUNT[0]


def _tile_for(M, N, batch, threads):
    if threads < 256:
        return "tiny"
    for name in ("large", "small"):
        BM, BN = TILES[name][:2]
        if -(-M // BM) * -(-N // BN) * batch >= _sm_count():
            return name
    return "narrow"


def matmul(out, a, b, trans_a, trans_b, threads=DEFAULT_THREADS):
    """out[i] = op(a[i]) @ op(b[i]), op = transpose of the last two dims when asked.

    Shapes: out (Bt, M, N); a (Ba, M, K) or (Ba, K, M) if trans_a; b (Bb, K, N) or
    (Bb, N, K) if trans_b; Ba and Bb are Bt or 1 (broadcast). One float dtype.
    ``threads`` caps the block size: below 256 the 16-thread "tiny" tile runs.
    """
    Bt, M, N = out.shape
    if out.size == 0:
        return
    name = _tile_for(M, N, Bt, threads)
    if name not in _KERNELS:
        _KERNELS[name] = _compile(name)
    kernel, nt = _KERNELS[name]
    BM, BN = TILES[name][:2]
    run(kernel, (-(-N // BN), -(-M // BM), Bt), nt, (out, a, b, bool(trans_a), bool(trans_b)))
