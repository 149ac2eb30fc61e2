# Independent answers to 01_conv_as_matmul, written from the released notebook only.
# %% conv_output_size
import numbers


def conv_output_size(n, k, stride=1, pad=0, dilation=1):
    """Output length of a convolution along one axis (PyTorch's formula).

    n: input length, k: kernel length, stride, pad (zeros on each side), dilation: integers.
    Returns floor((n + 2*pad - dilation*(k - 1) - 1) / stride) + 1, an integer.
    Raises ValueError naming the argument if one is not an integer or out of range, and naming k
    if the dilated kernel does not fit in the padded input.
    """
    lowest = {"n": (n, 1), "k": (k, 1), "stride": (stride, 1), "pad": (pad, 0), "dilation": (dilation, 1)}
    for name, (value, minimum) in lowest.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    span = dilation * (k - 1) + 1          # pixels the dilated kernel covers
    padded = n + 2 * pad
    if span > padded:
        raise ValueError(f"k = {k} (dilation {dilation}, spanning {span} pixels) does not fit "
                         f"in the padded input of length {padded}")
    return int((padded - span) // stride + 1)


# %% correlate2d_loops
import numpy as np


def correlate2d_loops(x, k):
    """Valid 2-D cross-correlation with explicit loops.

    x: (H, W), k: (KH, KW)  ->  out: (H-KH+1, W-KW+1), float64
    out[p, q] = sum over i, j of x[p + i, q + j] * k[i, j]
    Raises ValueError naming x (not 2-D, empty) or k (not 2-D, empty, larger than x).
    """
    image = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(k, dtype=np.float64)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"x must be a non-empty 2-D array, got shape {image.shape}")
    if kernel.ndim != 2 or kernel.size == 0:
        raise ValueError(f"k must be a non-empty 2-D array, got shape {kernel.shape}")
    H, W = image.shape
    KH, KW = kernel.shape
    if KH > H or KW > W:
        raise ValueError(f"k of shape {kernel.shape} is larger than x of shape {image.shape}")
    out = np.empty((H - KH + 1, W - KW + 1))
    for p in range(out.shape[0]):
        for q in range(out.shape[1]):
            total = 0.0
            for i in range(KH):
                for j in range(KW):
                    total += image[p + i, q + j] * kernel[i, j]
            out[p, q] = total
    return out


# %% unfold_matrix
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def unfold_matrix(x, kh, kw):
    """The windows of a 2-D image as rows of a matrix.

    x: (H, W)  ->  U: ((H-kh+1) * (W-kw+1), kh*kw), float64
    Row r is the window at output position (r // OW, r % OW), flattened row by row:
    U[p*OW + q, i*kw + j] = x[p + i, q + j].
    Raises ValueError naming x (not 2-D, empty), kh or kw (not an integer >= 1, larger than H or W).
    """
    image = np.asarray(x, dtype=np.float64)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"x must be a non-empty 2-D array, got shape {image.shape}")
    for name, size, limit in (("kh", kh, image.shape[0]), ("kw", kw, image.shape[1])):
        size = check_int(size, name, 1)                     # from the setup cell
        if size > limit:
            raise ValueError(f"{name} = {size} is larger than the input ({limit})")
    kh, kw = int(kh), int(kw)
    windows = sliding_window_view(image, (kh, kw))          # (OH, OW, kh, kw), a read-only view
    oh, ow = windows.shape[:2]
    return np.ascontiguousarray(windows).reshape(oh * ow, kh * kw).copy()


# %% correlate2d_matmul
import numpy as np


