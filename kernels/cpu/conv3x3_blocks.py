"""The direct 3x3 path's inner blocks, built as LLVM IR, their accumulators in vector
registers through the whole sum.

Numba vectorizes only a loop's innermost level, so a loop version of these blocks keeps
its accumulators in memory and loads and stores each of them once per input channel or
per position; such loops ran at 66-73% of one core's FMA peak. These blocks are Numba
``intrinsic``s: straight-line IR around one loop, every load, broadcast and fused
multiply-add written out, for LLVM's register allocator alone to place.

The convolution blocks read the padded planes of ``conv3x3.py`` (tap t = 3*i + j of
position q is plane[q + i*pitch + j]); ``conv3x3_plane_row`` writes them, a vector
store per vector of the plane, where Numba's loop over rows of W entries stored them
in pieces around the zero column.
"""
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ..irops import host_has

# The blocks are sized for the host's vector registers: 32 of 64 bytes with AVX-512, 16
# of 32 bytes with AVX2 (blocks sized for AVX-512 spilled there: the MNIST CNN's second
# layer ran 2.9x PyTorch's time on an AVX2 host, 1.25x on an AVX-512 one).
WIDE_REGISTERS = host_has("avx512f")
# Without AVX-512's compress store, LLVM stores a compressed vector lane by lane behind a
# branch each (the forward of the MNIST CNN's second layer took 8% longer than with
# plain stores); with AVX2 and BMI2 the forward permutes the lanes and stores whole
# vectors, in an order where each vector's stray lanes are overwritten by the next.
PERMUTE_COMPRESS = not WIDE_REGISTERS and host_has("avx2", "bmi2")
VECTOR_BYTES = 64 if WIDE_REGISTERS else 32

# forward: 4 output channels x up to 4 vectors of positions (16 accumulators, AVX-512)
# or 3 (12, AVX2); per channel and tap, a vector load of the plane per vector and 4
# broadcast weights feed 4 FMAs per vector.
OUT_ROWS = 4
OUT_VECTORS = 4 if WIDE_REGISTERS else 3
# weight gradient: 3 output channels x 3 taps per tap row, all 3 rows at once (27
# accumulators, AVX-512) or one at a time (9, AVX2); per vector of positions, 3 loads
# of the output gradient and 3 of the input per tap row feed 9 FMAs per tap row.
GRAD_ROWS = 3
GRAD_TAP_ROWS = 3 if WIDE_REGISTERS else 1


def _arrays_of_one_float(arrays, ndims):
    return (all(isinstance(t, types.Array) and t.ndim == d and t.layout == "C"
                for t, d in zip(arrays, ndims))
            and isinstance(arrays[0].dtype, types.Float)
            and all(t.dtype == arrays[0].dtype for t in arrays))


