"""Normalization layers: the reference layers of notebook 05.

Every layer here is the same two steps; only the axes that share statistics differ.

    x_hat = (x - mean) / sqrt(var + eps)      mean, var over the "statistics axes" (biased var)
    out   = gamma * x_hat + beta              gamma, beta: one value per feature / channel (axis 1)

    layer            x            statistics axes           gamma, beta
    batch norm       (N, D)       (N,)                      (D,)
    spatial BN       (N, C, H, W) (N, H, W)                 (C,)
    layer norm       (N, D)       (D,)                      (D,)
    group norm       (N, C, H, W) (C/G, H, W) of each group (C,)

Batch norm follows PyTorch: it normalizes with the biased batch variance, keeps
running estimates with the unbiased one, ``running = (1 - momentum) * running +
momentum * batch_stat``, and in eval mode uses the running estimates instead of
the batch. Nothing is modified in place.
"""

import numbers

import numpy as np

from ..checks import as_float_array, check_int

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
    "groupnorm_forward",
    "groupnorm_backward",
    "fold_batchnorm",
]

BATCH_AXES = {2: (0,), 4: (0, 2, 3)}     # batch norm: every axis but the channel axis 1


# -- the shared pieces ---------------------------------------------------------

def _check_per_channel(value, name, channels):
    """A (channels,) float64 vector, or ValueError naming ``name``."""
    value = as_float_array(value, name, 1)
    if value.shape != (channels,):
        raise ValueError(f"{name} must have shape ({channels},), got {value.shape}")
    return value


def _check_number(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= low or (high is not None and value > high):
        limits = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a number {limits}, got {value!r}")
    return float(value)


def _check_train(train):
    if not isinstance(train, (bool, np.bool_)):
        raise ValueError(f"train must be True or False, got {train!r}")
    return bool(train)


def _check_dout(dout, x):
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got {dout.shape}")
    return dout


def _per_channel(v, ndim):
    """Reshape a (C,) vector so it broadcasts along axis 1 of an ndim-dimensional array."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _standardize(x, axes, eps):
    """``(x - mean) / sqrt(var + eps)`` with mean and (biased) var shared over ``axes``."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def _standardize_backward(dx_hat, x, axes, eps):
    """Gradient through ``_standardize``, given the upstream gradient ``dx_hat``:

        dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps)

    with the means over ``axes``; the two subtracted terms are the paths through mean and var.
    """
    x_hat = _standardize(x, axes, eps)
    inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return inv_std * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                      - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))


def _scale_shift_backward(dout, x_hat):
    """``(dgamma, dbeta)`` of ``out = gamma * x_hat + beta``, gamma and beta living on axis 1."""
    axes = tuple(a for a in range(dout.ndim) if a != 1)
    return (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)


# -- batch norm (fully connected and spatial) ---------------------------------

def _batchnorm_forward(x, gamma, beta, running_mean, running_var, train, momentum, eps):
    channels = x.shape[1]
    gamma, beta = _check_per_channel(gamma, "gamma", channels), _check_per_channel(beta, "beta", channels)
    running_mean = _check_per_channel(running_mean, "running_mean", channels)
    running_var = _check_per_channel(running_var, "running_var", channels)
    momentum = _check_number(momentum, "momentum", 0.0, 1.0)
    eps = _check_number(eps, "eps", 0.0)
    axes = BATCH_AXES[x.ndim]
    if _check_train(train):
        count = x.shape[0] * int(np.prod(x.shape[2:]))  # values sharing one statistic: N (or N*H*W)
        if count < 2:
            raise ValueError(f"x must hold more than one value per channel in train mode, got shape {x.shape}")
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        unbiased_var = var * count / (count - 1)
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * unbiased_var
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.copy(), running_var.copy()
    x_hat = (x - _per_channel(mean, x.ndim)) / np.sqrt(_per_channel(var, x.ndim) + eps)
    out = _per_channel(gamma, x.ndim) * x_hat + _per_channel(beta, x.ndim)
    return out, new_mean, new_var


def _batchnorm_backward(dout, x, gamma, eps):
    gamma = _check_per_channel(gamma, "gamma", x.shape[1])
    dout = _check_dout(dout, x)
    eps = _check_number(eps, "eps", 0.0)
    axes = BATCH_AXES[x.ndim]
    dgamma, dbeta = _scale_shift_backward(dout, _standardize(x, axes, eps))
    dx = _standardize_backward(dout * _per_channel(gamma, x.ndim), x, axes, eps)
    return dx, dgamma, dbeta


def batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1, eps=1e-5):
    """Batch norm of ``x`` (N, D): one mean and variance per feature, over the batch.

    gamma, beta, running_mean, running_var: (D,).
    Returns ``(out, new_running_mean, new_running_var)``; out is (N, D).
    train=True:  normalize with the batch mean and biased variance; update the running
                 estimates with the batch mean and the unbiased variance (PyTorch).
    train=False: normalize with the running estimates, returned unchanged (as new arrays).
    ValueError naming the argument: x not 2-D, a vector not (D,), train not a bool,
    momentum outside [0, 1], eps < 0, or train=True with fewer than two rows.
    """
    x = as_float_array(x, "x", 2)
    return _batchnorm_forward(x, gamma, beta, running_mean, running_var, train, momentum, eps)


