# Independent answers to 06_initialization, written from the released notebook only.
# %% compute_fans
import numbers


def compute_fans(shape):
    """(fan_in, fan_out) of a weight tensor of the given shape.

    linear (D_in, D_out)  ->  (D_in, D_out)
    conv   (F, C, KH, KW) ->  (C * KH * KW, F * KH * KW)
    """
    try:
        entries = tuple(shape)
    except TypeError:
        raise ValueError(f"shape must be a sequence of sizes, got {shape!r}") from None
    if len(entries) < 2:
        raise ValueError(f"shape must have at least 2 entries, got {shape!r}")
    sizes = []
    for entry in entries:
        if isinstance(entry, bool) or not isinstance(entry, numbers.Integral) or entry < 1:
            raise ValueError(f"shape must hold positive integers, got {shape!r}")
        sizes.append(int(entry))
    if len(sizes) == 2:                       # this course's linear weights: (D_in, D_out)
        return sizes[0], sizes[1]
    window = 1                                # conv weights: (F, C, k1, k2, ...)
    for k in sizes[2:]:
        window *= k
    return sizes[1] * window, sizes[0] * window


# %% xavier_uniform
import math


def xavier_std(shape, gain=1.0):
    """Standard deviation of Xavier/Glorot init: gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = compute_fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform(shape, rng, gain=1.0):
    """Weights of the given shape from U[-a, a], a = sqrt(3) * xavier_std(shape, gain)."""
    bound = math.sqrt(3.0) * xavier_std(shape, gain)
    return rng.uniform(low=-bound, high=bound, size=tuple(shape))


# %% xavier_normal
def xavier_normal(shape, rng, gain=1.0):
    """Weights of the given shape from N(0, std**2), std = xavier_std(shape, gain)."""
    std = xavier_std(shape, gain)
    return std * rng.standard_normal(size=tuple(shape))


# %% calculate_gain
import numbers

import numpy as np

_GAIN_ONE = frozenset({"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                       "conv_transpose3d", "sigmoid"})


def calculate_gain(nonlinearity, param=None):
    """PyTorch's recommended gain for `nonlinearity`, as a float (np.float64, a subclass of float)."""
    if not isinstance(nonlinearity, str):
        raise ValueError(f"nonlinearity must be a string, got {nonlinearity!r}")
    if nonlinearity in _GAIN_ONE:
        return np.float64(1.0)
    if nonlinearity == "tanh":
        return np.float64(5.0) / 3.0
    if nonlinearity == "relu":
        return np.sqrt(np.float64(2.0))
    if nonlinearity == "selu":
        return np.float64(0.75)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, numbers.Real):
            raise ValueError(f"param (the negative slope of leaky_relu) must be a number, got {param!r}")
        else:
            slope = param
        return np.sqrt(np.float64(2.0) / (1.0 + slope * slope))
    raise ValueError(f"nonlinearity {nonlinearity!r} is not supported")


# %% kaiming_normal
import math


def kaiming_std(shape, mode="fan_in", nonlinearity="relu"):
    """Standard deviation of He/Kaiming init: calculate_gain(nonlinearity, 0) / sqrt(fan)."""
    if not isinstance(mode, str) or mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fans = dict(zip(("fan_in", "fan_out"), compute_fans(shape)))
    return calculate_gain(nonlinearity, 0) / math.sqrt(fans[mode])


def kaiming_normal(shape, rng, mode="fan_in", nonlinearity="relu"):
    """Weights of the given shape from N(0, std**2), std = kaiming_std(shape, mode, nonlinearity)."""
    return rng.normal(0.0, kaiming_std(shape, mode, nonlinearity), size=tuple(shape))


# %% kaiming_uniform
import math

import numpy as np


def kaiming_uniform(shape, rng, mode="fan_in", nonlinearity="relu"):
    """Weights of the given shape from U[-a, a], a = sqrt(3) * kaiming_std(...)."""
    bound = math.sqrt(3.0) * kaiming_std(shape, mode, nonlinearity)
    unit = rng.random(size=tuple(shape))                 # [0, 1)
    return np.float64(bound) * (2.0 * unit - 1.0)        # [-a, a)


# %% layer_variances
import numpy as np


def _activation(name):
    table = {
        "relu": lambda y: np.where(y > 0, y, 0.0),
        "tanh": np.tanh,
        "sigmoid": lambda y: 0.5 * (1.0 + np.tanh(0.5 * y)),
        "linear": lambda y: y,
    }
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"activation must be one of {sorted(table)}, got {name!r}")
    return table[name]


def layer_variances(x, weights, activation, biases=None):
    """Variance of every layer's pre-activation y when x goes through the linear layers `weights`."""
    act = _activation(activation)
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions (N, D_0), got shape {a.shape}")
    mats = [np.asarray(w, dtype=np.float64) for w in weights]
    if not mats:
        raise ValueError("weights must hold at least one layer, got none")
    width = a.shape[-1]
    for layer, w in enumerate(mats):
        if w.ndim < 2 or w.shape[-2] != width:
            raise ValueError(f"weights[{layer}] must have {width} rows (its second-to-last size), got shape {w.shape}")
        width = w.shape[-1]
    shifts = [0.0] * len(mats)
    if biases is not None:
        try:
            count = len(biases)
        except TypeError:
            raise ValueError(f"biases must be a list of one vector per layer, got {type(biases).__name__}") from None
        if count != len(mats):
            raise ValueError(f"biases must hold one vector per layer ({len(mats)}), got {len(biases)}")
        shifts = []
        for layer, (b, w) in enumerate(zip(biases, mats)):
            b = np.asarray(b, dtype=np.float64)
            if b.ndim < 1 or b.shape[-1] != w.shape[-1]:
                raise ValueError(f"biases[{layer}] must end in the layer's width {w.shape[-1]}, got shape {b.shape}")
            try:
                np.broadcast_shapes(a.shape[:-1] + (w.shape[-1],), b.shape)
            except ValueError:
                raise ValueError(f"biases[{layer}] of shape {b.shape} does not broadcast against y") from None
            shifts.append(b)
    variances = []
    for w, shift in zip(mats, shifts):
        y = np.matmul(a, w) + shift
        variances.append(float(np.var(y)))
        a = act(y)
    return variances
