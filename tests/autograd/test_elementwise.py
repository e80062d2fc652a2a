"""Elementwise ops: forward against NumPy, gradient by float64 central differences."""
import math

import numpy as np
import pytest

import framework as fw
from framework.autograd import gradcheck
from tests.conftest import assert_close, t64

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a ** b, np.power),
    "maximum": (fw.maximum, np.maximum),
    "minimum": (fw.minimum, np.minimum),
}

SHAPE_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 1, 3), (4, 1)),
    ((1,), (2, 3)),
    ((), (2, 3)),
    ((2, 1, 2, 1, 2, 1), (1, 2, 1, 2, 1, 2)),  # six dims that do not coalesce to four
    ((0, 3), (3,)),
]


def _inputs(rng, name, sa, sb):
    a = rng.uniform(0.5, 2.0, sa) if name == "pow" else rng.standard_normal(sa)
    b = rng.standard_normal(sb)
    if name == "div":
        b = np.sign(b) * (np.abs(b) + 0.5)
    return a, b


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("sa,sb", SHAPE_PAIRS)
def test_binary_forward_and_grad(rng, name, sa, sb):
    op, ref = BINARY[name]
    a, b = _inputs(rng, name, sa, sb)
    ta, tb = t64(a), t64(b)
    assert_close(op(ta, tb), ref(a, b), rtol=1e-10)
    if np.prod(np.broadcast_shapes(sa, sb)) <= 64:
        assert gradcheck(op, [ta, tb])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_float32_large_parallel_path(rng, name):
    op, ref = BINARY[name]
    a, b = _inputs(rng, name, (1031, 1021), (1021,))  # above PARALLEL_MIN_WORK
    a, b = a.astype(np.float32), b.astype(np.float32)
    out = op(fw.tensor(a), fw.tensor(b))
    assert out.dtype is fw.float32
    assert_close(out, ref(a, b), rtol=1e-5, atol=1e-5)


def test_noncontiguous_inputs(rng):
    base = rng.standard_normal((5, 6))
    x = t64(base)
    xt = x.T                      # transposed
    xs = x[1:5:2, ::3]            # sliced with steps
    assert_close(xt * 2, base.T * 2)
    assert_close(xs + 1, base[1:5:2, ::3] + 1)
    assert gradcheck(lambda v: v.T * v.T.exp(), [x])
    assert gradcheck(lambda v: v[1:5:2, ::3] * v[0:4:2, 1::3], [x])
    from_np = fw.from_numpy(np.asfortranarray(base))
    assert_close(from_np + 0, base)


def test_scalar_operands_and_reflected(rng):
    a = rng.standard_normal((3, 2))
    x = t64(a)
    assert_close(2 - x, 2 - a)
    assert_close(2 / (x.abs() + 1), 2 / (np.abs(a) + 1))
    assert_close(x ** 2, a ** 2)
    assert_close(2 ** x, 2 ** a)
    assert_close(-x, -a)
    assert_close(x * 3 + 1.5, a * 3 + 1.5)
    assert gradcheck(lambda v: (2 - v) * 3 / (v * v + 1) + 2 ** v - v ** 3, [x])


def test_type_promotion():
    i = fw.tensor([1, 2, 3])
    f = fw.tensor([0.5, 1.0, 1.5])
    d = fw.tensor([1.0], dtype=fw.float64)
    assert i.dtype is fw.int64 and f.dtype is fw.float32
    assert (i + f).dtype is fw.float32
    assert (f + d).dtype is fw.float64
    assert (i + 1).dtype is fw.int64
    assert (i * 1.5).dtype is fw.float32
    assert (i / 2).dtype is fw.float32
    assert_close(i / 2, [0.5, 1.0, 1.5])
    assert (i + fw.tensor([1], dtype=fw.int32)).dtype is fw.int64
    assert (f + 2).dtype is fw.float32


_erf = np.vectorize(math.erf, otypes=[float])

UNARY = {
    "exp": (lambda x: x.exp(), np.exp, None),
    "log": (lambda x: x.log(), np.log, "pos"),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, "pos"),
    "abs": (lambda x: x.abs(), np.abs, "nonzero"),
    "tanh": (lambda x: x.tanh(), np.tanh, None),
    "sigmoid": (lambda x: x.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), None),
    "relu": (lambda x: x.relu(), lambda a: np.maximum(a, 0), "nonzero"),
    "gelu": (fw.gelu, lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2))), None),
    "neg": (lambda x: -x, np.negative, None),
    "clamp": (lambda x: x.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), "away"),
    "clamp_min": (lambda x: x.clamp(min=0.1), lambda a: np.maximum(a, 0.1), "away"),
    "sign": (lambda x: x.sign(), np.sign, "nonzero"),
}


