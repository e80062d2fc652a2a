"""Convolution and pooling: PyTorch's argument sets against NumPy references, float64
gradchecks, the nn modules and the errors."""
import math

import numpy as np
import pytest

import framework as fw
import framework.nn as nn
import framework.nn.functional as F
from framework.autograd import gradcheck
from framework.autograd.ops.conv import pair
from tests.conftest import assert_close, t64


def conv2d_ref(x, w, b, stride, pad_lo, pad_hi, dilation, groups):
    """Direct loops over output positions; padding (top, left) / (bottom, right)."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (pad_lo[0], pad_hi[0]), (pad_lo[1], pad_hi[1])))
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for g in range(groups):
        wg = w[g * og:(g + 1) * og]
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                           j * sw:j * sw + dw * (kw - 1) + 1:dw]
                out[:, g * og:(g + 1) * og, i, j] = np.tensordot(patch, wg,
                                                                 axes=([1, 2, 3], [1, 2, 3]))
    return out + (0 if b is None else b[None, :, None, None])


def _pool_len(size, k, s, p, d, ceil_mode):
    span = (size + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(span) if ceil_mode else math.floor(span)) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= size + p else out


def _windows(x, k, s, p, d, ceil_mode, fill):
    """(windows (N, C, OH, OW, kh*kw) of x padded with ``fill``, in-padding mask)."""
    h, w = x.shape[2:]
    oh = _pool_len(h, k[0], s[0], p[0], d[0], ceil_mode)
    ow = _pool_len(w, k[1], s[1], p[1], d[1], ceil_mode)
    extra = [max(0, (o - 1) * s_ + d_ * (k_ - 1) + 1 - (n + 2 * p_))
             for o, s_, d_, k_, n, p_ in zip((oh, ow), s, d, k, (h, w), p)]
    pads = ((0, 0), (0, 0), (p[0], p[0] + extra[0]), (p[1], p[1] + extra[1]))
    xp = np.pad(x, pads, constant_values=fill)
    inpad = np.pad(np.ones((h + 2 * p[0], w + 2 * p[1])), ((0, extra[0]), (0, extra[1])))
    wins = np.zeros(x.shape[:2] + (oh, ow, k[0] * k[1]))
    in_pad = np.zeros((oh, ow, k[0] * k[1]))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * s[0], i * s[0] + d[0] * (k[0] - 1) + 1, d[0])
            cols = slice(j * s[1], j * s[1] + d[1] * (k[1] - 1) + 1, d[1])
            wins[:, :, i, j] = xp[:, :, rows, cols].reshape(x.shape[:2] + (-1,))
            in_pad[i, j] = inpad[rows, cols].reshape(-1)
    return wins, in_pad


def max_pool_ref(x, k, s, p, d, ceil_mode):
    """Max and its flat input position per window."""
    wins, _ = _windows(x, k, s, p, d, ceil_mode, -np.inf)
    pos, _ = _windows(np.arange(x.shape[2] * x.shape[3], dtype=float).reshape(
        (1, 1) + x.shape[2:]), k, s, p, d, ceil_mode, -1)
    arg = wins.argmax(-1)
    nan = np.isnan(wins)  # PyTorch's kernels keep a window's last NaN
    arg = np.where(nan.any(-1), wins.shape[-1] - 1 - nan[..., ::-1].argmax(-1), arg)
    return wins.max(-1), np.take_along_axis(np.broadcast_to(pos, wins.shape), arg[..., None],
                                            -1)[..., 0].astype(np.int64)


def max_pool_want(x, kwargs):
    """``max_pool_ref`` for ``F.max_pool2d``'s keyword arguments."""
    kernel = pair(kwargs["kernel_size"], "k", "t")
    return max_pool_ref(x, kernel, pair(kwargs.get("stride", kernel), "s", "t"),
                        pair(kwargs.get("padding", 0), "p", "t"),
                        pair(kwargs.get("dilation", 1), "d", "t"),
                        kwargs.get("ceil_mode", False))


