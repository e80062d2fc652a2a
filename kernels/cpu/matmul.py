"""Batched GEMM. The core is BLAS (Numba's ``np.dot`` calls it), which beats any
hand-written Numba GEMM on the CPU; transposes are free views handed to BLAS. Being an
``@njit`` function, it can also be called from a step compiled by ``fw.compile``, and
eager and compiled steps then share one BLAS and give the same bits."""
import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def matmul(out, a, b, trans_a, trans_b):
    """out[i] = op(a[i]) @ op(b[i]), op = transpose of the last two dims when asked.

    Loop nest: for i in range(Bt): gemm(out[i], op(a[i]), op(b[i])); BLAS threads each GEMM.
    Shapes: out (Bt, M, N); a (Ba, M, K) or (Ba, K, M) if trans_a; b (Bb, K, N) or
    (Bb, N, K) if trans_b; Ba and Bb are Bt or 1 (a batch of 1 is broadcast).
    All C-contiguous and of one float dtype.
    """
    for i in range(out.shape[0]):
        ai = a[i if a.shape[0] > 1 else 0]
        bi = b[i if b.shape[0] > 1 else 0]
        # Four spelled-out calls: each operand's layout (C or F) is part of its type.
        if trans_a and trans_b:
            np.dot(ai.T, bi.T, out[i])
        elif trans_a:
            np.dot(ai.T, bi, out[i])
        elif trans_b:
            np.dot(ai, bi.T, out[i])
        else:
            np.dot(ai, bi, out[i])
