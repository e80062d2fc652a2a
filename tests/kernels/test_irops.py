"""The LLVM building blocks of ``kernels.irops`` that choose code by target: ``scale_pow2``
(ldexp or two exponent-bit halves) and ``prefer_wide_vectors`` (a function attribute)."""
import numpy as np
import pytest
from numba import njit

from kernels import irops


def _scale_loop():
    """A fresh (uncached) loop over ``scale_pow2``, compiled at its first call."""
    @njit(error_model="numpy")
    def scale(p, k, out):
        for i in range(p.size):
            out[i] = irops.scale_pow2(p[i], k[i])
    return scale


def _cases(dtype, k_max):
    """Mantissas in [0.5, 2) and +-0, inf, NaN, times 2**k for k over the function's whole
    range: overflow, the normal range, the denormals with their rounding, and 0."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 2.0, 20000).astype(dtype)
    p[:4] = [0.0, -0.0, np.inf, np.nan]
    p[4:2000] *= -1
    k = rng.integers(-k_max, k_max + 1, p.size).astype(dtype)
    return p, k


@pytest.mark.parametrize("ldexp", [True, False], ids=["ldexp", "two-halves"])
@pytest.mark.parametrize("dtype, k_max", [(np.float32, 250), (np.float64, 2000)])
def test_scale_pow2_rounds_once_on_both_paths(monkeypatch, ldexp, dtype, k_max):
    # The ldexp path needs AVX-512 and LLVM 22; where they are missing both runs check
    # the two-halves path.
    if not ldexp:
        monkeypatch.setattr(irops, "use_ldexp", lambda context: False)
    p, k = _cases(dtype, k_max)
    out = np.empty_like(p)
    _scale_loop()(p, k, out)
    with np.errstate(over="ignore", under="ignore"):
        expected = np.ldexp(p, k.astype(np.int32))
    np.testing.assert_array_equal(out, expected)


def test_prefer_wide_vectors_marks_only_its_function():
    @njit
    def marked(x):
        return irops.prefer_wide_vectors(x) + 1.0

    @njit
    def plain(x):
        return x + 1.0

    assert marked(1.0) == plain(1.0) == 2.0
    ir_marked = "".join(marked.inspect_llvm().values())
    ir_plain = "".join(plain.inspect_llvm().values())
    assert '"prefer-vector-width"="512"' in ir_marked
    assert "prefer-vector-width" not in ir_plain
