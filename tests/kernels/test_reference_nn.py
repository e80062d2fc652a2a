"""Reductions, the softmax family, cross-entropy, matmul, conv and pooling kernels in
float32, serial and parallel builds, against float64 NumPy references."""
import numpy as np
import pytest
from refcheck import close32, f32

ARB = (37, 53, 21)  # (A, R, B): 41K elements, 777 independent lines for the threads


@pytest.mark.parametrize("shape", [(1, 40000, 1), (5, 8001, 1), (3, 2001, 7)])
def test_sum_reduce(run, shape):
    x = f32(np.random.default_rng(0).standard_normal(shape) + 0.5)
    out = np.empty((shape[0], shape[2]), np.float32)
    run("sum_reduce", out, x, 0.25)
    close32(out, 0.25 * x.astype(np.float64).sum(axis=1))


@pytest.mark.parametrize("is_max", [True, False])
def test_extremum_reduce_and_its_grad(run, is_max):
    rng = np.random.default_rng(1)
    x = f32(rng.standard_normal(ARB))
    out, index = np.empty((ARB[0], ARB[2]), np.float32), np.empty((ARB[0], ARB[2]), np.int64)
    run("extremum_reduce", out, index, x, is_max)
    want_index = x.argmax(axis=1) if is_max else x.argmin(axis=1)
    np.testing.assert_array_equal(index, want_index)
    np.testing.assert_array_equal(out, x.max(axis=1) if is_max else x.min(axis=1))

    g = f32(rng.standard_normal(out.shape))
    grad = np.full(ARB, np.nan, np.float32)
    run("index_reduce_grad", grad, g, index)
    want = np.zeros(ARB)
    np.put_along_axis(want, index[:, None, :], g[:, None, :].astype(np.float64), axis=1)
    np.testing.assert_array_equal(grad, want)


def _softmax64(x, log):
    z = x - x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1, keepdims=True))
    return z - lse if log else np.exp(z - lse)


@pytest.mark.parametrize("log_output", [False, True])
def test_softmax_and_its_grad(run, log_output):
    rng = np.random.default_rng(2)
    x = f32(rng.standard_normal(ARB) * 4)
    out = np.empty(ARB, np.float32)
    run("softmax", out, x, log_output)
    close32(out, _softmax64(x.astype(np.float64), log_output))

    y, g = out.astype(np.float64), f32(rng.standard_normal(ARB))
    g64 = g.astype(np.float64)
    if log_output:
        want = g64 - np.exp(y) * g64.sum(axis=1, keepdims=True)
    else:
        want = y * (g64 - (g64 * y).sum(axis=1, keepdims=True))
    grad = np.empty(ARB, np.float32)
    run("softmax_grad", grad, g, out, log_output)
    close32(grad, want, atol=1e-5)


@pytest.mark.parametrize("log_output", [False, True])
@pytest.mark.parametrize("rows,length", [(2500, 10), (7, 1), (30, 15)])
def test_softmax_and_its_grad_on_short_rows(run, log_output, rows, length):
    """Rows shorter than a vector go in chunks of 1024 rows (2500: two full, one
    partial); a row of -inf, one with +inf and one with NaN come out NaN, as PyTorch's."""
    rng = np.random.default_rng(4)
    x = f32(rng.standard_normal((rows, length, 1)) * 4)
    special = min(rows, 3)
    x[0] = -np.inf
    if special == 3:
        x[1, 0], x[2, -1] = np.inf, np.nan
    out = np.empty_like(x)
    run("softmax", out, x, log_output)
    assert np.isnan(out[:special]).all()
    close32(out[special:], _softmax64(x[special:].astype(np.float64), log_output))

    y, g = out[special:].astype(np.float64), f32(rng.standard_normal(x.shape))
    g64 = g[special:].astype(np.float64)
    if log_output:
        want = g64 - np.exp(y) * g64.sum(axis=1, keepdims=True)
    else:
        want = y * (g64 - (g64 * y).sum(axis=1, keepdims=True))
    grad = np.empty_like(x)
    run("softmax_grad", grad, g, out, log_output)
    close32(grad[special:], want, atol=1e-5)


