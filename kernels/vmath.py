"""exp, log, tanh, sigmoid and GELU in plain arithmetic, so CPU loops over them vectorize.

Numba calls libm for ``math.exp`` and friends, one element at a time (it lost SVML), so
a loop over them cannot vectorize. These functions use only arithmetic, comparisons,
selects and bit casts (``kernels.irops``), which LLVM turns into SIMD code. Each comes
in a float32 variant (a float32 polynomial is what makes float32 data fast) and a
float64 one (float64 data stays accurate); ``vexp``, ``vlog``, ``vtanh``, ``vsigmoid``,
``vgelu`` and ``vgelu_slope`` pick one by the argument's type when Numba compiles the
caller. Integer arguments (every op branch of a kernel is compiled for its dtype) and
float64 GELU take the plain-Python bodies, i.e. libm.

Special values are handled by explicit selects and clamps, never by fastmath's
no-NaN/no-inf assumptions: NaN in gives NaN, overflow gives inf, underflow gives 0
through the denormals. exp and log (which tanh, sigmoid and GELU call) mark the loop
they are inlined into to vectorize 512 bits wide where the CPU has AVX-512
(``irops.prefer_wide_vectors``). ``kernels/cuda`` rebinds these names to the
plain-Python bodies compiled for the GPU (``NATIVE``), whose native functions are
already fast. The max errors in the docstrings were measured against NumPy with
``tests/kernels/test_vmath.py``'s checks at every 257th float32 bit pattern and 1M
random float64 bit patterns plus dense ranges (the test itself samples every 4099th
pattern).
"""
import decimal
import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from .irops import (bits, div, fmuladd, from_bits, horner, prefer_wide_vectors, scale_pow2,
                    where)

inline = njit(inline="always", cache=True, error_model="numpy")
f32 = np.float32


def _split_ln2(keep):
    """ln 2 as hi + lo, hi with only its top ``keep`` mantissa bits, so k * hi is exact."""
    hi_bits = np.array(math.log(2)).view(np.int64) >> (52 - keep) << (52 - keep)
    hi = float(np.array(hi_bits).view(np.float64))
    decimal.getcontext().prec = 40
    return hi, float(decimal.Decimal(2).ln() - decimal.Decimal(hi))


@inline
def _clamp(x, lo, hi):
    """x limited to [lo, hi], NaN to hi (so later integer casts stay defined)."""
    return where(x < hi, where(x > lo, x, lo), hi)


# ----- exp ------------------------------------------------------------------------
# Inputs are clamped to a little beyond the range where exp is finite and nonzero: the
# scaling by 2**k then overflows to inf above it and underflows to 0 below it by itself.
_EXP32_HI, _EXP32_LO = f32(89.0), f32(-104.0)
_EXP64_HI, _EXP64_LO = 710.0, -746.0
# k * hi stays exact for every exponent k of the type (|k| < 2**8 and 2**11).
_LN2_HI32, _LN2_LO32 = (f32(v) for v in _split_ln2(12))
_LN2_HI64, _LN2_LO64 = _split_ln2(40)
# 1/n! for n = 7..2 and 13..2, highest power first (Horner).
_INV_FACT32 = tuple(f32(1.0 / math.factorial(n)) for n in range(7, 1, -1))
_INV_FACT64 = tuple(1.0 / math.factorial(n) for n in range(13, 1, -1))


@inline
def exp_f32(x):
    """exp of float32 ``x``: x = k ln2 + r (Cody-Waite, |r| <= ln2/2), exp(r) by its
    degree-7 Taylor polynomial, times 2**k rounded once (``scale_pow2``), which also
    gives inf on overflow and denormals or 0 on underflow. Max error 1 ulp."""
    xc = _clamp(prefer_wide_vectors(x), _EXP32_LO, _EXP32_HI)
    k = np.floor(fmuladd(xc, f32(1.4426950408889634), f32(0.5)))
    r = fmuladd(-k, _LN2_LO32, fmuladd(-k, _LN2_HI32, xc))
    p = f32(1.0) + (r + r * r * horner(r, _INV_FACT32))
    return where(x != x, x, scale_pow2(p, k))


@inline
def exp_f64(x):
    """exp of float64 ``x``: the method of ``exp_f32`` with the degree-13 Taylor
    polynomial. Max error 1 ulp."""
    xc = _clamp(prefer_wide_vectors(x), _EXP64_LO, _EXP64_HI)
    k = np.floor(fmuladd(xc, 1.4426950408889634, 0.5))
    r = fmuladd(-k, _LN2_LO64, fmuladd(-k, _LN2_HI64, xc))
    p = 1.0 + (r + r * r * horner(r, _INV_FACT64))
    return where(x != x, x, scale_pow2(p, k))


