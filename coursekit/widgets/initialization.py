"""Explorer 6: how the weight initialization shapes the activations of a deep stack of linear layers.

A batch of N(0, 1) inputs goes through ``depth`` layers ``y = a @ W (+ b)``,
``a = activation(y)``, all of width ``width``. For a layer with fan-in ``n``,

    Var(y) = n * Var(W) * E[a_prev^2]   (+ Var(b) with a bias),

so the variance stays put only when ``n * Var(W)`` undoes what the activation
does to ``E[a^2]``: He's ``Var(W) = 2 / n`` for ReLU, which halves it.
"""

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import FuncFormatter, NullLocator

from coursekit.nn import kaiming_normal, xavier_normal
from coursekit.nn.init import ACTIVATIONS

from ._language import fig_tr, mark, tr
from ._explorer import STYLE, Explorer, int_slider, toggles

__all__ = ["SCHEMES", "BATCH", "BIAS_STD", "InitExperiment", "init_experiment", "init_explorer"]

BATCH = 256          # inputs per experiment
BIAS_STD = 0.5       # biases, when on, are N(0, BIAS_STD^2)

SCHEMES = {          # key: (label, weights(shape, rng))
    "zero": (mark("zero"), lambda shape, rng: np.zeros(shape)),
    "small": (mark("small normal N(0, 0.01²)"), lambda shape, rng: rng.normal(0.0, 0.01, shape)),
    "large": (mark("large normal N(0, 1)"), lambda shape, rng: rng.normal(0.0, 1.0, shape)),
    "xavier": ("Xavier N(0, 2/(fan_in+fan_out))", lambda shape, rng: xavier_normal(shape, rng)),
    "he": ("He N(0, 2/fan_in)", lambda shape, rng: kaiming_normal(shape, rng, nonlinearity="relu")),
}


@dataclass
class InitExperiment:
    """Inputs, parameters and every layer's activations of one forward pass."""

    activation: str
    x: np.ndarray          # (BATCH, width) inputs, N(0, 1)
    weights: list          # depth arrays (width, width)
    biases: list           # depth arrays (width,), or None
    variances: list        # Var(y_l) of every layer's pre-activation, over all entries
    activations: list      # a_l = activation(y_l), (BATCH, width) each

    @property
    def mean_squares(self):
        """E[a_l^2] of every layer's output."""
        return [float(np.mean(a ** 2)) for a in self.activations]


def init_experiment(depth=10, width=128, activation="relu", scheme="he", bias=False, seed=0):
    """Forward a seeded N(0, 1) batch through ``depth`` freshly initialized linear layers."""
    if activation not in ACTIVATIONS:
        raise ValueError(tr("activation must be one of {names}, got {name}").format(names=sorted(ACTIVATIONS),
                                                                                  name=repr(activation)))
    if scheme not in SCHEMES:
        raise ValueError(tr("scheme must be one of {names}, got {name}").format(names=sorted(SCHEMES), name=repr(scheme)))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, width))
    initialize = SCHEMES[scheme][1]
    weights = [initialize((width, width), rng) for _ in range(depth)]
    biases = [rng.normal(0.0, BIAS_STD, width) for _ in range(depth)] if bias else None

    a, variances, activations = x, [], []
    for layer, w in enumerate(weights):
        y = a @ w
        if biases is not None:
            y = y + biases[layer]
        variances.append(float(np.var(y)))
        a = ACTIVATIONS[activation](y)
        activations.append(a)
    return InitExperiment(activation, x, weights, biases, variances, activations)


def _describe(experiment):
    first, last = experiment.variances[0], experiment.variances[-1]
    if first == 0:
        return tr("Var(y) = 0 in layer 1: every unit computes the same thing, and gets the same gradient")
    return tr("Var(y) of layer 1: <b>{first}</b>, of layer {depth}: <b>{last}</b> (ratio {ratio})").format(
        first=f"{first:.3g}", depth=len(experiment.variances), last=f"{last:.3g}", ratio=f"{last / first:.3g}")