def test_logsumexp_and_its_grad(run):
    rng = np.random.default_rng(3)
    x = f32(rng.standard_normal(ARB) * 4 + 30)  # large values: the max must come out first
    x64 = x.astype(np.float64)
    out = np.empty((ARB[0], ARB[2]), np.float32)
    run("logsumexp", out, x)
    m = x64.max(axis=1)
    want = m + np.log(np.exp(x64 - m[:, None, :]).sum(axis=1))
    close32(out, want)

    g = f32(rng.standard_normal(out.shape))
    grad = np.empty(ARB, np.float32)
    run("logsumexp_grad", grad, g, x, out)
    close32(grad, g.astype(np.float64)[:, None, :]
            * np.exp(x64 - out.astype(np.float64)[:, None, :]), atol=1e-5)


@pytest.mark.parametrize("with_bias", [True, False])
def test_conv_from_columns_and_its_weight_grad(run, with_bias):
    rng = np.random.default_rng(6)
    n, o, k, l = 21, 7, 9, 45  # 21 images: slices of the weight gradient's partial sums
    w, cols = f32(rng.standard_normal((o, k))), f32(rng.standard_normal((n, k, l)))
    bias = f32(rng.standard_normal(o)) if with_bias else np.empty(0, np.float32)
    out = np.empty((n, o, l), np.float32)
    run("conv_from_columns", out, w, cols, bias)
    want = np.einsum("ok,nkl->nol", w.astype(np.float64), cols.astype(np.float64))
    close32(out, want + (bias.astype(np.float64)[None, :, None] if with_bias else 0))

    g = f32(rng.standard_normal((n, o, l)))
    grad_w = np.empty((o, k), np.float32)
    grad_b = np.empty(o if with_bias else 0, np.float32)
    run("conv_weight_grad_from_columns", grad_w, grad_b, g, cols)
    close32(grad_w, np.einsum("nol,nkl->ok", g.astype(np.float64), cols.astype(np.float64)),
            atol=1e-4)
    if with_bias:
        close32(grad_b, g.astype(np.float64).sum(axis=(0, 2)), atol=1e-4)


def _conv3x3_reference(x, w):
    """sum over c, i, j of w[o, c, i, j] * x[n, c, h + i - 1, w + j - 1], zero padded."""
    n, _, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for i in range(3):
        for j in range(3):
            out += np.einsum("oc,nchw->nohw", w[:, :, i, j], xp[:, :, i:i + h, j:j + wd])
    return out