def batchnorm_backward(dout, x, gamma, beta, eps=1e-5):
    """Gradients of train-mode batch norm: ``(dx, dgamma, dbeta)`` of shapes (N, D), (D,), (D,)."""
    x = as_float_array(x, "x", 2)
    _check_per_channel(beta, "beta", x.shape[1])
    return _batchnorm_backward(dout, x, gamma, eps)


def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1, eps=1e-5):
    """Batch norm for conv layers: ``x`` (N, C, H, W), one statistic per channel over (N, H, W).

    gamma, beta, running_mean, running_var: (C,). Same semantics as ``batchnorm_forward``.
    """
    x = as_float_array(x, "x", 4)
    return _batchnorm_forward(x, gamma, beta, running_mean, running_var, train, momentum, eps)


def spatial_batchnorm_backward(dout, x, gamma, beta, eps=1e-5):
    """Gradients of train-mode spatial batch norm: ``(dx, dgamma, dbeta)``, shapes of x, (C,), (C,)."""
    x = as_float_array(x, "x", 4)
    _check_per_channel(beta, "beta", x.shape[1])
    return _batchnorm_backward(dout, x, gamma, eps)


# -- layer norm and group norm ------------------------------------------------

def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer norm of ``x`` (N, D): one mean and variance per example (row); gamma, beta (D,)."""
    x = as_float_array(x, "x", 2)
    gamma, beta = _check_per_channel(gamma, "gamma", x.shape[1]), _check_per_channel(beta, "beta", x.shape[1])
    x_hat = _standardize(x, 1, _check_number(eps, "eps", 0.0))
    return gamma * x_hat + beta


def layernorm_backward(dout, x, gamma, beta, eps=1e-5):
    """Gradients of layer norm: ``(dx, dgamma, dbeta)`` of shapes (N, D), (D,), (D,)."""
    x = as_float_array(x, "x", 2)
    gamma = _check_per_channel(gamma, "gamma", x.shape[1])
    _check_per_channel(beta, "beta", x.shape[1])
    dout = _check_dout(dout, x)
    eps = _check_number(eps, "eps", 0.0)
    dgamma, dbeta = _scale_shift_backward(dout, _standardize(x, 1, eps))
    return _standardize_backward(dout * gamma, x, 1, eps), dgamma, dbeta


def _grouped(x, groups):
    """View NCHW ``x`` as (N, G, C/G, H, W): the statistics of group norm are over the last three axes."""
    groups = check_int(groups, "groups", 1)
    n, c, h, w = x.shape
    if c % groups:
        raise ValueError(f"groups={groups} must divide the number of channels C={c}")
    return x.reshape(n, groups, c // groups, h, w)


GROUP_AXES = (2, 3, 4)


def groupnorm_forward(x, gamma, beta, groups, eps=1e-5):
    """Group norm of NCHW ``x``: channels split into ``groups`` groups, one statistic per (example, group).

    gamma, beta: (C,). ``groups=C`` is instance norm, ``groups=1`` layer norm over (C, H, W).
    """
    x = as_float_array(x, "x", 4)
    gamma, beta = _check_per_channel(gamma, "gamma", x.shape[1]), _check_per_channel(beta, "beta", x.shape[1])
    x_hat = _standardize(_grouped(x, groups), GROUP_AXES, _check_number(eps, "eps", 0.0)).reshape(x.shape)
    return _per_channel(gamma, 4) * x_hat + _per_channel(beta, 4)


def groupnorm_backward(dout, x, gamma, beta, groups, eps=1e-5):
    """Gradients of group norm: ``(dx, dgamma, dbeta)`` of shapes (N, C, H, W), (C,), (C,)."""
    x = as_float_array(x, "x", 4)
    gamma = _check_per_channel(gamma, "gamma", x.shape[1])
    _check_per_channel(beta, "beta", x.shape[1])
    dout = _check_dout(dout, x)
    eps = _check_number(eps, "eps", 0.0)
    x_groups = _grouped(x, groups)
    dgamma, dbeta = _scale_shift_backward(dout, _standardize(x_groups, GROUP_AXES, eps).reshape(x.shape))
    dx_hat = (dout * _per_channel(gamma, 4)).reshape(x_groups.shape)
    return _standardize_backward(dx_hat, x_groups, GROUP_AXES, eps).reshape(x.shape), dgamma, dbeta


# -- folding ------------------------------------------------------------------

def fold_batchnorm(w, b, gamma, beta, running_mean, running_var, eps=1e-5):
    """Fold an eval-mode spatial batch norm into the conv before it.

    ``w`` (F, C, KH, KW), ``b`` (F,) or None; the BN vectors are (F,). With
    ``scale = gamma / sqrt(running_var + eps)``:

        w_folded = w * scale  (per output channel)
        b_folded = (b - running_mean) * scale + beta

    so ``conv(x, w_folded, b_folded) == BN_eval(conv(x, w, b))``.
    """
    w = as_float_array(w, "w", 4)
    filters = w.shape[0]
    b = np.zeros(filters) if b is None else _check_per_channel(b, "b", filters)
    gamma, beta = _check_per_channel(gamma, "gamma", filters), _check_per_channel(beta, "beta", filters)
    running_mean = _check_per_channel(running_mean, "running_mean", filters)
    running_var = _check_per_channel(running_var, "running_var", filters)
    scale = gamma / np.sqrt(running_var + _check_number(eps, "eps", 0.0))
    return w * scale[:, None, None, None], (b - running_mean) * scale + beta
