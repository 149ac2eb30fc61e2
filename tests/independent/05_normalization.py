# Independent answers to 05_normalization, written from the released notebook only.
# %% batchnorm_forward
import numbers

import numpy as np

from coursekit.checks import as_float_array, as_vector


def _check_bn_options(train, momentum, eps):
    """The options only the two batch-norm forwards check: train a bool, 0 <= momentum <= 1, eps >= 0."""
    if not isinstance(train, (bool, np.bool_)):
        raise ValueError(f"train must be True or False, got {train!r}")
    for name, value, low, high, rule in (("momentum", momentum, 0.0, 1.0, "in [0, 1]"), ("eps", eps, 0.0, np.inf, ">= 0")):
        # a bool is no number here; NaN fails the range test
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not low <= value <= high:
            raise ValueError(f"{name} must be a number {rule}, got {value!r}")
    return bool(train)


def _count_along(shape, axes):
    """How many entries share one statistic: the product of the sizes along `axes`."""
    axes = (axes,) if np.ndim(axes) == 0 else tuple(axes)
    count = 1
    for axis in axes:
        count *= shape[axis]
    return axes, count


def standardize(x, axes, eps=1e-5):
    """Standardize x with one mean and one (biased) variance shared along `axes`.

    x: float64 array of any shape; axes: an int or a tuple of ints.
    Returns x_hat = (x - mean) / sqrt(var + eps), the shape of x.
    Example: for x of shape (N, D), axes=0 gives one mean and one variance per column.
    """
    x = np.asarray(x, dtype=np.float64)
    axes, m = _count_along(x.shape, axes)
    mean = np.sum(x, axis=axes, keepdims=True) / m
    centred = x - mean
    var = np.sum(centred * centred, axis=axes, keepdims=True) / m
    return centred / np.sqrt(var + eps)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1, eps=1e-5):
    """Batch norm of x (N, D): every feature (column) is standardized, then scaled and shifted.

    gamma, beta, running_mean, running_var: (D,).
    train=True:  normalize with the batch mean and biased variance; update the running estimates,
                 running = (1 - momentum) * running + momentum * batch_stat, with the UNBIASED variance.
    train=False: normalize with running_mean and running_var, and return copies of them (new arrays).
    Returns (out (N, D), new_running_mean (D,), new_running_var (D,)), float64. Never modifies its inputs.
    """
    train = _check_bn_options(train, momentum, eps)
    x = as_float_array(x, "x", 2)
    n, d = x.shape
    gamma = as_vector(gamma, "gamma", d)
    beta = as_vector(beta, "beta", d)
    running_mean = as_vector(running_mean, "running_mean", d)
    running_var = as_vector(running_var, "running_var", d)
    if not train:
        x_hat = (x - running_mean[None, :]) / np.sqrt(running_var[None, :] + eps)
        # new arrays, never the caller's own
        return gamma * x_hat + beta, np.array(running_mean, copy=True), np.array(running_var, copy=True)
    if n < 2:
        raise ValueError(f"x must have at least 2 rows to train batch norm, got shape {x.shape}")
    batch_mean = np.einsum("nd->d", x) / n
    deviation = x - batch_mean
    biased_var = np.einsum("nd,nd->d", deviation, deviation) / n
    out = np.einsum("d,nd->nd", gamma, standardize(x, 0, eps)) + beta
    new_mean = (1.0 - momentum) * running_mean + momentum * batch_mean
    new_var = (1.0 - momentum) * running_var + momentum * (biased_var * n / (n - 1))
    return out, new_mean, new_var


# %% batchnorm_backward
import numpy as np

from coursekit.checks import as_float_array, as_float_like, as_vector


def standardize_backward(dx_hat, x, axes, eps=1e-5):
    """Gradient through x_hat = standardize(x, axes, eps), given dx_hat = dL/dx_hat (the shape of x).

        dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps)

    with every mean, and var, taken over `axes`. Returns dx, the shape of x.
    """
    x = np.asarray(x, dtype=np.float64)
    g = np.asarray(dx_hat, dtype=np.float64)
    mean = lambda v: np.mean(v, axis=axes, keepdims=True)
    mu = mean(x)
    inv_s = 1.0 / np.sqrt(mean((x - mu) ** 2) + eps)
    x_hat = (x - mu) * inv_s
    return inv_s * (g - mean(g) - x_hat * mean(g * x_hat))


def batchnorm_backward(dout, x, gamma, beta, eps=1e-5):
    """Gradients of train-mode batch norm, out = gamma * standardize(x, 0, eps) + beta.

    dout, x: (N, D); gamma, beta: (D,).
    Returns (dx (N, D), dgamma (D,), dbeta (D,)).
    """
    x = as_float_array(x, "x", 2)
    d = x.shape[1]
    gamma = as_vector(gamma, "gamma", d)
    beta = as_vector(beta, "beta", d)
    dout = as_float_like(dout, "dout", x)
    x_hat = standardize(x, 0, eps)
    dgamma = np.einsum("nd,nd->d", dout, x_hat)
    dbeta = np.einsum("nd->d", dout)
    dx = standardize_backward(dout * gamma, x, 0, eps)
    return dx, dgamma, dbeta


# %% spatial_batchnorm_forward
import numpy as np

from coursekit.checks import as_float_array, as_vector