def correlate2d_matmul(x, k):
    """Valid 2-D cross-correlation as one matrix-vector product.

    x: (H, W), k: (KH, KW)  ->  (H-KH+1, W-KW+1), float64: unfold_matrix(x, KH, KW) @ k.ravel(), reshaped.
    Raises ValueError naming x (not 2-D, empty) or k (not 2-D, empty, larger than x).
    """
    image = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(k, dtype=np.float64)
    if image.ndim != 2 or 0 in image.shape:
        raise ValueError(f"x must be 2-D and non-empty, got shape {image.shape}")
    if kernel.ndim != 2 or 0 in kernel.shape:
        raise ValueError(f"k must be 2-D and non-empty, got shape {kernel.shape}")
    H, W = image.shape
    KH, KW = kernel.shape
    if KH > H or KW > W:
        raise ValueError(f"k of shape {kernel.shape} does not fit in x of shape {image.shape}")
    U = unfold_matrix(image, KH, KW)
    return np.einsum("rt,t->r", U, kernel.reshape(-1)).reshape(H - KH + 1, W - KW + 1)


# %% im2col
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def im2col(x, kh, kw, stride=1, pad=0):
    """Unfold a batch of images into one matrix.

    x: (N, C, H, W)  ->  X: (N*OH*OW, C*KH*KW), float64
    Rows are ordered (n, oh, ow), columns (c, i, j):
    X[(n*OH + oh)*OW + ow, (c*KH + i)*KW + j] = x_pad[n, c, oh*stride + i, ow*stride + j]
    Raises ValueError naming x (not 4-D, empty), kh, kw, stride or pad (not an integer, out of
    range), kh or kw (larger than the padded image).
    """
    images = np.asarray(x, dtype=np.float64)
    if images.ndim != 4 or images.size == 0:
        raise ValueError(f"x must be a non-empty 4-D array (N, C, H, W), got shape {images.shape}")
    for name, value, minimum in (("kh", kh, 1), ("kw", kw, 1), ("stride", stride, 1), ("pad", pad, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    kh, kw, stride, pad = int(kh), int(kw), int(stride), int(pad)
    N, C, H, W = images.shape
    if kh > H + 2 * pad:
        raise ValueError(f"kh = {kh} is larger than the padded height {H + 2 * pad}")
    if kw > W + 2 * pad:
        raise ValueError(f"kw = {kw} is larger than the padded width {W + 2 * pad}")
    OH = conv_output_size(H, kh, stride, pad)
    OW = conv_output_size(W, kw, stride, pad)
    padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    # (N, C, H+2p-kh+1, W+2p-kw+1, kh, kw), then every stride-th window start.
    windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :OH, :OW]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * kh * kw).copy()


# %% col2im
import numbers

import numpy as np


