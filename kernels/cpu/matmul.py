"""Batched GEMM. The core is BLAS (through NumPy's matmul), which beats any
hand-written Numba GEMM on the CPU; transposes are free views handed to BLAS."""
import numpy as np


def matmul(out, a, b, trans_a, trans_b):
    """out[i] = op(a[i]) @ op(b[i]), op = transpose of the last two dims when asked.

    Shapes: out (Bt, M, N); a (Ba, M, K) or (Ba, K, M) if trans_a; b (Bb, K, N) or
    (Bb, N, K) if trans_b; Ba and Bb are Bt or 1 (a batch of 1 is broadcast).
    All C-contiguous and of one float dtype.
    """
    a_op = a.swapaxes(1, 2) if trans_a else a
    b_op = b.swapaxes(1, 2) if trans_b else b
    np.matmul(a_op, b_op, out=out)
