# Independent answers to 02_fc_backprop, written from the released notebook only.
# %% linear_forward
import numpy as np


def _linear_inputs(x, w, b):
    """x, w, b as float64 arrays after the shape checks of a linear layer."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (N, D_in), got shape {x.shape}")
    if w.ndim != 2:
        raise ValueError(f"w must be 2-D (D_in, D_out), got shape {w.shape}")
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"w has {w.shape[0]} rows but x has {x.shape[1]} columns (D_in)")
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape ({w.shape[1]},), got {b.shape}")
    return x, w, b


def linear_forward(x, w, b):
    """Fully connected layer ``out = x @ w + b``.

    x: (N, D_in), one example per row
    w: (D_in, D_out)
    b: (D_out,)
    Returns out (N, D_out), float64.
    Raises ValueError naming x (not 2-D), w (not 2-D, or w.shape[0] != x.shape[1])
    or b (shape not (D_out,)).
    """
    x, w, b = _linear_inputs(x, w, b)
    return np.einsum("nd,dk->nk", x, w) + b[None, :]


# %% linear_backward
import numpy as np


def linear_backward(dout, x, w, b):
    """Gradients of ``out = x @ w + b``.

    dout: (N, D_out), the upstream gradient dL/dout
    x, w, b: the inputs of the forward pass (shapes as in linear_forward)
    Returns (dx, dw, db) with the shapes of x, w and b, float64.
    Raises ValueError naming x, w or b as linear_forward does, then naming dout
    if its shape is not (N, D_out).
    """
    x, w, b = _linear_inputs(x, w, b)
    g = np.asarray(dout, dtype=np.float64)
    if g.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dout must have the output's shape {(x.shape[0], w.shape[1])}, got {g.shape}")
    dx = np.einsum("nk,dk->nd", g, w)
    dw = np.einsum("nd,nk->dk", x, g)
    db = np.einsum("nk->k", g)
    return dx, dw, db


# %% relu_forward
import numpy as np


def relu_forward(x):
    """ReLU ``max(x, 0)``, elementwise. x: any shape. Returns a float64 array of x's shape."""
    values = np.asarray(x, dtype=np.float64)
    return np.where(values > 0, values, 0.0)


# %% relu_backward
import numpy as np


def relu_backward(dout, x):
    """Gradient of ReLU: dL/dx = dout where x > 0, else 0 (also at x == 0).

    dout: upstream gradient, the shape of x
    x: the forward's input
    Returns dx, float64, the shape of x. Raises ValueError naming dout if its shape is not x's.
    """
    upstream = np.asarray(dout, dtype=np.float64)
    positive = np.asarray(x) > 0
    if upstream.shape != positive.shape:
        raise ValueError(f"dout must have the shape of x {positive.shape}, got {upstream.shape}")
    return upstream * positive           # a new array; False counts as 0


# %% sigmoid_forward
import numpy as np


def sigmoid_forward(x):
    """Sigmoid ``1 / (1 + exp(-x))``, elementwise, without overflow (|x| up to 1e3 and beyond).

    x: any shape. Returns a float64 array of x's shape, values in [0, 1].
    """
    z = np.asarray(x, dtype=np.float64)
    # Both branches are evaluated everywhere (NumPy may warn about overflow in the branch
    # not taken); np.where keeps, for every entry, the one whose exp sees -|z|.
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


# %% sigmoid_backward
import numpy as np


def sigmoid_backward(dout, x):
    """Gradient of the sigmoid: dL/dx = dout * s * (1 - s) with s = sigmoid(x).

    dout: upstream gradient, the shape of x;  x: the forward's input.
    Returns dx, float64, the shape of x. Raises ValueError naming dout if its shape is not x's.
    """
    s = sigmoid_forward(x)
    g = np.asarray(dout, dtype=np.float64)
    if g.shape != s.shape:
        raise ValueError(f"dout must have the shape of x {s.shape}, got {g.shape}")
    return g * s * (1.0 - s)


# %% tanh_backward
import numpy as np


def tanh_backward(dout, x):
    """Gradient of tanh: dL/dx = dout * (1 - tanh(x)**2).

    dout: upstream gradient, the shape of x;  x: the forward's input.
    Returns dx, float64, the shape of x. Raises ValueError naming dout if its shape is not x's.
    """
    t = np.tanh(np.asarray(x, dtype=np.float64))
    g = np.asarray(dout, dtype=np.float64)
    if g.shape != t.shape:
        raise ValueError(f"dout must have the shape of x {t.shape}, got {g.shape}")
    return g * (1.0 - t * t)


# %% softmax_cross_entropy
import numpy as np


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits: (N, C) scores, one row per example, N >= 1 (any size up to 1e4 in magnitude)
    y: (N,) integer class ids in [0, C) (an integer dtype: not float, not bool)
    Returns (loss, dlogits): loss a float, dlogits (N, C) = dL/dlogits.
    Raises ValueError naming logits (not 2-D, or N = 0), then y (wrong shape, not integers,
    or a label outside [0, C)). A nan or +inf logit gives a nan loss, not an error.
    """
    s = np.asarray(logits, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"logits must be 2-D (N, C), got shape {s.shape}")
    if s.shape[0] == 0:
        raise ValueError("logits must have at least one row: the mean over N = 0 examples is undefined")
    N, C = s.shape
    labels = np.asarray(y)
    if labels.shape != (N,):
        raise ValueError(f"y must have shape ({N},), one label per row of logits, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"y must hold integer class ids, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= C:
        raise ValueError(f"y must hold labels in [0, {C}), got values from {labels.min()} to {labels.max()}")
    shifted = s - s.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_norm
    rows = np.arange(N)
    loss = -np.mean(log_p[rows, labels])          # a np.float64
    grad = np.exp(log_p)
    grad[rows, labels] -= 1.0
    return loss, grad / N


# %% mse_loss
import numpy as np


def mse_loss(pred, target):
    """Squared error ``0.5 * sum((pred - target)**2) / N`` and its gradient.

    pred, target: arrays of the same shape (N, ...), N = number of examples
    Returns (loss, dpred): loss a float (a Python float or a NumPy floating scalar),
    dpred = (pred - target) / N of pred's shape.
    Raises ValueError naming target if its shape differs from pred's.
    """
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if t.shape != p.shape:
        raise ValueError(f"target must have the shape of pred {p.shape}, got {t.shape}")
    N = p.shape[0]
    error = p - t
    loss = np.float64(0.5) * np.vdot(error, error) / N       # vdot flattens both
    return loss, error / N


# %% mlp2_loss_and_grads
import numpy as np


def mlp2_loss_and_grads(params, x, y):
    """Loss and gradients of the network ``linear -> relu -> linear -> softmax cross-entropy``.

    params: dict with w1 (D, H), b1 (H,), w2 (H, C), b2 (C,)
    x: (N, D) inputs;  y: (N,) integer labels in [0, C)
    Returns (loss, grads): loss a float (a Python float or a NumPy floating scalar),
    grads a dict with the keys and shapes of params.
    """
    w1, b1, w2, b2 = (params[key] for key in ("w1", "b1", "w2", "b2"))
    z1 = linear_forward(x, w1, b1)
    h = relu_forward(z1)
    scores = linear_forward(h, w2, b2)
    loss, dscores = softmax_cross_entropy(scores, y)
    dh, dw2, db2 = linear_backward(dscores, h, w2, b2)
    dz1 = relu_backward(dh, z1)
    _, dw1, db1 = linear_backward(dz1, x, w1, b1)
    grads = {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}
    return loss, grads
