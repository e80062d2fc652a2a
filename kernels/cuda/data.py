"""Data-pipeline kernels (CUDA): batch gathering and image normalization."""
from numba import cuda

from ._launch import DEFAULT_THREADS, kernel, launch


@kernel
def _gather_rows(out, x, index, row):
    e, step = cuda.grid(1), cuda.gridsize(1)
    while e < out.size:
        out[e] = x[index[e // row] * row + e % row]
        e += step


def gather_rows(out, x, index, threads=DEFAULT_THREADS):
    """out[i] = x[index[i]] for rows of any shape; a thread per output element.
    x (N, ...) contiguous; out (B, ...); index (B,) int64, each in [0, N)."""
    if out.size:
        launch(_gather_rows, out.size, threads, out.reshape(out.size), x.reshape(x.size),
               index, out.size // out.shape[0])


@kernel
def _normalize_u8(out, x, scale, shift):
    i, step = cuda.grid(1), cuda.gridsize(1)
    while i < out.size:
        out[i] = x[i] * scale + shift
        i += step


def normalize_u8(out, x, scale, shift, threads=DEFAULT_THREADS):
    """out = x * scale + shift, uint8 pixels to floats; flat arrays."""
    launch(_normalize_u8, out.size, threads, out, x, scale, shift)