class _Emitter:
    """IR helpers for one float dtype: addresses, vector loads and stores, broadcasts
    and the vector fused multiply-add."""

    def __init__(self, context, builder, dtype):
        self.builder = builder
        self.i64 = ir.IntType(64)
        self.itemsize = dtype.bitwidth // 8
        self.lanes = VECTOR_BYTES // self.itemsize
        self.fty = context.get_value_type(dtype)
        self.vty = ir.VectorType(self.fty, self.lanes)
        name = f"llvm.fmuladd.v{self.lanes}f{dtype.bitwidth}"
        self.fma_fn = builder.module.globals.get(name) or ir.Function(
            builder.module, ir.FunctionType(self.vty, [self.vty] * 3), name)
        self.splat = ir.Constant(ir.VectorType(ir.IntType(32), self.lanes), [0] * self.lanes)

    def int64(self, value):
        return self.i64(value) if isinstance(value, int) else value

    def row_address(self, array, row, col):
        """The address of array[row, col] (C-contiguous 2-d), as an integer."""
        b = self.builder
        stride = b.extract_value(array.strides, 0)
        offset = b.add(b.mul(self.int64(row), stride),
                       b.mul(self.int64(col), self.i64(self.itemsize)))
        return b.add(b.ptrtoint(array.data, self.i64), offset)

    def offset(self, address, items):
        return self.builder.add(address, self.builder.mul(self.int64(items),
                                                          self.i64(self.itemsize)))

    def load_vector(self, address):
        load = self.builder.load(self.builder.inttoptr(address, self.vty.as_pointer()))
        load.align = self.itemsize
        return load

    def store_vector(self, value, address):
        store = self.builder.store(value, self.builder.inttoptr(address, self.vty.as_pointer()))
        store.align = self.itemsize

    def broadcast(self, address):
        b = self.builder
        scalar = b.load(b.inttoptr(address, self.fty.as_pointer()))
        first = b.insert_element(ir.Constant(self.vty, ir.Undefined), scalar, self.i64(0))
        return b.shuffle_vector(first, ir.Constant(self.vty, ir.Undefined), self.splat)

    def lane_mask(self, bits):
        """The <lanes x i1> mask of an integer's low bits (bit l: lane l)."""
        narrow = self.builder.trunc(bits, ir.IntType(self.lanes))
        return self.builder.bitcast(narrow, ir.VectorType(ir.IntType(1), self.lanes))

    def compress_store(self, value, address, bits):
        """The lanes of ``value`` set in integer ``bits`` (bit l: lane l), stored in lane
        order from ``address`` (AVX-512 ``vcompressps``/``vcompresspd``; elsewhere LLVM
        stores lane by lane, behind a branch each)."""
        b = self.builder
        mask = self.lane_mask(bits)
        ptr = b.inttoptr(address, self.fty.as_pointer())
        name = f"llvm.masked.compressstore.v{self.lanes}f{8 * self.itemsize}"
        fn = b.module.globals.get(name) or ir.Function(
            b.module, ir.FunctionType(ir.VoidType(), [self.vty, ptr.type, mask.type]), name)
        b.call(fn, [value, ptr, mask])

    def compress_index(self, bits):
        """For 32-byte vectors (AVX2 and BMI2): the ``vpermps`` index that moves the lanes
        set in ``bits`` to the front, in order: the indices of a byte of ones per 32-bit
        element of a set lane, packed by ``pext``."""
        b, i64 = self.builder, self.i64
        per_lane = self.itemsize // 4  # 32-bit elements per lane
        bits = b.and_(bits, i64((1 << self.lanes) - 1))
        spread = self._bmi("pdep", bits, i64(sum(1 << (8 * per_lane * lane)
                                                 for lane in range(self.lanes))))
        ones = b.mul(spread, i64((1 << (8 * per_lane)) - 1))
        packed = self._bmi("pext", i64(0x0706050403020100), ones)
        return b.zext(b.bitcast(packed, ir.VectorType(ir.IntType(8), 8)),
                      ir.VectorType(ir.IntType(32), 8))

    def permuted_store(self, value, address, index):
        """``value`` with its 32-bit elements permuted by ``index`` (``vpermps``), stored
        whole: after a ``compress_index``, the set lanes land as ``compress_store`` puts
        them, and the lanes past them get stray values."""
        b = self.builder
        f8 = ir.VectorType(ir.FloatType(), 8)
        permps = b.module.globals.get("llvm.x86.avx2.permps") or ir.Function(
            b.module, ir.FunctionType(f8, [f8, index.type]), "llvm.x86.avx2.permps")
        self.store_vector(b.bitcast(b.call(permps, [b.bitcast(value, f8), index]), self.vty),
                          address)

    def _bmi(self, op, value, mask):
        name = f"llvm.x86.bmi.{op}.64"
        fn = self.builder.module.globals.get(name) or ir.Function(
            self.builder.module, ir.FunctionType(self.i64, [self.i64, self.i64]), name)
        return self.builder.call(fn, [value, mask])

    def expand_load(self, address, mask):
        """A vector whose lanes set in ``mask`` take consecutive entries from
        ``address``, in lane order, and whose other lanes are 0 (AVX-512
        ``vexpandps``/``vexpandpd``); no entry is read for a clear lane."""
        b = self.builder
        ptr = b.inttoptr(address, self.fty.as_pointer())
        name = f"llvm.masked.expandload.v{self.lanes}f{8 * self.itemsize}"
        fn = b.module.globals.get(name) or ir.Function(
            b.module, ir.FunctionType(self.vty, [ptr.type, mask.type, self.vty]), name)
        return b.call(fn, [ptr, mask, ir.Constant(self.vty, [0.0] * self.lanes)])

    def fma(self, a, b, c):
        return self.builder.call(self.fma_fn, [a, b, c])

    def counted_loop(self, count, initial, body, name):
        """Run ``body(index, values) -> values`` for index in [0, count), the values (IR
        vectors) carried in phi nodes, that is in registers; returns the final values."""
        b = self.builder
        entry = b.block
        head = b.append_basic_block(f"{name}.head")
        loop = b.append_basic_block(f"{name}.body")
        done = b.append_basic_block(f"{name}.done")
        b.branch(head)
        b.position_at_end(head)
        index = b.phi(self.i64)
        index.add_incoming(self.i64(0), entry)
        phis = []
        for value in initial:
            phi = b.phi(value.type)
            phi.add_incoming(value, entry)
            phis.append(phi)
        b.cbranch(b.icmp_signed("<", index, count), loop, done)
        b.position_at_end(loop)
        values = body(index, list(phis))
        index.add_incoming(b.add(index, self.i64(1)), b.block)
        for phi, value in zip(phis, values):
            phi.add_incoming(value, b.block)
        b.branch(head)
        b.position_at_end(done)
        return phis