# ----- log ------------------------------------------------------------------------
# log(1+f) = f - (f*f/2 - s*(f*f/2 + R(s*s))), s = f/(2+f), R(z) = sum_j 2 z^j / (2j+1)
_ATANH32 = tuple(f32(2.0 / (2 * j + 1)) for j in range(4, 0, -1))
_ATANH64 = tuple(2.0 / (2 * j + 1) for j in range(11, 0, -1))
_SQRT_HALF32_BITS, _SQRT_HALF64_BITS = 0x3F3504F3, 0x3FE6A09E667F3BCD


@inline
def _log_limits(x, y, inf, zero, nan):
    """log's result ``y`` for finite x > 0; inf at inf, -inf at +-0, NaN below 0 or NaN."""
    return where(x >= zero, where(x == inf, x, where(x == zero, -inf, y)), nan)


@inline
def log_f32(x):
    """log of float32 ``x``: x = 2**e * m with m in [sqrt(1/2), sqrt(2)) split from the
    bits (denormals scaled up first), then log(m) = log(1+f) by the atanh series in
    s = f/(2+f) up to s**9, written to keep f's exact leading term. Max error 1 ulp."""
    tiny = x < f32(1.1754943508222875e-38)
    xs = where(tiny, x * f32(33554432.0), prefer_wide_vectors(x))  # 2**25: denormal to normal
    # Offsetting the bits moves mantissas >= sqrt(2) into the next binade.
    ix = bits(xs) + (0x3F800000 - _SQRT_HALF32_BITS)
    e = f32((ix >> 23) - 127) - where(tiny, f32(25.0), f32(0.0))
    f = from_bits((ix & 0x7FFFFF) + _SQRT_HALF32_BITS, xs) - f32(1.0)
    s = div(f, f32(2.0) + f)
    z = s * s
    big_r = z * horner(z, _ATANH32)
    hfsq = f32(0.5) * f * f
    y = e * _LN2_HI32 + ((e * _LN2_LO32 + s * (hfsq + big_r)) - hfsq + f)
    return _log_limits(x, y, f32(np.inf), f32(0.0), f32(np.nan))


@inline
def log_f64(x):
    """log of float64 ``x``: the method of ``log_f32`` with the series up to s**23.
    Max error 1 ulp."""
    tiny = x < 2.2250738585072014e-308
    xs = where(tiny, x * 18014398509481984.0, prefer_wide_vectors(x))  # 2**54
    ix = bits(xs) + (0x3FF0000000000000 - _SQRT_HALF64_BITS)
    e = float((ix >> 52) - 1023) - where(tiny, 54.0, 0.0)
    f = from_bits((ix & 0xFFFFFFFFFFFFF) + _SQRT_HALF64_BITS, xs) - 1.0
    s = div(f, 2.0 + f)
    z = s * s
    big_r = z * horner(z, _ATANH64)
    hfsq = 0.5 * f * f
    y = e * _LN2_HI64 + ((e * _LN2_LO64 + s * (hfsq + big_r)) - hfsq + f)
    return _log_limits(x, y, math.inf, 0.0, math.nan)


# ----- tanh -----------------------------------------------------------------------
# tanh(x) = x + x**3 P(x**2) for |x| <= 0.625: Chebyshev fits (mpmath), highest first.
_TANH_SMALL = 0.625
_TANH_P32 = tuple(f32(c) for c in (
    0.002292744816178142, -0.008343945515839153, 0.02176891865102821,
    -0.053959259577204544, 0.1333330355691574, -0.3333333317214036))
_TANH_P64 = (6.485163482793113e-06, -3.12011014257974e-05, 9.257116129556769e-05,
             -0.0002375906496055562, 0.0005896606577757043, -0.0014557754120478055,
             0.0035921217511549622, -0.008863235103240878, 0.021869488519008305,
             -0.05396825396789699, 0.13333333333333042, -0.3333333333333333)


@inline
def tanh_f32(x):
    """tanh of float32 ``x``: an odd polynomial for |x| <= 0.625, else
    sign(x) * (1 - 2 / (exp(2|x|) + 1)), which saturates to +-1 as exp overflows.
    Max error 1 ulp."""
    a = abs(x)
    z = x * x
    small = where(z == f32(0.0), x, x + x * z * horner(z, _TANH_P32))  # keeps -0.0
    large = f32(1.0) - div(f32(2.0), exp_f32(a + a) + f32(1.0))
    return where(a <= f32(_TANH_SMALL), small, where(x < f32(0.0), -large, large))


@inline
def tanh_f64(x):
    """tanh of float64 ``x``: the method of ``tanh_f32`` with a degree-11 polynomial
    in x**2. Max error 1 ulp."""
    a = abs(x)
    z = x * x
    small = where(z == 0.0, x, x + x * z * horner(z, _TANH_P64))
    large = 1.0 - div(2.0, exp_f64(a + a) + 1.0)  # NaN for NaN x
    return where(a <= _TANH_SMALL, small, where(x < 0.0, -large, large))


# ----- sigmoid --------------------------------------------------------------------
@inline
def sigmoid_any(x, one):
    """1 / (1 + exp(-x)) computed in the type of ``one``: e = exp(-|x|), then 1/(1+e)
    for x >= 0 and e/(1+e) below, so exp never overflows. Max error 2 ulp."""
    e = vexp(-abs(x))
    return div(where(x >= 0, one, e), one + e)


