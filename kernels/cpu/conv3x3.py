"""Direct 3x3 convolution, stride 1, padding 1, one group: loops over padded planes.

The im2col path writes a (C*9, N*H*W) column buffer (14.4 MB for the MNIST CNN's
second layer) and streams it through two GEMMs; its time nearly doubled when other
work had just used the caches (bench/RESULTS.md). Here each input is copied once into
zero-padded planes, and the loops multiply straight from them, nine shifted reads per
output, with a block of outputs or of weight gradients in registers.

Planes: channel c of all N images is one flat row of (N*(H+1) + 2) rows of W+1 (and
zeros to the row's end). Each row has a zero in column 0 and x's row in columns 1..W;
image n's rows start at row n*(H+1), which is zero, and its H rows follow; two zero
rows end the plane. A zero
column sits between neighbouring rows and a zero row between neighbouring images, each
the padding of both its sides, so that for the taps i, j in 0..2

    x[n, c, h + i - 1, w + j - 1] (0 outside the image) = planes[c, q + i*(W+1) + j],
    q = (n*(H+1) + h)*(W+1) + w.

The forward runs along q, blocks of up to 4 vectors of lanes (AVX-512: 16 float32; 3
vectors of 8 with AVX2) for 4 output channels, and drops the padding column it computes
(w = W, one in W+1) as it stores. The weight gradient (``conv3x3_weight_grad``) takes the
output gradient as it is: with AVX2, a vector of input channels in the lanes, over the
gradient's entries alone; with AVX-512, a vector of positions, along padded planes of
the gradient. The inner blocks are LLVM IR (``conv3x3_blocks.py``), sized for the host's
vector registers. The input gradient is the forward on the output gradient's planes
with the weights transposed and flipped.
"""
import math

import numpy as np
from numba import njit, prange
from numba.np.unsafe.ndarray import to_fixed_tuple

from ..irops import cast_like, fmuladd, prefer_wide_vectors
from ._compile import cpu_kernel
from .conv import _zero_run
from .conv3x3_blocks import (GRAD_ROWS, GRAD_TAP_ROWS, LANES_GRAD_ROWS, OUT_ROWS, OUT_VECTORS,
                             VECTOR_BYTES, WIDE_REGISTERS, conv3x3_grad_block,
                             conv3x3_grad_lanes_block, conv3x3_out_block, conv3x3_plane_row)

# Output channels per pass over the planes: the packed weights' blocks, the out block's
# rows (``conv3x3_blocks``), and the small-image loop's accumulator rows.
BLOCK = OUT_ROWS


@njit(inline="always", cache=True, error_model="numpy")
def _taps(acc, row, q, pitch, t):
    """acc + sum over taps (i, j) of t[3*i + j] * row[q + i*pitch + j]; unsigned
    offsets (a negative signed index would take Numba's wraparound branch, which stops
    vectorization)."""
    one, two = np.uint64(1), np.uint64(2)
    q1 = q + pitch
    q2 = q1 + pitch
    acc = fmuladd(t[0], row[q], acc)
    acc = fmuladd(t[1], row[q + one], acc)
    acc = fmuladd(t[2], row[q + two], acc)
    acc = fmuladd(t[3], row[q1], acc)
    acc = fmuladd(t[4], row[q1 + one], acc)
    acc = fmuladd(t[5], row[q1 + two], acc)
    acc = fmuladd(t[6], row[q2], acc)
    acc = fmuladd(t[7], row[q2 + one], acc)
    acc = fmuladd(t[8], row[q2 + two], acc)
    return acc


