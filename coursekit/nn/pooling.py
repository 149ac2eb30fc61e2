"""Max, average and global-average pooling: the reference layers of notebook 04.

Shapes (NCHW):  x (N, C, H, W)  ->  out (N, C, OH, OW)  with
``OH = (H - pool) // stride + 1`` (and the same for W): no padding, floored as in PyTorch.

Window ``(p, q)`` of an image covers ``x[p*stride : p*stride + pool, q*stride : q*stride + pool]``.
Seen the other way round, tap ``(i, j)`` of every window at once is the strided slice
``x[i : i + stride*OH : stride, j : j + stride*OW : stride]``, so forward and backward
loop over the ``pool*pool`` taps only, like im2col/col2im.
"""

import functools

import numpy as np

from ..checks import as_float_array, check_int
from .conv import conv_output_size

__all__ = [
    "maxpool_forward",
    "maxpool_backward",
    "avgpool_forward",
    "avgpool_backward",
    "global_avgpool_forward",
    "global_avgpool_backward",
]


def _check_pool_args(x, pool, stride):
    """Validated ``(x, pool, stride, (OH, OW))``."""
    x = as_float_array(x, "x", 4)
    pool = check_int(pool, "pool", 1)
    stride = check_int(stride, "stride", 1)
    height, width = x.shape[2:]
    if pool > height or pool > width:
        raise ValueError(f"pool={pool} is larger than the input's height x width {height}x{width}")
    out_hw = (conv_output_size(height, pool, stride), conv_output_size(width, pool, stride))
    return x, pool, stride, out_hw


def _check_dout(dout, x, out_hw):
    dout = np.asarray(dout, dtype=np.float64)
    expected = x.shape[:2] + tuple(out_hw)
    if dout.shape != expected:
        raise ValueError(f"dout must have shape {expected} (the forward's output), got {dout.shape}")
    return dout


def _taps(pool, stride, out_hw):
    """For every tap ``(i, j)`` of the window: the slice of x that this tap reads in all windows."""
    oh, ow = out_hw
    for i in range(pool):
        for j in range(pool):
            rows = slice(i, i + stride * oh, stride)
            cols = slice(j, j + stride * ow, stride)
            yield i, j, (Ellipsis, rows, cols)


def _windows(x, pool, stride, out_hw):
    """All pooling windows: (N, C, OH, OW, pool, pool)."""
    windows = np.empty(x.shape[:2] + tuple(out_hw) + (pool, pool))
    for i, j, tap in _taps(pool, stride, out_hw):
        windows[..., i, j] = x[tap]
    return windows


def _first_argmax(x, pool, stride, out_hw):
    """Index (0 .. pool*pool - 1, row-major) of each window's FIRST maximum: (N, C, OH, OW)."""
    windows = _windows(x, pool, stride, out_hw)
    return windows.reshape(windows.shape[:4] + (pool * pool,)).argmax(axis=-1)


def _window_max(x, pool, stride, out_hw):
    """Max of every window, in a new array: one elementwise ``np.maximum`` per tap.

    (About 5x faster than ``_windows(...).max(axis=(-2, -1))``: NumPy is slow at
    reducing many tiny trailing axes, fast at elementwise work on big arrays.)
    """
    taps = [x[tap] for _, _, tap in _taps(pool, stride, out_hw)]
    return functools.reduce(np.maximum, taps[1:], taps[0].copy())


def maxpool_forward(x, pool=2, stride=2):
    """Largest value of every ``pool x pool`` window: (N, C, H, W) -> (N, C, OH, OW)."""
    x, pool, stride, out_hw = _check_pool_args(x, pool, stride)
    return _window_max(x, pool, stride, out_hw)


def maxpool_backward(dout, x, pool=2, stride=2):
    """dL/dx of max pooling: each window sends its ``dout`` to its first maximum (row-major).

    A pixel that is the chosen maximum of several overlapping windows receives the sum.
    """
    x, pool, stride, out_hw = _check_pool_args(x, pool, stride)
    dout = _check_dout(dout, x, out_hw)
    winner = _first_argmax(x, pool, stride, out_hw)
    dx = np.zeros_like(x)
    for i, j, tap in _taps(pool, stride, out_hw):
        dx[tap] += np.where(winner == i * pool + j, dout, 0.0)
    return dx


def avgpool_forward(x, pool=2, stride=2):
    """Mean of every ``pool x pool`` window: (N, C, H, W) -> (N, C, OH, OW)."""
    x, pool, stride, out_hw = _check_pool_args(x, pool, stride)
    return _windows(x, pool, stride, out_hw).mean(axis=(-2, -1))


def avgpool_backward(dout, x, pool=2, stride=2):
    """dL/dx of average pooling: every pixel of a window gets ``dout / pool**2``; overlaps add up."""
    x, pool, stride, out_hw = _check_pool_args(x, pool, stride)
    dout = _check_dout(dout, x, out_hw)
    dx = np.zeros_like(x)
    for _, _, tap in _taps(pool, stride, out_hw):
        dx[tap] += dout / pool ** 2
    return dx


def global_avgpool_forward(x):
    """Mean over each channel's whole image: (N, C, H, W) -> (N, C)."""
    x = as_float_array(x, "x", 4)
    return x.mean(axis=(2, 3))


def global_avgpool_backward(dout, x):
    """dL/dx of global average pooling: ``dout[n, c] / (H * W)`` at every pixel of channel c."""
    x = as_float_array(x, "x", 4)
    dout = _check_dout(dout, x, ())
    height, width = x.shape[2:]
    return np.broadcast_to(dout[:, :, None, None] / (height * width), x.shape).copy()
