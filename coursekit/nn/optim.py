"""Optimizers and minibatches: the reference layers of notebook 07.

Parameters, gradients and optimizer state are dicts of arrays with the same
keys, e.g. ``{"w1": (D, H), "b1": (H,), ...}``. Every step returns **new**
dicts and leaves its inputs untouched. The update rules are PyTorch's
(``torch.optim.SGD`` with and without momentum, ``torch.optim.Adam``), with no
weight decay, no dampening and no Nesterov:

    SGD:       p <- p - lr * g
    momentum:  v <- mu * v + g;            p <- p - lr * v
    Adam:      m <- b1 * m + (1 - b1) * g;  v <- b2 * v + (1 - b2) * g**2
               p <- p - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)
"""

import numbers

import numpy as np

from ..checks import as_float_array, check_int

__all__ = ["iterate_minibatches", "sgd_step", "momentum_step", "adam_step", "accuracy"]


# -- argument checks --------------------------------------------------------

def _check_number(value, name, low, high=np.inf, high_inclusive=False):
    """A real number in [low, high) (or [low, high]); the error names the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    too_high = value > high if high_inclusive else value >= high
    if value < low or too_high:
        closing = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must be in [{low}, {high}{closing}, got {value}")
    return float(value)


def _float_dict(arrays, name, like=None):
    """``arrays`` as a new dict of float64 arrays; with ``like`` (a dict of arrays or nested lists): same keys and shapes."""
    if not isinstance(arrays, dict):
        raise ValueError(f"{name} must be a dict of arrays, got {type(arrays).__name__}")
    converted = {key: np.asarray(value, dtype=np.float64) for key, value in arrays.items()}
    if like is not None:
        if set(converted) != set(like):
            raise ValueError(f"{name} must have the keys of params {sorted(like)}, got {sorted(converted)}")
        for key in like:
            if converted[key].shape != np.shape(like[key]):
                raise ValueError(f"{name}[{key!r}] has shape {converted[key].shape}, but params[{key!r}] has shape {np.shape(like[key])}")
    return converted


# -- minibatches --------------------------------------------------------------

def iterate_minibatches(n, batch_size, rng, shuffle=True, drop_last=False):
    """One epoch of minibatch indices over ``n`` samples.

    Yields int arrays of length ``batch_size`` (the last one may be shorter,
    unless ``drop_last``) that together cover ``range(n)`` exactly once. With
    ``shuffle`` the order is ``rng.permutation(n)``, drawn once per call; without
    it the order is ``0, 1, ..., n-1`` and ``rng`` is not used. Arguments are
    checked when the function is called, not when the first batch is taken.
    """
    n = check_int(n, "n", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    if shuffle:
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator when shuffle=True, got {type(rng).__name__}")
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    return (order[start:start + batch_size] for start in range(0, stop, batch_size))


# -- update rules ---------------------------------------------------------------

def sgd_step(params, grads, lr):
    """Plain gradient descent: ``p - lr * g`` for every parameter; returns a new dict."""
    params = _float_dict(params, "params")
    grads = _float_dict(grads, "grads", like=params)
    lr = _check_number(lr, "lr", 0.0)
    return {key: params[key] - lr * grads[key] for key in params}


def momentum_step(params, grads, velocity, lr, momentum=0.9):
    """SGD with momentum (PyTorch): ``v = momentum * v + g``, ``p = p - lr * v``.

    Start with ``velocity`` all zeros: the first step then gives ``v = g``,
    exactly PyTorch's first step. Returns ``(new_params, new_velocity)``.
    """
    params = _float_dict(params, "params")
    grads = _float_dict(grads, "grads", like=params)
    velocity = _float_dict(velocity, "velocity", like=params)
    lr = _check_number(lr, "lr", 0.0)
    momentum = _check_number(momentum, "momentum", 0.0)
    new_velocity = {key: momentum * velocity[key] + grads[key] for key in params}
    new_params = {key: params[key] - lr * new_velocity[key] for key in params}
    return new_params, new_velocity


def adam_step(params, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step (PyTorch), ``t`` = 1 for the first step; returns ``(params, m, v)``.

        m = beta1 * m + (1 - beta1) * g          (first moment)
        v = beta2 * v + (1 - beta2) * g**2       (second moment)
        p = p - lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t)

    ``m`` and ``v`` start as zeros.
    """
    params = _float_dict(params, "params")
    grads = _float_dict(grads, "grads", like=params)
    m = _float_dict(m, "m", like=params)
    v = _float_dict(v, "v", like=params)
    t = check_int(t, "t", 1)
    lr = _check_number(lr, "lr", 0.0)
    beta1 = _check_number(beta1, "beta1", 0.0, 1.0)
    beta2 = _check_number(beta2, "beta2", 0.0, 1.0)
    eps = _check_number(eps, "eps", 0.0)
    new_params, new_m, new_v = {}, {}, {}
    for key in params:
        new_m[key] = beta1 * m[key] + (1 - beta1) * grads[key]
        new_v[key] = beta2 * v[key] + (1 - beta2) * grads[key] ** 2
        m_hat = new_m[key] / (1 - beta1 ** t)
        v_hat = new_v[key] / (1 - beta2 ** t)
        new_params[key] = params[key] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_params, new_m, new_v


# -- evaluation ---------------------------------------------------------------------

def accuracy(logits, y):
    """Fraction of rows of ``logits`` (N, K) whose largest entry is at the class ``y`` (N,) names.

    Ties go to the first largest entry (``np.argmax``). Returns a Python float.
    """
    logits = as_float_array(logits, "logits", 2)
    y = np.asarray(y)
    if y.shape != (logits.shape[0],):
        raise ValueError(f"y must have shape ({logits.shape[0]},) to match logits {logits.shape}, got {y.shape}")
    if logits.shape[0] == 0:
        raise ValueError(f"logits must hold at least one row, got shape {logits.shape}")
    return float(np.mean(np.argmax(logits, axis=1) == y))