def avg_pool_ref(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    wins, in_pad = _windows(x, k, s, p, (1, 1), ceil_mode, 0.0)
    real, _ = _windows(np.ones((1, 1) + x.shape[2:]), k, s, p, (1, 1), ceil_mode, 0.0)
    if divisor_override:
        div = divisor_override
    elif count_include_pad:
        div = in_pad.sum(-1)
    else:
        div = real.sum(-1)[0, 0]
    return wins.sum(-1) / div


def adaptive_ref(x, out_hw):
    oh, ow = out_hw
    h, w = x.shape[2:]
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * h // oh, -(-(i + 1) * h // oh))
            cols = slice(j * w // ow, -(-(j + 1) * w // ow))
            out[:, :, i, j] = x[:, :, rows, cols].mean((2, 3))
    return out


# (x shape, weight shape, kwargs, padding (top, left), padding (bottom, right))
CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), dict(stride=1, padding=1), (1, 1), (1, 1)),
    ((1, 2, 7, 6), (3, 2, 3, 2), dict(stride=(2, 1), padding=(0, 2)), (0, 2), (0, 2)),
    ((2, 4, 6, 7), (6, 2, 2, 3), dict(dilation=(2, 1), groups=2, padding=1), (1, 1), (1, 1)),
    ((1, 3, 5, 6), (3, 1, 3, 3), dict(groups=3, stride=2), (0, 0), (0, 0)),  # depthwise
    ((1, 2, 5, 6), (2, 2, 2, 4), dict(padding="same", dilation=(1, 1)), (0, 1), (1, 2)),
    ((1, 2, 6, 5), (3, 2, 3, 2), dict(padding="same", dilation=(2, 3)), (2, 1), (2, 2)),
    ((2, 1, 4, 5), (2, 1, 4, 5), dict(padding="valid"), (0, 0), (0, 0)),
    ((1, 2, 3, 3), (2, 2, 1, 1), dict(stride=3, padding=(2, 1)), (2, 1), (2, 1)),
    # 36 columns per image: the whole-batch GEMM path with one group
    ((2, 4, 5, 4), (3, 4, 3, 3), dict(padding=(1, 0), stride=(1, 2)), (1, 0), (1, 0)),
    # 27 columns per image: a GEMM per image (the first case, with padding 1 all round,
    # takes the direct 3x3 path: DIRECT_CASES below)
    ((2, 3, 5, 5), (4, 3, 3, 3), dict(padding=(1, 2)), (1, 2), (1, 2)),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs,ws,kwargs,lo,hi", CONV_CASES)
def test_conv2d_matches_numpy_and_gradcheck(rng, xs, ws, kwargs, lo, hi, bias):
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    tx, tw, tb = t64(x), t64(w), t64(b)
    stride = pair(kwargs.get("stride", 1), "stride", "test")
    dilation = pair(kwargs.get("dilation", 1), "dilation", "test")
    want = conv2d_ref(x, w, b if bias else None, stride, lo, hi, dilation,
                      kwargs.get("groups", 1))
    assert_close(F.conv2d(tx, tw, tb if bias else None, **kwargs), want, rtol=1e-10,
                 atol=1e-10)
    args = [tx, tw] + ([tb] if bias else [])
    assert gradcheck(lambda *a: F.conv2d(a[0], a[1], a[2] if bias else None, **kwargs), args)


def test_conv2d_float32_matches_float64(rng):
    x, w, b = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 3, 2)), \
        rng.standard_normal(6)
    grads = {}
    for dtype in (np.float32, np.float64):
        ts = [fw.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b)]
        out = F.conv2d(*ts, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
        assert out.dtype == (fw.float32 if dtype == np.float32 else fw.float64)
        (out * out).sum().backward()
        grads[dtype] = [out.detach().numpy()] + [t.grad.numpy() for t in ts]
    for g32, g64 in zip(grads[np.float32], grads[np.float64]):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("per_image_max_k", [0, 1000])
def test_conv2d_both_column_layouts_agree(rng, monkeypatch, per_image_max_k):
    """The per-image and whole-batch GEMM paths give the same values and gradients."""
    from framework.autograd.ops import conv as conv_ops
    monkeypatch.setattr(conv_ops, "PER_IMAGE_MAX_K", per_image_max_k)
    x, w, b = rng.standard_normal((3, 2, 6, 5)), rng.standard_normal((4, 2, 3, 2)), \
        rng.standard_normal(4)
    tx, tw, tb = t64(x), t64(w), t64(b)
    want = conv2d_ref(x, w, b, (2, 1), (1, 0), (1, 0), (1, 2), 1)
    assert_close(F.conv2d(tx, tw, tb, (2, 1), (1, 0), (1, 2)), want, rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda *a: F.conv2d(*a, (2, 1), (1, 0), (1, 2)), [tx, tw, tb])


MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, dilation=2, padding=2, ceil_mode=True),
    dict(kernel_size=(4, 2), stride=3, padding=(2, 1), ceil_mode=True),
]


