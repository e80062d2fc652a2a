"""Every op and its backward: the same inputs on the CPU and on CUDA give the same values
and the same gradients (float64, so the comparison is tight)."""
import numpy as np
import pytest

import framework as fw
import framework.nn.functional as F
from loss_cases import fused_and_composed

_I = np.array  # index arrays, kept on the host as PyTorch allows

# name: (input shapes, fn). Inputs are float64 leaves requiring grad.
OPS = {
    "add_broadcast": ([(3, 1, 5), (4, 1)], lambda a, b: a + b),
    "sub_scalar": ([(4, 5)], lambda a: 2.5 - a),
    "mul": ([(4, 5), (4, 5)], lambda a, b: a * b),
    "div": ([(4, 5), (5,)], lambda a, b: a / (b.abs() + 1)),
    "pow": ([(4, 5)], lambda a: (a.abs() + 0.5) ** 1.7),
    "pow_tensor": ([(3, 4), (3, 4)], lambda a, b: (a.abs() + 0.5) ** b),
    "maximum": ([(4, 5), (1, 5)], lambda a, b: fw.maximum(a, b)),
    "minimum": ([(4, 5), (4, 1)], lambda a, b: fw.minimum(a, b)),
    "where": ([(4, 5), (4, 5)], lambda a, b: fw.where(a > b, a, b * 2)),
    "where_scalar": ([(4, 5)], lambda a: fw.where(a > 0, a, 0.5)),
    "unary_chain": ([(6, 7)], lambda a: (a.exp() + a.tanh() + a.sigmoid() + a.relu()
                                         + fw.gelu(a) + a.clamp(-0.5, 0.5) + a.abs()
                                         + (a.abs() + 1).log() + (a.abs() + 1).sqrt() - a)),
    "sum_dims": ([(3, 4, 5)], lambda a: a.sum((0, 2))),
    "sum_all": ([(7, 9)], lambda a: a.sum()),
    "mean_keepdim": ([(3, 4, 5)], lambda a: a.mean(1, keepdim=True)),
    "var_std": ([(6, 5)], lambda a: a.var(0) + a.std(1).sum()),
    "max_dim": ([(4, 6)], lambda a: a.max(1)[0]),
    "amin": ([(4, 6)], lambda a: a.amin(0)),
    "softmax": ([(3, 5, 2)], lambda a: F.softmax(a, 1)),
    "log_softmax": ([(4, 7)], lambda a: F.log_softmax(a, -1)),
    "logsumexp": ([(4, 7)], lambda a: fw.logsumexp(a, 1)),
    "permute": ([(2, 3, 4)], lambda a: a.permute(2, 0, 1) * 1.5),
    "transpose_reshape": ([(3, 4)], lambda a: a.T.reshape(2, 6)),
    "slice_steps": ([(5, 6)], lambda a: a[1:5:2, 1::2]),
    "int_index_repeats": ([(5, 3)], lambda a: a[_I([0, 2, 2, 4])]),
    "bool_mask": ([(4, 5)], lambda a: a[_I(np.arange(20).reshape(4, 5) % 3 == 0)]),
    "cat_stack": ([(2, 3), (4, 3)],
                  lambda a, b: fw.cat([a, b], 0).sum(0) + fw.stack([b, b]).sum((0, 1))),
    "expand": ([(3, 1)], lambda a: a.expand(3, 4)),
    "matmul_batched": ([(2, 3, 4), (4, 5)], lambda a, b: a @ b),
    "matmul_vector": ([(4,), (4, 3)], lambda a, b: a @ b),
    "linear": ([(5, 4), (3, 4), (3,)], lambda x, w, b: F.linear(x, w, b)),
    "conv2d": ([(2, 3, 7, 7), (4, 3, 3, 3), (4,)],
               lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)),
    "conv2d_wide": ([(2, 4, 6, 5), (3, 4, 3, 3)], lambda x, w: F.conv2d(x, w, padding=(1, 0))),
    # an empty batch: zero weight and bias gradients (CUDA once left the bias's unwritten)
    "conv2d_empty_batch": ([(0, 3, 4, 5), (4, 3, 3, 3), (4,)],
                           lambda x, w, b: F.conv2d(x, w, b, padding=1)),
    # the CPU's direct 3x3 path against CUDA's columns and GEMMs
    "conv2d_3x3_padding_1": ([(3, 5, 4, 6), (7, 5, 3, 3), (7,)],
                             lambda x, w, b: F.conv2d(x, w, b, padding=1)),
    "conv2d_groups_dilation": ([(2, 4, 7, 6), (6, 2, 3, 2), (6,)],
                               lambda x, w, b: F.conv2d(x, w, b, (2, 1), (1, 2), (1, 2), 2)),
    "conv2d_depthwise_same": ([(1, 3, 5, 6), (3, 1, 2, 3)],
                              lambda x, w: F.conv2d(x, w, padding="same", groups=3)),
    "max_pool2d": ([(2, 2, 6, 6)], lambda x: F.max_pool2d(x, 3, 2, 1)),
    "max_pool2d_dilated_ceil": ([(2, 2, 7, 6)],
                                lambda x: F.max_pool2d(x, (3, 2), 2, 1, (1, 2), True)),
    "avg_pool2d": ([(2, 2, 6, 6)], lambda x: F.avg_pool2d(x, 2)),
    "avg_pool2d_ceil_no_pad": ([(2, 2, 7, 6)], lambda x: F.avg_pool2d(x, 3, 2, 1, True, False)),
    "avg_pool2d_divisor": ([(2, 2, 7, 6)],
                           lambda x: F.avg_pool2d(x, (2, 3), (1, 2), 1, divisor_override=5)),
    "adaptive_avg_pool2d": ([(2, 2, 7, 6)], lambda x: F.adaptive_avg_pool2d(x, (3, 4)).sum()
                            + F.adaptive_avg_pool2d(x, (9, 8)).sum()),
    "pad_constant": ([(2, 3, 5, 6)], lambda x: F.pad(x, (2, -1, 1, 3), value=0.5)),
    "pad_reflect": ([(2, 3, 5, 6)], lambda x: F.pad(x, (5, 2, -1, 4), mode="reflect")),
    "pad_replicate_unbatched_3d": ([(3, 2, 4, 5)],
                                   lambda x: F.pad(x, (3, 1, 0, 2, 1, 1), mode="replicate")),
    "pad_circular": ([(2, 7)], lambda x: F.pad(x, (5, -2), mode="circular")),
    "conv2d_unbatched_reflect": ([(3, 7, 6), (4, 3, 3, 2)], lambda x, w: F.conv2d(
        F.pad(x, (1, 0, 2, 2), mode="reflect"), w, stride=(2, 1))),
    "mse": ([(4, 3), (4, 3)], lambda a, b: F.mse_loss(a, b)),
    "bce_logits": ([(4, 3)],
                   lambda a: F.binary_cross_entropy_with_logits(a, a.detach().sigmoid())),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_forward_and_backward_match_cpu(name, rng):
    shapes, fn = OPS[name]
    arrays = [rng.standard_normal(s) for s in shapes]
    results = {}
    for device in ("cpu", "cuda"):
        inputs = [fw.tensor(a, device=device, requires_grad=True) for a in arrays]
        out = fn(*inputs)
        assert out.device == fw.device(device)
        upstream = np.random.default_rng(9).standard_normal(out.shape)
        out.backward(fw.tensor(upstream, device=device))
        results[device] = (out.detach().numpy(), [x.grad.numpy() for x in inputs])
        assert all(x.grad.device == fw.device(device) for x in inputs)
    (want, want_grads), (got, got_grads) = results["cpu"], results["cuda"]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for w, g in zip(want_grads, got_grads):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("smoothing,ignore", [(0.0, -100), (0.1, 2)])
