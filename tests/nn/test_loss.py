"""Losses: forward against NumPy, backward by float64 gradcheck."""
import numpy as np
import pytest

import framework as fw
import framework.nn as nn
import framework.nn.functional as F
from framework.autograd import gradcheck
from tests.conftest import assert_close, t64
from loss_cases import fused_and_composed


def ce_ref(x, t, smoothing=0.0, ignore=-100):
    z = x - x.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    keep = t != ignore
    rows = -(1 - smoothing) * logp[np.arange(len(t)), np.where(keep, t, 0)] \
        - smoothing * logp.mean(1)
    return np.where(keep, rows, 0.0), keep


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy(rng, reduction, smoothing):
    x = rng.standard_normal((6, 5)) * 3
    t = np.array([0, 4, 2, 2, 1, 3])
    rows, _ = ce_ref(x, t, smoothing)
    ref = {"mean": rows.mean(), "sum": rows.sum(), "none": rows}[reduction]
    tx = t64(x)
    assert_close(F.cross_entropy(tx, fw.tensor(t), reduction=reduction,
                                 label_smoothing=smoothing), ref, rtol=1e-10)
    assert gradcheck(lambda v: F.cross_entropy(v, fw.tensor(t), reduction=reduction,
                                               label_smoothing=smoothing), [tx])
    loss = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)
    assert_close(loss(tx, fw.tensor(t)), ref, rtol=1e-10)


def test_cross_entropy_ignore_index_and_spatial(rng):
    x = rng.standard_normal((5, 4))
    t = np.array([1, -100, 3, 0, -100])
    rows, keep = ce_ref(x, t)
    tx = t64(x)
    assert_close(F.cross_entropy(tx, fw.tensor(t)), rows.sum() / keep.sum(), rtol=1e-10)
    assert gradcheck(lambda v: F.cross_entropy(v, fw.tensor(t)), [tx])
    xs = rng.standard_normal((2, 4, 3))  # (N, C, d)
    ts = np.array([[0, 1, 3], [2, 2, 0]])
    flat = xs.transpose(0, 2, 1).reshape(-1, 4)
    rows, _ = ce_ref(flat, ts.reshape(-1))
    assert_close(F.cross_entropy(t64(xs), fw.tensor(ts), reduction="none"), rows.reshape(2, 3),
                 rtol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("n, c", [(37, 11), (270_001, 2)])  # serial; parallel, sum in slices
def test_cross_entropy_reduced_node_is_bitwise_the_composed_one(rng, reduction, n, c):
    """The mean/sum is one graph node and one kernel call; its values and gradients must
    be exactly those of the per-row losses summed and divided (what a step recorded by
    fw.compile runs)."""
    x = rng.standard_normal((n, c)).astype(np.float32) * 4
    target = rng.integers(0, c, n)
    target[::5] = 3  # ignored
    results = fused_and_composed(x, target, reduction)
    assert results[0][0].shape == ()
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_cross_entropy_mean_of_no_targets_is_nan():
    x = fw.tensor(np.ones((2, 3)), requires_grad=True)
    loss = F.cross_entropy(x, fw.tensor([1, 1]), ignore_index=1)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_cross_entropy_large_logits_stable():
    x = fw.tensor([[1000.0, 0.0, -1000.0]])
    assert F.cross_entropy(x, fw.tensor([0])).item() == pytest.approx(0.0, abs=1e-6)
    assert np.isfinite(F.cross_entropy(x, fw.tensor([2])).item())


def test_cross_entropy_errors():
    with pytest.raises(IndexError, match="target 5 is out of bounds for 3 classes"):
        F.cross_entropy(fw.zeros(2, 3), fw.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"target of shape \(3,\) does not match input"):
        F.cross_entropy(fw.zeros(2, 3), fw.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integer tensor of class indices"):
        F.cross_entropy(fw.zeros(2, 3), fw.zeros(2))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(rng, reduction):
    x = rng.standard_normal((4, 3))
    t = np.array([2, 0, 1, 1])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    rows = -logp[np.arange(4), t]
    ref = {"mean": rows.mean(), "sum": rows.sum(), "none": rows}[reduction]
    tx = t64(logp)
    assert_close(F.nll_loss(tx, fw.tensor(t), reduction=reduction), ref, rtol=1e-10)
    assert_close(nn.NLLLoss(reduction=reduction)(tx, fw.tensor(t)), ref, rtol=1e-10)
    assert gradcheck(lambda v: F.nll_loss(v, fw.tensor(t), reduction=reduction), [tx])


def test_bce_with_logits_weight_and_pos_weight(rng):
    x = rng.standard_normal((4, 3)) * 4
    y = (rng.random((4, 3)) > 0.5).astype(float)
    w = rng.random((4, 3)) + 0.5
    pw = np.array([1.0, 2.0, 0.5])
    log_sig = -np.logaddexp(0, -x)
    log_one_minus = -np.logaddexp(0, x)
    ref = -w * (pw * y * log_sig + (1 - y) * log_one_minus)
    tx, ty, tw, tp = t64(x), t64(y, False), t64(w, False), t64(pw, False)
    assert_close(F.binary_cross_entropy_with_logits(tx, ty, tw, "none", tp), ref, rtol=1e-10)
    assert_close(F.binary_cross_entropy_with_logits(tx, ty, tw, pos_weight=tp), ref.mean(),
                 rtol=1e-10)
    plain = -(y * log_sig + (1 - y) * log_one_minus)
    assert_close(nn.BCEWithLogitsLoss(reduction="sum")(tx, ty), plain.sum(), rtol=1e-10)
    assert gradcheck(lambda v: F.binary_cross_entropy_with_logits(v, ty, tw, pos_weight=tp),
                     [tx])
    big = fw.tensor([[1000.0, -1000.0]])
    assert np.isfinite(F.binary_cross_entropy_with_logits(big, fw.tensor([[0.0, 1.0]])).item())


def test_mse_and_l1(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    tx, ty = t64(x), t64(y, False)
    assert_close(F.mse_loss(tx, ty), ((x - y) ** 2).mean(), rtol=1e-12)
    assert_close(nn.MSELoss(reduction="sum")(tx, ty), ((x - y) ** 2).sum(), rtol=1e-12)
    assert_close(F.l1_loss(tx, ty, reduction="none"), np.abs(x - y))
    assert_close(nn.L1Loss()(tx, ty), np.abs(x - y).mean(), rtol=1e-12)
    assert gradcheck(lambda v: F.mse_loss(v, ty), [tx])
    assert gradcheck(lambda v: F.l1_loss(v, ty), [tx])
    with pytest.raises(ValueError, match="must match"):
        F.mse_loss(tx, t64(np.zeros(4)))