# (x shape, weight shape, padding): 3x3, stride 1, padding 1 and 2+ input channels take
# the direct path (ops/conv3x3.py): a partial block of 4 output channels, an odd one out
# of the weight gradient's pairs, one-pixel and one-row images, more than one 8-image
# slice of the weight gradient's sums, and "same" padding.
DIRECT_CASES = [
    ((3, 5, 4, 6), (7, 5, 3, 3), 1),
    ((1, 2, 1, 1), (1, 2, 3, 3), (1, 1)),
    ((2, 3, 1, 5), (4, 3, 3, 3), "same"),
    ((10, 2, 3, 2), (5, 2, 3, 3), 1),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs,ws,padding", DIRECT_CASES)
def test_conv2d_direct_3x3_path(rng, monkeypatch, xs, ws, padding, bias):
    """The direct path runs (and the column path does not), matches NumPy, and passes
    gradcheck."""
    from framework.autograd.ops import conv as conv_ops
    calls = []
    monkeypatch.setattr(conv_ops.Conv2d, "apply", lambda *a: calls.append(a))
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    tx, tw, tb = t64(x), t64(w), t64(b)
    want = conv2d_ref(x, w, b if bias else None, (1, 1), (1, 1), (1, 1), (1, 1), 1)
    assert_close(F.conv2d(tx, tw, tb if bias else None, padding=padding), want, rtol=1e-10,
                 atol=1e-10)
    args = [tx, tw] + ([tb] if bias else [])
    assert gradcheck(lambda *a: F.conv2d(a[0], a[1], a[2] if bias else None, padding=padding),
                     args)
    assert not calls


def _direct_and_column_results(monkeypatch, x, w, b, grads,
                               loss=lambda out: (out * out).sum()):
    """{path: [output, then the gradients of the (input, weight, bias) flagged in grads]}
    of ``loss`` of conv2d with padding 1, by the direct path and by the column path."""
    from framework.autograd.ops import conv as conv_ops
    results = {}
    for path, min_channels in (("direct", conv_ops.DIRECT_3X3_MIN_CHANNELS),
                               ("columns", 10 ** 9)):
        monkeypatch.setattr(conv_ops, "DIRECT_3X3_MIN_CHANNELS", min_channels)
        ts = [fw.tensor(a, requires_grad=g) for a, g in zip((x, w, b), grads)]
        out = F.conv2d(*ts, padding=1)
        loss(out).backward()
        results[path] = [out.detach().numpy()] + [t.grad.numpy() for t, g in zip(ts, grads)
                                                  if g]
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("grads", [(True, True, True), (False, True, True),
                                   (True, False, False)])
def test_conv2d_direct_and_column_paths_agree(rng, monkeypatch, dtype, grads):
    """Values and gradients, with the input (or the weight and bias) needing none."""
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((9, 6, 7, 5), (10, 6, 3, 3),
                                                                (10,)))
    results = _direct_and_column_results(monkeypatch, x, w, b, grads)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    assert len(results["direct"]) == 1 + sum(grads)
    for a, want in zip(results["direct"], results["columns"]):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("value", [np.inf, np.nan])
@pytest.mark.parametrize("where", [(0, 0, 0, 0), (1, 2, 3, 4), (0, 1, 2, 0), (1, 0, 4, 2),
                                   (0, 1, 2, 2)])
def test_conv2d_direct_path_non_finite_inputs(rng, monkeypatch, value, where):
    """A non-finite input spreads to the outputs and gradients PyTorch's products reach,
    no further: on an image's corner or edge (the weight gradient's sweep would multiply
    it by the output gradient's zero padding) as inside it. The loss is a plain sum, so
    that the output gradient stays finite."""
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), \
        rng.standard_normal(4)
    x[where] = value
    results = _direct_and_column_results(monkeypatch, x, w, b, (True, True, True),
                                         loss=lambda out: out.sum())
    for a, want in zip(results["direct"], results["columns"]):
        np.testing.assert_array_equal(np.isfinite(a), np.isfinite(want))
        np.testing.assert_allclose(a, want, rtol=1e-11, atol=1e-11)


