"""Fully connected layers, activations and losses: the reference layers of notebook 02.

Shapes:  x (N, D_in),  w (D_in, D_out),  b (D_out,),  out = x @ w + b  (N, D_out).

Every backward takes the upstream gradient ``dout`` (dL/d output) first and the
forward's inputs after it, and returns dL/d input of the same shapes.
"""

import numpy as np

from ..checks import as_float_array

__all__ = [
    "linear_forward",
    "linear_backward",
    "relu_forward",
    "relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_backward",
    "softmax_cross_entropy",
    "mse_loss",
    "mlp2_loss_and_grads",
]

MLP2_KEYS = ("w1", "b1", "w2", "b2")


def _check_linear_args(x, w, b):
    x = as_float_array(x, "x", 2)
    w = as_float_array(w, "w", 2)
    b = as_float_array(b, "b", 1)
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"w must have {x.shape[1]} rows to match x (x.shape={x.shape}), got w.shape={w.shape}")
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape ({w.shape[1]},) to match w (w.shape={w.shape}), got b.shape={b.shape}")
    return x, w, b


def _check_dout(dout, shape):
    """``dout`` as float64, which must have the shape of the forward's output."""
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != tuple(shape):
        raise ValueError(f"dout must have shape {tuple(shape)} (the forward's output), got {dout.shape}")
    return dout


def linear_forward(x, w, b):
    """``x @ w + b``: x (N, D_in), w (D_in, D_out), b (D_out,) -> (N, D_out)."""
    x, w, b = _check_linear_args(x, w, b)
    return x @ w + b


def linear_backward(dout, x, w, b):
    """Gradients of ``out = x @ w + b`` given ``dout`` = dL/dout (N, D_out).

    dx = dout @ w.T  (N, D_in),   dw = x.T @ dout  (D_in, D_out),   db = sum of dout over the batch  (D_out,)
    """
    x, w, b = _check_linear_args(x, w, b)
    dout = _check_dout(dout, (x.shape[0], w.shape[1]))
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    """``max(x, 0)`` elementwise, any shape."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0)


def relu_backward(dout, x):
    """dL/dx of ReLU: ``dout`` where ``x > 0``, else 0 (also at ``x == 0``, as in PyTorch)."""
    x = np.asarray(x, dtype=np.float64)
    dout = _check_dout(dout, x.shape)
    return np.where(x > 0, dout, 0.0)


def sigmoid_forward(x):
    """``1 / (1 + exp(-x))`` elementwise, without overflow for any finite ``x``.

    ``exp`` only ever sees ``-|x|`` <= 0:  for x >= 0 use 1 / (1 + e^-x),
    for x < 0 use e^x / (1 + e^x), the same number written differently.
    """
    x = np.asarray(x, dtype=np.float64)
    small = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + small), small / (1.0 + small))


def sigmoid_backward(dout, x):
    """dL/dx of the sigmoid: ``dout * s * (1 - s)`` with ``s = sigmoid(x)``."""
    s = sigmoid_forward(x)
    dout = _check_dout(dout, s.shape)
    return dout * s * (1.0 - s)


def tanh_backward(dout, x):
    """dL/dx of ``tanh``: ``dout * (1 - tanh(x)**2)``."""
    t = np.tanh(np.asarray(x, dtype=np.float64))
    dout = _check_dout(dout, t.shape)
    return dout * (1.0 - t ** 2)


def _check_labels(y, n, num_classes):
    """``y`` as an integer array of shape ``(n,)`` with labels in ``[0, num_classes)``.

    A column ``(n, 1)`` is not flattened, and float (even 2.0) or bool labels are rejected.
    """
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one label per row of logits, got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class ids, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"y must be in [0, {num_classes}), got values from {y.min()} to {y.max()}")
    return y


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of ``softmax(logits)`` against integer labels, and its gradient.

    logits (N, C) with N >= 1, y (N,) ints in [0, C)  ->  (loss: float, dlogits (N, C))

        log p[i, c] = s[i, c] - log sum_k exp(s[i, k])      (s = logits - row max: no overflow)
        loss        = -(1/N) sum_i log p[i, y_i]
        dlogits     = (p - onehot(y)) / N

    ``logits`` is checked first (2-D, at least one row), then ``y``. The values of
    ``logits`` are not checked, as in PyTorch: a nan or +inf logit gives a nan loss; a
    -inf logit is a class of probability 0 (gradient 0) when its row has a finite maximum.
    """
    logits = as_float_array(logits, "logits", 2)
    n, num_classes = logits.shape
    if n == 0:
        raise ValueError(f"logits must have at least one row (N >= 1: the mean over an empty batch is undefined), got shape {logits.shape}")
    y = _check_labels(y, n, num_classes)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_probs[rows, y].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, y] -= 1.0
    return float(loss), dlogits / n


def mse_loss(pred, target):
    """``0.5 * sum((pred - target)**2) / N`` (N = pred.shape[0]) and its gradient ``(pred - target) / N``."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if pred.ndim < 1 or pred.shape[0] < 1:
        raise ValueError(f"pred must have a batch axis with at least one row, got shape {pred.shape}")
    if target.shape != pred.shape:
        raise ValueError(f"target must have the shape of pred {pred.shape}, got {target.shape}")
    n = pred.shape[0]
    diff = pred - target
    return float(0.5 * np.sum(diff ** 2) / n), diff / n


def mlp2_loss_and_grads(params, x, y):
    """Loss and gradients of ``linear -> relu -> linear -> softmax cross-entropy``.

    params: dict with w1 (D, H), b1 (H,), w2 (H, C), b2 (C,);  x (N, D);  y (N,) ints.
    Returns ``(loss, grads)``, grads a dict with the same keys and shapes as params.
    """
    if not isinstance(params, dict) or any(key not in params for key in MLP2_KEYS):
        raise ValueError(f"params must be a dict with keys {MLP2_KEYS}, got {sorted(params) if isinstance(params, dict) else type(params).__name__}")
    w1, b1, w2, b2 = (params[key] for key in MLP2_KEYS)
    # forward
    z1 = linear_forward(x, w1, b1)
    h = relu_forward(z1)
    scores = linear_forward(h, w2, b2)
    loss, dscores = softmax_cross_entropy(scores, y)
    # backward, layer by layer in reverse
    dh, dw2, db2 = linear_backward(dscores, h, w2, b2)
    dz1 = relu_backward(dh, z1)
    _, dw1, db1 = linear_backward(dz1, x, w1, b1)
    return loss, {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}
