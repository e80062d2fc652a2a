"""Data-pipeline kernels: batch gathering and image normalization.

``gather_rows`` runs on the DataLoader's prefetch thread, so it is a serial ``nogil``
kernel: it never enters Numba's thread pool (whose OpenMP layer must not be entered
from two Python threads at once) and lets the training thread run meanwhile.
"""
from numba import njit, prange

from ._compile import cpu_kernel


@njit(cache=True, nogil=True, error_model="numpy")
def gather_rows(out, x, index):
    """out[i] = x[index[i]] for rows of any shape.

    Loop nest: for i in range(B): copy row index[i]. Shapes: x (N, ...) contiguous;
    out (B, ...) with the same row shape; index (B,) int64, each in [0, N).
    """
    row = out.size // out.shape[0] if out.shape[0] else 0
    of, xf = out.reshape(-1), x.reshape(-1)
    for i in range(index.size):
        src = index[i] * row
        dst = i * row
        for j in range(row):
            of[dst + j] = xf[src + j]


@cpu_kernel(size_arg=0)
def normalize_u8(out, x, scale, shift):
    """out = x * scale + shift, uint8 pixels to floats. for i in prange(n); flat arrays."""
    for i in prange(out.size):
        out[i] = x[i] * scale + shift
