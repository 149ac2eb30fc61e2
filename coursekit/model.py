"""A tiny Sequential CNN assembled from the course's reference layers (notebook 07).

A model is a list of layers run one after another. Its parameters live in
one flat dict, ``{"conv1.w": ..., "conv1.b": ..., "fc.w": ...}``, so the
optimizers of notebook 07 (which update dicts of arrays) train it directly.

Every layer has a ``name`` and three methods:

- ``init(rng, in_shape) -> (params, out_shape)``  for one image's shape (C, H, W) or (D,)
- ``forward(params, x) -> out``
- ``backward(dout, params, x) -> (dx, grads)``   with ``x`` the layer's input,
  as every backward of the course: no hidden caches.

    >>> model = Sequential(Conv("conv1", 8), ReLU(), MaxPool(), Flatten(), Linear("fc", 10))
    >>> params = model.init(np.random.default_rng(0), (1, 8, 8))
    >>> loss, grads = model.loss_and_grads(params, x, y)
"""

import numpy as np

from . import nn

__all__ = ["Conv", "ReLU", "MaxPool", "Flatten", "Linear", "Sequential", "small_cnn", "progress_bar"]


class Conv:
    """``kernel`` x ``kernel`` convolution with ``out_channels`` filters, stride 1, 'same' padding."""

    def __init__(self, name, out_channels, kernel=3):
        self.name, self.out_channels, self.kernel = name, out_channels, kernel
        self.pad = kernel // 2

    def init(self, rng, in_shape):
        c, h, w = in_shape
        weights = nn.kaiming_normal((self.out_channels, c, self.kernel, self.kernel), rng)
        params = {f"{self.name}.w": weights, f"{self.name}.b": np.zeros(self.out_channels)}
        return params, (self.out_channels, h, w)

    def forward(self, params, x):
        return nn.conv2d_forward(x, params[f"{self.name}.w"], params[f"{self.name}.b"], pad=self.pad)

    def backward(self, dout, params, x):
        dx, dw, db = nn.conv2d_backward(dout, x, params[f"{self.name}.w"], params[f"{self.name}.b"], pad=self.pad)
        return dx, {f"{self.name}.w": dw, f"{self.name}.b": db}


class ReLU:
    name = "relu"

    def init(self, rng, in_shape):
        return {}, in_shape

    def forward(self, params, x):
        return nn.relu_forward(x)

    def backward(self, dout, params, x):
        return nn.relu_backward(dout, x), {}


class MaxPool:
    """``pool`` x ``pool`` max pooling with stride ``pool``."""
    name = "maxpool"

    def __init__(self, pool=2):
        self.pool = pool

    def init(self, rng, in_shape):
        c, h, w = in_shape
        return {}, (c, h // self.pool, w // self.pool)

    def forward(self, params, x):
        return nn.maxpool_forward(x, self.pool, self.pool)

    def backward(self, dout, params, x):
        return nn.maxpool_backward(dout, x, self.pool, self.pool), {}


class Flatten:
    """(N, C, H, W) -> (N, C*H*W)."""
    name = "flatten"

    def init(self, rng, in_shape):
        return {}, (int(np.prod(in_shape)),)

    def forward(self, params, x):
        return x.reshape(x.shape[0], -1)

    def backward(self, dout, params, x):
        return dout.reshape(x.shape), {}


class Linear:
    """``x @ w + b`` with ``out_features`` outputs."""

    def __init__(self, name, out_features):
        self.name, self.out_features = name, out_features

    def init(self, rng, in_shape):
        (d_in,) = in_shape
        weights = nn.kaiming_normal((d_in, self.out_features), rng, nonlinearity="linear")   # fan_in = d_in
        params = {f"{self.name}.w": weights, f"{self.name}.b": np.zeros(self.out_features)}
        return params, (self.out_features,)

    def forward(self, params, x):
        return nn.linear_forward(x, params[f"{self.name}.w"], params[f"{self.name}.b"])

    def backward(self, dout, params, x):
        dx, dw, db = nn.linear_backward(dout, x, params[f"{self.name}.w"], params[f"{self.name}.b"])
        return dx, {f"{self.name}.w": dw, f"{self.name}.b": db}


class Sequential:
    """Layers run one after another, ending in logits; the loss is softmax cross-entropy."""

    def __init__(self, *layers):
        self.layers = layers

    def init(self, rng, input_shape):
        """Fresh parameters for images of ``input_shape`` (C, H, W), drawn from ``rng``."""
        params, shape = {}, tuple(input_shape)
        for layer in self.layers:
            layer_params, shape = layer.init(rng, shape)
            params.update(layer_params)
        return params

    def forward(self, params, x):
        """Logits (N, classes) of a batch ``x`` (N, C, H, W)."""
        return self.activations(params, x)[-1]

    def activations(self, params, x):
        """The input and every layer's output: ``[x, out_1, ..., logits]``."""
        outputs = [np.asarray(x, dtype=np.float64)]
        for layer in self.layers:
            outputs.append(layer.forward(params, outputs[-1]))
        return outputs

    def loss_and_grads(self, params, x, y):
        """Mean softmax cross-entropy of the batch and its gradient for every parameter."""
        outputs = self.activations(params, x)
        loss, dout = nn.softmax_cross_entropy(outputs[-1], y)
        grads = {}
        for layer, layer_input in zip(reversed(self.layers), reversed(outputs[:-1])):
            dout, layer_grads = layer.backward(dout, params, layer_input)
            grads.update(layer_grads)
        return loss, grads


def small_cnn(channels=(16, 32), classes=10):
    """(conv3x3 - relu - maxpool2) x 2 -> linear: the CNN of notebook 07."""
    first, second = channels
    return Sequential(
        Conv("conv1", first), ReLU(), MaxPool(),
        Conv("conv2", second), ReLU(), MaxPool(),
        Flatten(), Linear("fc", classes),
    )


def progress_bar(done, total, width=30, **stats):
    """A one-line text progress bar, e.g. ``[#########.....]  6/10  loss 0.123``; print it with ``end="\\r"``."""
    filled = int(round(width * done / total)) if total else width
    text = f"[{'#' * filled}{'.' * (width - filled)}] {done:>{len(str(total))}}/{total}"
    for key, value in stats.items():
        text += f"  {key} {value:.4g}" if isinstance(value, float) else f"  {key} {value}"
    return text
