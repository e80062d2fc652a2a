"""LLVM IR building blocks for ``kernels.vmath`` and the CPU kernels.

Each is a Numba ``intrinsic``: a few instructions emitted directly, with no Python
semantics attached (no ZeroDivisionError check, no int64 widening, no branches), so
loops that use them stay vectorizable.
"""
import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core.cpu import CPUContext
from numba.extending import intrinsic


# ----- bit casts (no conversion: the float's IEEE bits as an integer and back) ------
@intrinsic
def bits(typingctx, x):
    """The bits of float32/float64 ``x`` as int32/int64."""
    if not isinstance(x, types.Float):
        return None
    int_type = types.int32 if x.bitwidth == 32 else types.int64

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(int_type))
    return int_type(x), codegen


@intrinsic
def from_bits(typingctx, bits, like):
    """The float of ``like``'s type whose bits are the low bits of integer ``bits``."""
    if not isinstance(bits, types.Integer) or not isinstance(like, types.Float):
        return None

    def codegen(context, builder, sig, args):
        int_type = context.get_value_type(types.int32 if like.bitwidth == 32 else types.int64)
        value = args[0]
        if bits.bitwidth > int_type.width:
            value = builder.trunc(value, int_type)
        elif bits.bitwidth < int_type.width:
            value = builder.sext(value, int_type)
        return builder.bitcast(value, context.get_value_type(like))
    return like(bits, like), codegen


def _pow2(builder, k, int_type, single):
    """2**k for integer-valued float ``k`` in the normal exponent range, from its bits.
    The exponent arithmetic stays in the float's integer width (Numba would widen int32
    arithmetic to int64 and halve the vector width)."""
    biased = builder.add(builder.fptosi(k, int_type), int_type(127 if single else 1023))
    return builder.bitcast(builder.shl(biased, int_type(23 if single else 52)), k.type)


def host_has(*features):
    """Whether Numba's CPU target (the host, unless NUMBA_CPU_NAME says otherwise) has
    every one of the LLVM ``features`` ("avx512f", "avx2", "bmi2", ...). Kernels that
    place their own accumulators in registers size their blocks by "avx512f": 32 vector
    registers of 64 bytes, where AVX2 has 16 of 32 bytes."""
    from numba.core.registry import cpu_target
    have = cpu_target.target_context.codegen().magic_tuple()[2].split(",")
    return all("+" + f in have for f in features)


def use_ldexp(context):
    """Whether ``scale_pow2`` compiles to LLVM's ldexp for Numba's target machine: where
    it has AVX-512F, with LLVM 22 (llvmlite 0.50), which lowers a vector ldexp to
    ``vscalef``. Older LLVM was not measured (LLVM 16 and before lack the intrinsic)."""
    if llvm.llvm_version_info < (22,) or not isinstance(context, CPUContext):
        return False
    return "+avx512f" in context.codegen().magic_tuple()[2].split(",")


@intrinsic
def scale_pow2(typingctx, p, k):
    """p * 2**k, rounded once (inf on overflow; denormal or 0 on underflow), for an
    integer-valued float ``k`` of p's type with |k| <= 250 (float32) or 2000 (float64).

    Where ``use_ldexp`` says so this is LLVM's ldexp, one ``vscalef`` instruction per
    vector. Elsewhere ldexp can become a libm call per element, so 2**k is applied in two
    halves built from the exponent bits: each half is a normal number, and a product
    that lands in the denormal range is rounded once, by the second multiply.
    """
    if not isinstance(p, types.Float) or k != p:
        return None
    single = p.bitwidth == 32

    def codegen(context, builder, sig, args):
        value, exponent = args
        ty = value.type
        int_type = ir.IntType(32 if single else 64)
        if use_ldexp(context):
            i32 = ir.IntType(32)
            ldexp = builder.module.declare_intrinsic("llvm.ldexp", [ty, i32],
                                                     ir.FunctionType(ty, [ty, i32]))
            return builder.call(ldexp, [value, builder.fptosi(exponent, i32)])
        floor = builder.module.declare_intrinsic("llvm.floor", [ty], ir.FunctionType(ty, [ty]))
        k1 = builder.call(floor, [builder.fmul(exponent, ty(0.5))])
        k2 = builder.fsub(exponent, k1)
        half = builder.fmul(value, _pow2(builder, k1, int_type, single))
        return builder.fmul(half, _pow2(builder, k2, int_type, single))
    return p(p, k), codegen


def _declare_fmuladd(builder, ty):
    """LLVM's fmuladd for float type ``ty``: one fused multiply-add where the CPU has FMA,
    a multiply and an add elsewhere."""
    return builder.module.declare_intrinsic("llvm.fmuladd", [ty], ir.FunctionType(ty, [ty] * 3))


@intrinsic
def fmuladd(typingctx, a, b, c):
    """a * b + c for floats of one type, fused where the CPU has FMA (Numba never fuses
    a multiply and an add itself)."""
    if not isinstance(a, types.Float) or not a == b == c:
        return None

    def codegen(context, builder, sig, args):
        return builder.call(_declare_fmuladd(builder, args[0].type), list(args))
    return a(a, b, c), codegen