def _histogram_range(experiment):
    """One x-range for all layers, so that shrinking and exploding activations both show."""
    if experiment.activation == "tanh":
        return -1.0, 1.0
    if experiment.activation == "sigmoid":
        return 0.0, 1.0
    spread = 4 * float(np.std(experiment.activations[0])) or 1.0
    return (0.0 if experiment.activation == "relu" else -spread), spread


def _draw(figure, experiment):
    hist_ax, var_ax = figure.subplots(1, 2, width_ratios=[1.3, 1], gridspec_kw={
        "left": 0.08, "right": 0.98, "top": 0.92, "bottom": 0.12, "wspace": 0.15})
    low, high = _histogram_range(experiment)
    edges = np.linspace(low, high, 41)
    depth = len(experiment.activations)
    for layer, a in enumerate(experiment.activations):
        if experiment.activation == "relu":
            a = a[a != 0]                    # about half are exactly 0: they would flatten the rest
        counts, _ = np.histogram(np.clip(a, low, high), edges)      # values beyond the axis land at its ends
        baseline = depth - 1 - layer
        heights = counts / max(counts.max(), 1)
        hist_ax.stairs(baseline + 0.9 * heights, edges, baseline=baseline, fill=True, color=f"C{layer % 10}", alpha=0.8)
    hist_ax.set_yticks(range(depth), [fig_tr("layer {number}").format(number=depth - i) for i in range(depth)],
                       fontsize=8)
    hist_ax.set_xlim(low, high)
    left_out = fig_tr(", zeros left out") if experiment.activation == "relu" else ""
    hist_ax.set_title(fig_tr("activations a = {activation}(y){left_out}; beyond the axis: at its ends").format(
        activation=experiment.activation, left_out=left_out), fontsize=10)

    layers = np.arange(1, depth + 1)
    variances = np.array(experiment.variances)
    mean_squares = np.array(experiment.mean_squares)
    var_ax.plot(layers, np.where(variances > 0, variances, np.nan), "o-", label="Var(y)")
    var_ax.plot(layers, np.where(mean_squares > 0, mean_squares, np.nan), "s--", label="E[a²]")
    var_ax.set_yscale("log")
    shown = np.concatenate([variances[variances > 0], mean_squares[mean_squares > 0], [0.1, 10]])
    var_ax.set_ylim(shown.min() / 3, shown.max() * 3)                     # a flat curve should look flat
    var_ax.yaxis.set_minor_locator(NullLocator())                           # plain labels draw faster
    var_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0e}"))
    var_ax.set_xlabel(fig_tr("layer"))
    var_ax.set_title(fig_tr("per layer (log scale)"), fontsize=10)
    var_ax.legend(fontsize=9)
    var_ax.grid(alpha=0.3)


def init_explorer():
    """Depth, width, activation, init scheme and bias: per-layer activation histograms and variances."""
    controls = {
        "depth": int_slider("depth", 10, 1, 20, continuous_update=False),
        "width": widgets.IntSlider(value=128, min=16, max=256, step=16, description=tr("width"),
                                   continuous_update=False, style=STYLE),
        "activation": toggles("activation", ["relu", "tanh", "sigmoid", "linear"], "relu"),
        "scheme": widgets.Dropdown(options=[(tr(label), key) for key, (label, _) in SCHEMES.items()], value="he",
                                   description=tr("init"), style=STYLE),
        "bias": widgets.Checkbox(value=False, description=tr("bias N(0, {std}²)").format(std=BIAS_STD), style=STYLE),
        "seed": widgets.BoundedIntText(value=0, min=0, max=9999, description=tr("seed"), style=STYLE,
                                       layout=widgets.Layout(width="130px")),
    }
    return Explorer("init", controls, init_experiment, _describe, _draw, figsize=(10, 4.2))