@njit(inline="always", cache=True, error_model="numpy")
def _block_pass(acc, length, row, start, pitch, weights):
    """acc[k, q] += sum over taps of weights[9*k + tap] * row[start + q + tap offset],
    for the BLOCK rows k of acc and q < length. The weights are scalars (a tuple) so that they stay in
    registers; all loads come before all stores, or LLVM would reload the plane after
    each store (it cannot tell that acc and the plane do not overlap)."""
    t0 = to_fixed_tuple(weights[0:9], 9)
    t1 = to_fixed_tuple(weights[9:18], 9)
    t2 = to_fixed_tuple(weights[18:27], 9)
    t3 = to_fixed_tuple(weights[27:36], 9)
    r0, r1, r2, r3 = acc[0], acc[1], acc[2], acc[3]
    p, s = np.uint64(pitch), np.uint64(start)
    for q in range(np.uint64(length)):
        x = s + q
        a0 = _taps(prefer_wide_vectors(r0[q]), row, x, p, t0)
        a1 = _taps(r1[q], row, x, p, t1)
        a2 = _taps(r2[q], row, x, p, t2)
        a3 = _taps(r3[q], row, x, p, t3)
        r0[q] = a0
        r1[q] = a1
        r2[q] = a2
        r3[q] = a3


@njit(cache=True, error_model="numpy")
def _plane_vectors(h, w, lanes):
    """``conv3x3_plane_row``'s table for images h x w: the vectors of ``lanes`` plane
    entries that cover a whole number of images (the period; 16 images of 14 x 14 in
    float32), each (image in the period, mask of its lanes on image entries, index in
    the image of its first such lane); and the period's images."""
    per_image = (h + 1) * (w + 1)
    period_images = lanes // math.gcd(per_image, lanes)
    table = np.zeros((per_image * period_images // lanes, 3), np.int64)
    # (image, y, x) of plane entry r*lanes + lane, stepped along (it runs on every call
    # of the planes kernel: a division per entry took 28 us for 14 x 14 images)
    image, y, x = 0, 0, 0
    for r in range(table.shape[0]):
        first = True
        for lane in range(lanes):
            if y >= 1 and x >= 1:
                if first:
                    first = False
                    table[r, 0], table[r, 2] = image, (y - 1) * w + x - 1
                table[r, 1] |= 1 << lane
            x += 1
            if x > w:
                x, y = 0, y + 1
                if y > h:
                    y, image = 0, image + 1
    return table, period_images


@njit(cache=True, error_model="numpy")
def _plane_table(planes, x):
    """``conv3x3_plane_row``'s table and period for x's planes, or an empty table where
    that block does not apply: a vector would hold entries of two images (images less
    than a vector less 2 wide) or rows are not whole vectors."""
    N, C, H, W = x.shape
    lanes = VECTOR_BYTES // x.itemsize
    if W + 2 >= lanes and planes.shape[1] % lanes == 0 and x.size > 0:
        return _plane_vectors(H, W, lanes)
    return np.zeros((0, 3), np.int64), 0


@njit(inline="always", cache=True, error_model="numpy")
def _fill_plane(row, x, c, table, period):
    """row = channel c of x as padded planes (module doc), by ``conv3x3_plane_row``
    where ``table`` is not empty, else by rows."""
    N, C, H, W = x.shape
    pitch = W + 1
    if table.shape[0] > 0:
        conv3x3_plane_row(row, x.reshape(-1)[c * H * W:], N, C * H * W, table, period)
        return
    for n in range(N):
        base = n * (H + 1) * pitch
        _zero_run(row, base, pitch)
        for h in range(H):
            r0 = base + (h + 1) * pitch
            row[r0] = 0
            src = x[n, c, h]
            for w in range(W):
                row[r0 + 1 + w] = src[w]
    _zero_run(row, N * (H + 1) * pitch, row.size - N * (H + 1) * pitch)


@cpu_kernel(size_arg=0)
def conv3x3_planes(planes, x):
    """planes[c] = channel c of x laid out as padded planes (module doc).

    Loop nest: for c in prange(C): ``conv3x3_plane_row`` (a vector store per vector of
    the plane, from an expand load of x's entries), where no vector holds entries of
    two images (images at least a vector wide less 2) and the rows are whole vectors;
    otherwise for n: zero row, then for h: zero, x's row. Shapes: x (N, C, H, W);
    planes (C, >= (N*(H+1) + 2)*(W+1)).
    """
    table, period = _plane_table(planes, x)
    for c in prange(x.shape[1]):
        _fill_plane(planes[c], x, c, table, period)


@cpu_kernel(size_arg=0)
def conv3x3_pack(packed, weight, transpose):
    """packed[b, c, 9*k + 3*i + j] = weight[4*b + k, c, i, j], 0 past the last output
    channel; with ``transpose``, weight[c, 4*b + k, 2 - i, 2 - j] (the input gradient's
    weights: channels swapped, taps flipped).

    Loop nest: for b in prange(blocks): for c, k, tap. Shapes: weight (O, C, 3, 3);
    packed (ceil(O/4), C, 36), or (ceil(C/4), O, 36) with ``transpose``.
    """
    outs = weight.shape[1] if transpose else weight.shape[0]
    blocks, inner = packed.shape[0], packed.shape[1]
    for b in prange(blocks):
        for c in range(inner):
            for k in range(BLOCK):
                o = b * BLOCK + k
                for t in range(9):
                    if o >= outs:
                        packed[b, c, 9 * k + t] = 0
                    elif transpose:
                        packed[b, c, 9 * k + t] = weight[c, o, 2 - t // 3, 2 - t % 3]
                    else:
                        packed[b, c, 9 * k + t] = weight[o, c, t // 3, t % 3]


@njit(inline="always", cache=True, error_model="numpy")
def _aligned_rows(rows, length, like):
    """An uninitialized array of ``rows`` rows of at least ``length`` entries, of like's
    dtype, each row starting on a 64-byte boundary: the accumulators' vector loads and
    stores then never straddle two cache lines (the MNIST CNN's second layer's forward
    ran 9-12% faster than with np.empty's rows)."""
    lanes = 64 // like.itemsize
    stride = (length + lanes - 1) // lanes * lanes
    buf = np.empty(rows * stride + lanes, like.dtype)
    skip = (lanes - (buf.ctypes.data // like.itemsize) % lanes) % lanes
    return buf[skip:skip + rows * stride].reshape(rows, stride)


@njit(cache=True, error_model="numpy")
def _out_vectors(h, w, lanes):
    """How ``conv3x3`` covers an image's positions q in [0, h*(w+1)) with blocks of 1-4
    vectors of ``lanes`` positions: as evenly as it can (14 vectors as 4, 4, 3, 3), the
    last block ending at the last position (it may overlap the one before; its
    positions get the same values twice). Per block: its first position, its vectors
    and its first vector's index; per vector: the mask of its lanes on the image (not
    the padding column), and the index in the (h*w) output plane of its first such lane
    (where ``compress_store`` puts them). Needs h*(w+1) >= lanes."""
    pitch = w + 1
    total = h * pitch
    vectors = (total + lanes - 1) // lanes
    blocks = (vectors + OUT_VECTORS - 1) // OUT_VECTORS
    if blocks == 1 and vectors * lanes > total:
        blocks = 2  # one block would run past the image; two overlap inside it
    starts = np.empty(blocks, np.int64)
    sizes = np.empty(blocks, np.int64)
    firsts = np.empty(blocks, np.int64)
    masks = np.empty(vectors, np.int64)
    dests = np.empty(vectors, np.int64)
    q, v_index = 0, 0
    for b in range(blocks):
        size = vectors // blocks + (1 if b < vectors % blocks else 0)
        q0 = min(q, total - size * lanes)
        starts[b], sizes[b], firsts[b] = q0, size, v_index
        for j in range(size):
            mask, dest = 0, -1
            for lane in range(lanes):
                p = q0 + j * lanes + lane
                if p % pitch < w:
                    mask |= 1 << lane
                    if dest < 0:
                        dest = p - p // pitch
            masks[v_index], dests[v_index] = mask, dest
            v_index += 1
        q += size * lanes
    return starts, sizes, firsts, masks, dests


# An output element costs C*9 multiply-adds: the pool pays from a few thousand of them.
@cpu_kernel(size_arg=0, parallel_min=1 << 12)
def conv3x3(out, x_planes, packed_weight, bias):
    """out[n, o, h, w] = bias[o] + sum over c, i, j of weight[o, c, i, j] *
    x[n, c, h + i - 1, w + j - 1] (0 outside), with x as ``x_planes`` and the weight as
    ``packed_weight`` (``conv3x3_pack``); no bias when empty.

    Loop nest: for (n, block of 4 channels) in prange(N * blocks): for each block of 1-4
    vectors of positions (``_out_vectors``): ``conv3x3_blocks`` out block (16
    accumulators in registers through the sum over c and the taps, stored straight into
    out less the padding column). Images with fewer than a vector of positions: acc
    (4, H*(W+1)) = bias; for c: acc += 36 weights x 9 shifted plane reads; acc, less the
    padding column, to out. Shapes: out (N, O, H, W); x_planes (C, >= (N*(H+1) +
    2)*(W+1)); packed_weight (ceil(O/4), C, 36); bias (O,) or (0,).
    """
    N, O, H, W = out.shape
    C = x_planes.shape[0]
    pitch = W + 1
    blocks = packed_weight.shape[0]
    if out.size == 0:
        return
    has_bias = bias.size > 0
    zero = cast_like(0.0, out[0, 0, 0, 0])
    lanes = VECTOR_BYTES // out.itemsize
    if H * pitch < lanes:
        for t in prange(N * blocks):
            _small_images_block(out, x_planes, packed_weight, bias, t // blocks, t % blocks)
        return
    starts, sizes, firsts, masks, dests = _out_vectors(H, W, lanes)
    rows_out = out.reshape(N * O, H * W)
    for t in prange(N * blocks):
        n, b = t // blocks, t % blocks
        o0 = b * OUT_ROWS
        rows = min(OUT_ROWS, O - o0)
        b0 = bias[o0] if has_bias else zero
        b1 = bias[o0 + 1] if has_bias and rows > 1 else zero
        b2 = bias[o0 + 2] if has_bias and rows > 2 else zero
        b3 = bias[o0 + 3] if has_bias and rows > 3 else zero
        start = n * (H + 1) * pitch
        weights = packed_weight[b]
        r0 = n * O + o0
        for i in range(starts.size):
            conv3x3_out_block(rows_out, r0, rows, b0, b1, b2, b3, weights, x_planes, start,
                              starts[i], pitch, masks, dests, firsts[i], sizes[i])


@njit(cache=True, error_model="numpy")
def _small_images_block(out, x_planes, packed_weight, bias, n, b):
    """``conv3x3``'s image n, output channels 4*b.. for images with fewer positions than
    a vector: the loop version of the out block, through an accumulator buffer."""
    N, O, H, W = out.shape
    pitch = W + 1
    has_bias = bias.size > 0
    zero = cast_like(0.0, out[0, 0, 0, 0])
    acc = _aligned_rows(BLOCK, H * pitch, out)
    for k in range(BLOCK):
        o = b * BLOCK + k
        v = bias[o] if has_bias and o < O else zero
        for q in range(H * pitch):
            acc[k, q] = v
    start = n * (H + 1) * pitch
    for c in range(x_planes.shape[0]):
        _block_pass(acc, H * pitch, x_planes[c], start, pitch, packed_weight[b, c])
    for k in range(min(BLOCK, O - b * BLOCK)):
        dst = out[n, b * BLOCK + k]
        for h in range(H):
            for w in range(W):
                dst[h, w] = acc[k, h * pitch + w]


# Images per slice of ``_weight_grad_by_pairs``: a slice's planes (8 images of the MNIST
# CNN's second layer: 0.7 MB) stay in L2 while the output channels read them.
_SLICE_IMAGES = 8


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _pair_sums(g0, g1, row, lo, hi, pitch):
    """For g = g0 and g1: sum over p in [lo, hi) of g[p] * row[p - pitch - 1 + tap
    offset], the 9 taps, in the rows' dtype (18 vector accumulators). Not inlined by
    Numba, so that ``reassoc`` (vectorized sums) and ``contract`` (FMA) stay on this
    loop alone."""
    z = prefer_wide_vectors(cast_like(0.0, row[0]))
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = z
    b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = b8 = z
    one, two, p1 = np.uint64(1), np.uint64(2), np.uint64(pitch)
    shift = p1 + one
    for p in range(np.uint64(lo), np.uint64(hi)):
        u, v = g0[p], g1[p]
        x0 = p - shift
        x1 = x0 + p1
        x2 = x1 + p1
        v0, v1, v2 = row[x0], row[x0 + one], row[x0 + two]
        v3, v4, v5 = row[x1], row[x1 + one], row[x1 + two]
        v6, v7, v8 = row[x2], row[x2 + one], row[x2 + two]
        a0 += u * v0
        a1 += u * v1
        a2 += u * v2
        a3 += u * v3
        a4 += u * v4
        a5 += u * v5
        a6 += u * v6
        a7 += u * v7
        a8 += u * v8
        b0 += v * v0
        b1 += v * v1
        b2 += v * v2
        b3 += v * v3
        b4 += v * v4
        b5 += v * v5
        b6 += v * v6
        b7 += v * v7
        b8 += v * v8
    return (a0, a1, a2, a3, a4, a5, a6, a7, a8), (b0, b1, b2, b3, b4, b5, b6, b7, b8)


@njit(cache=True, error_model="numpy")
def _edges_finite(x_planes, n0, n1, h, w):
    """Whether every input entry on an edge (first or last row or column) of images
    [n0, n1) is finite. ``_pair_sums`` multiplies those entries by zeros of the output
    gradient's padding too, and 0 * inf would give NaN where PyTorch adds no product."""
    pitch = w + 1
    for c in range(x_planes.shape[0]):
        row = x_planes[c]
        for n in range(n0, n1):
            for y in range(h):
                r0 = (n * (h + 1) + y + 1) * pitch + 1
                step = 1 if y == 0 or y == h - 1 else max(1, w - 1)
                for q in range(r0, r0 + w, step):
                    if not math.isfinite(row[q]):
                        return False
    return True


@njit(cache=True, error_model="numpy")
def _pair_sums_by_rows(g0, g1, row, n0, n1, h, w):
    """``_pair_sums`` over the output gradient's entries of images [n0, n1) only, row by
    row (slow: rows of w entries): for inputs with a non-finite value on an edge."""
    pitch = w + 1
    a, b = _pair_sums(g0, g1, row, 0, 0, pitch)
    for n in range(n0, n1):
        for y in range(h):
            lo = (n * (h + 1) + y + 1) * pitch + 1
            ra, rb = _pair_sums(g0, g1, row, lo, lo + w, pitch)
            a = _add9(a, ra)
            b = _add9(b, rb)
    return a, b


@njit(inline="always", cache=True, error_model="numpy")
def _add9(u, v):
    return (u[0] + v[0], u[1] + v[1], u[2] + v[2], u[3] + v[3], u[4] + v[4], u[5] + v[5],
            u[6] + v[6], u[7] + v[7], u[8] + v[8])


@cpu_kernel(size_arg=2, parallel_min=1 << 14)
def conv3x3_weight_grad(grad_weight, grad_bias, grad_out, x_planes):
    """grad_weight[o, c, i, j] = sum over n, y, x of grad_out[n, o, y, x] *
    x[n, c, y + i - 1, x + j - 1] (0 outside), with x as ``x_planes``
    (``conv3x3_planes``); when grad_bias is not empty, grad_bias[o] = sum over n, y, x
    of grad_out[n, o, y, x]. Each sum takes its products in a fixed order, so the result
    does not depend on the number of threads.

    Two paths, by the host's vector registers and the channels:
    - channel lanes (AVX2, and channels that fill their vectors to within 1/9):
      ``_weight_grad_channel_lanes``, over the output gradient's entries alone;
    - position lanes (otherwise): ``_weight_grad_position_lanes``, along padded planes
      of the output gradient.
    Shapes: grad_weight (O, C, 3, 3); grad_bias (O,) or (0,); grad_out (N, O, H, W);
    x_planes (C, >= (N*(H+1) + 2)*(W+1)).
    """
    if grad_bias.size > 0:
        _bias_grad(grad_bias, grad_out)
    C = grad_weight.shape[1]
    lanes = VECTOR_BYTES // x_planes.itemsize
    padded_c = (C + lanes - 1) // lanes * lanes
    if not WIDE_REGISTERS and 8 * padded_c <= 9 * C and grad_out.size > 0:
        _weight_grad_channel_lanes(grad_weight, grad_out, x_planes)
    else:
        _weight_grad_position_lanes(grad_weight, grad_out, x_planes)


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum64(values):
    """The float64 sum of a 1-d array, its adds reassociated (vectorized). Not inlined,
    so that ``reassoc`` stays on this loop alone."""
    total = 0.0
    for i in range(values.size):
        total += values[i]
    return total


@njit(inline="always", cache=True, error_model="numpy")
def _bias_grad(grad_bias, grad_out):
    """grad_bias[o] = sum over n, y, x of grad_out[n, o, y, x], in float64, images in
    order."""
    for o in prange(grad_out.shape[1]):
        total = 0.0
        for n in range(grad_out.shape[0]):
            total += _sum64(grad_out[n, o].reshape(-1))
        grad_bias[o] = total


@njit(inline="always", cache=True, error_model="numpy")
def _weight_grad_channel_lanes(grad_weight, grad_out, x_planes):
    """``conv3x3_weight_grad`` with a vector of input channels in the lanes: the
    products run over the output gradient's entries alone, against a channels-last copy
    of the planes. They are those of an im2col GEMM, each gradient entry times an input
    or a zero of the padding, and no input times the gradient's padding: an input's
    inf or NaN on an image's edge needs no second pass here.

    Loop nest: copy the planes channels last, in vectors of channels: x_last (channel
    vector, position, lane); for (slice of images, channel vector, tap row) in prange:
    for each image, up to 4,032 positions at a time: for each 4 output channels:
    ``conv3x3_grad_lanes_block`` (12 vector accumulators in the dtype, then added to
    float64 sums). The slices' sums (``_lanes_slices``) are added in order at the end.
    """
    N, O, H, W = grad_out.shape
    C = grad_weight.shape[1]
    pitch = W + 1
    lanes = VECTOR_BYTES // x_planes.itemsize
    vectors = (C + lanes - 1) // lanes
    used = (N * (H + 1) + 2) * pitch
    x_last = np.empty((vectors, used, lanes), x_planes.dtype)
    for q0 in prange((used + 255) // 256):
        q1 = min(used, 256 * q0 + 256)
        for c in range(vectors * lanes):
            v, lane = c // lanes, c % lanes
            if c < C:
                for q in range(256 * q0, q1):
                    x_last[v, q, lane] = x_planes[c, q]
            else:
                for q in range(256 * q0, q1):
                    x_last[v, q, lane] = 0
    groups = (O + LANES_GRAD_ROWS - 1) // LANES_GRAD_ROWS
    slices = _lanes_slices(N, C, O)
    per_slice = (N + slices - 1) // slices
    tasks = vectors * 3
    rows = max(1, _LANE_SUM_PRODUCTS // W)  # image rows per call of the blocks
    lane_sums = np.zeros((slices * tasks, groups, 3 * LANES_GRAD_ROWS, lanes))
    # consecutive jobs share a slice, whose output gradient stays in L2 while they read it
    for job in prange(slices * tasks):
        task = job % tasks
        n0 = per_slice * (job // tasks)
        n1 = min(N, n0 + per_slice)
        for image in range(n0, n1):
            g = grad_out[image].reshape(O, H * W)
            for y0 in range(0, H, rows):
                # the rows' channel vector (7 KB for a 14 x 14 image) stays in L1 while
                # every group of output channels reads it
                for group in range(groups):
                    conv3x3_grad_lanes_block(lane_sums[job, group], g, LANES_GRAD_ROWS * group,
                                             O - 1, x_last[task // 3], image * (H + 1) + 1,
                                             y0, min(rows, H - y0), W, pitch, task % 3)
    for o in prange(O):
        group, k = o // LANES_GRAD_ROWS, o % LANES_GRAD_ROWS
        for c in range(C):
            for i in range(3):
                for j in range(3):
                    total = 0.0
                    for s in range(slices):
                        total += lane_sums[s * tasks + 3 * (c // lanes) + i, group, 3 * k + j,
                                           c % lanes]
                    grad_weight[o, c, i, j] = total


# Products an accumulator of ``_weight_grad_channel_lanes`` sums in the dtype before
# they go into the float64 sums: at most an image, or 4,032 (as the position lanes).
_LANE_SUM_PRODUCTS = 4032


@njit(cache=True, error_model="numpy")
def _lanes_slices(n, c, o):
    """Slices of the images whose sums ``_weight_grad_channel_lanes`` takes apart (in
    parallel), then adds in order: up to 16, of at least 8 images, their sums (9*c*o
    float64 each) in at most 32 MB."""
    return max(1, min((n + _SLICE_IMAGES - 1) // _SLICE_IMAGES, 16,
                      (1 << 22) // (9 * c * o + 1)))


# Vectors of positions per pass of the position-lane blocks: 112 (1,792 positions, 8
# images of the MNIST CNN's second layer) keep a pass's planes (0.7 MB for all its
# channels) in each core's L2 while the threads' blocks read them.
_GRAD_PASS_VECTORS = 112
# Passes whose sums a lane holds in the dtype before they go into the float64 sums:
# at most 4,032 products per float32 lane, whatever the batch and image size.
_GRAD_PASSES_PER_FLUSH = 36


@njit(inline="always", cache=True, error_model="numpy")
def _weight_grad_position_lanes(grad_weight, grad_out, x_planes):
    """``conv3x3_weight_grad`` with a vector of positions in the lanes, along padded
    planes of the output gradient from its first entry to past its last: the gradient's
    padding is zero, and cancels the products read across edges. Where an input on an
    image's edge is not finite, 0 * inf would give NaN where PyTorch adds no product;
    such a NaN cannot cancel, so a non-finite result sends the whole sum to
    ``_weight_grad_by_pairs``, which checks the edges and goes row by row where they are
    not finite (a finite result had no such product).

    Loop nest: the gradient's planes (``conv3x3_planes``' layout, rows starting on
    64-byte boundaries); for each pass of 112 vectors: for (3 output channels, c) in
    prange: ``conv3x3_grad_block`` (vector accumulators in the dtype, kept in memory
    between passes); every 36 passes and at the end, the lanes go into float64 sums,
    and at the end so do the positions before the first whole vector and after the last.
    """
    n, O, h, w = grad_out.shape
    C = grad_weight.shape[1]
    pitch = w + 1
    lanes = VECTOR_BYTES // x_planes.itemsize
    grad_planes = _aligned_rows(O, x_planes.shape[1], grad_out)
    table, period = _plane_table(grad_planes, grad_out)
    for o in prange(O):
        _fill_plane(grad_planes[o], grad_out, o, table, period)
    lo, hi = pitch + 1, n * (h + 1) * pitch  # the first gradient entry; past the last
    first = min(hi, (lo + lanes - 1) // lanes * lanes)  # the first aligned vector
    vectors = (hi - first) // lanes
    rest = first + vectors * lanes
    triples = (O + GRAD_ROWS - 1) // GRAD_ROWS
    acc = np.zeros((triples * C, GRAD_ROWS * 9, lanes), x_planes.dtype)
    sums = np.zeros((triples * C, GRAD_ROWS * 9))
    flush = _GRAD_PASS_VECTORS * _GRAD_PASSES_PER_FLUSH
    for f0 in range(0, vectors, flush):
        for v0 in range(f0, min(vectors, f0 + flush), _GRAD_PASS_VECTORS):
            count = min(_GRAD_PASS_VECTORS, vectors - v0)
            for task in prange(triples * C):
                for tap_row in range(0, 3, GRAD_TAP_ROWS):
                    conv3x3_grad_block(acc[task], grad_planes, GRAD_ROWS * (task // C), O - 1,
                                       x_planes[task % C], first + v0 * lanes, count, pitch,
                                       tap_row)
        for task in prange(triples * C):
            for r in range(GRAD_ROWS * 9):
                for lane in range(lanes):
                    sums[task, r] += acc[task, r, lane]
                    acc[task, r, lane] = 0
    for task in prange(triples * C):
        c, row = task % C, x_planes[task % C]
        for k in range(min(GRAD_ROWS, O - GRAD_ROWS * (task // C))):
            o = GRAD_ROWS * (task // C) + k
            g = grad_planes[o]
            for t in range(9):
                total = sums[task, 9 * k + t]
                shift = (t // 3 - 1) * pitch + t % 3 - 1
                for p in range(lo, first):
                    total += g[p] * row[p + shift]
                for p in range(rest, hi):
                    total += g[p] * row[p + shift]
                grad_weight[o, c, t // 3, t % 3] = total
    finite = True
    for o in range(O):
        for c in range(C):
            for t in range(9):
                finite &= math.isfinite(grad_weight[o, c, t // 3, t % 3])
    if not finite:
        _weight_grad_by_pairs(grad_weight, grad_planes, x_planes, n, h, w)


@njit(cache=True, error_model="numpy")
def _weight_grad_by_pairs(grad_weight, grad_planes, x_planes, N, h, w):
    """``conv3x3_weight_grad`` by pairs of output channels, 18 dot products in loops,
    row by row over the gradient's entries alone where an input on an image's edge is
    not finite; in slices of 8 images added to float64 sums."""
    O, C = grad_weight.shape[0], grad_weight.shape[1]
    pitch = w + 1
    per_image = (h + 1) * pitch
    sums = np.zeros((O, C, 9))
    for n0 in range(0, N, _SLICE_IMAGES):
        n1 = min(N, n0 + _SLICE_IMAGES)
        # from the slice's first gradient entry to just past its last
        lo = n0 * per_image + pitch + 1
        hi = (n1 - 1) * per_image + h * pitch + w + 1
        by_rows = not _edges_finite(x_planes, n0, n1, h, w)
        for pair in range((O + 1) // 2):
            o = 2 * pair
            o1 = min(o + 1, O - 1)
            for c in range(C):
                if by_rows:
                    a, b = _pair_sums_by_rows(grad_planes[o], grad_planes[o1], x_planes[c],
                                              n0, n1, h, w)
                else:
                    a, b = _pair_sums(grad_planes[o], grad_planes[o1], x_planes[c], lo, hi,
                                      pitch)
                for t in range(9):
                    sums[o, c, t] += a[t]
                if o1 != o:
                    for t in range(9):
                        sums[o1, c, t] += b[t]
    for o in range(O):
        for c in range(C):
            for t in range(9):
                grad_weight[o, c, t // 3, t % 3] = sums[o, c, t]
