# Independent answers to 04_pooling, written from the released notebook only.
# %% maxpool_forward
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pool_windows(images, pool, stride):
    """Read-only view (N, C, OH, OW, pool, pool) of the pooling windows."""
    return sliding_window_view(images, (pool, pool), axis=(2, 3))[:, :, ::stride, ::stride]


def maxpool_forward(x, pool=2, stride=2):
    """Max pooling: the largest value of every pool x pool window, windows `stride` apart.

    x: (N, C, H, W);  pool, stride: integers, 1 <= pool <= min(H, W), stride >= 1
    Returns (N, C, OH, OW) with OH = (H - pool) // stride + 1 (and the same for OW), float64.
    Raises ValueError naming x, pool or stride (the checks of check_pool_args).
    """
    images = check_pool_args(x, pool, stride)
    return _pool_windows(images, pool, stride).max(axis=(4, 5))


# %% maxpool_backward
import numpy as np


def maxpool_backward(dout, x, pool=2, stride=2):
    """Gradient of max pooling: each window sends its dout to its FIRST maximum (row-major order).

    dout: (N, C, OH, OW) = dL/dout;  x: (N, C, H, W) the forward's input
    pool, stride: integers, 1 <= pool <= min(H, W), stride >= 1
    Returns dx (N, C, H, W), float64. A pixel that wins several overlapping windows gets the sum.
    Raises ValueError naming x, pool or stride (as maxpool_forward), then dout if its shape
    is not (N, C, OH, OW).
    """
    images = check_pool_args(x, pool, stride)
    g = np.asarray(dout, dtype=np.float64)
    windows = _pool_windows(images, pool, stride)             # (N, C, OH, OW, pool, pool)
    N, C, OH, OW = windows.shape[:4]
    if g.shape != (N, C, OH, OW):
        raise ValueError(f"dout must have the forward's output shape {(N, C, OH, OW)}, got {g.shape}")
    flat = windows.reshape(N, C, OH, OW, pool * pool)          # row-major inside each window
    winner = np.argmax(flat, axis=-1)                          # argmax keeps the first maximum
    di, dj = np.divmod(winner, pool)
    rows = np.arange(OH)[None, None, :, None] * stride + di
    cols = np.arange(OW)[None, None, None, :] * stride + dj
    n = np.broadcast_to(np.arange(N)[:, None, None, None], rows.shape)
    c = np.broadcast_to(np.arange(C)[None, :, None, None], rows.shape)
    dx = np.zeros(images.shape)
    np.add.at(dx, (n, c, rows, cols), np.broadcast_to(g, rows.shape))   # overlaps add up
    return dx


# %% avgpool_forward
import numpy as np


def avgpool_forward(x, pool=2, stride=2):
    """Average pooling: the mean of every pool x pool window, windows `stride` apart.

    x: (N, C, H, W);  pool, stride: integers, 1 <= pool <= min(H, W), stride >= 1
    Returns (N, C, OH, OW) with OH = (H - pool) // stride + 1 (and the same for OW), float64.
    Raises ValueError naming x, pool or stride (the checks of check_pool_args).
    """
    images = check_pool_args(x, pool, stride)
    N, C, H, W = images.shape
    OH = (H - pool) // stride + 1
    OW = (W - pool) // stride + 1
    total = np.zeros((N, C, OH, OW))
    for i in range(pool):
        for j in range(pool):
            total += images[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride]
    return total / (pool * pool)


# %% avgpool_backward
import numpy as np


def avgpool_backward(dout, x, pool=2, stride=2):
    """Gradient of average pooling: every pixel of a window gets dout / pool**2; overlaps add up.

    dout: (N, C, OH, OW) = dL/dout;  x: (N, C, H, W) the forward's input
    pool, stride: integers, 1 <= pool <= min(H, W), stride >= 1
    Returns dx (N, C, H, W), float64.
    Raises ValueError naming x, pool or stride (as avgpool_forward), then dout if its shape
    is not (N, C, OH, OW).
    """
    images = check_pool_args(x, pool, stride)
    N, C, H, W = images.shape
    OH, OW = (H - pool) // stride + 1, (W - pool) // stride + 1
    if np.shape(dout) != (N, C, OH, OW):
        raise ValueError(f"dout must have shape {(N, C, OH, OW)}, got {np.shape(dout)}")
    share = np.asarray(dout, dtype=np.float64) / pool ** 2
    dx = np.zeros(images.shape)
    for i in range(pool):
        for j in range(pool):
            dx[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride] += share
    return dx


# %% global_avgpool_forward
import numpy as np


def global_avgpool_forward(x):
    """Global average pooling: the mean of each channel over the whole image.

    x: (N, C, H, W)
    Returns (N, C), float64. Raises ValueError naming x if it is not 4-D.
    """
    images = np.asarray(x, dtype=np.float64)
    if images.ndim != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {images.shape}")
    H, W = images.shape[2:]
    return np.einsum("nchw->nc", images) / (H * W)


# %% global_avgpool_backward
import numpy as np


def global_avgpool_backward(dout, x):
    """Gradient of global average pooling: dout[n, c] / (H * W) at every pixel of channel c.

    dout: (N, C) = dL/dout;  x: (N, C, H, W) the forward's input
    Returns dx (N, C, H, W), float64.
    Raises ValueError naming x if it is not 4-D, then dout if its shape is not (N, C).
    """
    shape = np.shape(x)
    if len(shape) != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {shape}")
    if np.shape(dout) != shape[:2]:
        raise ValueError(f"dout must have shape (N, C) = {shape[:2]}, got {np.shape(dout)}")
    H, W = shape[2], shape[3]
    spread = np.asarray(dout, dtype=np.float64)[:, :, None, None] / (H * W)
    return np.broadcast_to(spread, shape).copy()
