"""Convolution as matrix multiplication: the reference layers of notebooks 01 and 03.

Shapes (NCHW):  x (N, C, H, W),  w (F, C, KH, KW),  b (F,),  out (N, F, OH, OW).
"Convolution" is cross-correlation, as in every deep-learning framework:

    out[n, f, p, q] = b[f] + sum_{c,i,j} w[f, c, i, j] * x_pad[n, c, p*s + i, q*s + j]

How the batched layers ``conv2d_*`` are computed: the input is unfolded into
matrices with one row per kernel tap and one column per output position, so that
matrix products give the output already in NCHW order, and the bias rides along as
the weight of an extra row of ones. Two ways of unfolding keep the copying cheap:

- row bands (the forward pass with small weight matrices, above ``_band_image_bytes``):
  each input row is unfolded once, and the matrix of an output row is a view of KH
  consecutive bands;
- flattened planes (the forward pass with large weight matrices and the backward
  pass, above ``_plane_size``): the padded image is flattened, so that the row of a
  tap is one contiguous run of it.

The backward pass multiplies the unfolded matrix by dout for dw. For dx it runs a
forward pass when the stride is 1 (the gradient is a correlation of dout with the
flipped kernel), and otherwise multiplies the weights by dout and folds the product
back onto the flattened planes.

The batch is unfolded a few images at a time (``UNFOLD_BUDGET_BYTES``);
benchmarks/run.py measures these layers against PyTorch. ``im2col`` and ``col2im``
build the textbook matrix, without tricks.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from ..checks import as_float_array, check_int

__all__ = [
    "conv_output_size",
    "correlate2d_loops",
    "unfold_matrix",
    "correlate2d_matmul",
    "im2col",
    "col2im",
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_forward_keep_dtype",
    "conv2d_backward_keep_dtype",
    "kernel_grad_single",
    "input_grad_single",
    "conv_transpose2d",
    "conv_param_count",
    "conv_macs",
]

# The batched layers unfold at most this many bytes at once (but always at least one
# image). Besides bounding memory, a chunk this small stays in the CPU cache while the
# matrix product reads it back (benchmarks/README.md has the measurements).
UNFOLD_BUDGET_BYTES = 2**20

# The forward pass multiplies output row by output row, which reads the weight matrix
# again for every row: faster up to about this many weights (F * (C*KH*KW + 1)), in
# float32 and float64 alike; more weights are multiplied once per image, on the
# flattened-plane unfolding (benchmarks/README.md has the measurements).
ROW_PRODUCT_MAX_WEIGHTS = 2**15


def conv_output_size(n, k, stride=1, pad=0, dilation=1):
    """Output length of a convolution along one axis (PyTorch's formula, floored).

        out = floor((n + 2*pad - dilation*(k - 1) - 1) / stride) + 1
    """
    n = check_int(n, "n", 1)
    k = check_int(k, "k", 1)
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    dilation = check_int(dilation, "dilation", 1)
    span = dilation * (k - 1) + 1
    if span > n + 2 * pad:
        raise ValueError(f"k={k} (span {span} with dilation={dilation}) is larger than the padded input ({n + 2 * pad} pixels)")
    return (n + 2 * pad - span) // stride + 1


def _output_hw(h, w, kh, kw, stride=1, pad=0):
    """(OH, OW) of a ``kh`` x ``kw`` window sliding over an ``h`` x ``w`` input."""
    kh = check_int(kh, "kh", 1)
    kw = check_int(kw, "kw", 1)
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    if kh > h + 2 * pad:
        raise ValueError(f"kh={kh} is larger than the input's padded height {h + 2 * pad}")
    if kw > w + 2 * pad:
        raise ValueError(f"kw={kw} is larger than the input's padded width {w + 2 * pad}")
    return conv_output_size(h, kh, stride, pad), conv_output_size(w, kw, stride, pad)


def _nonempty(value, name, ndim):
    """``value`` as a float64 array with ``ndim`` dimensions, none of them of length 0."""
    value = as_float_array(value, name, ndim)
    if value.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {value.shape}")
    return value


def _check_correlation_args(x, k, x_name="x", k_name="k"):
    """2-D non-empty ``x`` and ``k``, with ``k`` no larger than ``x`` in either dimension (the message names ``k``)."""
    x = _nonempty(x, x_name, 2)
    k = _nonempty(k, k_name, 2)
    if k.shape[0] > x.shape[0] or k.shape[1] > x.shape[1]:
        raise ValueError(f"{k_name} of shape {k.shape} is larger than {x_name} of shape {x.shape}")
    return x, k


def correlate2d_loops(x, k):
    """2-D valid cross-correlation of ``x`` (H, W) with ``k`` (KH, KW), one output at a time.

        out[p, q] = sum_{i, j} x[p + i, q + j] * k[i, j]        out: (H-KH+1, W-KW+1)
    """
    x, k = _check_correlation_args(x, k)
    kh, kw = k.shape
    oh, ow = _output_hw(*x.shape, kh, kw)
    out = np.zeros((oh, ow))
    for p in range(oh):
        for q in range(ow):
            out[p, q] = np.sum(x[p:p + kh, q:q + kw] * k)
    return out


def unfold_matrix(x, kh, kw):
    """Unfold a 2-D ``x`` (H, W) into a matrix ((H-kh+1)*(W-kw+1), kh*kw).

    Row ``r`` is the window at output position (r // OW, r % OW), flattened row by row.
    """
    x = _nonempty(x, "x", 2)
    oh, ow = _output_hw(*x.shape, kh, kw)          # names kh or kw, whichever does not fit
    rows = np.empty((oh, ow, kh, kw))
    for i in range(kh):
        for j in range(kw):
            # Kernel tap (i, j) sees the pixel (p + i, q + j) of every window (p, q).
            rows[:, :, i, j] = x[i:i + oh, j:j + ow]
    return rows.reshape(oh * ow, kh * kw)


def correlate2d_matmul(x, k):
    """The same result as ``correlate2d_loops``: unfold, then one matrix-vector product."""
    x, k = _check_correlation_args(x, k)
    kh, kw = k.shape
    oh, ow = _output_hw(*x.shape, kh, kw)
    return (unfold_matrix(x, kh, kw) @ k.ravel()).reshape(oh, ow)


def _window_view(x, kh, kw, stride, pad):
    """All windows of NCHW ``x`` as a view (N, C, KH, KW, OH, OW) of its padded copy: no unfolding yet.

    view[n, c, i, j, p, q] = x_pad[n, c, p*stride + i, q*stride + j]
    """
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(x_pad, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]   # (N, C, OH, OW, KH, KW)
    return windows.transpose(0, 1, 4, 5, 2, 3)


def _unfold(x, kh, kw, stride, pad):
    """Every window of NCHW ``x`` as a column: (N, C*KH*KW, OH*OW), in x's dtype.

    Column ``p*OW + q`` of image ``n`` is its window at output position (p, q), ordered (c, i, j).
    """
    view = _window_view(x, kh, kw, stride, pad)
    cols = np.empty(view.shape, dtype=x.dtype)
    # The one copy. With (p, q) last it copies whole rows of pixels at a time,
    # about 10x faster than in im2col's order, with (c, i, j) last.
    cols[...] = view
    n, c, _, _, oh, ow = view.shape
    return cols.reshape(n, c * kh * kw, oh * ow)


def _fold_into(x_pad, cols, kh, kw, stride):
    """The adjoint of unfolding: add columns (N, C*KH*KW, OH*OW) onto the padded images ``x_pad`` in place."""
    n, c, height, width = x_pad.shape
    oh, ow = (height - kh) // stride + 1, (width - kw) // stride + 1
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    for i in range(kh):
        for j in range(kw):
            # Tap (i, j) of the window at (p, q) came from x_pad[:, :, p*stride + i, q*stride + j].
            x_pad[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += cols[:, :, i, j]


def _fold(cols, x_shape, kh, kw, stride, pad):
    """Fold columns (N, C*KH*KW, OH*OW) into an array of ``x_shape``, summing overlaps, dropping the padding."""
    n, c, h, w = x_shape
    x_pad = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    _fold_into(x_pad, cols, kh, kw, stride)
    return x_pad[:, :, pad:pad + h, pad:pad + w]


def im2col(x, kh, kw, stride=1, pad=0):
    """Unfold NCHW ``x`` into a matrix (N*OH*OW, C*KH*KW).

    Rows are ordered (n, oh, ow) and columns (c, i, j), so that
    ``im2col(x, KH, KW) @ w.reshape(F, -1).T`` is the convolution.
    """
    x = _nonempty(x, "x", 4)
    _output_hw(*x.shape[2:], kh, kw, stride, pad)        # checks kh, kw, stride, pad
    cols = _unfold(x, kh, kw, stride, pad)               # (N, C*KH*KW, OH*OW)
    return cols.transpose(0, 2, 1).reshape(-1, cols.shape[1])


def col2im(cols, x_shape, kh, kw, stride=1, pad=0):
    """The adjoint of ``im2col``: scatter rows back into ``x_shape``, summing overlaps, dropping the padding.

    cols (N*OH*OW, C*KH*KW)  ->  (N, C, H, W) = x_shape
    """
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must have 4 entries (N, C, H, W), got {x_shape}")
    n, c, h, w = (check_int(v, "x_shape", 1) for v in x_shape)
    oh, ow = _output_hw(h, w, kh, kw, stride, pad)
    cols = np.asarray(cols, dtype=np.float64)
    if cols.shape != (n * oh * ow, c * kh * kw):
        raise ValueError(f"cols must have shape {(n * oh * ow, c * kh * kw)} for x_shape={tuple(x_shape)}, got {cols.shape}")
    return _fold(cols.reshape(n, oh * ow, -1).transpose(0, 2, 1), (n, c, h, w), kh, kw, stride, pad)


def _as_array(value, name, ndim, dtype):
    """``value`` as a ``dtype`` array with ``ndim`` dimensions (``as_float_array`` for any float dtype)."""
    value = np.asarray(value, dtype=dtype)
    if value.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {value.shape}")
    return value


def _float_dtype(*arrays):
    """float32 if every given array is float32, else float64."""
    given = [a for a in arrays if a is not None]
    return np.float32 if all(np.asarray(a).dtype == np.float32 for a in given) else np.float64


def _check_conv_args(x, w, b, stride, pad, dtype=np.float64):
    """``x, w, b`` as ``dtype`` arrays of matching shapes, ``stride`` and ``pad`` as ints, ``w``'s kernel
    no larger than the padded input; ValueError names the bad argument (``w`` for the kernel size).
    ``b`` may be None (no bias)."""
    x = _as_array(x, "x", 4, dtype)
    w = _as_array(w, "w", 4, dtype)
    for value, name in ((x, "x"), (w, "w")):
        if value.size == 0:
            raise ValueError(f"{name} must not be empty, got shape {value.shape}")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w has {w.shape[1]} input channels but x has {x.shape[1]} (x.shape={x.shape}, w.shape={w.shape})")
    if b is not None:
        b = _as_array(b, "b", 1, dtype)
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must be None or of shape ({w.shape[0]},), got {b.shape}")
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    (kh, kw), (h, width) = w.shape[2:], x.shape[2:]
    if kh > h + 2 * pad or kw > width + 2 * pad:
        raise ValueError(f"w has a {kh}x{kw} kernel, which does not fit the padded input {h + 2 * pad}x{width + 2 * pad}")
    return x, w, b, stride, pad


def _check_dout(dout, x, w, stride, pad):
    """``dout`` as an array of x's dtype with the forward output's shape (N, F, OH, OW)."""
    oh, ow = _output_hw(*x.shape[2:], *w.shape[2:], stride, pad)
    dout = np.asarray(dout, dtype=x.dtype)
    if dout.shape != (x.shape[0], w.shape[0], oh, ow):
        raise ValueError(f"dout must have the output's shape {(x.shape[0], w.shape[0], oh, ow)}, got {dout.shape}")
    return dout


# -- the batched layers: unfolding through flattened planes -------------------------
#
# Pad the image and flatten it row by row: a plane of width WQ. The window of output
# position (p, q) then starts at p*WQ + q, so for tap (i, j) the values of all output
# positions are the run  plane[i*WQ + j : i*WQ + j + OH*WQ]:  contiguous, copied
# in one go. The run also holds WQ - OW "wrap-around" columns per output row (the
# window slides into the padding and the next row): the forward pass drops them from
# its product, and the backward pass gives them a zero gradient.
#
# With a stride s, one plane per phase: phase (r, t) holds the pixels x_pad[s*a + r, s*b + t].
# Tap (s*a + r, s*b + t) at output (p, q) reads phase (r, t) at (p + a, q + b): a stride-1
# run again. So each phase's taps are one strided view of its plane, copied in one go.

def _plane_size(x_shape, kh, kw, stride, pad):
    """(OH, OW, HQ, WQ): the output and one phase plane's height and width (WQ >= OW)."""
    oh, ow = _output_hw(*x_shape[2:], kh, kw, stride, pad)
    h, w = x_shape[2] + 2 * pad, x_shape[3] + 2 * pad
    # Wide enough for the image and for the widest window; one spare row at the bottom,
    # because the last tap's run reaches (KW-1)//s values past the last full row.
    wq = max(-(-w // stride), ow + (kw - 1) // stride)
    hq = max(-(-h // stride), oh + (kh - 1) // stride + 1)
    return oh, ow, hq, wq


def _flat_planes(x, kh, kw, stride, pad):
    """The padded images, split by stride phase and flattened: (N, C, s, s, HQ*WQ).

        planes[n, c, r, t, a*WQ + b] = x_pad[n, c, a*s + r, b*s + t]
    """
    n, c, h, w = x.shape
    _, _, hq, wq = _plane_size(x.shape, kh, kw, stride, pad)
    x_pad = np.zeros((n, c, hq * stride, wq * stride), dtype=x.dtype)
    x_pad[:, :, pad:pad + h, pad:pad + w] = x
    phases = x_pad.reshape(n, c, hq, stride, wq, stride).transpose(0, 1, 3, 5, 2, 4)
    return np.ascontiguousarray(phases.reshape(n, c, stride, stride, hq * wq))   # no copy when stride == 1


def _phase_taps(c, kh, kw, stride):
    """``(r, t, rows, cols, block)`` per phase: its taps are (s*a + r, s*b + t), a < rows, b < cols,
    and ``block`` is the slice of the unfolded matrix's rows (C*rows*cols of them) that holds them."""
    phases = []
    start = 0
    for r in range(min(stride, kh)):
        for t in range(min(stride, kw)):
            rows, cols = len(range(r, kh, stride)), len(range(t, kw, stride))
            phases.append((r, t, rows, cols, slice(start, start + c * rows * cols)))
            start += c * rows * cols
    return phases


def _weights_by_phase(w, stride):
    """``w`` (F, C, KH, KW) as rows (F, C*KH*KW) in the unfolded matrix's row order: phase by phase."""
    return np.concatenate([w[:, :, r::stride, t::stride].reshape(len(w), -1)
                           for r, t, _, _, _ in _phase_taps(*w.shape[1:], stride)], axis=1)


def _weights_from_phases(rows, w_shape, stride):
    """The inverse of ``_weights_by_phase``: rows (F, C*KH*KW) back to (F, C, KH, KW)."""
    f, c, kh, kw = w_shape
    w = np.empty(w_shape, dtype=rows.dtype)
    for r, t, a, b, block in _phase_taps(c, kh, kw, stride):
        w[:, :, r::stride, t::stride] = rows[:, block].reshape(f, c, a, b)
    return w


def _unfolded_image_bytes(x_shape, kh, kw, stride, pad, itemsize):
    """Bytes of one image's unfolded matrix in ``_unfolded_chunks``: (C*KH*KW + 1) rows of OH*WQ."""
    oh, _, _, wq = _plane_size(x_shape, kh, kw, stride, pad)
    return (x_shape[1] * kh * kw + 1) * oh * wq * itemsize


def _images_per_chunk(n, image_bytes):
    """How many of ``n`` images to unfold at once: ``UNFOLD_BUDGET_BYTES`` worth, at least one."""
    return min(n, max(1, UNFOLD_BUDGET_BYTES // image_bytes))


def _unfolded_chunks(x, kh, kw, stride, pad):
    """Yield ``(batch, cols)``: a slice of the batch and its unfolded images (images, C*KH*KW + 1, OH*WQ).

    Rows are taps, phase by phase (``_weights_by_phase`` orders weights alike), then one
    row of ones, the input that the bias multiplies. Column ``p*WQ + q`` is output
    position (p, q); columns with q >= OW are wrap-around, to be dropped. A chunk holds
    at most ``UNFOLD_BUDGET_BYTES`` (but at least one image). All chunks share one
    buffer: use ``cols`` before asking for the next chunk.
    """
    n, c = x.shape[:2]
    oh, _, hq, wq = _plane_size(x.shape, kh, kw, stride, pad)
    planes = _flat_planes(x, kh, kw, stride, pad)
    run = oh * wq
    taps = c * kh * kw
    size = _images_per_chunk(n, _unfolded_image_bytes(x.shape, kh, kw, stride, pad, x.itemsize))
    buffer = np.empty((size, taps + 1, run), dtype=x.dtype)
    buffer[:, taps] = 1.0
    phases = _phase_taps(c, kh, kw, stride)
    for start in range(0, n, size):
        images = planes[start:start + size]
        cols = buffer[:len(images)]
        for r, t, a, b, block in phases:
            # runs[m, c, a, b] = plane[a*WQ + b : a*WQ + b + run] of phase (r, t). as_strided does not
            # check bounds, so check here that the last run ends inside the plane.
            plane = images[:, :, r, t]
            assert (a - 1) * wq + (b - 1) + run <= plane.shape[-1]
            runs = as_strided(plane, shape=(len(images), c, a, b, run),
                              strides=plane.strides[:2] + (wq * x.itemsize, x.itemsize, x.itemsize))
            cols[:, block].reshape(runs.shape)[...] = runs      # the one copy
        yield slice(start, start + size), cols


def _fold_runs_into(planes, d_cols, kh, kw, stride, wq):
    """The adjoint of unfolding: add each tap's row of ``d_cols`` (N, C*KH*KW, run) back onto its run of ``planes``."""
    n, c = planes.shape[:2]
    run = d_cols.shape[2]
    for r, t, rows, cols, block in _phase_taps(c, kh, kw, stride):
        d_taps = d_cols[:, block].reshape(n, c, rows, cols, run)
        for a in range(rows):
            for b in range(cols):
                planes[:, :, r, t, a * wq + b:a * wq + b + run] += d_taps[:, :, a, b]


# -- the forward pass for small weight matrices: row bands -------------------------
#
# Output row p reads the KH input rows s*p ... s*p + KH - 1. So unfold the input one row
# at a time: the band of input row y holds, for every tap column j and output column q,
# the pixel x_pad[c, y, s*q + j] (and a row of ones for the bias). Stacking the bands of
# rows s*p ... s*p + KH - 1 gives the unfolded matrix of output row p, and since the
# bands of consecutive rows are consecutive in memory, that stack is a view: each pixel
# is copied KW times, not KH*KW times.

def _band_image_bytes(x_shape, kh, kw, stride, pad, itemsize):
    """Bytes of one image's bands in ``_row_bands``: H + 2*pad bands of C*KW + 1 rows of OW."""
    _, ow = _output_hw(*x_shape[2:], kh, kw, stride, pad)
    return (x_shape[2] + 2 * pad) * (x_shape[1] * kw + 1) * ow * itemsize


def _row_bands(x, kh, kw, stride, pad):
    """Yield ``(batch, bands)``: a slice of the batch and its bands (images, H + 2*pad, C*KW + 1, OW),

        bands[m, y, c*KW + j, q] = x_pad[m, c, y, s*q + j]        bands[m, y, C*KW, q] = 1

    Chunks as in ``_unfolded_chunks``: at most ``UNFOLD_BUDGET_BYTES`` (at least one image),
    all in one buffer: use ``bands`` before asking for the next chunk.
    """
    n, c, h, w = x.shape
    _, ow = _output_hw(h, w, kh, kw, stride, pad)
    size = _images_per_chunk(n, _band_image_bytes(x.shape, kh, kw, stride, pad, x.itemsize))
    x_pad = np.zeros((size, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype) if pad else None   # the border stays 0
    buffer = np.empty((size, h + 2 * pad, c * kw + 1, ow), dtype=x.dtype)
    buffer[:, :, c * kw] = 1.0
    for start in range(0, n, size):
        images = x[start:start + size]
        if pad:
            x_pad[:len(images), :, pad:pad + h, pad:pad + w] = images
            images = x_pad[:len(images)]
        # pixels[m, y, c, j, q] = images[m, c, y, s*q + j]; the output size keeps s*q + j inside the row.
        image_stride, channel_stride, row_stride, column_stride = images.strides
        pixels = as_strided(images, shape=(len(images), h + 2 * pad, c, kw, ow),
                            strides=(image_stride, row_stride, channel_stride, column_stride, stride * column_stride))
        bands = buffer[:len(images)]
        bands[:, :, :c * kw].reshape(pixels.shape)[...] = pixels     # the one copy
        yield slice(start, start + size), bands


def _band_weights(w, b):
    """The weights as rows (F, KH*(C*KW + 1)) that multiply KH stacked bands: tap (i, c, j) and,
    at the end of each band, the bias (in the first band; 0 in the others)."""
    f, c, kh, kw = w.shape
    rows = np.zeros((f, kh, c * kw + 1), dtype=w.dtype)
    rows[:, :, :c * kw] = w.transpose(0, 2, 1, 3).reshape(f, kh, c * kw)
    if b is not None:
        rows[:, 0, c * kw] = b
    return rows.reshape(f, -1)


def _forward_by_rows(x, w, b, stride, pad):
    """The convolution, one product per image and output row:  out[n, :, p, :] = W @ (bands s*p ... s*p + KH - 1 of n)."""
    n, f = x.shape[0], w.shape[0]
    kh, kw = w.shape[2:]
    oh, ow = _output_hw(*x.shape[2:], kh, kw, stride, pad)
    w_rows = _band_weights(w, b)
    out = np.empty((n, f, oh, ow), dtype=x.dtype)
    for batch, bands in _row_bands(x, kh, kw, stride, pad):
        # stacks[m, p] = the KH bands from row s*p on, as one (KH*(C*KW + 1), OW) matrix: a view.
        stacks = as_strided(bands, shape=(len(bands), oh, w_rows.shape[1], ow),
                            strides=(bands.strides[0], stride * bands.strides[1]) + bands.strides[2:])
        # matmul loops over (m, p) itself; the output view puts those two axes first.
        np.matmul(w_rows, stacks, out=out[batch].transpose(0, 2, 1, 3))
    return out


def _forward_by_images(x, w, b, stride, pad):
    """The convolution, one product per image of its flattened-plane unfolding, then a crop."""
    n, f = x.shape[0], w.shape[0]
    kh, kw = w.shape[2:]
    oh, ow, _, wq = _plane_size(x.shape, kh, kw, stride, pad)
    bias = np.zeros((f, 1), dtype=x.dtype) if b is None else b.reshape(f, 1)
    w_rows = np.concatenate([_weights_by_phase(w, stride), bias], axis=1)     # (F, C*KH*KW + 1)
    out = np.empty((n, f, oh, ow), dtype=x.dtype)
    for batch, x_cols in _unfolded_chunks(x, kh, kw, stride, pad):
        wide = np.matmul(w_rows, x_cols).reshape(len(x_cols), f, oh, wq)
        out[batch] = wide[..., :ow]                                   # drop the wrap-around columns
    return out


def _conv2d_forward(x, w, b, stride, pad):
    """The convolution of checked arrays, computed in their dtype."""
    f, c, kh, kw = w.shape
    if f * (c * kh * kw + 1) <= ROW_PRODUCT_MAX_WEIGHTS:
        return _forward_by_rows(x, w, b, stride, pad)
    return _forward_by_images(x, w, b, stride, pad)


def _wide_dout_chunks(dout, wq, size):
    """Yield ``(batch, d_rows)``: ``size`` images of dout at a time as rows (images, F, OH*WQ),
    with zeros in the wrap-around columns q >= OW (the layout of ``_unfolded_chunks``).
    All chunks share one buffer: use ``d_rows`` before asking for the next chunk."""
    n, f, oh, ow = dout.shape
    buffer = np.zeros((min(n, size), f, oh, wq), dtype=dout.dtype)   # the wrap-around columns stay 0
    for start in range(0, n, size):
        images = dout[start:start + size]
        chunk = buffer[:len(images)]
        chunk[..., :ow] = images
        yield slice(start, start + size), chunk.reshape(len(images), f, oh * wq)


def _weight_grad(dout, x, w, stride, pad):
    """dw (F, C, KH, KW): per image, ``dw.T += X @ D.T``, with ``X`` its unfolded matrix without the
    row of ones (C*KH*KW, OH*WQ) and ``D`` its dout with zeros in the wrap-around columns (F, OH*WQ)."""
    kh, kw = w.shape[2:]
    _, _, _, wq = _plane_size(x.shape, kh, kw, stride, pad)
    taps = x.shape[1] * kh * kw
    dw_columns = np.zeros((taps, w.shape[0]), dtype=x.dtype)                  # dw.T
    size = _images_per_chunk(x.shape[0], _unfolded_image_bytes(x.shape, kh, kw, stride, pad, x.itemsize))
    # Both generators make chunks of ``size`` images: the same images, side by side.
    for (_, x_cols), (_, d_rows) in zip(_unfolded_chunks(x, kh, kw, stride, pad), _wide_dout_chunks(dout, wq, size)):
        # X @ D.T rather than D @ X.T: the same numbers, and measured ~25% faster in BLAS.
        dw_columns += (x_cols[:, :taps] @ d_rows.transpose(0, 2, 1)).sum(axis=0)
    return _weights_from_phases(dw_columns.T, w.shape, stride)


def _input_grad_by_correlation(dout, w, pad):
    """dx of a stride-1 convolution: the full correlation of dout with the flipped kernel, which
    is a convolution too, of dout padded by KH-1-pad rows and KW-1-pad columns (cropped if negative):

        dx[n, c, y, z] = sum_{f,i,j} dout_pad[n, f, y + i, z + j] * w[f, c, KH-1-i, KW-1-j]
    """
    kh, kw = w.shape[2:]
    rows, cols = kh - 1 - pad, kw - 1 - pad
    flipped = w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]                      # (C, F, KH, KW)
    if rows == cols >= 0:
        return _conv2d_forward(dout, flipped, None, 1, rows)                  # it pads as it unfolds
    # A pad above KH-1 gives output rows whose windows hold only padding: they reach no pixel of x.
    crop_rows, crop_cols = max(0, -rows), max(0, -cols)
    d = dout[:, :, crop_rows:dout.shape[2] - crop_rows, crop_cols:dout.shape[3] - crop_cols]
    d_pad = np.pad(d, ((0, 0), (0, 0), (max(0, rows),) * 2, (max(0, cols),) * 2))
    return _conv2d_forward(d_pad, flipped, None, 1, 0)


def _input_grad_by_folding(dout, w, x_shape, stride, pad):
    """dx, per image: ``fold(W.T @ D)``, with ``W`` the weight rows (F, C*KH*KW) and ``D`` as in
    ``_weight_grad``: each tap's row of the product is added back onto its run of the plane."""
    n, c, h, wd = x_shape
    kh, kw = w.shape[2:]
    _, _, hq, wq = _plane_size(x_shape, kh, kw, stride, pad)
    w_rows = _weights_by_phase(w, stride)                                     # (F, C*KH*KW)
    size = _images_per_chunk(n, _unfolded_image_bytes(x_shape, kh, kw, stride, pad, dout.itemsize))
    d_cols = np.empty((min(n, size), w_rows.shape[1], dout.shape[2] * wq), dtype=dout.dtype)
    d_planes = np.zeros((n, c, stride, stride, hq * wq), dtype=dout.dtype)
    for batch, d_rows in _wide_dout_chunks(dout, wq, size):
        chunk = np.matmul(w_rows.T, d_rows, out=d_cols[:len(d_rows)])
        _fold_runs_into(d_planes[batch], chunk, kh, kw, stride, wq)
    phases = d_planes.reshape(n, c, stride, stride, hq, wq).transpose(0, 1, 4, 2, 5, 3)
    dx_pad = phases.reshape(n, c, hq * stride, wq * stride)
    return dx_pad[:, :, pad:pad + h, pad:pad + wd]


def _conv2d_backward(dout, x, w, stride, pad):
    """``(dx, dw, db)`` of checked arrays, computed in their dtype."""
    if stride == 1:
        dx = _input_grad_by_correlation(dout, w, pad)
    else:
        dx = _input_grad_by_folding(dout, w, x.shape, stride, pad)
    return dx, _weight_grad(dout, x, w, stride, pad), dout.sum(axis=(0, 2, 3))


def conv2d_forward(x, w, b, stride=1, pad=0):
    """2-D convolution (cross-correlation) of NCHW ``x`` with ``w`` (F, C, KH, KW) plus ``b`` (F,).

    ``b=None`` is a layer without bias. Returns (N, F, OH, OW) in float64; equals
    ``torch.nn.functional.conv2d(x, w, b, stride, pad)``.
    """
    x, w, b, stride, pad = _check_conv_args(x, w, b, stride, pad)
    return _conv2d_forward(x, w, b, stride, pad)


def _without_bias_gradient(grads, b):
    """``(dx, dw, db)`` with ``db = None`` when the layer has no bias (``b is None``), as in PyTorch."""
    dx, dw, db = grads
    return dx, dw, (None if b is None else db)


def conv2d_backward(dout, x, w, b, stride=1, pad=0):
    """Gradients of a convolution: returns ``(dx, dw, db)`` of the shapes of ``x, w, b``, in float64.

    With ``X = im2col(x)`` and ``D`` = dout as rows (N*OH*OW, F):
    ``dw = D.T @ X``,  ``db = sum of D over rows``,  ``dx = col2im(D @ W)``.
    ``b=None`` (no bias) gives ``db = None``.
    """
    x, w, b, stride, pad = _check_conv_args(x, w, b, stride, pad)
    return _without_bias_gradient(_conv2d_backward(_check_dout(dout, x, w, stride, pad), x, w, stride, pad), b)


def conv2d_forward_keep_dtype(x, w, b, stride=1, pad=0):
    """``conv2d_forward`` computed in the inputs' dtype: float32 if x, w (and b) are all float32.

    Not graded (graded functions return float64): for training and benchmarks, where
    float32 halves the memory traffic and runs the matrix products about twice as fast.
    """
    x, w, b, stride, pad = _check_conv_args(x, w, b, stride, pad, _float_dtype(x, w, b))
    return _conv2d_forward(x, w, b, stride, pad)


def conv2d_backward_keep_dtype(dout, x, w, b, stride=1, pad=0):
    """``conv2d_backward`` computed in the dtype of ``conv2d_forward_keep_dtype(x, w, b)``."""
    x, w, b, stride, pad = _check_conv_args(x, w, b, stride, pad, _float_dtype(x, w, b))
    return _without_bias_gradient(_conv2d_backward(_check_dout(dout, x, w, stride, pad), x, w, stride, pad), b)


def kernel_grad_single(x, dout):
    """dL/dk for ``out = correlate2d_matmul(x, k)`` (2-D, valid): the correlation of ``x`` with ``dout``.

    x (H, W), dout (OH, OW)  ->  dk (H-OH+1, W-OW+1) = (KH, KW)
    """
    x, dout = _check_correlation_args(x, dout, k_name="dout")     # dout is checked against x
    return correlate2d_matmul(x, dout)


def input_grad_single(dout, k):
    """dL/dx for ``out = correlate2d_matmul(x, k)``: the full convolution of ``dout`` with ``k``.

    A full convolution is a valid correlation of the zero-padded ``dout`` with
    the kernel rotated by 180 degrees.
    """
    dout = _nonempty(dout, "dout", 2)
    k = _nonempty(k, "k", 2)
    kh, kw = k.shape
    dout_pad = np.pad(dout, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return correlate2d_matmul(dout_pad, k[::-1, ::-1])


def conv_transpose2d(x, w, stride=1, pad=0):
    """Transposed convolution: ``x`` (N, C_in, H, W), ``w`` (C_in, C_out, KH, KW).

    It is the input gradient of a convolution with weights ``w`` (viewed as
    F=C_in, C=C_out), so the output has size ``(H-1)*stride - 2*pad + KH``.
    Equals ``torch.nn.functional.conv_transpose2d(x, w, None, stride, pad)``.
    """
    x = _nonempty(x, "x", 4)
    w = _nonempty(w, "w", 4)
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"w has {w.shape[0]} input channels but x has {x.shape[1]} (x.shape={x.shape}, w.shape={w.shape})")
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    n, c_in, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    out_h = (h - 1) * stride - 2 * pad + kh
    out_w = (wd - 1) * stride - 2 * pad + kw
    if out_h < 1 or out_w < 1:
        raise ValueError(f"pad={pad} is too large: the output would be {out_h}x{out_w}")
    cols = w.reshape(c_in, -1).T @ x.reshape(n, c_in, h * wd)      # (N, C_out*KH*KW, H*W)
    return _fold(cols, (n, c_out, out_h, out_w), kh, kw, stride, pad)


def conv_param_count(c_in, c_out, kh, kw, bias=True):
    """Learnable parameters of a conv layer: ``c_out * c_in * kh * kw`` weights (+ ``c_out`` biases)."""
    for value, name in ((c_in, "c_in"), (c_out, "c_out"), (kh, "kh"), (kw, "kw")):
        check_int(value, name, 1)
    return c_out * c_in * kh * kw + (c_out if bias else 0)


def conv_macs(c_in, c_out, kh, kw, oh, ow):
    """Multiply-accumulates of one image: each of the ``c_out*oh*ow`` outputs costs ``c_in*kh*kw``."""
    for value, name in ((c_in, "c_in"), (c_out, "c_out"), (kh, "kh"), (kw, "kw"), (oh, "oh"), (ow, "ow")):
        check_int(value, name, 1)
    return c_out * oh * ow * c_in * kh * kw