def test_conv2d_direct_path_empty_batch(rng):
    tw, tb = t64(rng.standard_normal((4, 3, 3, 3))), t64(rng.standard_normal(4))
    out = F.conv2d(fw.zeros((0, 3, 4, 5), dtype=fw.float64), tw, tb, padding=1)
    assert out.shape == (0, 4, 4, 5)
    out.sum().backward()
    np.testing.assert_array_equal(tw.grad.numpy(), 0)
    np.testing.assert_array_equal(tb.grad.numpy(), 0)


@pytest.mark.parametrize("kwargs", MAX_CASES)
def test_max_pool2d_matches_numpy_and_gradcheck(rng, kwargs):
    x = rng.standard_normal((2, 3, 7, 6))
    tx = t64(x)
    want, want_index = max_pool_want(x, kwargs)
    out, index = F.max_pool2d(tx, return_indices=True, **kwargs)
    assert_close(out, want, rtol=0, atol=0)
    assert index.dtype == fw.int64
    np.testing.assert_array_equal(index.numpy(), want_index)
    assert gradcheck(lambda v: F.max_pool2d(v, **kwargs), [tx])


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=1, dilation=(2, 1))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_ties_and_nans(rng, kwargs, dtype):
    # Small integers make ties common: the first maximum in row-major order must win;
    # a NaN in a window wins (the last one), as PyTorch. Covers the unrolled 2x2 and
    # 3x3 interior paths, the clipped edges and the generic path.
    x = rng.integers(0, 3, (2, 3, 9, 11)).astype(dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    want, want_index = max_pool_want(x.astype(np.float64), kwargs)
    out, index = F.max_pool2d(fw.tensor(x), return_indices=True, **kwargs)
    np.testing.assert_array_equal(out.numpy(), want.astype(dtype))
    np.testing.assert_array_equal(index.numpy(), want_index)


AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), divisor_override=5),
    dict(kernel_size=(4, 2), stride=3, padding=(2, 1), ceil_mode=True),
]


@pytest.mark.parametrize("kwargs", AVG_CASES)
def test_avg_pool2d_matches_numpy_and_gradcheck(rng, kwargs):
    x = rng.standard_normal((2, 3, 7, 6))
    tx = t64(x)
    k = pair
    kernel = k(kwargs["kernel_size"], "k", "t")
    want = avg_pool_ref(x, kernel, k(kwargs.get("stride", kernel), "s", "t"),
                        k(kwargs.get("padding", 0), "p", "t"), kwargs.get("ceil_mode", False),
                        kwargs.get("count_include_pad", True), kwargs.get("divisor_override"))
    assert_close(F.avg_pool2d(tx, **kwargs), want, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda v: F.avg_pool2d(v, **kwargs), [tx])


@pytest.mark.parametrize("output_size,out_hw", [(3, (3, 3)), ((2, 4), (2, 4)),
                                                ((None, 4), (7, 4)), ((9, 8), (9, 8)),
                                                (1, (1, 1))])
def test_adaptive_avg_pool2d_matches_numpy_and_gradcheck(rng, output_size, out_hw):
    x = rng.standard_normal((2, 3, 7, 6))
    tx = t64(x)
    assert_close(F.adaptive_avg_pool2d(tx, output_size), adaptive_ref(x, out_hw),
                 rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda v: F.adaptive_avg_pool2d(v, output_size), [tx])
    assert_close(nn.AdaptiveAvgPool2d(output_size)(tx), adaptive_ref(x, out_hw), rtol=1e-12)


