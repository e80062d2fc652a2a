"""exp, log, tanh, sigmoid and GELU of ``kernels.vmath`` (through the CPU ``unary`` kernel)
against NumPy over the whole float range: <= 2 ulp, special values exact."""
import numpy as np
import pytest

import framework as fw

SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.625, -0.625, 0.5, 2.0]


def _ref_sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name -> (reference on np.longdouble, dense float64 ranges that matter for it)
FUNCTIONS = {
    "exp": (np.exp, [(-746.0, 710.0), (-1.0, 1.0)]),
    "log": (np.log, [(0.0, 3.0), (0.5, 2.0)]),
    "tanh": (np.tanh, [(-20.0, 20.0), (-1.0, 1.0)]),
    "sigmoid": (_ref_sigmoid, [(-746.0, 746.0), (-40.0, 40.0)]),
}


def float32_inputs(step):
    """Every ``step``-th float32 bit pattern (all signs and exponents), then specials,
    each type's float32 limits and their neighbours."""
    pattern = np.arange(0, 1 << 32, step, dtype=np.uint64).astype(np.uint32)
    edges = np.array([88.72283, 88.72284, -103.97207, -103.97208, -87.33655, 1.1754944e-38,
                      1e-45, -1e-45, 3.4028235e38, -3.4028235e38, 9.01, -9.01], np.float32)
    with np.errstate(over="ignore"):
        near = np.concatenate([np.nextafter(edges, np.float32(np.inf)),
                               np.nextafter(edges, np.float32(-np.inf))])
    return np.concatenate([pattern.view(np.float32), np.array(SPECIALS, np.float32), edges,
                           near])


def float64_inputs(n, ranges, seed=0):
    """``n`` random float64 bit patterns of both signs, ``n`` uniform draws in each range,
    specials and the float64 limits."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 0x7FF0000000000000, n, dtype=np.int64)
    parts = [bits.view(np.float64), -bits[: n // 2].view(np.float64)]
    parts += [rng.uniform(lo, hi, n) for lo, hi in ranges]
    edges = np.array([709.782712893384, 709.7827128933841, -745.1332191019411,
                      -745.1332191019412, -708.3964185322641, 2.2250738585072014e-308,
                      5e-324, -5e-324, 1.7976931348623157e308, 19.0, -19.0])
    with np.errstate(over="ignore"):
        parts += [np.array(SPECIALS), edges, np.nextafter(edges, np.inf),
                  np.nextafter(edges, -np.inf)]
    return np.concatenate(parts)


def ulp_distance(got, expected):
    """|got - expected| in units in the last place, counting across zero and into
    the denormals (the floats' bit patterns as ordered integers)."""
    width = np.int32 if got.dtype == np.float32 else np.int64
    a, b = got.view(width).astype(np.int64), expected.view(width).astype(np.int64)
    top = np.int64(np.iinfo(width).min)
    a = np.where(a < 0, top - a, a)
    b = np.where(b < 0, top - b, b)
    return np.abs(a - b)


def check(name, x):
    """Max ulp error of ``fw`` ``name`` on ``x``; asserts that special values match."""
    ref_fn, _ = FUNCTIONS[name]
    got = np.concatenate([getattr(fw.tensor(part), name)().numpy()
                          for part in np.array_split(x, max(1, x.size // 500_000))])
    with np.errstate(all="ignore"):
        expected = ref_fn(x.astype(np.longdouble)).astype(x.dtype)
    special = ~np.isfinite(expected) | (expected == 0) | ~np.isfinite(x)
    np.testing.assert_array_equal(got[special], expected[special],
                                  err_msg=f"{name} {x.dtype} at {x[special]}")
    finite = ~special
    assert np.isfinite(got[finite]).all(), f"{name}: non-finite result for finite expected"
    return int(ulp_distance(got[finite], expected[finite]).max())


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_float32_whole_range(name):
    assert check(name, float32_inputs(4099)) <= 2


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_float64_whole_range(name):
    assert check(name, float64_inputs(100_000, FUNCTIONS[name][1])) <= 2


def test_signed_zero_and_dtype():
    for dtype in (np.float32, np.float64):
        x = fw.tensor(np.array([-0.0, 0.0], dtype))
        assert np.signbit(x.tanh().numpy()).tolist() == [True, False]
        assert x.exp().dtype is (fw.float32 if dtype == np.float32 else fw.float64)


def _ref_gelu(x):
    """x * Phi(x) in float64 through erfc, which keeps the negative tail accurate."""
    from scipy.special import erfc
    return x * 0.5 * erfc(-x / np.sqrt(2.0))


def test_gelu_float32_whole_range():
    x = float32_inputs(4099)
    got = fw.nn.functional.gelu(fw.tensor(x)).numpy()
    with np.errstate(all="ignore"):
        expected = _ref_gelu(x.astype(np.float64)).astype(np.float32)
    special = ~np.isfinite(expected) | (expected == 0)
    np.testing.assert_array_equal(got[special], expected[special])
    assert ulp_distance(got[~special], expected[~special]).max() <= 2


def test_gelu_float64_and_gradients():
    # float64 GELU is libm's erfc (scalar): accurate, its tail conditioned by x/sqrt(2).
    x = np.concatenate([np.linspace(-30.0, 30.0, 20001), np.array(SPECIALS)])
    got = fw.nn.functional.gelu(fw.tensor(x)).numpy()
    with np.errstate(all="ignore"):
        expected = _ref_gelu(x)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    for dtype, rtol in ((np.float32, 1e-6), (np.float64, 1e-12)):
        v = np.linspace(-12.0, 12.0, 4001).astype(dtype)
        t = fw.tensor(v, requires_grad=True)
        fw.nn.functional.gelu(t).sum().backward()
        vd = v.astype(np.float64)
        cdf = _ref_gelu(vd) / np.where(vd == 0, 1, vd)
        slope = cdf + vd * np.exp(-vd * vd / 2) / np.sqrt(2 * np.pi)
        slope[vd == 0] = 0.5
        # the slope crosses 0 near x = -0.75, where only an absolute bound means anything
        np.testing.assert_allclose(t.grad.numpy(), slope, rtol=rtol, atol=rtol * 1e-3)
