# Independent answers to 08_architectures, written from the released notebook only.
# %% linear_param_count
import numbers

import numpy as np


def _positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def linear_param_count(d_in, d_out, bias=True):
    """Learnable parameters of a linear layer x @ w + b with w of shape (d_in, d_out); a NumPy integer."""
    d_in = _positive_int(d_in, "d_in")
    d_out = _positive_int(d_out, "d_out")
    weights = d_in * d_out
    return np.int64(weights + (d_out if bias else 0))


# %% receptive_field
import numbers


def receptive_field(layers):
    """Receptive field, in input pixels, of one output pixel of a stack of (kernel, stride) layers."""
    def is_size(v):
        return not isinstance(v, bool) and isinstance(v, numbers.Integral) and v >= 1

    try:
        entries = list(layers)                 # a new list: layers itself is never touched
    except TypeError:
        raise ValueError(f"layers must be a list or tuple of (kernel, stride) pairs, got {layers!r}") from None
    field, jump = 1, 1
    for index, entry in enumerate(entries):
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise ValueError(f"layers[{index}] must be a (kernel, stride) pair (a tuple or list of two), got {entry!r}")
        kernel, stride = entry
        if not (is_size(kernel) and is_size(stride)):
            raise ValueError(f"layers[{index}] = {entry!r}: kernel and stride must be integers >= 1")
        field += (int(kernel) - 1) * jump
        jump *= int(stride)
    return field


# %% vgg_stack_params
import numbers


def vgg_stack_params(channels, n_convs):
    """Parameters of n_convs stacked 3x3 convs (C -> C, bias) and of the single (2n+1)x(2n+1) conv."""
    for name, value in (("channels", channels), ("n_convs", n_convs)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    c, n = int(channels), int(n_convs)

    def conv_params(kernel):
        return c * (c * kernel * kernel + 1)

    stack = sum(conv_params(3) for _ in range(n))
    return stack, conv_params(2 * n + 1)


# %% residual_block_forward
import numpy as np


def residual_block_forward(x, w1, b1, w2, b2):
    """relu(conv3x3(relu(conv3x3(x, w1, b1)), w2, b2) + x), stride 1, padding 1."""
    x, w1, b1, w2, b2 = check_residual_args(x, w1, b1, w2, b2)
    a = conv2d_forward(x, w1, b1, stride=1, pad=1)
    h = np.where(a > 0, a, 0.0)
    z = conv2d_forward(h, w2, b2, stride=1, pad=1) + x
    return np.where(z > 0, z, 0.0)


# %% residual_block_backward
import numpy as np


def residual_block_backward(dout, x, w1, b1, w2, b2):
    """Gradients of residual_block_forward: returns (dx, dw1, db1, dw2, db2)."""
    x, w1, b1, w2, b2 = check_residual_args(x, w1, b1, w2, b2)
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got {dout.shape}")
    # the forward again, keeping what the backward needs
    a = conv2d_forward(x, w1, b1, stride=1, pad=1)
    h = np.where(a > 0, a, 0.0)
    z = conv2d_forward(h, w2, b2, stride=1, pad=1) + x
    dz = np.where(z > 0, dout, 0.0)
    dh, dw2, db2 = conv2d_backward(dz, h, w2, b2, stride=1, pad=1)
    da = np.where(a > 0, dh, 0.0)
    dx_conv, dw1, db1 = conv2d_backward(da, x, w1, b1, stride=1, pad=1)
    return dz + dx_conv, dw1, db1, dw2, db2


# %% densenet_channels
import numbers


def densenet_channels(c0, growth, n_layers):
    """Channels after a dense block of n_layers layers, each concatenating growth new channels to c0 inputs."""
    limits = {"c0": 1, "growth": 1, "n_layers": 0}
    values = {"c0": c0, "growth": growth, "n_layers": n_layers}
    for name, minimum in limits.items():
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(c0) + int(n_layers) * int(growth)