def test_pooling_float32(rng):
    x = rng.standard_normal((2, 3, 7, 6))
    t = fw.tensor(x.astype(np.float32), requires_grad=True)
    out = (F.max_pool2d(t, 3, 2, 1, dilation=(1, 2), ceil_mode=True).sum()
           + F.avg_pool2d(t, 3, 2, 1, count_include_pad=False).sum()
           + F.adaptive_avg_pool2d(t, (3, 4)).sum())
    out.backward()
    t64_ = t64(x)
    (F.max_pool2d(t64_, 3, 2, 1, dilation=(1, 2), ceil_mode=True).sum()
     + F.avg_pool2d(t64_, 3, 2, 1, count_include_pad=False).sum()
     + F.adaptive_avg_pool2d(t64_, (3, 4)).sum()).backward()
    assert t.grad.dtype == fw.float32
    np.testing.assert_allclose(t.grad.numpy(), t64_.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_conv2d_module_layout_init_and_repr():
    conv = nn.Conv2d(4, 6, (3, 5), stride=(2, 1), padding=(1, 2),
                     dilation=2, groups=2, bias=False, generator=fw.Generator(0))
    assert conv.weight.shape == (6, 2, 3, 5) and conv.bias is None
    bound = 1 / math.sqrt(2 * 3 * 5)  # kaiming_uniform(a=sqrt(5)) with fan_in = 2*3*5
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert repr(conv) == ("Conv2d(4, 6, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2), "
                          "dilation=(2, 2), groups=2, bias=False)")
    out = conv(fw.randn(1, 4, 9, 10))
    assert out.shape == (1, 6, 4, 6)
    same = nn.Conv2d(2, 3, 4, padding="same")
    assert same.bias.shape == (3,)
    assert np.abs(same.bias.detach().numpy()).max() <= 1 / math.sqrt(2 * 16)
    assert same(fw.randn(2, 2, 5, 7)).shape == (2, 3, 5, 7)


def test_pool_modules_match_functional(rng):
    x = fw.tensor(rng.standard_normal((1, 2, 7, 6)))
    mp = nn.MaxPool2d((3, 2), stride=2, padding=1, dilation=(1, 2), ceil_mode=True)
    assert_close(mp(x), F.max_pool2d(x, (3, 2), 2, 1, (1, 2), True), rtol=0, atol=0)
    out, index = nn.MaxPool2d(2, return_indices=True)(x)
    assert out.shape == index.shape == (1, 2, 3, 3)
    ap = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=4)
    assert_close(ap(x), F.avg_pool2d(x, 3, 2, 1, True, False, 4), rtol=0, atol=0)


def test_unbatched_input_gives_the_batched_result_without_its_batch_dim(rng):
    x = t64(rng.standard_normal((3, 7, 6)))
    w, b = t64(rng.standard_normal((4, 3, 3, 2))), t64(rng.standard_normal(4))
    batch = x.reshape(1, 3, 7, 6)
    calls = [
        lambda t: F.conv2d(t, w, b, stride=(2, 1), padding=1, dilation=(1, 2)),
        lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True),
        lambda t: F.avg_pool2d(t, (2, 3), padding=1, count_include_pad=False),
        lambda t: F.adaptive_avg_pool2d(t, (3, 4)),
        nn.MaxPool2d(2), nn.AvgPool2d(3, 1), nn.AdaptiveAvgPool2d(2),
    ]
    for call in calls:
        out = call(x)
        assert out.ndim == 3
        assert_close(out, call(batch).detach().numpy()[0], rtol=0, atol=0)
    out, index = F.max_pool2d(x, 2, return_indices=True)
    ref_out, ref_index = F.max_pool2d(batch, 2, return_indices=True)
    assert out.shape == index.shape == (3, 3, 3) and index.dtype == fw.int64
    assert_close(index, ref_index.numpy()[0], rtol=0, atol=0)
    assert_close(out, ref_out.detach().numpy()[0], rtol=0, atol=0)
    assert gradcheck(lambda t, u: F.conv2d(t, u, padding="same") + F.max_pool2d(
        t, 3, 1, 1, return_indices=True)[0].sum(0) + F.avg_pool2d(t, 3, 1, 1).mean(0),
        [x, t64(rng.standard_normal((1, 3, 2, 3)))])