def _unary_input(rng, kind, shape):
    x = rng.standard_normal(shape)
    if kind == "pos":
        return np.abs(x) + 0.1
    if kind in ("nonzero", "away"):
        # keep points away from kinks, where central differences are not derivatives
        x = np.where(np.abs(x) < 0.05, 0.3, x)
        if kind == "away":
            for edge in (-0.5, 0.7, 0.1):
                x = np.where(np.abs(x - edge) < 0.05, edge + 0.2, x)
        return x
    return x


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(7,), (2, 3, 4), (1, 1), (0, 2), ()])
def test_unary_forward_and_grad(rng, name, shape):
    op, ref, kind = UNARY[name]
    a = _unary_input(rng, kind, shape)
    x = t64(a)
    assert_close(op(x), ref(a), rtol=1e-10, atol=1e-12)
    assert gradcheck(op, [x])


def test_unary_parallel_path_float32(rng):
    a = rng.standard_normal((1 << 20) + 3).astype(np.float32)  # above PARALLEL_MIN_WORK
    for name, (op, ref, kind) in UNARY.items():
        x = _unary_input(rng, kind, a.shape).astype(np.float32)
        assert_close(op(fw.tensor(x)), ref(x).astype(np.float32), rtol=2e-6, atol=1e-6)


def test_stability_of_sigmoid_and_exp_edges():
    x = fw.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=fw.float64)
    s = x.sigmoid().numpy()
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s, [0.0, 1.9287498479639178e-22, 0.5, 1.0, 1.0])


def test_comparisons_and_where(rng):
    a = rng.standard_normal((4, 3))
    b = rng.standard_normal((3,))
    ta, tb = t64(a), t64(b)
    for op, ref in [(ta.__lt__, np.less), (ta.__le__, np.less_equal),
                    (ta.__gt__, np.greater), (ta.__ge__, np.greater_equal),
                    (ta.__eq__, np.equal), (ta.__ne__, np.not_equal)]:
        out = op(tb)
        assert out.dtype is fw.bool and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), ref(a, b))
    assert_close(ta > 0, a > 0)
    cond = ta > tb
    assert_close(fw.where(cond, ta, tb), np.where(a > b, a, b))
    assert gradcheck(lambda x, y: fw.where(x > y, x * 2, y.exp()), [ta, tb])
    assert_close(fw.where(cond, ta, 0.0), np.where(a > b, a, 0.0))


def test_casts_and_cast_gradient(rng):
    a = rng.standard_normal((3,))
    x = t64(a)
    y = x.float()
    assert y.dtype is fw.float32
    y.sum().backward()
    assert x.grad.dtype is fw.float64
    assert_close(x.grad, np.ones(3))
    assert fw.tensor([1.7, -1.2]).long().tolist() == [1, -1]
    assert fw.tensor([0.0, 2.0]).bool().tolist() == [False, True]


def test_maximum_ties_split_gradient():
    x = t64([1.0, 2.0])
    y = t64([1.0, 3.0])
    fw.maximum(x, y).sum().backward()
    assert_close(x.grad, [0.5, 0.0])
    assert_close(y.grad, [0.5, 1.0])


@pytest.mark.parametrize("dtype", [fw.float32, fw.float64])
def test_division_by_zero_gives_inf_and_nan_as_numpy(dtype):
    """Numba's default error model raised ZeroDivisionError from inside the kernel."""
    a = fw.tensor([1.0, -2.0, 0.0], dtype=dtype, requires_grad=True)
    b = fw.tensor([0.0, 0.0, 0.0], dtype=dtype, requires_grad=True)
    out = a / b
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.array([1.0, -2.0, 0.0]) / 0.0
        np.testing.assert_array_equal(out.detach().numpy(), want.astype(dtype.np))
        out.sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), np.full(3, np.inf, dtype.np))
        np.testing.assert_array_equal(b.grad.numpy(), (-np.array([1.0, -2.0, 0.0]) / 0.0)
                                      .astype(dtype.np))
    np.testing.assert_array_equal((fw.tensor([3, 0]) / 0).numpy(), [np.inf, np.nan])


def test_integer_powers_with_negative_exponents_as_pytorch():
    """0 ** -1 has no integer value: the kernel must never see it (it returned INT64_MIN)."""
    a = fw.tensor([-1, 1, 0, 2, -2, 3, -1])
    b = fw.tensor([-1, -1, -1, -2, -3, 2, -2])
    np.testing.assert_array_equal((a ** b).numpy(), [-1, 1, 0, 0, 0, 9, 1])
    np.testing.assert_array_equal((2 ** fw.tensor([1, -1, 0])).numpy(), [2, 0, 1])
    with pytest.raises(ValueError, match="integers to negative integer powers"):
        fw.tensor([0, 2]) ** -1
