"""Convolution as matrix multiplication: the reference layers of notebooks 01 and 03.

Shapes (NCHW):  x (N, C, H, W),  w (F, C, KH, KW),  b (F,),  out (N, F, OH, OW).
"Convolution" is cross-correlation, as in every deep-learning framework:

    out[n, f, p, q] = b[f] + sum_{c,i,j} w[f, c, i, j] * x_pad[n, c, p*s + i, q*s + j]
"""

import numpy as np

from ._checks import as_float_array, check_int

__all__ = [
    "conv_output_size",
    "correlate2d_loops",
    "unfold_matrix",
    "correlate2d_matmul",
    "im2col",
    "col2im",
    "conv2d_forward",
    "conv2d_backward",
    "kernel_grad_single",
    "input_grad_single",
    "conv_transpose2d",
    "conv_param_count",
    "conv_macs",
]


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
        raise ValueError(f"k={k} (span {span} with dilation={dilation}) is larger than the padded input n + 2*pad = {n + 2 * pad}")
    return (n + 2 * pad - span) // stride + 1


def _output_hw(h, w, kh, kw, stride=1, pad=0):
    """(OH, OW) of a ``kh`` x ``kw`` window sliding over an ``h`` x ``w`` input."""
    kh = check_int(kh, "kh", 1)
    kw = check_int(kw, "kw", 1)
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    if kh > h + 2 * pad or kw > w + 2 * pad:
        raise ValueError(f"kernel kh={kh}, kw={kw} does not fit the padded input {h + 2 * pad}x{w + 2 * pad} (pad={pad})")
    return conv_output_size(h, kh, stride, pad), conv_output_size(w, kw, stride, pad)


def correlate2d_loops(x, k):
    """2-D valid cross-correlation of ``x`` (H, W) with ``k`` (KH, KW), one output at a time.

        out[p, q] = sum_{i, j} x[p + i, q + j] * k[i, j]        out: (H-KH+1, W-KW+1)
    """
    x = as_float_array(x, "x", 2)
    k = as_float_array(k, "k", 2)
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
    x = as_float_array(x, "x", 2)
    oh, ow = _output_hw(*x.shape, kh, kw)
    rows = np.empty((oh, ow, kh, kw))
    for i in range(kh):
        for j in range(kw):
            # Kernel tap (i, j) sees the pixel (p + i, q + j) of every window (p, q).
            rows[:, :, i, j] = x[i:i + oh, j:j + ow]
    return rows.reshape(oh * ow, kh * kw)


def correlate2d_matmul(x, k):
    """The same result as ``correlate2d_loops``: unfold, then one matrix-vector product."""
    x = as_float_array(x, "x", 2)
    k = as_float_array(k, "k", 2)
    kh, kw = k.shape
    oh, ow = _output_hw(*x.shape, kh, kw)
    return (unfold_matrix(x, kh, kw) @ k.ravel()).reshape(oh, ow)


def im2col(x, kh, kw, stride=1, pad=0):
    """Unfold NCHW ``x`` into a matrix (N*OH*OW, C*KH*KW).

    Rows are ordered (n, oh, ow) and columns (c, i, j), so that
    ``im2col(x, KH, KW) @ w.reshape(F, -1).T`` is the convolution.
    """
    x = as_float_array(x, "x", 4)
    n, c, h, w = x.shape
    oh, ow = _output_hw(h, w, kh, kw, stride, pad)
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, oh, ow, c, kh, kw))
    for i in range(kh):
        for j in range(kw):
            # Tap (i, j) of the window at (p, q) is x_pad[:, :, p*stride + i, q*stride + j].
            taps = x_pad[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]     # (N, C, OH, OW)
            cols[..., i, j] = taps.transpose(0, 2, 3, 1)
    return cols.reshape(n * oh * ow, c * kh * kw)


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
    cols = cols.reshape(n, oh, ow, c, kh, kw)
    x_pad = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
    for i in range(kh):
        for j in range(kw):
            x_pad[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += cols[..., i, j].transpose(0, 3, 1, 2)
    return x_pad[:, :, pad:pad + h, pad:pad + w]


def _check_conv_args(x, w, b):
    x = as_float_array(x, "x", 4)
    w = as_float_array(w, "w", 4)
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w has {w.shape[1]} input channels but x has {x.shape[1]} (x.shape={x.shape}, w.shape={w.shape})")
    if b is not None:
        b = as_float_array(b, "b", 1)
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    return x, w, b


def conv2d_forward(x, w, b, stride=1, pad=0):
    """2-D convolution (cross-correlation) of NCHW ``x`` with ``w`` (F, C, KH, KW) plus ``b`` (F,).

    Returns (N, F, OH, OW); equals ``torch.nn.functional.conv2d(x, w, b, stride, pad)``.
    """
    x, w, b = _check_conv_args(x, w, b)
    n = x.shape[0]
    f, _, kh, kw = w.shape
    oh, ow = _output_hw(*x.shape[2:], kh, kw, stride, pad)
    out = im2col(x, kh, kw, stride, pad) @ w.reshape(f, -1).T      # (N*OH*OW, F)
    if b is not None:
        out += b
    return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2)