@pytest.mark.parametrize("call,message", [
    (lambda: F.conv2d(fw.zeros(1, 3, 5, 5), fw.zeros(4, 2, 3, 3)),
     r"weight of shape \(4, 2, 3, 3\) does not match input of shape \(1, 3, 5, 5\)"),
    (lambda: F.conv2d(fw.zeros(5, 5), fw.zeros(4, 3, 3, 3)),
     r"expected input of shape \(N, C, H, W\) or \(C, H, W\), got \(5, 5\)"),
    (lambda: F.conv2d(fw.zeros(1, 1, 3, 5, 5), fw.zeros(4, 3, 3, 3)),
     r"conv2d: expected input of shape .* got \(1, 1, 3, 5, 5\)"),
    # unbatched input: the errors name the shape passed, not its batch of one
    (lambda: F.conv2d(fw.zeros(3, 5, 5), fw.zeros(4, 2, 3, 3)),
     r"weight of shape \(4, 2, 3, 3\) does not match input of shape \(3, 5, 5\) "),
    (lambda: F.conv2d(fw.zeros(1, 2, 2), fw.zeros(1, 1, 3, 3)),
     r"does not fit the padded input of spatial size \(2, 2\) \(input shape \(1, 2, 2\),"),
    (lambda: F.conv2d(fw.zeros(3, 5, 5), fw.zeros(4, 1, 3, 3), groups=2),
     r"input's 3 channels \(input shape \(3, 5, 5\)\)"),
    (lambda: F.conv2d(fw.zeros(1, 1, 2, 2), fw.zeros(1, 1, 3, 3), padding=0),
     r"kernel of size \(3, 3\).*does not fit the padded input of spatial size \(2, 2\)"),
    (lambda: F.conv2d(fw.zeros(1, 1, 5, 5), fw.zeros(1, 1, 3, 3), dilation=3),
     r"dilated extent \(7, 7\)"),
    (lambda: F.conv2d(fw.zeros(1, 4, 5, 5), fw.zeros(3, 2, 3, 3), groups=2),
     r"groups=2 must divide both the input's 4 channels.*weight's 3 output channels"),
    (lambda: F.conv2d(fw.zeros(1, 3, 5, 5), fw.zeros(4, 1, 3, 3), groups=2),
     r"groups=2 must divide both the input's 3 channels"),
    (lambda: F.conv2d(fw.zeros(1, 0, 5, 5), fw.zeros(2, 0, 3, 3)),
     r"input of shape \(1, 0, 5, 5\) and weight of shape \(2, 0, 3, 3\) leave no input "
     r"channel"),
    (lambda: F.conv2d(fw.zeros(1, 1, 5, 5), fw.zeros(1, 1, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided convolutions \(stride=\(2, 2\)\)"),
    (lambda: F.conv2d(fw.zeros(1, 1, 5, 5), fw.zeros(1, 1, 3, 3), padding="full"),
     r"'valid' or 'same', got 'full'"),
    (lambda: F.conv2d(fw.zeros(1, 1, 5, 5), fw.zeros(1, 1, 3, 3), stride=(1, 2, 3)),
     r"stride must be an int or a pair"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), r"groups=4 must divide in_channels=4 and "
                                           r"out_channels=6"),
    (lambda: F.max_pool2d(fw.zeros(1, 1, 1, 1), 2),
     r"kernel of size \(2, 2\).*does not fit the input of shape \(1, 1, 1, 1\)"),
    (lambda: F.max_pool2d(fw.zeros(1, 1, 6, 6), 3, padding=2),
     r"padding \(2, 2\) should be at most half"),
    (lambda: F.avg_pool2d(fw.zeros(6, 6), 2), r"avg_pool2d: expected input of shape "
                                              r"\(N, C, H, W\) or \(C, H, W\), got \(6, 6\)"),
    (lambda: F.max_pool2d(fw.zeros(1, 1, 1, 6, 6), 2), r"max_pool2d: expected input of shape"),
    (lambda: nn.AdaptiveAvgPool2d(2)(fw.zeros(6)), r"adaptive_avg_pool2d: expected input of "
                                                   r"shape .* got \(6,\)"),
    (lambda: F.max_pool2d(fw.zeros(1, 1, 1), 2),
     r"kernel of size \(2, 2\).*does not fit the input of shape \(1, 1, 1\) "),
    (lambda: F.avg_pool2d(fw.zeros(2, 1, 3), 2), r"does not fit the input of shape \(2, 1, 3\) "),
    (lambda: F.adaptive_avg_pool2d(fw.zeros(2, 4, 4), (2, 0)),
     r"output size \(2, 0\).*\(input shape \(2, 4, 4\)\)"),
    (lambda: F.adaptive_avg_pool2d(fw.zeros(1, 1, 4, 4), (2, 0)), r"output size \(2, 0\)"),
])
def test_conv_and_pool_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
