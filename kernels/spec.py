"""The kernel contract: every public kernel, its arguments, shapes and dtypes.

Each backend package (``kernels.cpu``, later ``kernels.cuda``) exports exactly these
names with these argument lists; ``tests/kernels/test_spec.py`` checks it. Arguments
come outputs first, then inputs, then scalars; optional arrays (empty when unused, as
``cross_entropy``'s ``total`` and ``count``) come last. Arrays are C-contiguous. "rank
4" arrays are broadcast operands: each dim equals the output's or is 1.
"""

KERNELS = {
    # elementwise.py
    "binary": ("out", "a", "b", "code"),                   # rank 4; code: opcodes.ADD..MINIMUM
    "compare": ("out", "a", "b", "code"),                  # rank 4; bool out; opcodes.EQ..GE
    "binary_grad": ("grad_a", "grad_b", "grad_out", "a", "b", "code"),  # rank 4; empty = skip
    "where": ("out", "cond", "a", "b"),                    # rank 4
    "broadcast": ("out", "x"),                             # rank 4; out = x broadcast
    "unary": ("out", "x", "code", "alpha", "beta"),        # flat, one size; opcodes.NEG..
    "unary_grad": ("grad_x", "grad_out", "x", "out", "code", "alpha", "beta"),  # flat
    "cast": ("out", "x"),                                  # flat; out's dtype
    "fill": ("out", "value"),                              # flat
    "axpy": ("out", "x", "alpha"),                         # flat; out += alpha * x
    # reduce.py: x is (A, R, B), the reduction runs over R
    "sum_reduce": ("out", "x", "scale"),                   # out (A, B) = scale * sum_r x
    "extremum_reduce": ("out", "index", "x", "is_max"),    # out, index (A, B); index int64
    "index_reduce_grad": ("grad_x", "grad_out", "index"),  # grad_x (A, R, B)
    # softmax.py: along R of (A, R, B)
    "softmax": ("out", "x", "log_output"),
    "softmax_grad": ("grad_x", "grad_out", "out", "log_output"),
    "logsumexp": ("out", "x"),                             # out (A, B)
    "logsumexp_grad": ("grad_x", "grad_out", "x", "out"),
    # movement.py: flat arrays; shape/strides int64 vectors, offset in elements
    "strided_gather": ("out", "x", "shape", "strides", "offset"),
    "strided_scatter": ("out", "x", "shape", "strides", "offset"),
    "gather_flat": ("out", "x", "index"),
    "scatter_add_flat": ("out", "x", "index"),
    # conv.py: images (N, C, H, W); cols (A, C*kh*kw, B, OH, OW), image n = a*B + b, A*B = N;
    # y, grad_y (O, N, OH*OW)
    "im2col": ("cols", "x", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw"),
    "col2im": ("grad_x", "cols", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw"),
    "conv_output": ("out", "y", "bias"),                  # out (N, O, L); empty bias = none
    "conv_grad_output": ("grad_y", "grad_bias", "grad_out"),  # empty grad_bias = skip
    # few columns per image: columns (N, K, L), weight (O, K), out (N, O, L)
    "conv_from_columns": ("out", "weight", "columns", "bias"),  # empty bias = none
    "conv_weight_grad_from_columns": ("grad_weight", "grad_bias", "grad_out", "columns"),
    # conv3x3.py: 3x3, stride 1, padding 1, one group; images (N, C, H, W); planes
    # (C, >= (N*(H+1) + 2)*(W+1)), zero-padded; packed (ceil(O/4), C, 36)
    "conv3x3_planes": ("planes", "x"),
    "conv3x3_pack": ("packed", "weight", "transpose"),     # transpose: (ceil(C/4), O, 36)
    "conv3x3": ("out", "x_planes", "packed_weight", "bias"),  # out (N, O, H, W); empty bias
    "conv3x3_weight_grad": ("grad_weight", "grad_bias", "grad_out", "x_planes"),  # empty = skip
    # pooling.py: images (N, C, H, W); output sizes from the output arrays
    "max_pool2d": ("out", "index", "x", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw"),
    "max_pool2d_grad": ("grad_x", "grad_out", "index"),   # index int64, -1 = none
    "avg_pool2d": ("out", "x", "kh", "kw", "sh", "sw", "ph", "pw", "count_include_pad",
                   "divisor"),                            # divisor 0 = PyTorch's rule
    "avg_pool2d_grad": ("grad_x", "grad_out", "kh", "kw", "sh", "sw", "ph", "pw",
                        "count_include_pad", "divisor"),
    "adaptive_avg_pool2d": ("out", "x"),
    "adaptive_avg_pool2d_grad": ("grad_x", "grad_out"),
    # loss.py: logits x (N, C), target (N,) int64, loss and lse (N,)
    # total, count (1,) or (0,): the rows' sum (divided by count) in the same call
    "cross_entropy": ("loss", "lse", "x", "target", "label_smoothing", "ignore_index",
                      "total", "count"),
    "cross_entropy_grad": ("grad_x", "grad_loss", "x", "lse", "target", "label_smoothing",
                           "ignore_index", "count"),  # grad_loss (N,) or (1,); / count
    # optim.py: flat parameter-sized arrays, updated in place; empty state = unused
    "sgd_step": ("param", "grad", "momentum_buf", "lr", "momentum", "dampening", "nesterov",
                 "weight_decay", "first_step"),
    "adam_step": ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "lr", "beta1",
                  "beta2", "eps", "weight_decay", "step", "decoupled"),
    "scale": ("out", "alpha"),                             # out *= alpha
    "sum_squares": ("out", "x"),                           # out (1,) float64
    # data.py
    "gather_rows": ("out", "x", "index"),                  # out[i] = x[index[i]]; serial
    "normalize_u8": ("out", "x", "scale", "shift"),        # flat; out = x*scale + shift
    # matmul.py: out (Bt, M, N); a, b batches of Bt or 1
    "matmul": ("out", "a", "b", "trans_a", "trans_b"),
    # memory.py: allocation and host transfer (return arrays)
    "empty": ("shape", "dtype"),
    "zeros": ("shape", "dtype"),
    "from_host": ("array", "dtype"),
    "to_host": ("x",),
    "arange": ("start", "stop", "step", "dtype"),
    "storage_id": ("x",),                                  # same for an array and its views
}

# The arguments kernels write: their outputs (named first above) and the state that
# update and accumulation kernels change in place. fw.compile reads this to know which
# buffers a recorded step overwrites.
WRITTEN = frozenset({"out", "index", "grad_a", "grad_b", "grad_x", "grad_y", "grad_bias",
                     "grad_weight", "cols", "planes", "packed", "loss", "lse", "total", "param",
                     "momentum_buf", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})
