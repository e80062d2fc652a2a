"""Op codes shared by the framework and the kernels (no numba import here)."""

# Binary arithmetic (``binary`` kernel).
ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM = range(7)
# Comparisons, also run by ``binary``; their results are bool.
EQ, NE, LT, LE, GT, GE = range(16, 22)
# Unary ops (``unary`` kernel); ``alpha``/``beta`` are the op's scalar parameters.
NEG, EXP, LOG, SQRT, ABS, TANH, SIGMOID, RELU, GELU, CLAMP, SIGN = range(11)