def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1, eps=1e-5):
    """Batch norm of NCHW x (N, C, H, W) with one statistic per channel, over (N, H, W).

    Returns (out (N, C, H, W), new_running_mean (C,), new_running_var (C,)).
    """
    x = as_float_array(x, "x", 4)
    n, c, h, w = x.shape
    vectors = [as_vector(v, name, c) for v, name in ((gamma, "gamma"), (beta, "beta"),
                                                       (running_mean, "running_mean"), (running_var, "running_var"))]
    train = _check_bn_options(train, momentum, eps)
    if train and n * h * w < 2:
        raise ValueError(f"x must hold at least 2 values per channel (N*H*W >= 2) to train, got shape {x.shape}")
    rows = np.moveaxis(x, 1, -1).reshape(n * h * w, c)          # channels last, one row per pixel
    out_rows, new_mean, new_var = batchnorm_forward(rows, *vectors, train=train, momentum=momentum, eps=eps)
    out = np.ascontiguousarray(np.moveaxis(out_rows.reshape(n, h, w, c), -1, 1))
    return out, new_mean, new_var


# %% spatial_batchnorm_backward
import numpy as np

from coursekit.checks import as_float_array, as_float_like, as_vector


def spatial_batchnorm_backward(dout, x, gamma, beta, eps=1e-5):
    """Gradients of train-mode spatial batch norm: standardize over (N, H, W), per channel."""
    x = as_float_array(x, "x", 4)
    dout = as_float_like(dout, "dout", x)
    c = x.shape[1]
    gamma = as_vector(gamma, "gamma", c)
    beta = as_vector(beta, "beta", c)
    axes = (0, 2, 3)
    x_hat = standardize(x, axes, eps)
    dgamma = np.einsum("nchw,nchw->c", dout, x_hat)
    dbeta = np.einsum("nchw->c", dout)
    dx = standardize_backward(dout * gamma[None, :, None, None], x, axes, eps)
    return dx, dgamma, dbeta


# %% layernorm_forward
import numpy as np

from coursekit.checks import as_float_array, as_vector


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer norm of x (N, D): each row standardized over its D features, then gamma * x_hat + beta."""
    x = as_float_array(x, "x", 2)
    d = x.shape[1]
    gamma, beta = as_vector(gamma, "gamma", d), as_vector(beta, "beta", d)
    return standardize(x, 1, eps) * gamma + beta


# %% layernorm_backward
import numpy as np

from coursekit.checks import as_float_array, as_float_like, as_vector


def layernorm_backward(dout, x, gamma, beta, eps=1e-5):
    """Gradients of layer norm: returns (dx (N, D), dgamma (D,), dbeta (D,))."""
    x = as_float_array(x, "x", 2)
    dout = as_float_like(dout, "dout", x)
    d = x.shape[1]
    gamma, beta = as_vector(gamma, "gamma", d), as_vector(beta, "beta", d)
    x_hat = standardize(x, 1, eps)
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    return standardize_backward(dout * gamma, x, 1, eps), dgamma, dbeta


# %% groupnorm_forward
import numbers

import numpy as np

from coursekit.checks import as_float_array, as_vector


def split_groups(x, groups):
    """View NCHW x as (N, G, C // G, H, W): group g holds channels g*C//G ... (g+1)*C//G - 1.

    Raises ValueError naming `groups` unless it is a positive integer that divides C.
    """
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise ValueError(f"groups must be an integer, got {groups!r}")
    n, c, h, w = x.shape
    if groups < 1 or c % groups != 0:
        raise ValueError(f"groups must be a positive divisor of the {c} channels, got {groups}")
    g = int(groups)
    return x.reshape(n, g, c // g, h, w)


def groupnorm_forward(x, gamma, beta, groups, eps=1e-5):
    """Group norm of NCHW x: one mean and variance per (example, group of channels)."""
    x = as_float_array(x, "x", 4)
    c = x.shape[1]
    gamma, beta = as_vector(gamma, "gamma", c), as_vector(beta, "beta", c)
    x_hat = standardize(split_groups(x, groups), (2, 3, 4), eps).reshape(x.shape)
    return np.einsum("c,nchw->nchw", gamma, x_hat) + beta[:, None, None]


# %% groupnorm_backward
import numpy as np

from coursekit.checks import as_float_array, as_float_like, as_vector


def groupnorm_backward(dout, x, gamma, beta, groups, eps=1e-5):
    """Gradients of group norm: returns (dx (N, C, H, W), dgamma (C,), dbeta (C,))."""
    x = as_float_array(x, "x", 4)
    dout = as_float_like(dout, "dout", x)
    c = x.shape[1]
    gamma, beta = as_vector(gamma, "gamma", c), as_vector(beta, "beta", c)
    grouped_x = split_groups(x, groups)
    axes = (2, 3, 4)
    x_hat = standardize(grouped_x, axes, eps).reshape(x.shape)
    upstream = split_groups(dout * gamma.reshape(1, c, 1, 1), groups)
    dx = standardize_backward(upstream, grouped_x, axes, eps).reshape(x.shape)
    dgamma = np.einsum("nchw,nchw->c", dout, x_hat)
    dbeta = np.einsum("nchw->c", dout)
    return dx, dgamma, dbeta


# %% fold_batchnorm
import numpy as np

from coursekit.checks import as_float_array, as_vector


def fold_batchnorm(w, b, gamma, beta, running_mean, running_var, eps=1e-5):
    """Weights of one conv equal to conv(w, b) followed by eval-mode spatial batch norm."""
    w = as_float_array(w, "w", 4)
    f = w.shape[0]
    b = np.zeros(f) if b is None else as_vector(b, "b", f)
    gamma = as_vector(gamma, "gamma", f)
    beta = as_vector(beta, "beta", f)
    mean = as_vector(running_mean, "running_mean", f)
    var = as_vector(running_var, "running_var", f)
    scale = gamma / np.sqrt(var + eps)
    w_folded = np.einsum("f,fchw->fchw", scale, w)
    b_folded = scale * (b - mean) + beta
    return w_folded, b_folded
