"""Building blocks of classic architectures: the reference layers of notebook 08.

Receptive fields, parameter counts, the residual block (forward and
backward) and the channel count of a dense block.

Residual block (stride 1, padding 1, identity shortcut), NCHW:

    h   = relu(conv3x3(x, w1, b1))          w1 (F, C, 3, 3), b1 (F,)
    z   = conv3x3(h, w2, b2) + x            w2 (C, F, 3, 3), b2 (C,)
    out = relu(z)
"""

import numpy as np

from ..checks import as_float_array, check_int
from .conv import conv2d_backward, conv2d_forward, conv_param_count

__all__ = [
    "receptive_field",
    "linear_param_count",
    "vgg_stack_params",
    "residual_block_forward",
    "residual_block_backward",
    "densenet_channels",
]


def receptive_field(layers):
    """Receptive field (in input pixels) of one output pixel of a stack of layers.

    ``layers`` is a list of ``(kernel, stride)`` pairs, the layer next to the
    input first. With ``jump`` the distance in input pixels between two
    neighbouring positions of a layer's input:

        r = 1, jump = 1;   for each (k, s):  r += (k - 1) * jump;  jump *= s

    An empty list gives 1 (a pixel sees itself).
    """
    if not isinstance(layers, (list, tuple)):
        raise ValueError(f"layers must be a list of (kernel, stride) pairs, got {type(layers).__name__}")
    field, jump = 1, 1
    for index, layer in enumerate(layers):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise ValueError(f"layers[{index}] must be a (kernel, stride) pair, got {layer!r}")
        kernel = check_int(layer[0], f"layers[{index}] kernel", 1)
        stride = check_int(layer[1], f"layers[{index}] stride", 1)
        field += (kernel - 1) * jump
        jump *= stride
    return field


def linear_param_count(d_in, d_out, bias=True):
    """Learnable parameters of a linear layer ``x @ w + b``: ``d_in * d_out`` weights (+ ``d_out`` biases)."""
    d_in = check_int(d_in, "d_in", 1)
    d_out = check_int(d_out, "d_out", 1)
    return d_in * d_out + (d_out if bias else 0)


def vgg_stack_params(channels, n_convs):
    """Parameters of ``n_convs`` stacked 3x3 convs (C -> C, with bias) and of the one conv they replace.

    ``n_convs`` 3x3 convs (stride 1) see a ``(2*n_convs + 1)``-wide window, the
    receptive field of a single ``(2*n_convs + 1) x (2*n_convs + 1)`` conv.
    Returns ``(stack_params, single_params)``.
    """
    channels = check_int(channels, "channels", 1)
    n_convs = check_int(n_convs, "n_convs", 1)
    single_kernel = 2 * n_convs + 1
    stack = n_convs * conv_param_count(channels, channels, 3, 3)
    single = conv_param_count(channels, channels, single_kernel, single_kernel)
    return stack, single


def _check_residual_args(x, w1, b1, w2, b2):
    x = as_float_array(x, "x", 4)
    w1 = as_float_array(w1, "w1", 4)
    w2 = as_float_array(w2, "w2", 4)
    b1 = as_float_array(b1, "b1", 1)
    b2 = as_float_array(b2, "b2", 1)
    channels, hidden = x.shape[1], w1.shape[0]
    if w1.shape != (hidden, channels, 3, 3):
        raise ValueError(f"w1 must have shape (F, {channels}, 3, 3) for x with {channels} channels, got {w1.shape}")
    if w2.shape != (channels, hidden, 3, 3):
        raise ValueError(f"w2 must have shape ({channels}, {hidden}, 3, 3) to add its output to x, got {w2.shape}")
    if b1.shape != (hidden,):
        raise ValueError(f"b1 must have shape ({hidden},), got {b1.shape}")
    if b2.shape != (channels,):
        raise ValueError(f"b2 must have shape ({channels},), got {b2.shape}")
    return x, w1, b1, w2, b2


def _residual_forward_steps(x, w1, b1, w2, b2):
    """The intermediate values of the block: pre-activation ``a``, hidden ``h``, and ``z`` (before the last relu)."""
    a = conv2d_forward(x, w1, b1, stride=1, pad=1)
    h = np.maximum(a, 0.0)
    z = conv2d_forward(h, w2, b2, stride=1, pad=1) + x
    return a, h, z


def residual_block_forward(x, w1, b1, w2, b2):
    """``relu(conv3x3(relu(conv3x3(x, w1, b1)), w2, b2) + x)`` with stride 1, padding 1; shape of ``x``."""
    x, w1, b1, w2, b2 = _check_residual_args(x, w1, b1, w2, b2)
    _, _, z = _residual_forward_steps(x, w1, b1, w2, b2)
    return np.maximum(z, 0.0)


def residual_block_backward(dout, x, w1, b1, w2, b2):
    """Gradients of the residual block: ``(dx, dw1, db1, dw2, db2)``.

    The gradient reaching ``z`` flows twice into ``x``: through the two convs
    and, unchanged, through the identity shortcut:

        dz = dout * (z > 0)
        dx = dz  +  (gradient of the conv path)
    """
    x, w1, b1, w2, b2 = _check_residual_args(x, w1, b1, w2, b2)
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got {dout.shape}")
    a, h, z = _residual_forward_steps(x, w1, b1, w2, b2)
    dz = dout * (z > 0)
    dh, dw2, db2 = conv2d_backward(dz, h, w2, b2, stride=1, pad=1)
    da = dh * (a > 0)
    dx_conv, dw1, db1 = conv2d_backward(da, x, w1, b1, stride=1, pad=1)
    dx = dz + dx_conv
    return dx, dw1, db1, dw2, db2


def densenet_channels(c0, growth, n_layers):
    """Channels after a dense block: every layer concatenates ``growth`` new channels to its input."""
    c0 = check_int(c0, "c0", 1)
    growth = check_int(growth, "growth", 1)
    n_layers = check_int(n_layers, "n_layers", 0)
    return c0 + growth * n_layers