def col2im(cols, x_shape, kh, kw, stride=1, pad=0):
    """The adjoint of im2col: add every row entry back onto the pixel it came from.

    cols: (N*OH*OW, C*KH*KW), x_shape: (N, C, H, W)  ->  (N, C, H, W), float64
    Overlapping windows sum; entries that came from the zero padding are dropped.
    Raises ValueError naming x_shape, kh, kw, stride, pad (as im2col) or cols (wrong shape).
    """
    try:
        sizes = list(x_shape)
    except TypeError:
        raise ValueError(f"x_shape must be a sequence of 4 integers (N, C, H, W), got {x_shape!r}") from None
    if len(sizes) != 4 or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
        raise ValueError(f"x_shape must hold 4 integers >= 1 (N, C, H, W), got {x_shape!r}")
    N, C, H, W = (int(s) for s in sizes)
    for name, value, minimum in (("kh", kh, 1), ("kw", kw, 1), ("stride", stride, 1), ("pad", pad, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    kh, kw, stride, pad = int(kh), int(kw), int(stride), int(pad)
    if kh > H + 2 * pad:
        raise ValueError(f"kh = {kh} is larger than the padded height {H + 2 * pad}")
    if kw > W + 2 * pad:
        raise ValueError(f"kw = {kw} is larger than the padded width {W + 2 * pad}")
    OH = conv_output_size(H, kh, stride, pad)
    OW = conv_output_size(W, kw, stride, pad)
    rows = np.asarray(cols, dtype=np.float64)
    if rows.shape != (N * OH * OW, C * kh * kw):
        raise ValueError(f"cols must have shape {(N * OH * OW, C * kh * kw)} for x_shape {tuple(sizes)}, "
                         f"got {rows.shape}")
    # Padded coordinates of every entry of the 6-D layout (N, OH, OW, C, KH, KW).
    n = np.arange(N)[:, None, None, None, None, None]
    oh = np.arange(OH)[None, :, None, None, None, None]
    ow = np.arange(OW)[None, None, :, None, None, None]
    c = np.arange(C)[None, None, None, :, None, None]
    i = np.arange(kh)[None, None, None, None, :, None]
    j = np.arange(kw)[None, None, None, None, None, :]
    shape6 = (N, OH, OW, C, kh, kw)
    index = tuple(np.broadcast_to(a, shape6) for a in (n, c, oh * stride + i, ow * stride + j))
    canvas = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    np.add.at(canvas, index, rows.reshape(shape6))
    return canvas[:, :, pad:pad + H, pad:pad + W].copy()


# %% conv2d_forward
import numpy as np


def conv2d_forward(x, w, b, stride=1, pad=0):
    """Forward pass of a conv layer (cross-correlation), computed as one matrix product.

    x: (N, C, H, W), w: (F, C, KH, KW), b: (F,) or None (no bias)  ->  out: (N, F, OH, OW), float64
    out[n, f, p, q] = b[f] + sum over c, i, j of w[f, c, i, j] * x_pad[n, c, p*stride + i, q*stride + j]
    Raises ValueError naming x, w (not 4-D, empty, channels differ, kernel too large), b, stride or pad.
    """
    images = np.asarray(x, dtype=np.float64)
    filters = np.asarray(w, dtype=np.float64)
    if images.ndim != 4 or images.size == 0:
        raise ValueError(f"x must be a non-empty 4-D array (N, C, H, W), got shape {images.shape}")
    if filters.ndim != 4 or filters.size == 0:
        raise ValueError(f"w must be a non-empty 4-D array (F, C, KH, KW), got shape {filters.shape}")
    N, C, H, W = images.shape
    F, C_w, KH, KW = filters.shape
    if C_w != C:
        raise ValueError(f"w has {C_w} input channels but x has {C}")
    biases = np.zeros(F) if b is None else np.asarray(b, dtype=np.float64)
    if biases.shape != (F,):
        raise ValueError(f"b must be None or have shape ({F},), got {biases.shape}")
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    if KH > H + 2 * pad or KW > W + 2 * pad:
        raise ValueError(f"w's {KH}x{KW} kernel does not fit the padded input {H + 2 * pad}x{W + 2 * pad}")
    X = im2col(images, KH, KW, stride, pad)                       # (N*OH*OW, C*KH*KW)
    OH = conv_output_size(H, KH, stride, pad)
    OW = conv_output_size(W, KW, stride, pad)
    rows = np.einsum("rk,fk->rf", X, filters.reshape(F, -1)) + biases
    return np.ascontiguousarray(rows.reshape(N, OH, OW, F).transpose(0, 3, 1, 2))


# %% conv_param_count
def conv_param_count(c_in, c_out, kh, kw, bias=True):
    """Learnable parameters of a conv layer with c_out filters of shape (c_in, kh, kw), plus c_out biases if bias.

    Returns an integer; raises ValueError naming a size that is not an integer >= 1.
    """
    for name, value in (("c_in", c_in), ("c_out", c_out), ("kh", kh), ("kw", kw)):
        check_int(value, name, 1)
    weights = c_out * c_in * kh * kw
    return int(weights + (c_out if bias else 0))


# %% conv_macs
import numbers

import numpy as np


def conv_macs(c_in, c_out, kh, kw, oh, ow):
    """Multiply-accumulates of one image: c_out*oh*ow outputs, each a dot product of length c_in*kh*kw.

    Returns an integer; raises ValueError naming a size that is not an integer >= 1.
    """
    sizes = dict(c_in=c_in, c_out=c_out, kh=kh, kw=kw, oh=oh, ow=ow)
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    outputs = np.int64(c_out) * oh * ow
    dot_length = np.int64(c_in) * kh * kw
    return outputs * dot_length          # a NumPy integer
