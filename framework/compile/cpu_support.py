"""Numba helpers for generated CPU steps: a buffer address as a pointer."""
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def ptr(typingctx, address):
    """The int64 ``address`` as a void pointer, for ``numba.carray``."""
    sig = types.voidptr(types.int64)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return sig, codegen