def conv2d_backward(dout, x, w, b, stride=1, pad=0):
    """Gradients of a convolution: returns ``(dx, dw, db)`` of the shapes of ``x, w, b``.

    With ``X = im2col(x)`` and ``D`` = dout as rows (N*OH*OW, F):
    ``dw = D.T @ X``,  ``db = sum of D over rows``,  ``dx = col2im(D @ W)``.
    """
    x, w, b = _check_conv_args(x, w, b)
    f, _, kh, kw = w.shape
    oh, ow = _output_hw(*x.shape[2:], kh, kw, stride, pad)
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != (x.shape[0], f, oh, ow):
        raise ValueError(f"dout must have shape {(x.shape[0], f, oh, ow)}, got {dout.shape}")
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = (dout_rows.T @ im2col(x, kh, kw, stride, pad)).reshape(w.shape)
    db = dout_rows.sum(axis=0)
    dx = col2im(dout_rows @ w.reshape(f, -1), x.shape, kh, kw, stride, pad)
    return dx, dw, db


def kernel_grad_single(x, dout):
    """dL/dk for ``out = correlate2d_matmul(x, k)`` (2-D, valid): the correlation of ``x`` with ``dout``.

    x (H, W), dout (OH, OW)  ->  dk (H-OH+1, W-OW+1) = (KH, KW)
    """
    x = as_float_array(x, "x", 2)
    dout = as_float_array(dout, "dout", 2)
    if dout.shape[0] > x.shape[0] or dout.shape[1] > x.shape[1]:
        raise ValueError(f"dout of shape {dout.shape} is larger than x of shape {x.shape}")
    return correlate2d_matmul(x, dout)


def input_grad_single(dout, k):
    """dL/dx for ``out = correlate2d_matmul(x, k)``: the full convolution of ``dout`` with ``k``.

    A full convolution is a valid correlation of the zero-padded ``dout`` with
    the kernel rotated by 180 degrees.
    """
    k = as_float_array(k, "k", 2)
    dout = as_float_array(dout, "dout", 2)
    kh, kw = k.shape
    dout_pad = np.pad(dout, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return correlate2d_matmul(dout_pad, k[::-1, ::-1])


def conv_transpose2d(x, w, stride=1, pad=0):
    """Transposed convolution: ``x`` (N, C_in, H, W), ``w`` (C_in, C_out, KH, KW).

    It is the input gradient of a convolution with weights ``w`` (viewed as
    F=C_in, C=C_out), so the output has size ``(H-1)*stride - 2*pad + KH``.
    Equals ``torch.nn.functional.conv_transpose2d(x, w, None, stride, pad)``.
    """
    x = as_float_array(x, "x", 4)
    w = as_float_array(w, "w", 4)
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
    x_rows = x.transpose(0, 2, 3, 1).reshape(-1, c_in)
    return col2im(x_rows @ w.reshape(c_in, -1), (n, c_out, out_h, out_w), kh, kw, stride, pad)


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
