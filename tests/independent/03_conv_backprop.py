# Independent answers to 03_conv_backprop, written from the released notebook only.
# (The notebook allows coursekit.nn's im2col, col2im and conv2d_forward; conv2d_backward uses its own
# stride-trick helpers instead, conv_transpose2d uses the allowed col2im.)
# %% kernel_grad_single
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def kernel_grad_single(x, dout):
    """dL/dk for ``out = correlate2d_valid(x, k)`` (2-D, stride 1, no padding).

    x: (H, W) input;  dout: (OH, OW) = dL/dout, so k has shape (H - OH + 1, W - OW + 1)
    Returns dk (KH, KW), float64: the valid correlation of x with dout.
    Raises ValueError naming x (not 2-D, empty) or dout (not 2-D, empty, larger than x).
    """
    image = np.asarray(x, dtype=np.float64)
    g = np.asarray(dout, dtype=np.float64)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"x must be a non-empty 2-D array, got shape {image.shape}")
    if g.ndim != 2 or g.size == 0:
        raise ValueError(f"dout must be a non-empty 2-D array, got shape {g.shape}")
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
    Raises ValueError naming dout or k if one is not 2-D or is empty.
    """
    g = np.asarray(dout, dtype=np.float64)
    kernel = np.asarray(k, dtype=np.float64)
    if g.ndim != 2 or 0 in g.shape:
        raise ValueError(f"dout must be 2-D and non-empty, got shape {g.shape}")
    if kernel.ndim != 2 or 0 in kernel.shape:
        raise ValueError(f"k must be 2-D and non-empty, got shape {kernel.shape}")
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
    x: (N, C, H, W);  w: (F, C, KH, KW);  b: (F,) or None (no bias)
    Returns (dx, dw, db) with the shapes of x, w and b, float64; db is None when b is None.
    Raises ValueError naming x, w (not 4-D, empty, channels differ, kernel too large), b, stride,
    pad, or dout (not the output's shape).
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    g = np.asarray(dout, dtype=np.float64)
    if x.ndim != 4 or x.size == 0:
        raise ValueError(f"x must be a non-empty 4-D array (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4 or w.size == 0:
        raise ValueError(f"w must be a non-empty 4-D array (F, C, KH, KW), got shape {w.shape}")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w has {w.shape[1]} input channels but x has {x.shape[1]}")
    if b is not None and np.shape(b) != (w.shape[0],):
        raise ValueError(f"b must be None or have shape ({w.shape[0]},), got {np.shape(b)}")
    stride = _size_arg(stride, "stride", 1)
    pad = _size_arg(pad, "pad", 0)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    if KH > H + 2 * pad or KW > W + 2 * pad:
        raise ValueError(f"w's kernel {KH}x{KW} does not fit in the padded input {H + 2 * pad}x{W + 2 * pad}")
    OH = (H + 2 * pad - KH) // stride + 1
    OW = (W + 2 * pad - KW) // stride + 1
    if g.shape != (N, F, OH, OW):
        raise ValueError(f"dout must have the output's shape {(N, F, OH, OW)}, got {g.shape}")
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = _window_view(x_pad, KH, KW, stride, OH, OW)

    db = None if b is None else g.sum(axis=(0, 2, 3))
    dw = np.einsum("nfpq,npqcij->fcij", g, windows)
    dcols = np.einsum("nfpq,fcij->ncijpq", g, w)              # the gradient of every window copy
    dx_pad = np.zeros_like(x_pad)
    for i in range(KH):
        for j in range(KW):
            dx_pad[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride] += dcols[:, :, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W].copy()
    return dx, dw, db


# %% conv_transpose2d
import numpy as np


def conv_transpose2d(x, w, stride=1, pad=0):
    """Transposed convolution: the input gradient of a convolution, used as a layer.

    x: (N, C_in, H, W);  w: (C_in, C_out, KH, KW)
    Returns (N, C_out, (H - 1)*stride - 2*pad + KH, (W - 1)*stride - 2*pad + KW), float64;
    equals torch.nn.functional.conv_transpose2d(x, w, None, stride, pad).
    Raises ValueError naming x, w (not 4-D, empty, w.shape[0] != x.shape[1]), stride or pad
    (not an integer, out of range, or an empty output).
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if x.ndim != 4 or x.size == 0:
        raise ValueError(f"x must be a non-empty 4-D array (N, C_in, H, W), got shape {x.shape}")
    if w.ndim != 4 or w.size == 0:
        raise ValueError(f"w must be a non-empty 4-D array (C_in, C_out, KH, KW), got shape {w.shape}")
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"w has {w.shape[0]} input channels (axis 0) but x has {x.shape[1]}")
    stride = check_int(stride, "stride", 1)          # from the setup cell
    pad = check_int(pad, "pad", 0)
    N, C_in, H, W = x.shape
    _, C_out, KH, KW = w.shape
    out_h, out_w = (H - 1) * stride - 2 * pad + KH, (W - 1) * stride - 2 * pad + KW
    if out_h < 1 or out_w < 1:
        raise ValueError(f"pad = {pad} is too large: the output would be {out_h}x{out_w}")
    # x plays dout of a convolution with weights w viewed as (F = C_in, C = C_out, KH, KW):
    # its (N*H*W, C_in) rows times w.reshape(C_in, -1) are the unfolded input gradient.
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C_in) @ w.reshape(C_in, -1)
    return col2im(rows, (N, C_out, out_h, out_w), KH, KW, stride, pad)