def test_cross_entropy_and_nll_match_cpu(rng, smoothing, ignore):
    logits = rng.standard_normal((9, 5))
    target = rng.integers(0, 5, 9)
    results = {}
    for device in ("cpu", "cuda"):
        x = fw.tensor(logits, device=device, requires_grad=True)
        t = fw.tensor(target, device=device)
        loss = (F.cross_entropy(x, t, ignore_index=ignore, label_smoothing=smoothing)
                + F.nll_loss(F.log_softmax(x, 1), t, ignore_index=ignore))
        loss.backward()
        results[device] = (loss.item(), x.grad.numpy())
    assert results["cuda"][0] == pytest.approx(results["cpu"][0], rel=1e-12)
    np.testing.assert_allclose(results["cuda"][1], results["cpu"][1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_reduced_is_bitwise_the_composed_one(rng, reduction):
    """On the device too, the mean/sum in the kernel call gives exactly the bits of the
    rows summed and divided by kernels of their own."""
    x = rng.standard_normal((37, 11)).astype(np.float32) * 4
    target = rng.integers(0, 11, 37)
    target[::5] = 3  # ignored
    results = fused_and_composed(x, target, reduction, device="cuda")
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_comparisons_argmax_and_integer_ops(rng):
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        got = getattr(fw.tensor(a, device="cuda"), op)(fw.tensor(b, device="cuda"))
        assert got.dtype == fw.bool and got.device == fw.device("cuda")
        np.testing.assert_array_equal(got.numpy(), getattr(a, op)(b))
    x = fw.tensor(a, device="cuda")
    np.testing.assert_array_equal(x.argmax(1).numpy(), a.argmax(1))
    n = fw.tensor(rng.integers(-5, 5, (3, 4)), device="cuda")
    np.testing.assert_array_equal((n * 2 + 1).sum(0).numpy(), (n.numpy() * 2 + 1).sum(0))


@pytest.mark.parametrize("key", [(slice(1, None, 2), 1), (_I([0, 2, 0]), _I([1, 3, 1])),
                                 (_I(np.arange(12).reshape(3, 4) % 5 == 0),)])
def test_setitem_matches_cpu(key, rng):
    base = rng.standard_normal((3, 4))
    x, y = fw.tensor(base), fw.tensor(base, device="cuda")
    selected = base[key].shape
    value = rng.standard_normal(selected)
    x[key] = fw.tensor(value)
    y[key] = fw.tensor(value, device="cuda")
    np.testing.assert_array_equal(y.cpu().numpy(), x.numpy())
    y[key] = 0.5
    x[key] = 0.5
    np.testing.assert_array_equal(y.cpu().numpy(), x.numpy())


def test_inplace_change_of_a_saved_array_raises_on_the_device():
    x = fw.tensor([0.0, 1.0], dtype=fw.float64, device="cuda", requires_grad=True)
    y = x.exp()
    with fw.no_grad():
        y += 100
    with pytest.raises(RuntimeError, match="ExpBackward .* add_"):
        y.sum().backward()
    a = fw.ones(2, 3, 4, dtype=fw.float64, device="cuda", requires_grad=True)
    b = fw.ones(4, 2, dtype=fw.float64, device="cuda")
    loss = (a @ b).sum()   # matmul saves its inputs reshaped: found by storage
    b.mul_(2)
    with pytest.raises(RuntimeError, match="MatMulBackward"):
        loss.backward()