@intrinsic
def conv3x3_out_block(typingctx, out, row0, rows, b0, b1, b2, b3, weights, planes, start, q0,
                      pitch, masks, dests, v0, vectors):
    """For the output rows k < ``rows`` (at most 4) and the ``vectors`` (1 to 4) vectors j
    of positions q = q0 + j*V + lane (V lanes: 16 float32, 8 float64):

        s[k, q] = b_k + sum over channels c and taps t of weights[c, 9*k + t] *
                  planes[c, start + q + (t // 3)*pitch + t % 3],

    the sums in the dtype from the bias, fused multiply-adds in (c, t) order; then the
    lanes set in masks[v0 + j] go, packed in lane order, to out[row0 + k, dests[v0 + j]:].
    With ``PERMUTE_COMPRESS`` they go as whole permuted vectors, whose lanes past the set
    ones spill over the next entries of the row, for the next vector or the next block
    (called after this one) to overwrite; a vector that would spill past the row's end
    is stored exactly. Each vector count has its own copy of the loop (the accumulators
    are registers), and ``vectors`` picks one; any other count does nothing. Unchecked:
    out (R, P), weights (C, 36) and planes (C, L) are C-contiguous arrays of one float
    dtype, masks and dests int64, and every index lies in them."""
    if not _arrays_of_one_float((out, weights, planes), (2, 2, 2)):
        return None
    scalars = (row0, rows, start, q0, pitch, v0, vectors)
    if not all(isinstance(t, types.Integer) for t in scalars):
        return None
    if not all(t == out.dtype for t in (b0, b1, b2, b3)):
        return None
    if not all(isinstance(t, types.Array) and t.ndim == 1 and t.dtype == types.int64
               for t in (masks, dests)):
        return None

    def codegen(context, builder, sig, args):
        e = _Emitter(context, builder, out.dtype)
        out_a, w_a, p_a, m_a, d_a = (context.make_array(sig.args[i])(context, builder, args[i])
                                     for i in (0, 7, 8, 12, 13))
        row0_v, rows_v, start_v, q0_v, pitch_v, v0_v, vectors_v = (
            context.cast(builder, args[i], sig.args[i], types.int64)
            for i in (1, 2, 9, 10, 11, 14, 15))
        biases = []
        for k in range(OUT_ROWS):
            first = builder.insert_element(ir.Constant(e.vty, ir.Undefined), args[3 + k],
                                           e.i64(0))
            biases.append(builder.shuffle_vector(first, ir.Constant(e.vty, ir.Undefined),
                                                 e.splat))
        channels = builder.extract_value(p_a.shape, 0)

        def block(vectors):
            def channel(c, sums):
                row = e.row_address(p_a, c, builder.add(start_v, q0_v))
                w_row = e.row_address(w_a, c, 0)
                for t in range(9):
                    shift = builder.add(builder.mul(pitch_v, e.i64(t // 3)), e.i64(t % 3))
                    base = e.offset(row, shift)
                    loads = [e.load_vector(e.offset(base, e.lanes * j)) for j in range(vectors)]
                    for k in range(OUT_ROWS):
                        w = e.broadcast(e.offset(w_row, 9 * k + t))
                        for j in range(vectors):
                            sums[k * vectors + j] = e.fma(w, loads[j], sums[k * vectors + j])
                return sums

            initial = [bias for bias in biases for _ in range(vectors)]
            sums = e.counted_loop(channels, initial, channel, f"conv3x3_out_block{vectors}")
            masks, dests = [], []
            for j in range(vectors):
                index = builder.add(v0_v, e.i64(j))
                masks.append(builder.load(builder.gep(m_a.data, [index])))
                dests.append(builder.load(builder.gep(d_a.data, [index])))
            if PERMUTE_COMPRESS:
                indices = [e.compress_index(bits) for bits in masks]
                row_end = builder.extract_value(out_a.shape, 1)
                exact = [builder.icmp_signed(">", builder.add(dest, e.i64(e.lanes)), row_end)
                         for dest in dests]
            for k in range(OUT_ROWS):
                with builder.if_then(builder.icmp_signed("<", e.i64(k), rows_v)):
                    row = builder.add(row0_v, e.i64(k))
                    for j in range(vectors):
                        value = sums[k * vectors + j]
                        address = e.row_address(out_a, row, dests[j])
                        if not PERMUTE_COMPRESS:
                            e.compress_store(value, address, masks[j])
                        else:
                            with builder.if_else(exact[j]) as (then, otherwise):
                                with then:
                                    e.compress_store(value, address, masks[j])
                                with otherwise:
                                    e.permuted_store(value, address, indices[j])

        done = builder.append_basic_block("conv3x3_out_block.done")
        switch = builder.switch(vectors_v, done)
        for vectors in range(1, OUT_VECTORS + 1):
            case = builder.append_basic_block(f"conv3x3_out_block.vectors{vectors}")
            switch.add_case(e.i64(vectors), case)
            builder.position_at_end(case)
            block(vectors)
            builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    return types.none(out, row0, rows, b0, b1, b2, b3, weights, planes, start, q0, pitch,
                      masks, dests, v0, vectors), codegen


@intrinsic
def conv3x3_grad_block(typingctx, acc, grad_planes, o0, o_last, x_row, lo, count, pitch,
                       tap_row):
    """acc[9*k + t, :] += sum over i < count of grad_planes[o_k, lo + i*V : ...] *
    x_row[lo + i*V + (t // 3 - 1)*pitch + t % 3 - 1 : ...], lane by lane (V lanes:
    VECTOR_BYTES of them), for k < 3, o_k = min(o0 + k, o_last), and the taps t of tap
    rows ``tap_row`` to ``tap_row + GRAD_TAP_ROWS - 1``; the sums in the dtype, fused
    multiply-adds in i's order. Unchecked: acc (27, V),
    grad_planes (O, L) and x_row (L,) are C-contiguous arrays of one float dtype, and
    every index lies in them."""
    if not _arrays_of_one_float((acc, grad_planes, x_row), (2, 2, 1)):
        return None
    if not all(isinstance(t, types.Integer) for t in (o0, o_last, lo, count, pitch, tap_row)):
        return None
    taps = [(r, j) for r in range(GRAD_TAP_ROWS) for j in range(3)]

    def codegen(context, builder, sig, args):
        e = _Emitter(context, builder, acc.dtype)
        acc_a, g_a, x_a = (context.make_array(sig.args[i])(context, builder, args[i])
                           for i in (0, 1, 4))
        o0_v, last_v, lo_v, count_v, pitch_v, row_v = (
            context.cast(builder, args[i], sig.args[i], types.int64) for i in (2, 3, 5, 6, 7, 8))
        g_rows = []
        for k in range(GRAD_ROWS):
            o = builder.add(o0_v, e.i64(k))
            o = builder.select(builder.icmp_signed("<", o, last_v), o, last_v)
            g_rows.append(e.row_address(g_a, o, lo_v))
        x_base = builder.add(builder.ptrtoint(x_a.data, e.i64), builder.mul(lo_v, e.i64(e.itemsize)))
        rows = [builder.add(row_v, e.i64(r)) for r in range(GRAD_TAP_ROWS)]
        shifts = [builder.add(builder.mul(pitch_v, builder.sub(rows[r], e.i64(1))), e.i64(j - 1))
                  for r, j in taps]
        acc_rows = [e.row_address(acc_a, builder.add(builder.mul(rows[r], e.i64(3)),
                                                     e.i64(9 * k + j)), 0)
                    for k in range(GRAD_ROWS) for r, j in taps]
        initial = [e.load_vector(a) for a in acc_rows]

        def step(i, sums):
            at = builder.mul(i, e.i64(e.lanes))
            g = [e.load_vector(e.offset(row, at)) for row in g_rows]
            x_at = e.offset(x_base, at)
            for t in range(len(taps)):
                x = e.load_vector(e.offset(x_at, shifts[t]))
                for k in range(GRAD_ROWS):
                    sums[len(taps) * k + t] = e.fma(g[k], x, sums[len(taps) * k + t])
            return sums

        sums = e.counted_loop(count_v, initial, step, "conv3x3_grad_block")
        for value, address in zip(sums, acc_rows):
            e.store_vector(value, address)
        return context.get_dummy_value()

    return types.none(acc, grad_planes, o0, o_last, x_row, lo, count, pitch, tap_row), codegen


@intrinsic
def conv3x3_plane_row(typingctx, row, x, images, image_stride, table, period_images):
    """Fills ``row`` (one channel's planes), a vector of V lanes at a time (VECTOR_BYTES
    of them), from that channel's images: image k at x[k*image_stride:], k <
    ``images``. Vector v of the row follows
    entry r = v % R of ``table`` (R rows: the vectors of ``period_images`` images):
    table[r] = (image within the period, lane mask, index in the image of the first
    lane set); the lanes set take consecutive image entries (an expand load), the rest
    0, and so does every lane of an image >= ``images``. Unchecked: row (L,), with L a
    multiple of V, and x (flat) are C-contiguous of one float dtype, table (R, 3) int64,
    and every index lies in them."""
    if not _arrays_of_one_float((row, x), (1, 1)):
        return None
    if not (isinstance(table, types.Array) and table.ndim == 2 and table.dtype == types.int64
            and table.layout == "C"):
        return None
    if not all(isinstance(t, types.Integer) for t in (images, image_stride, period_images)):
        return None

    def codegen(context, builder, sig, args):
        e = _Emitter(context, builder, row.dtype)
        row_a, x_a, t_a = (context.make_array(sig.args[i])(context, builder, args[i])
                           for i in (0, 1, 4))
        images_v, stride_v, period_v = (context.cast(builder, args[i], sig.args[i], types.int64)
                                        for i in (2, 3, 5))
        vectors = builder.udiv(builder.extract_value(row_a.shape, 0), e.i64(e.lanes))
        rows_t = builder.extract_value(t_a.shape, 0)
        row_base = builder.ptrtoint(row_a.data, e.i64)
        x_base = builder.ptrtoint(x_a.data, e.i64)
        i64 = e.i64

        def step(v, carried):
            r, first_image = carried
            entry = builder.gep(t_a.data, [builder.mul(r, i64(3))])
            image = builder.add(first_image, builder.load(entry))
            bits = builder.load(builder.gep(entry, [i64(1)]))
            source = builder.load(builder.gep(entry, [i64(2)]))
            live = builder.icmp_signed("<", image, images_v)
            bits = builder.select(live, bits, i64(0))
            # a dead lane reads nothing, so a dead vector's address is never used
            offset = builder.add(builder.mul(image, stride_v), source)
            address = builder.add(x_base, builder.mul(offset, i64(e.itemsize)))
            value = e.expand_load(address, e.lane_mask(bits))
            e.store_vector(value, builder.add(row_base, builder.mul(v, i64(VECTOR_BYTES))))
            r = builder.add(r, i64(1))
            wrap = builder.icmp_signed("==", r, rows_t)
            first_image = builder.select(wrap, builder.add(first_image, period_v), first_image)
            r = builder.select(wrap, i64(0), r)
            return [r, first_image]

        e.counted_loop(vectors, [i64(0), i64(0)], step, "conv3x3_plane_row")
        return context.get_dummy_value()

    return types.none(row, x, images, image_stride, table, period_images), codegen


# weight gradient with channel lanes (AVX2): 4 output channels x 3 taps of one tap row
# (12 accumulators), each a vector of input channels; per position, 3 loads of the
# channels-last input and 4 broadcasts of the output gradient feed 12 FMAs.
LANES_GRAD_ROWS = 4


@intrinsic
def conv3x3_grad_lanes_block(typingctx, sums, grad_image, o0, o_last, x_last, plane_row, y0,
                             rows, w, pitch, tap_row):
    """sums[3*k + j, :] += sum over y in [y0, y0 + rows), x < w of grad_image[o_k, y*w + x]
    * x_last[(plane_row + y + tap_row - 1)*pitch + x + j, :], lane by lane (V lanes:
    VECTOR_BYTES of them, each an input channel), for k < 4, o_k = min(o0 + k, o_last),
    and j < 3: rows of one image's products for the taps of one tap row, its output
    gradient (O, h*w) against its channels-last planes (``conv3x3.py``; the image's rows
    from plane row ``plane_row``). The products are summed in the dtype, fused
    multiply-adds in (y, x) order, from 0; those sums are added to ``sums`` (float64).
    Unchecked: sums (12, V) is a C-contiguous float64 array, grad_image (O, h*w) and
    x_last (L, V) C-contiguous arrays of one float dtype, and every index lies in them."""
    if not _arrays_of_one_float((grad_image, x_last), (2, 2)):
        return None
    if not (isinstance(sums, types.Array) and sums.ndim == 2 and sums.layout == "C"
            and sums.dtype == types.float64):
        return None
    scalars = (o0, o_last, plane_row, y0, rows, w, pitch, tap_row)
    if not all(isinstance(t, types.Integer) for t in scalars):
        return None

    def codegen(context, builder, sig, args):
        e = _Emitter(context, builder, x_last.dtype)
        i64 = e.i64
        sums_a, g_a, x_a = (context.make_array(sig.args[i])(context, builder, args[i])
                            for i in (0, 1, 4))
        o0_v, last_v, row_v, y0_v, rows_v, w_v, pitch_v, tap_v = (
            context.cast(builder, args[i], sig.args[i], types.int64)
            for i in (2, 3, 5, 6, 7, 8, 9, 10))
        g_rows = []
        for k in range(LANES_GRAD_ROWS):
            o = builder.add(o0_v, i64(k))
            o = builder.select(builder.icmp_signed("<", o, last_v), o, last_v)
            g_rows.append(e.row_address(g_a, o, 0))
        x_stride = builder.extract_value(x_a.strides, 0)
        # tap j of position (y, x) reads plane entry (plane_row + y + tap_row - 1)*pitch
        # + x + j
        first_row = builder.sub(builder.add(row_v, tap_v), i64(1))
        zero = ir.Constant(e.vty, [0.0] * e.lanes)

        def image_row(r, acc):
            y = builder.add(y0_v, r)
            g_at = builder.mul(y, w_v)
            x_row = e.row_address(x_a, builder.mul(builder.add(first_row, y), pitch_v), 0)

            def position(x, acc):
                x_at = builder.add(x_row, builder.mul(x, x_stride))
                xs = [e.load_vector(builder.add(x_at, builder.mul(i64(j), x_stride)))
                      for j in range(3)]
                at = builder.add(g_at, x)
                for k in range(LANES_GRAD_ROWS):
                    g = e.broadcast(e.offset(g_rows[k], at))
                    for j in range(3):
                        acc[3 * k + j] = e.fma(g, xs[j], acc[3 * k + j])
                return acc

            return e.counted_loop(w_v, list(acc), position, "conv3x3_grad_lanes.x")

        acc = e.counted_loop(rows_v, [zero] * (3 * LANES_GRAD_ROWS), image_row,
                             "conv3x3_grad_lanes.y")
        wide = ir.VectorType(ir.DoubleType(), e.lanes)
        sums_row = builder.extract_value(sums_a.strides, 0)
        for r, value in enumerate(acc):
            if e.itemsize != 8:
                value = builder.fpext(value, wide)
            address = builder.add(builder.ptrtoint(sums_a.data, i64),
                                  builder.mul(i64(r), sums_row))
            ptr = builder.inttoptr(address, wide.as_pointer())
            old = builder.load(ptr)
            old.align = 8
            store = builder.store(builder.fadd(old, value), ptr)
            store.align = 8
        return context.get_dummy_value()

    return types.none(sums, grad_image, o0, o_last, x_last, plane_row, y0, rows, w, pitch,
                      tap_row), codegen
