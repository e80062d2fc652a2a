"""A few float32 kernels through their dispatcher at sizes above the real parallel
threshold (no lowered threshold, no direct call of a build), against float64 NumPy."""
import numpy as np
from refcheck import close32, f32
from scipy.special import erf

import kernels.cpu as cpu
from kernels import opcodes as op
from kernels.cpu._compile import PARALLEL_MIN_WORK

BIG = PARALLEL_MIN_WORK + 4099  # above the threshold, and not a multiple of a chunk


def test_elementwise_above_the_threshold():
    rng = np.random.default_rng(0)
    x = f32(rng.standard_normal(BIG) * 3)
    out = np.empty_like(x)
    cpu.unary(out, x, op.GELU, 0.0, 0.0)
    x64 = x.astype(np.float64)
    close32(out, 0.5 * x64 * (1 + erf(x64 / 2 ** 0.5)))

    a, b = f32(rng.standard_normal((1, 1, BIG // 13, 13))), f32(rng.standard_normal((1, 1, 1, 13)))
    g = f32(rng.standard_normal(a.shape))
    grad_a, grad_b = np.empty_like(a), np.empty_like(a)
    cpu.binary_grad(grad_a, grad_b, g, a, b, op.MUL)
    close32(grad_a, g.astype(np.float64) * b)
    close32(grad_b, g.astype(np.float64) * a)


def test_reductions_above_the_threshold():
    rng = np.random.default_rng(1)
    x = f32(rng.standard_normal((1, BIG, 1)) + 0.25)  # a full sum: R split across threads
    out = np.empty((1, 1), np.float32)
    cpu.sum_reduce(out, x, 1.0)
    close32(out, x.astype(np.float64).sum(axis=1), rtol=1e-6)

    rows = f32(rng.standard_normal((BIG // 10, 10, 1)) * 4)
    sm = np.empty_like(rows)
    cpu.softmax(sm, rows, True)
    r64 = rows.astype(np.float64)
    close32(sm, r64 - np.log(np.exp(r64).sum(axis=1, keepdims=True)), atol=1e-5)


def test_adam_above_its_threshold():
    rng = np.random.default_rng(2)
    n = (1 << 13) + 7  # adam_step's own threshold is 8192
    param, grad, m = (f32(rng.standard_normal(n)) for _ in range(3))
    v = f32(np.abs(rng.standard_normal(n)))
    p64, g64 = param.astype(np.float64), grad.astype(np.float64)
    m64 = 0.9 * m + 0.1 * g64
    v64 = 0.999 * v + 0.001 * g64 * g64
    want = p64 - 0.01 / (1 - 0.9) * m64 / (np.sqrt(v64 / (1 - 0.999)) + 1e-8)
    cpu.adam_step(param, grad, m, v, np.empty(0, np.float32), 0.01, 0.9, 0.999, 1e-8, 0.0,
                  1, False)
    close32(param, want)