def test_conv3x3_kernels(run):
    """Planes, forward, weight and input gradients: 19 images (three 8-image slices of the
    weight gradient, the last partial), 7 output channels (a partial block of 4, an odd
    one out of the weight gradient's pairs), 9 x 13 images (2,223 outputs a channel)."""
    rng = np.random.default_rng(9)
    n, c, o, h, w = 19, 6, 7, 9, 13
    x, wt = f32(rng.standard_normal((n, c, h, w))), f32(rng.standard_normal((o, c, 3, 3)))
    bias, g = f32(rng.standard_normal(o)), f32(rng.standard_normal((n, o, h, w)))
    x64, w64, g64 = x.astype(np.float64), wt.astype(np.float64), g.astype(np.float64)
    size = (n * (h + 1) + 2) * (w + 1)
    planes = np.full((c, size), np.nan, np.float32)
    run("conv3x3_planes", planes, x)
    padded = np.zeros((c, n * (h + 1) + 2, w + 1), np.float32)
    for i in range(n):
        padded[:, i * (h + 1) + 1:(i + 1) * (h + 1), 1:] = x[i]
    np.testing.assert_array_equal(planes, padded.reshape(c, size))

    packed = np.full(((o + 3) // 4, c, 36), np.nan, np.float32)
    run("conv3x3_pack", packed, wt, False)
    out = np.full((n, o, h, w), np.nan, np.float32)
    run("conv3x3", out, planes, packed, bias)
    close32(out, _conv3x3_reference(x64, w64) + bias.astype(np.float64)[None, :, None, None],
            atol=1e-5)

    grad_b = np.full(o, np.nan, np.float32)
    grad_w = np.full((o, c, 3, 3), np.nan, np.float32)
    run("conv3x3_weight_grad", grad_w, grad_b, g, planes)
    close32(grad_b, g64.sum(axis=(0, 2, 3)), atol=1e-4)
    xp = np.pad(x64, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want_w = np.stack([np.stack([np.einsum("nohw,nchw->oc", g64, xp[:, :, i:i + h, j:j + w])
                                 for j in range(3)], -1) for i in range(3)], -2)
    close32(grad_w, want_w, atol=1e-3)

    grad_planes = np.full((o, size), np.nan, np.float32)
    run("conv3x3_planes", grad_planes, g)
    packed_t = np.full(((c + 3) // 4, o, 36), np.nan, np.float32)
    run("conv3x3_pack", packed_t, wt, True)
    grad_x = np.full((n, c, h, w), np.nan, np.float32)
    run("conv3x3", grad_x, grad_planes, packed_t, np.empty(0, np.float32))
    # the adjoint: a convolution of g with the weights transposed and flipped
    close32(grad_x, _conv3x3_reference(g64, w64.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]),
            atol=1e-5)


# From images with fewer positions than a vector (the loop path: 1 x 1, and 2 x 4 in
# float32) to blocks of 1-4 vectors with an overlapping last block (one block would run
# past a 5 x 5 image in float64: two overlap) and several blocks (20 x 17).
@pytest.mark.parametrize("h,w", [(1, 1), (2, 4), (3, 4), (5, 5), (7, 5), (14, 14), (20, 17)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("aligned", [True, False])
# 4 channels: channel lanes in float64 on AVX2 hosts, position lanes otherwise; 8: channel
# lanes on AVX2 hosts
@pytest.mark.parametrize("c", [4, 8])
def test_conv3x3_every_position_and_weight(run, h, w, dtype, aligned, c):
    """The planes hold every entry in place and zeros elsewhere (the vector path where
    images are 14 or more wide, 6 in float64, and rows whole vectors), the forward writes
    every output once with the bias and the weight gradient sums every product: 5 output
    channels (a partial block of the forward's 4 and of the weight gradient's 3), 17
    images (more than a 16-image period of the planes' vectors; the weight gradient's
    vectors start after a head and end before a tail of single positions), plane rows of
    the framework's length (a multiple of 16) or the bare length."""
    from framework.autograd.ops.conv3x3 import planes_shape
    rng = np.random.default_rng(h * 100 + w)
    n, o = 17, 5
    x, wt = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, 3, 3))
    bias, g = rng.standard_normal(o), rng.standard_normal((n, o, h, w))
    size = planes_shape(1, n, h, w)[1] if aligned else (n * (h + 1) + 2) * (w + 1)
    planes = np.full((c, size), np.nan, dtype)
    run("conv3x3_planes", planes, x.astype(dtype))
    padded = np.zeros((c, size), dtype)
    rows = padded[:, :(n * (h + 1) + 2) * (w + 1)].reshape(c, n * (h + 1) + 2, w + 1)
    for i in range(n):
        rows[:, i * (h + 1) + 1:(i + 1) * (h + 1), 1:] = x[i]
    np.testing.assert_array_equal(planes, padded)
    packed = np.full(((o + 3) // 4, c, 36), np.nan, dtype)
    run("conv3x3_pack", packed, wt.astype(dtype), False)
    out = np.full((n, o, h, w), np.nan, dtype)
    run("conv3x3", out, planes, packed, bias.astype(dtype))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, _conv3x3_reference(x, wt) + bias[None, :, None, None],
                               rtol=tol, atol=tol)

    grad_b = np.full(o, np.nan, dtype)
    grad_w = np.full((o, c, 3, 3), np.nan, dtype)
    run("conv3x3_weight_grad", grad_w, grad_b, g.astype(dtype), planes)
    np.testing.assert_allclose(grad_b, g.sum(axis=(0, 2, 3)), rtol=tol, atol=tol * 10)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want_w = np.stack([np.stack([np.einsum("nohw,nchw->oc", g, xp[:, :, i:i + h, j:j + w])
                                 for j in range(3)], -1) for i in range(3)], -2)
    np.testing.assert_allclose(grad_w, want_w, rtol=tol, atol=tol * 10)


# 2 channels take the position-lane path on every host; 8 and 16 the channel-lane path
# on AVX2 hosts (float32: one and two vectors of channels; float64: two and four)
@pytest.mark.parametrize("c", [2, 8, 16])
def test_conv3x3_weight_grad_over_many_passes(run, c):
    """A batch whose sums take more than one float64 flush of the weight gradient's
    lanes: 300 images of 14 x 14 (position lanes: 4,218 vectors of 16 positions, flushes
    every 4,032; channel lanes: 16 slices of 19 images, the last of 15, flushes every
    image)."""
    from framework.autograd.ops.conv3x3 import planes_shape
    rng = np.random.default_rng(11)
    n, o, h, w = 300, 5, 14, 14
    x, g = rng.standard_normal((n, c, h, w)), rng.standard_normal((n, o, h, w))
    planes = np.empty(planes_shape(c, n, h, w), np.float32)
    run("conv3x3_planes", planes, f32(x))
    grad_w = np.full((o, c, 3, 3), np.nan, np.float32)
    grad_b = np.full(o, np.nan, np.float32)
    run("conv3x3_weight_grad", grad_w, grad_b, f32(g), planes)
    xp = np.pad(f32(x).astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    g64 = f32(g).astype(np.float64)
    want_w = np.stack([np.stack([np.einsum("nohw,nchw->oc", g64, xp[:, :, i:i + h, j:j + w])
                                 for j in range(3)], -1) for i in range(3)], -2)
    close32(grad_w, want_w, atol=1e-3)
    close32(grad_b, g64.sum(axis=(0, 2, 3)), atol=1e-3)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_and_its_grad(run, label_smoothing):
    rng = np.random.default_rng(4)
    n, c, ignore = 397, 101, -100
    x = f32(rng.standard_normal((n, c)) * 3)
    target = rng.integers(0, c, n)
    target[::7] = ignore
    x64 = x.astype(np.float64)
    logp = _softmax64(x64[:, :, None], log=True)[:, :, 0]
    rows = np.arange(n)
    picked = logp[rows, np.where(target == ignore, 0, target)]
    want = -(1 - label_smoothing) * picked - label_smoothing * logp.mean(axis=1)
    want[target == ignore] = 0.0
    loss, lse = np.empty(n, np.float32), np.empty(n, np.float32)
    none = np.empty(0, np.float32)
    run("cross_entropy", loss, lse, x, target, label_smoothing, ignore, none, none)
    close32(loss, want)
    # the rows' sum, and that sum divided by a count, in the same call
    total, count = np.empty(1, np.float32), np.array([360.0], np.float32)
    run("cross_entropy", loss, lse, x, target, label_smoothing, ignore, total, none)
    close32(total, [want.sum()])
    run("cross_entropy", loss, lse, x, target, label_smoothing, ignore, total, count)
    close32(total, [want.sum() / 360])
    close32(lse, x64.max(axis=1) + np.log(np.exp(x64 - x64.max(axis=1)[:, None]).sum(axis=1)))

    g = f32(rng.standard_normal(n))
    onehot = np.zeros((n, c))
    onehot[rows, np.where(target == ignore, 0, target)] = 1
    want = g.astype(np.float64)[:, None] * (np.exp(logp) - (1 - label_smoothing) * onehot
                                            - label_smoothing / c)
    want[target == ignore] = 0.0
    grad = np.empty((n, c), np.float32)
    run("cross_entropy_grad", grad, g, x, lse, target, label_smoothing, ignore, none)
    close32(grad, want)
    run("cross_entropy_grad", grad, g, x, lse, target, label_smoothing, ignore, count)
    close32(grad, want / 360)
    # grad_loss of shape (1,): the same gradient for every row (a reduced loss)
    run("cross_entropy_grad", grad, g[:1], x, lse, target, label_smoothing, ignore, none)
    close32(grad, want / g.astype(np.float64)[:, None] * g[0])
    run("cross_entropy_grad", grad, g[:1], x, lse, target, label_smoothing, ignore, count)
    close32(grad, want / g.astype(np.float64)[:, None] * g[0] / 360)


@pytest.mark.parametrize("trans_a,trans_b,batch_a,batch_b", [
    (False, False, 3, 3), (True, False, 1, 3), (False, True, 3, 1), (True, True, 3, 3)])
def test_matmul(run, trans_a, trans_b, batch_a, batch_b):
    rng = np.random.default_rng(5)
    m, k, n = 33, 70, 41
    a = f32(rng.standard_normal((batch_a, k, m) if trans_a else (batch_a, m, k)))
    b = f32(rng.standard_normal((batch_b, n, k) if trans_b else (batch_b, k, n)))
    out = np.empty((3, m, n), np.float32)
    run("matmul", out, a, b, trans_a, trans_b)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    want = (a64.swapaxes(1, 2) if trans_a else a64) @ (b64.swapaxes(1, 2) if trans_b else b64)
    close32(out, want, atol=1e-5)  # sums of 70 products of size ~1


CONV = dict(kh=3, kw=3, stride=2, padding=1)
# The kernels' geometry arguments for CONV: (kh, kw, sh, sw, ph, pw), then dilation
# (conv, max pooling) or count_include_pad and divisor override (average pooling).
WINDOW = (3, 3, 2, 2, 1, 1)
DILATION = (1, 1)
IMAGES = (3, 5, 29, 31)  # N, C, H, W: 15 planes for the threads, odd sizes


def _out_hw(h, w, kh, kw, stride, padding):
    return (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1


def _windows(x, kh, kw, stride, padding, fill):
    """(N, C, kh, kw, OH, OW): every window element of the padded images."""
    n, c, h, w = x.shape
    oh, ow = _out_hw(h, w, kh, kw, stride, padding)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)),
                    constant_values=fill)
    return np.stack([np.stack([padded[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
                               for j in range(kw)], axis=2) for i in range(kh)], axis=2)


def _spread(parts, shape, kh, kw, stride, padding):
    """The adjoint of ``_windows`` with zero fill: add each window element back."""
    n, c, h, w = shape
    oh, ow = _out_hw(h, w, kh, kw, stride, padding)
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += parts[:, :, i, j]
    return padded[:, :, padding:padding + h, padding:padding + w]


def test_im2col_and_col2im(run):
    rng = np.random.default_rng(6)
    x = f32(rng.standard_normal(IMAGES))
    n, c, h, w = IMAGES
    oh, ow = _out_hw(h, w, **CONV)
    cols = np.full((n, c * 9, 1, oh, ow), np.nan, np.float32)  # (A, K, B, OH, OW), B = 1
    run("im2col", cols, x, *WINDOW, *DILATION)
    want = _windows(x.astype(np.float64), fill=0.0, **CONV).reshape(n, c * 9, 1, oh, ow)
    np.testing.assert_array_equal(cols, want)

    g = f32(rng.standard_normal(cols.shape))
    grad = np.full(IMAGES, np.nan, np.float32)
    run("col2im", grad, g, *WINDOW, *DILATION)
    parts = g.astype(np.float64).reshape(n, c, 3, 3, oh, ow)
    close32(grad, _spread(parts, IMAGES, **CONV))


def _im2col_reference(x, shape, kh, kw, ph, pw, dh, dw):
    """im2col by its definition (stride 1), into an (A, K, B, OH, OW) array."""
    a_, k_, b_, oh, ow = shape
    n, c, h, w = x.shape
    cols = np.zeros((n, c, kh, kw, oh, ow), x.dtype)
    rows, columns = np.arange(oh)[:, None], np.arange(ow)[None, :]
    for i in range(kh):
        for j in range(kw):
            ih, iw = rows - ph + i * dh, columns - pw + j * dw
            inside = (ih >= 0) & (ih < h) & (iw >= 0) & (iw < w)
            cols[:, :, i, j] = np.where(inside, x[:, :, ih.clip(0, h - 1), iw.clip(0, w - 1)], 0)
    cols = cols.reshape(a_, b_, k_, oh, ow)
    return cols.transpose(0, 2, 1, 3, 4)


# Stride 1 and as many outputs as inputs per row: im2col copies each tap's rows as one
# run. (N, C, H, W), (kh, kw), top/left padding, dilation, output rows: odd sizes,
# asymmetric padding, taps that see no input row or column.
@pytest.mark.parametrize("images,kernel,padding,dilation,oh", [
    ((3, 5, 7, 9), (3, 3), (1, 1), (1, 1), 7),
    ((2, 3, 6, 8), (2, 4), (0, 1), (1, 1), 6),
    ((2, 2, 5, 6), (3, 3), (2, 2), (2, 2), 5),
    ((1, 2, 2, 3), (5, 3), (4, 1), (1, 1), 3),
    ((2, 1, 4, 2), (1, 5), (0, 2), (1, 1), 4),
    ((1, 1, 1, 1), (3, 3), (1, 1), (1, 1), 1),
])
@pytest.mark.parametrize("per_image", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_runs_of_same_width_rows(run, images, kernel, padding, dilation, oh,
                                        per_image, dtype):
    rng = np.random.default_rng(16)
    x = rng.standard_normal(images).astype(dtype)
    n, c, h, w = images
    k = c * kernel[0] * kernel[1]
    shape = (n, k, 1, oh, w) if per_image else (1, k, n, oh, w)
    cols = np.full(shape, np.nan, dtype)
    run("im2col", cols, x, *kernel, 1, 1, *padding, *dilation)
    np.testing.assert_array_equal(cols, _im2col_reference(x, shape, *kernel, *padding,
                                                          *dilation))


def test_max_pool2d_and_its_grad(run):
    rng = np.random.default_rng(7)
    x = f32(rng.standard_normal(IMAGES))
    n, c, h, w = IMAGES
    oh, ow = _out_hw(h, w, **CONV)
    out, index = np.empty((n, c, oh, ow), np.float32), np.empty((n, c, oh, ow), np.int64)
    run("max_pool2d", out, index, x, *WINDOW, *DILATION)
    windows = _windows(x.astype(np.float64), fill=-np.inf, **CONV).reshape(n, c, 9, oh, ow)
    np.testing.assert_array_equal(out, windows.max(axis=2))
    positions = _windows(np.arange(h * w, dtype=np.float64).reshape(1, 1, h, w), fill=-1,
                         **CONV).reshape(1, 1, 9, oh, ow)
    want_index = np.take_along_axis(np.broadcast_to(positions, windows.shape),
                                    windows.argmax(axis=2)[:, :, None], axis=2)[:, :, 0]
    np.testing.assert_array_equal(index, want_index)

    g = f32(rng.standard_normal(out.shape))
    grad = np.full(IMAGES, np.nan, np.float32)
    run("max_pool2d_grad", grad, g, index)
    want = np.zeros((n * c, h * w))
    np.add.at(want, (np.arange(n * c)[:, None], index.reshape(n * c, -1)),
              g.astype(np.float64).reshape(n * c, -1))
    close32(grad, want.reshape(IMAGES))


def test_avg_pool2d_and_its_grad(run):
    rng = np.random.default_rng(8)
    x = f32(rng.standard_normal(IMAGES))
    n, c, h, w = IMAGES
    oh, ow = _out_hw(h, w, **CONV)
    out = np.empty((n, c, oh, ow), np.float32)
    run("avg_pool2d", out, x, *WINDOW, True, 0)
    windows = _windows(x.astype(np.float64), fill=0.0, **CONV)
    close32(out, windows.sum(axis=(2, 3)) / 9)  # padding counts, as PyTorch's default

    g = f32(rng.standard_normal(out.shape))
    grad = np.full(IMAGES, np.nan, np.float32)
    run("avg_pool2d_grad", grad, g, *WINDOW, True, 0)
    parts = np.broadcast_to(g.astype(np.float64)[:, :, None, None] / 9, (n, c, 3, 3, oh, ow))
    close32(grad, _spread(parts, IMAGES, **CONV))