@inline
def sigmoid_f32(x):
    return sigmoid_any(x, f32(1.0))


@inline
def sigmoid_f64(x):
    return sigmoid_any(x, 1.0)


# ----- GELU -----------------------------------------------------------------------
# erfc(z) = t exp(-z*z) H(t), t = 1/(1 + z/2): H is a degree-14 Chebyshev fit (mpmath)
# on z in [0, 10.5], absolute error 3.2e-12; beyond, exp(-z*z) underflows float32.
_ERFC_H = (-0.017965744468660987, 0.17522126558370038, -0.7665395216493068,
           1.9660046257014945, -3.232751671721254, 3.4961021566224746, -2.4869890955220924,
           1.2344779108908925, -0.5476515211638211, 0.1335366188069588, 0.05550585958258929,
           0.18040095907507994, 0.2464361223375156, 0.28211784968209, 0.28209418624266885)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@inline
def _normal_cdf_f64(x):
    """(Phi(x), exp(-x*x/2)) for float64 x with relative error ~1e-11: Phi from the
    upper tail Q(|x|) = erfc(|x|/sqrt 2)/2, so neither tail cancels."""
    z = abs(x) * _SQRT_HALF
    t = div(1.0, 1.0 + 0.5 * z)
    e = exp_f64(-(z * z))
    tail = where(z < 3.7e-9, 0.5, 0.5 * t * e * horner(t, _ERFC_H))  # the fit's 3e-12
    return where(x >= 0.0, 1.0 - tail, tail), e                           # at 0 would show


@inline
def gelu_f32(x):
    """x * Phi(x) for float32 ``x``, computed in float64 from ``_normal_cdf_f64`` and
    rounded once. Max error 1 ulp. (-inf gives NaN, as x * Phi(x) does in PyTorch.)"""
    xd = np.float64(x)
    cdf, _ = _normal_cdf_f64(xd)
    return np.float32(xd * cdf)


@inline
def gelu_slope_f32(x):
    """d/dx x Phi(x) = Phi(x) + x phi(x) for float32 ``x``, computed in float64."""
    xd = np.float64(x)
    cdf, e = _normal_cdf_f64(xd)
    return np.float32(cdf + xd * (e * _INV_SQRT_2PI))


# ----- dispatch on the argument's type ---------------------------------------------
def vexp(x):
    """exp(x), vectorizable in CPU loops (float32 math for float32 ``x``)."""
    return math.exp(x)


def vlog(x):
    """log(x), vectorizable in CPU loops; -inf at 0, NaN below 0."""
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def vtanh(x):
    """tanh(x), vectorizable in CPU loops."""
    return math.tanh(x)


def vsigmoid(x):
    """1 / (1 + exp(-x)), vectorizable in CPU loops."""
    if x >= 0:  # two branches keep exp() from overflowing for large |x|
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def vgelu(x):
    """x * Phi(x) (exact GELU); vectorizable in CPU loops for float32, libm's erfc
    for float64. erfc keeps the negative tail accurate where 1 + erf(x) would cancel."""
    return 0.5 * x * math.erfc(-x * _SQRT_HALF)


def vgelu_slope(x):
    """d/dx x Phi(x) = Phi(x) + x exp(-x*x/2) / sqrt(2 pi)."""
    return 0.5 * math.erfc(-x * _SQRT_HALF) + x * math.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _by_type(single, double, native):
    """An overload typing function: ``single`` for float32, ``double`` for float64 and
    ``native`` (scalar libm code) for integers, which the framework casts to float
    before these ops run but whose kernels are still compiled with every branch."""
    def typer(x):
        if isinstance(x, types.Float):
            impl = single if x.bitwidth == 32 else double
            return getattr(impl, "py_func", impl)
        if isinstance(x, (types.Integer, types.Boolean)):
            return native
        return None
    return typer


overload(vexp, target="cpu", inline="always")(_by_type(exp_f32, exp_f64, vexp))
overload(vlog, target="cpu", inline="always")(_by_type(log_f32, log_f64, vlog))
overload(vtanh, target="cpu", inline="always")(_by_type(tanh_f32, tanh_f64, vtanh))
overload(vsigmoid, target="cpu", inline="always")(_by_type(sigmoid_f32, sigmoid_f64, vsigmoid))
overload(vgelu, target="cpu", inline="always")(_by_type(gelu_f32, vgelu, vgelu))
overload(vgelu_slope, target="cpu", inline="always")(
    _by_type(gelu_slope_f32, vgelu_slope, vgelu_slope))

# The plain-Python bodies above use the GPU's native functions when compiled by
# kernels/cuda (which rebinds these names); the overloads serve the CPU.
NATIVE = {"vexp": vexp, "vlog": vlog, "vtanh": vtanh, "vsigmoid": vsigmoid, "vgelu": vgelu,
          "vgelu_slope": vgelu_slope}