# LLVM tunes its Intel AVX-512 server targets (Skylake-X to Emerald Rapids) to vectorize
# 256 bits wide, as the first of them slowed their clock for 512-bit code. Our vector
# math is compute-bound, and 512-bit lanes made the exp kernel ~1.5x faster on an
# Emerald Rapids host (bench/RESULTS.md); PyTorch uses them there too.
_WIDE = '"prefer-vector-width"="512"'


@intrinsic
def prefer_wide_vectors(typingctx, x):
    """``x`` unchanged; marks the LLVM function being built (the kernel, or the parfor
    body of a ``prange`` loop, that this is inlined into) to vectorize 512 bits wide.

    A per-function attribute, so only the kernels (or parfor bodies) that inline our
    vector math change, every loop in them: the process-wide alternative,
    ``NUMBA_CPU_FEATURES=...,-prefer-256-bit``, would change every Numba function the
    user compiles. It is a tuning hint: on a CPU without AVX-512 LLVM keeps the widest
    vectors the CPU has.
    """
    if not isinstance(x, (types.Number, types.Boolean)):
        return None  # an array passed through would need a reference count of its own

    def codegen(context, builder, sig, args):
        # llvmlite validates attribute names against a fixed list without string
        # attributes; the set's own add() stores it to be printed verbatim. Should a
        # later llvmlite store attributes otherwise, the hint is dropped, not the build.
        attributes = builder.function.attributes
        if isinstance(context, CPUContext) and isinstance(attributes, set):
            set.add(attributes, _WIDE)
        return args[0]
    return x(x), codegen


@intrinsic
def div(typingctx, a, b):
    """a / b for floats of one type, IEEE (inf/NaN on a zero divisor). Numba's ``/``
    checks for zero to raise ZeroDivisionError, and that branch stops vectorization."""
    if not isinstance(a, types.Float) or a != b:
        return None

    def codegen(context, builder, sig, args):
        return builder.fdiv(args[0], args[1])
    return a(a, b), codegen


@intrinsic
def sortable_int(typingctx, x):
    """float32/float64 ``x`` as an int32/int64 that orders like x (-0 < +0; NaNs at
    the ends by sign): integer max/min reductions vectorize where float ones do not
    without fastmath's no-NaN flag."""
    if not isinstance(x, types.Float):
        return None
    int_type = types.int32 if x.bitwidth == 32 else types.int64

    def codegen(context, builder, sig, args):
        ity = context.get_value_type(int_type)
        bits = builder.bitcast(args[0], ity)
        # Negative floats order backwards: flip all but the sign bit.
        flip = builder.lshr(builder.ashr(bits, ity(x.bitwidth - 1)), ity(1))
        return builder.xor(bits, flip)
    return int_type(x), codegen


@intrinsic
def float_from_sortable(typingctx, key, like):
    """The float of ``like``'s type that ``sortable_int`` maps to ``key``."""
    if not isinstance(key, types.Integer) or not isinstance(like, types.Float) \
            or key.bitwidth != like.bitwidth:
        return None

    def codegen(context, builder, sig, args):
        ity = context.get_value_type(key)
        flip = builder.lshr(builder.ashr(args[0], ity(like.bitwidth - 1)), ity(1))
        return builder.bitcast(builder.xor(args[0], flip), context.get_value_type(like))
    return like(key, like), codegen


@intrinsic
def cast_like(typingctx, value, like):
    """``value`` converted to the numeric type of ``like`` (e.g. a float64 row constant
    to a float32 row's dtype, so that the row's loop stays float32)."""
    if not isinstance(value, types.Number) or not isinstance(like, types.Number):
        return None

    def codegen(context, builder, sig, args):
        return context.cast(builder, args[0], value, like)
    return like(value, like), codegen


@intrinsic
def where(typingctx, cond, a, b):
    """``a if cond else b`` as one select instruction, both sides computed. (A Python
    conditional expression in a function inlined by Numba becomes branches and phi
    nodes, which Numba's SSA pass warns about.)"""
    if not isinstance(cond, types.Boolean) or a != b:
        return None

    def codegen(context, builder, sig, args):
        return builder.select(args[0], args[1], args[2])
    return a(cond, a, b), codegen


@intrinsic
def horner(typingctx, x, coeffs):
    """c[0] x**(n-1) + ... + c[n-1] by Horner's rule, unrolled; ``coeffs`` a tuple of
    x's type, highest power first."""
    if not isinstance(coeffs, types.UniTuple) or coeffs.dtype != x:
        return None

    def codegen(context, builder, sig, args):
        fmuladd = _declare_fmuladd(builder, args[0].type)
        acc = builder.extract_value(args[1], 0)
        for i in range(1, coeffs.count):
            acc = builder.call(fmuladd, [acc, args[0], builder.extract_value(args[1], i)])
        return acc
    return x(x, coeffs), codegen
