"""Small inputs for every kernel, shared by the CPU twin test and the CUDA parity test.

Each entry makes a kernel's argument list: odd sizes, broadcast operands and tails.
"""
import numpy as np


def _r(rng, *shape):
    return rng.standard_normal(shape)


_I64 = np.int64


def _nan(*shape):
    return np.full(shape, np.nan)


def _planes(rng, n, c, h, w):
    """Random images as conv3x3's zero-padded planes (C, (N*(H+1) + 2)*(W+1))."""
    planes = np.zeros((c, n * (h + 1) + 2, w + 1))
    for i in range(n):
        planes[:, i * (h + 1) + 1:(i + 1) * (h + 1), 1:] = rng.standard_normal((c, h, w))
    return planes.reshape(c, -1)


CASES = {
    "binary": lambda g: [np.zeros((2, 3, 5, 7)), _r(g, 2, 1, 5, 7), _r(g, 1, 3, 1, 7), 2],
    "compare": lambda g: [np.zeros((2, 3, 5, 7), bool), _r(g, 2, 1, 5, 7), _r(g, 1, 3, 1, 7), 18],
    "binary_grad": lambda g: [np.zeros((2, 3, 5, 7)), np.zeros((2, 3, 5, 7)),
                              _r(g, 2, 3, 5, 7), _r(g, 2, 1, 5, 7), _r(g, 1, 3, 1, 7) + 3, 3],
    "where": lambda g: [np.zeros((1, 3, 5, 7)), _r(g, 1, 3, 1, 7) > 0, _r(g, 1, 3, 5, 7),
                        _r(g, 1, 1, 1, 7)],
    "unary": lambda g: [np.zeros(1001), _r(g, 1001), 8, 0.0, 0.0],
    "unary_grad": lambda g: [np.zeros(1001), _r(g, 1001), _r(g, 1001), _r(g, 1001), 6, 0.0, 0.0],
    "broadcast": lambda g: [np.zeros((2, 3, 5, 7)), _r(g, 2, 1, 5, 1)],
    "cast": lambda g: [np.zeros(1001, np.float32), _r(g, 1001)],
    "fill": lambda g: [np.zeros(1001), 2.5],
    "axpy": lambda g: [_r(g, 1001), _r(g, 1001), 0.5],
    "extremum_reduce": lambda g: [np.zeros((3, 7)), np.zeros((3, 7), _I64), _r(g, 3, 11, 7), True],
    "index_reduce_grad": lambda g: [np.zeros((3, 11, 7)), _r(g, 3, 7),
                                    g.integers(0, 11, (3, 7))],
    "softmax": lambda g: [np.zeros((3, 11, 7)), _r(g, 3, 11, 7), True],
    "softmax_grad": lambda g: [np.zeros((3, 11, 7)), _r(g, 3, 11, 7), _r(g, 3, 11, 7), False],
    "logsumexp": lambda g: [np.zeros((3, 7)), _r(g, 3, 11, 7)],
    "logsumexp_grad": lambda g: [np.zeros((3, 11, 7)), _r(g, 3, 7), _r(g, 3, 11, 7),
                                 _r(g, 3, 7)],
    "strided_gather": lambda g: [np.zeros(60), _r(g, 200), np.array([3, 4, 5], _I64),
                                 np.array([40, 1, 7], _I64), 3],
    "strided_scatter": lambda g: [np.zeros(200), _r(g, 60), np.array([3, 4, 5], _I64),
                                  np.array([40, 1, 7], _I64), 3],
    # kh, kw, sh, sw, ph, pw, dh, dw = 3, 2, 2, 1, 1, 2, 1, 2: OH, OW = 4, 8
    # 6 images as A, B = 2, 3: both block orders at once
    "im2col": lambda g: [np.zeros((2, 3 * 3 * 2, 3, 4, 8)), _r(g, 6, 3, 7, 6),
                         3, 2, 2, 1, 1, 2, 1, 2],
    "col2im": lambda g: [np.zeros((6, 3, 7, 6)), _r(g, 2, 3 * 3 * 2, 3, 4, 8),
                         3, 2, 2, 1, 1, 2, 1, 2],
    "conv_output": lambda g: [np.zeros((2, 5, 7)), _r(g, 5, 2, 7), _r(g, 5)],
    "conv_grad_output": lambda g: [np.zeros((5, 2, 7)), np.zeros(5), _r(g, 2, 5, 7)],
    "conv_from_columns": lambda g: [np.zeros((3, 5, 37)), _r(g, 5, 9), _r(g, 3, 9, 37),
                                    _r(g, 5)],
    "conv_weight_grad_from_columns": lambda g: [np.zeros((5, 9)), np.zeros(5),
                                                _r(g, 3, 5, 37), _r(g, 3, 9, 37)],
    # 10 images of 4 x 6 (two of the weight gradient's 8-image slices): planes of
    # (10*5 + 2)*7 = 364; 7 output channels (a partial block of 4, an odd one out of the
    # weight gradient's pairs); the input's planes hold zeros where conv3x3_planes writes
    # them; outputs start as NaN, so an entry left unwritten shows
    "conv3x3_planes": lambda g: [_nan(5, 364), _r(g, 10, 5, 4, 6)],
    "conv3x3_pack": lambda g: [_nan(2, 5, 36), _r(g, 7, 5, 3, 3), False],
    "conv3x3": lambda g: [_nan(10, 7, 4, 6), _r(g, 5, 364), _r(g, 2, 5, 36), _r(g, 7)],
    "conv3x3_weight_grad": lambda g: [_nan(7, 5, 3, 3), _nan(7), _r(g, 10, 7, 4, 6),
                                      _planes(g, 10, 5, 4, 6)],
    # the same window geometry as im2col, and a window partly in the padding
    "max_pool2d": lambda g: [np.zeros((2, 3, 4, 6)), np.zeros((2, 3, 4, 6), _I64),
                             _r(g, 2, 3, 7, 6), 3, 2, 2, 1, 1, 1, 1, 2],
    "max_pool2d_grad": lambda g: [np.zeros((2, 3, 7, 6)), _r(g, 2, 3, 4, 6),
                                  g.integers(-1, 42, (2, 3, 4, 6))],
    # ceil mode: the last row of windows runs past the bottom padding
    "avg_pool2d": lambda g: [np.zeros((2, 3, 5, 4)), _r(g, 2, 3, 8, 6), 3, 2, 2, 2, 1, 1,
                             False, 0],
    "avg_pool2d_grad": lambda g: [np.zeros((2, 3, 8, 6)), _r(g, 2, 3, 5, 4), 3, 2, 2, 2, 1, 1,
                                  True, 0],
    "adaptive_avg_pool2d": lambda g: [np.zeros((2, 3, 3, 4)), _r(g, 2, 3, 7, 6)],
    "adaptive_avg_pool2d_grad": lambda g: [np.zeros((2, 3, 5, 3)), _r(g, 2, 3, 7, 4)],
    "cross_entropy": lambda g: [np.zeros(9), np.zeros(9), _r(g, 9, 5), g.integers(0, 5, 9),
                                0.1, 2, np.zeros(1), np.array([7.0])],
    "cross_entropy_grad": lambda g: [np.zeros((9, 5)), _r(g, 9), _r(g, 9, 5), _r(g, 9) + 3,
                                     g.integers(0, 5, 9), 0.1, 2, np.array([3.0])],
    "normalize_u8": lambda g: [np.zeros(1001, np.float32),
                               g.integers(0, 256, 1001).astype(np.uint8), 1 / 255, -0.5],
    "sgd_step": lambda g: [_r(g, 101), _r(g, 101), _r(g, 101), 0.1, 0.9, 0.1, True, 0.01,
                           False],
    "adam_step": lambda g: [_r(g, 101), _r(g, 101), _r(g, 101), np.abs(_r(g, 101)),
                            np.abs(_r(g, 101)), 0.01, 0.9, 0.999, 1e-8, 0.01, 3, True],
    "scale": lambda g: [_r(g, 101), 0.5],
    "sum_squares": lambda g: [np.zeros(1), _r(g, 1001)],
    "gather_flat": lambda g: [np.zeros(50), _r(g, 30), g.integers(0, 30, 50)],
}

# Kernels with no serial/parallel twin on the CPU; the CUDA parity test runs them too.
CASES.update({
    "sum_reduce": lambda g: [np.zeros((3, 7)), _r(g, 3, 11, 7), 0.5],
    "matmul": lambda g: [np.zeros((2, 9, 11)), _r(g, 2, 13, 9), _r(g, 1, 11, 13), True, True],
    "scatter_add_flat": lambda g: [np.zeros(30), _r(g, 50), g.integers(0, 30, 50)],
    "gather_rows": lambda g: [np.zeros((5, 3, 4)), _r(g, 9, 3, 4), g.integers(0, 9, 5)],
})
