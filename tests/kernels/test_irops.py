"""The LLVM building blocks of ``kernels.irops`` that choose code by target: ``scale_pow2``
(ldexp or two exponent-bit halves) and ``prefer_wide_vectors`` (a function attribute)."""
import re

import llvmlite.binding as llvm
import numpy as np
import pytest
from numba import njit, prange
from numba.core.registry import cpu_target

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


HOST_LDEXP = irops.use_ldexp(cpu_target.target_context)


@pytest.mark.parametrize("ldexp", [True, False], ids=["ldexp", "two-halves"])
@pytest.mark.parametrize("dtype, k_max", [(np.float32, 250), (np.float64, 2000)])
def test_scale_pow2_rounds_once_on_both_paths(monkeypatch, ldexp, dtype, k_max):
    if ldexp and not HOST_LDEXP:
        pytest.skip("ldexp is used with AVX-512 and LLVM 22; this host runs the other path")
    if not ldexp:
        monkeypatch.setattr(irops, "use_ldexp", lambda context: False)
    p, k = _cases(dtype, k_max)
    out = np.empty_like(p)
    scale = _scale_loop()
    scale(p, k, out)
    assert ("llvm.ldexp" in "".join(scale.inspect_llvm().values())) == ldexp
    with np.errstate(over="ignore", under="ignore"):
        expected = np.ldexp(p, k.astype(np.int32))
    # Bit for bit (signed zeros included), NaN wherever NumPy gives NaN.
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(out), nan)
    bits = np.int32 if dtype == np.float32 else np.int64
    np.testing.assert_array_equal(out[~nan].view(bits), expected[~nan].view(bits))


def _attributes_of(ir, name):
    """The attribute text (inline and grouped) of the compiled function ``name`` in ``ir``."""
    groups = dict(re.findall(r"^attributes (#\d+) = \{(.*)\}$", ir, re.M))
    for line in ir.splitlines():
        if line.startswith("define") and f"{len(name)}{name}B" in line \
                and "cpython" not in line and "cfunc." not in line:
            return line + " ".join(groups.get(ref, "") for ref in re.findall(r"#\d+", line))
    raise AssertionError(f"no function {name} in the IR")


def test_prefer_wide_vectors_marks_only_its_function():
    @njit
    def marked(x):
        return irops.prefer_wide_vectors(x) + 1.0

    @njit
    def plain(x):
        return x + 1.0

    assert marked(1.0) == plain(1.0) == 2.0
    attribute = '"prefer-vector-width"="512"'
    assert attribute in _attributes_of("".join(marked.inspect_llvm().values()), "marked")
    assert "prefer-vector-width" not in "".join(plain.inspect_llvm().values())


@pytest.mark.skipif("+avx512f" not in llvm.get_host_cpu_features().flatten().split(","),
                    reason="512-bit vectors need AVX-512")
def test_prange_body_vectorizes_512_bits_wide():
    # The attribute lands on the parfor body, where the loop is; LLVM would otherwise
    # pick 256 bits on Intel's AVX-512 server CPUs (and may on others).
    @njit(parallel=True)
    def wide(x, out):
        for i in prange(x.size):
            out[i] = irops.prefer_wide_vectors(x[i]) * np.float32(3.0)

    x = np.arange(1000, dtype=np.float32)
    out = np.empty_like(x)
    wide(x, out)
    np.testing.assert_array_equal(out, x * 3)
    assert "zmm" in "".join(wide.inspect_asm().values())


def test_prefer_wide_vectors_takes_scalars_only():
    # Handing an array back unchanged would skip its reference count.
    from numba.core.errors import TypingError

    @njit
    def on_array(a):
        return irops.prefer_wide_vectors(a)

    with pytest.raises(TypingError):
        on_array(np.ones(3))
