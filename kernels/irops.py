"""LLVM IR building blocks for ``kernels.vmath`` and the CPU kernels.

Each is a Numba ``intrinsic``: a few instructions emitted directly, with no Python
semantics attached (no ZeroDivisionError check, no int64 widening, no branches), so
loops that use them stay vectorizable.
"""
from llvmlite import ir
from numba import types
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


@intrinsic
def pow2(typingctx, k):
    """2**k for an integer-valued float ``k`` within the normal exponent range.

    Built in LLVM IR so the exponent arithmetic stays in the float's integer width
    (Numba would widen int32 arithmetic to int64 and halve the vector width).
    """
    if not isinstance(k, types.Float):
        return None
    single = k.bitwidth == 32

    def codegen(context, builder, sig, args):
        int_type = context.get_value_type(types.int32 if single else types.int64)
        biased = builder.add(builder.fptosi(args[0], int_type), int_type(127 if single else 1023))
        shifted = builder.shl(biased, int_type(23 if single else 52))
        return builder.bitcast(shifted, context.get_value_type(k))
    return k(k), codegen


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
        # fmuladd: one fused multiply-add where the CPU has FMA, mul then add elsewhere.
        ty = args[0].type
        fmuladd = builder.module.declare_intrinsic("llvm.fmuladd", [ty],
                                                   ir.FunctionType(ty, [ty, ty, ty]))
        acc = builder.extract_value(args[1], 0)
        for i in range(1, coeffs.count):
            acc = builder.call(fmuladd, [acc, args[0], builder.extract_value(args[1], i)])
        return acc
    return x(x, coeffs), codegen
