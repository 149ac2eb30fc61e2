"""Weight initialization: the reference of notebook 06.

The variance argument: for ``y = x @ w`` with ``fan_in`` independent zero-mean
weights of variance ``s^2``, ``Var(y) = fan_in * s^2 * E[x^2]``. Keeping signals
(forward) and gradients (backward) at the same scale from layer to layer gives

    Xavier (Glorot & Bengio 2010):  s^2 = gain^2 * 2 / (fan_in + fan_out)
    He     (He et al. 2015):        s^2 = gain^2 / fan        (fan = fan_in or fan_out)

with ``gain`` PyTorch's correction for the nonlinearity (sqrt(2) for ReLU).
A uniform distribution on [-a, a] has variance a^2 / 3, hence bound = sqrt(3) * s.

Shapes follow the course: linear weights (D_in, D_out), conv weights (F, C, KH, KW).
"""

import math
import numbers

import numpy as np

from ..checks import check_int

__all__ = [
    "compute_fans",
    "calculate_gain",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_normal",
    "kaiming_uniform",
    "layer_variances",
]

LINEAR_GAINS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a weight shape.

    Linear (D_in, D_out): (D_in, D_out). Conv (F, C, *kernel), e.g. (F, C, KH, KW):
    every output sees ``C * KH * KW`` inputs, every input feeds ``F * KH * KW`` outputs.
    """
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) < 2:
        raise ValueError(f"shape must have at least 2 entries (D_in, D_out) or (F, C, KH, KW), got {shape!r}")
    dims = [check_int(d, "shape", 1) for d in shape]
    if len(dims) == 2:
        return dims[0], dims[1]
    receptive_field = math.prod(dims[2:])
    return dims[1] * receptive_field, dims[0] * receptive_field


def calculate_gain(nonlinearity, param=None):
    """PyTorch's recommended gain for a nonlinearity (``torch.nn.init.calculate_gain``).

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);  selu: 3/4;
    leaky_relu: sqrt(2 / (1 + slope^2)) with slope = param, default 0.01.
    """
    if nonlinearity in LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"param (the negative slope of leaky_relu) must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _check_gain(gain):
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real) or not gain >= 0:
        raise ValueError(f"gain must be a number >= 0, got {gain!r}")
    return float(gain)


def _kaiming_std(shape, mode, nonlinearity):
    fan_in, fan_out = compute_fans(shape)
    fans = {"fan_in": fan_in, "fan_out": fan_out}
    if mode not in fans:
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    # PyTorch's kaiming_* pass their leaky slope a=0 to calculate_gain.
    return calculate_gain(nonlinearity, 0) / math.sqrt(fans[mode])


def _xavier_std(shape, gain):
    fan_in, fan_out = compute_fans(shape)
    return _check_gain(gain) * math.sqrt(2.0 / (fan_in + fan_out))


def _uniform(shape, rng, std):
    bound = math.sqrt(3.0) * std          # Var(U[-a, a]) = a^2 / 3
    return _check_rng(rng).uniform(-bound, bound, size=tuple(shape))


def _normal(shape, rng, std):
    return _check_rng(rng).normal(0.0, std, size=tuple(shape))


def xavier_uniform(shape, rng, gain=1.0):
    """Glorot uniform: U[-a, a] with a = gain * sqrt(6 / (fan_in + fan_out))."""
    return _uniform(shape, rng, _xavier_std(shape, gain))


def xavier_normal(shape, rng, gain=1.0):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    return _normal(shape, rng, _xavier_std(shape, gain))


def kaiming_normal(shape, rng, mode="fan_in", nonlinearity="relu"):
    """He normal: N(0, std^2) with std = gain(nonlinearity) / sqrt(fan), fan chosen by ``mode``."""
    return _normal(shape, rng, _kaiming_std(shape, mode, nonlinearity))


def kaiming_uniform(shape, rng, mode="fan_in", nonlinearity="relu"):
    """He uniform: U[-a, a] with a = gain(nonlinearity) * sqrt(3 / fan)."""
    return _uniform(shape, rng, _kaiming_std(shape, mode, nonlinearity))


ACTIVATIONS = {
    "relu": lambda y: np.maximum(y, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda y: 0.5 * (1.0 + np.tanh(0.5 * y)),    # = 1 / (1 + exp(-y)), without overflow
    "linear": lambda y: y,
}


def layer_variances(x, weights, activation, biases=None):
    """Forward ``x`` through linear layers and return ``[Var(y_1), ..., Var(y_L)]``.

    x (N, D_0); weights[l] (D_l, D_{l+1}); biases None or biases[l] (D_{l+1},).
    Layer l computes ``y = a @ weights[l] (+ biases[l])`` and ``a = activation(y)``
    (``a`` starts as ``x``); its entry is ``float(np.var(y))`` over all entries of y.

    ``@`` broadcasts over leading axes, so a stack of networks works too:
    x (T, 1, D_0) with weights[l] (T, D_l, D_{l+1}) runs T networks, one per row.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions (N, D), got shape {a.shape}")
    if len(weights) == 0:
        raise ValueError("weights must hold at least one layer, got an empty list")
    if biases is not None and len(biases) != len(weights):
        raise ValueError(f"biases must hold one vector per layer ({len(weights)}), got {len(biases)}")
    variances = []
    for layer, w in enumerate(weights):
        w = np.asarray(w, dtype=np.float64)
        if w.ndim < 2 or w.shape[-2] != a.shape[-1]:
            raise ValueError(f"weights[{layer}] must have shape ({a.shape[-1]}, D_out), got {w.shape}")
        y = a @ w
        if biases is not None:
            b = np.asarray(biases[layer], dtype=np.float64)
            if b.ndim < 1 or b.shape[-1] != w.shape[-1]:
                raise ValueError(f"biases[{layer}] must have shape ({w.shape[-1]},), got {b.shape}")
            y = y + b
        variances.append(float(np.var(y)))
        a = ACTIVATIONS[activation](y)
    return variances
