# Independent answers to 07_training, written from the released notebook only.
# %% iterate_minibatches
import numbers

import numpy as np


def _require_count(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def iterate_minibatches(n, batch_size, rng, shuffle=True, drop_last=False):
    """One epoch of minibatch indices over n examples (a generator).

    Yields int arrays of length batch_size (the last may be shorter unless drop_last) that together
    cover range(n) exactly once. Order: rng.permutation(n) if shuffle, else 0, 1, ..., n-1.
    """
    n = _require_count(n, "n")
    batch_size = _require_count(batch_size, "batch_size")
    if shuffle and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a np.random.Generator when shuffle is true, got {type(rng).__name__}")
    order = rng.permutation(n) if shuffle else np.arange(n)
    start = 0
    while start < n:
        stop = start + batch_size
        if stop > n and drop_last:
            return
        yield order[start:stop]
        start = stop


# %% sgd_step
def sgd_step(params, grads, lr):
    """One gradient-descent step: returns a new dict {key: params[key] - lr * grads[key]} (float64)."""
    params = as_float_dict(params, "params")
    grads = as_float_dict(grads, "grads", like=params)
    if lr < 0:
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    new = {}
    for key, value in params.items():
        new[key] = value - lr * grads[key]
    return new


# %% momentum_step
def momentum_step(params, grads, velocity, lr, momentum=0.9):
    """SGD with momentum, PyTorch semantics: v = momentum * v + g;  p = p - lr * v."""
    params = as_float_dict(params, "params")
    grads = as_float_dict(grads, "grads", like=params)
    velocity = as_float_dict(velocity, "velocity", like=params)
    for name, value in (("lr", lr), ("momentum", momentum)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    new_velocity = {key: momentum * velocity[key] + grads[key] for key in params}
    new_params = {key: params[key] - lr * new_velocity[key] for key in params}
    return new_params, new_velocity


# %% adam_step
import numbers

import numpy as np


def adam_step(params, grads, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step, PyTorch semantics; t is the step number, starting at 1."""
    params = as_float_dict(params, "params")
    grads = as_float_dict(grads, "grads", like=params)
    m = as_float_dict(m, "m", like=params)
    v = as_float_dict(v, "v", like=params)
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 1:
        raise ValueError(f"t must be an integer >= 1, got {t!r}")
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1:
            raise ValueError(f"{name} must satisfy 0 <= {name} < 1, got {beta!r}")
    for name, value in (("lr", lr), ("eps", eps)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    correction1 = 1.0 - beta1 ** int(t)
    correction2 = 1.0 - beta2 ** int(t)
    new_params, new_m, new_v = {}, {}, {}
    for key in params:
        g = grads[key]
        new_m[key] = beta1 * m[key] + (1.0 - beta1) * g
        new_v[key] = beta2 * v[key] + (1.0 - beta2) * np.square(g)
        m_hat = new_m[key] / correction1
        v_hat = new_v[key] / correction2
        new_params[key] = params[key] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_params, new_m, new_v


# %% accuracy
import numpy as np


def accuracy(logits, y):
    """Fraction of rows of logits (N, K) whose largest entry (the first one, on ties) is at column y[i]."""
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must be 2-D (N, K), got shape {logits.shape}")
    if logits.shape[0] == 0:
        raise ValueError(f"logits must have at least one row (N >= 1), got shape {logits.shape}")
    y = np.asarray(y)
    if y.shape != (logits.shape[0],):
        raise ValueError(f"y must hold one label per row of logits, shape ({logits.shape[0]},), got {y.shape}")
    is_max = logits == logits.max(axis=1, keepdims=True)
    predicted = np.argmax(is_max, axis=1)          # the first True: the first largest score
    return float(np.count_nonzero(predicted == y)) / float(len(y))
