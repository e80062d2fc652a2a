"""Optimizer updates, gradient-norm helpers, gathers, scatters and the data kernels in
float32, serial and parallel builds, against float64 NumPy references."""
import numpy as np
import pytest
from refcheck import close32, f32

N = 40001


def _state(seed, n=N):
    rng = np.random.default_rng(seed)
    return [f32(v) for v in (rng.standard_normal(n), rng.standard_normal(n),
                             rng.standard_normal(n), np.abs(rng.standard_normal(n)),
                             np.abs(rng.standard_normal(n)) + 0.5)]


@pytest.mark.parametrize("momentum,dampening,nesterov,first", [
    (0.0, 0.0, False, False), (0.9, 0.1, False, True), (0.9, 0.1, False, False),
    (0.9, 0.0, True, False)])
def test_sgd_step(run, momentum, dampening, nesterov, first):
    param, grad, buf = _state(0)[:3]
    lr, wd = 0.05, 1e-2
    p, g, b = (v.astype(np.float64) for v in (param, grad, buf))
    d = g + wd * p
    if momentum:
        b = d if first else momentum * b + (1 - dampening) * d
        d = d + momentum * b if nesterov else b
    want_p = p - lr * d
    buf_arg = buf if momentum else np.empty(0, np.float32)
    run("sgd_step", param, grad, buf_arg, lr, momentum, dampening, nesterov, wd, first)
    close32(param, want_p)
    if momentum:
        close32(buf, b)


@pytest.mark.parametrize("decoupled,amsgrad", [(False, False), (True, False), (False, True)])
def test_adam_step(run, decoupled, amsgrad):
    param, grad, m, v, vmax = _state(1)
    lr, b1, b2, eps, wd, step = 1e-2, 0.9, 0.999, 1e-8, 0.05, 3
    p, g, m64, v64, vmax64 = (a.astype(np.float64) for a in (param, grad, m, v, vmax))
    if not decoupled:
        g = g + wd * p
    m64 = b1 * m64 + (1 - b1) * g
    v64 = b2 * v64 + (1 - b2) * g * g
    v_hat = np.maximum(vmax64, v64) if amsgrad else v64
    decay = 1 - lr * wd if decoupled else 1.0
    want = p * decay - lr / (1 - b1 ** step) * m64 / (np.sqrt(v_hat / (1 - b2 ** step)) + eps)
    run("adam_step", param, grad, m, v, vmax if amsgrad else np.empty(0, np.float32),
        lr, b1, b2, eps, wd, step, decoupled)
    close32(param, want)
    close32(m, m64)
    close32(v, v64)
    if amsgrad:
        close32(vmax, v_hat)


def test_scale_and_sum_squares(run):
    x = _state(2)[0]
    want = x.astype(np.float64) * 0.37
    run("scale", x, 0.37)
    close32(x, want)
    out = np.zeros(1)
    run("sum_squares", out, x)
    np.testing.assert_allclose(out[0], (x.astype(np.float64) ** 2).sum(), rtol=1e-6)


SOURCE = (30, 40, 35)  # 42000 elements, viewed through a permute and a stepped slice
VIEWS = [((40, 35, 30), (35, 1, 1400), 0),          # x.transpose(1, 2, 0)
         ((10, 20, 16), (2800, 35, 2), 3)]          # x[:20:2, :20, 3::2]


def _positions(shape, strides, offset):
    grids = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    return offset + sum(g * s for g, s in zip(grids, strides))


@pytest.mark.parametrize("shape,strides,offset", VIEWS)
def test_strided_gather_and_scatter(run, shape, strides, offset):
    rng = np.random.default_rng(3)
    x = f32(rng.standard_normal(np.prod(SOURCE)))
    pos = _positions(shape, strides, offset)
    out = np.full(pos.size, np.nan, np.float32)
    args = (np.array(shape, np.int64), np.array(strides, np.int64), offset)
    run("strided_gather", out, x, *args)
    np.testing.assert_array_equal(out, x[pos.reshape(-1)])

    values = f32(rng.standard_normal(pos.size))
    dest = np.zeros(x.size, np.float32)
    run("strided_scatter", dest, values, *args)
    want = np.zeros(x.size, np.float32)
    want[pos.reshape(-1)] = values
    np.testing.assert_array_equal(dest, want)


def test_gather_flat_scatter_add_flat_gather_rows(run):
    rng = np.random.default_rng(4)
    x = f32(rng.standard_normal(5000))
    index = rng.integers(0, x.size, 40000)  # many repeats: the scatter must add them
    out = np.empty(index.size, np.float32)
    run("gather_flat", out, x, index)
    np.testing.assert_array_equal(out, x[index])

    values = f32(rng.standard_normal(index.size))
    acc = np.zeros(x.size, np.float32)
    run("scatter_add_flat", acc, values, index)
    want = np.zeros(x.size)
    np.add.at(want, index, values.astype(np.float64))
    close32(acc, want, atol=1e-5)

    rows = f32(rng.standard_normal((300, 7, 5)))
    pick = rng.integers(0, 300, 1100)
    out = np.empty((1100, 7, 5), np.float32)
    run("gather_rows", out, rows, pick)
    np.testing.assert_array_equal(out, rows[pick])


def test_normalize_u8(run):
    x = np.random.default_rng(5).integers(0, 256, N).astype(np.uint8)
    out = np.empty(N, np.float32)
    run("normalize_u8", out, x, 1 / 255 / 0.3081, -0.1307 / 0.3081)
    close32(out, x * (1 / 255 / 0.3081) - 0.1307 / 0.3081)
