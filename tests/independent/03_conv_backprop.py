# Independent answers to 03_conv_backprop, written from the released notebook only.
# (The notebook allows coursekit's im2col/col2im; these answers use their own helpers instead.)
# %% kernel_grad_single
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def kernel_grad_single(x, dout):
    """dL/dk for ``out = correlate2d_valid(x, k)`` (2-D, stride 1, no padding).

    x: (H, W) input;  dout: (OH, OW) = dL/dout, so k has shape (H - OH + 1, W - OW + 1)
    Returns dk (KH, KW), float64: the valid correlation of x with dout.
    Raises ValueError naming x or dout if one is not 2-D or dout is larger than x.
    """
    image = np.asarray(x, dtype=np.float64)
    g = np.asarray(dout, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"x must be 2-D, got shape {image.shape}")
    if g.ndim != 2:
        raise ValueError(f"dout must be 2-D, got shape {g.shape}")
    if g.shape[0] > image.shape[0] or g.shape[1] > image.shape[1]:
        raise ValueError(f"dout of shape {g.shape} is larger than x of shape {image.shape}")
    windows = sliding_window_view(image, g.shape)        # (KH, KW, OH, OW)
    return np.einsum("ijpq,pq->ij", windows, g)


# %% input_grad_single
import numpy as np


def input_grad_single(dout, k):
    """dL/dx for ``out = correlate2d_valid(x, k)`` (2-D, stride 1, no padding).

    dout: (OH, OW) = dL/dout;  k: (KH, KW) the kernel
    Returns dx (OH + KH - 1, OW + KW - 1), float64: the full convolution of dout with k,
    i.e. the valid correlation of dout zero-padded by (KH - 1, KW - 1) with k rotated by 180 degrees.
    Raises ValueError naming dout or k if one is not 2-D.
    """
    g = np.asarray(dout, dtype=np.float64)
    kernel = np.asarray(k, dtype=np.float64)
    if g.ndim != 2:
        raise ValueError(f"dout must be 2-D, got shape {g.shape}")
    if kernel.ndim != 2:
        raise ValueError(f"k must be 2-D, got shape {kernel.shape}")
    OH, OW = g.shape
    KH, KW = kernel.shape
    dx = np.zeros((OH + KH - 1, OW + KW - 1))
    # Every kernel tap (i, j) met the pixels x[p + i, q + j] for all outputs (p, q).
    for i in range(KH):
        for j in range(KW):
            dx[i:i + OH, j:j + OW] += kernel[i, j] * g
    return dx


# %% conv2d_backward
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided


def _size_arg(value, name, minimum):
    """A stride or pad: an integer (not a bool) >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _window_view(x_pad, kh, kw, stride, oh, ow):
    """Read-only view (N, OH, OW, C, KH, KW) of the windows of a padded batch."""
    sn, sc, sh, sw = x_pad.strides
    n, c = x_pad.shape[:2]
    return as_strided(x_pad, shape=(n, oh, ow, c, kh, kw),
                      strides=(sn, sh * stride, sw * stride, sc, sh, sw), writeable=False)


def conv2d_backward(dout, x, w, b, stride=1, pad=0):
    """Gradients of ``out = conv2d_forward(x, w, b, stride, pad)``.

    dout: (N, F, OH, OW) = dL/dout
    x: (N, C, H, W);  w: (F, C, KH, KW);  b: (F,)
    Returns (dx, dw, db) with the shapes of x, w and b, float64.
    Raises ValueError naming x or w if one is not 4-D or their channels differ.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    g = np.asarray(dout, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"w must be 4-D (F, C, KH, KW), got shape {w.shape}")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w has {w.shape[1]} input channels but x has {x.shape[1]}")
    stride = _size_arg(stride, "stride", 1)
    pad = _size_arg(pad, "pad", 0)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    if KH > H + 2 * pad or KW > W + 2 * pad:
        raise ValueError(f"w's kernel {KH}x{KW} does not fit in the padded input {H + 2 * pad}x{W + 2 * pad}")
    OH = (H + 2 * pad - KH) // stride + 1
    OW = (W + 2 * pad - KW) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = _window_view(x_pad, KH, KW, stride, OH, OW)

    db = g.sum(axis=(0, 2, 3))
    dw = np.einsum("nfpq,npqcij->fcij", g, windows)
    dcols = np.einsum("nfpq,fcij->ncijpq", g, w)              # the gradient of every window copy
    dx_pad = np.zeros_like(x_pad)
    for i in range(KH):
        for j in range(KW):
            dx_pad[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride] += dcols[:, :, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W].copy()
    return dx, dw, db


# %% conv_transpose2d
import numbers

import numpy as np


def conv_transpose2d(x, w, stride=1, pad=0):
    """Transposed convolution: the input gradient of a convolution, used as a layer.

    x: (N, C_in, H, W);  w: (C_in, C_out, KH, KW)
    Returns (N, C_out, (H - 1)*stride - 2*pad + KH, (W - 1)*stride - 2*pad + KW), float64;
    equals torch.nn.functional.conv_transpose2d(x, w, None, stride, pad).
    Raises ValueError naming x, w, stride or pad when they do not fit.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, C_in, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"w must be 4-D (C_in, C_out, KH, KW), got shape {w.shape}")
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"w has {w.shape[0]} input channels (axis 0) but x has {x.shape[1]}")
    for name, value, minimum in (("stride", stride, 1), ("pad", pad, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    N, C_in, H, W = x.shape
    _, C_out, KH, KW = w.shape
    full_h, full_w = (H - 1) * stride + KH, (W - 1) * stride + KW
    out_h, out_w = full_h - 2 * pad, full_w - 2 * pad
    if out_h < 1 or out_w < 1:
        raise ValueError(f"pad = {pad} is too large: the output would be {out_h}x{out_w}")
    canvas = np.zeros((N, C_out, full_h, full_w))
    # Every input pixel stamps its scaled kernel, stride pixels apart; tap (i, j) of all stamps at once.
    for i in range(KH):
        for j in range(KW):
            canvas[:, :, i:i + stride * (H - 1) + 1:stride, j:j + stride * (W - 1) + 1:stride] += \
                np.einsum("nchw,cf->nfhw", x, w[:, :, i, j])
    return canvas[:, :, pad:pad + out_h, pad:pad + out_w].copy()
