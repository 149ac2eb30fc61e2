"""Explorer 7: gradient descent, SGD, momentum and Adam on a loss surface you can see.

The model is a line ``w * x + b`` fitted to 64 seeded points with the mean
squared error ``L(w, b) = 0.5 * mean((w * x_i + b - y_i)^2)``. The inputs are
not centred, so the valley is long and narrow: a good test for optimizers.
GD uses all points at every step; SGD, momentum and Adam use minibatches
(the same ones, from the same seed). The update rules are ``coursekit.nn``'s.
"""

import itertools
from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import FuncFormatter, NullLocator

from coursekit.nn import adam_step, iterate_minibatches, momentum_step, sgd_step
from coursekit.checks import check_int

from ._language import fig_tr, mark, tr
from ._explorer import STYLE, Explorer, int_slider

__all__ = ["START", "regression_data", "loss_and_grad", "least_squares", "OptimizerPaths", "optimizer_paths", "optimizer_explorer"]

START = (-1.5, 3.0)          # (w, b) where every optimizer starts
METHODS = ("GD", "SGD", "momentum", "Adam")
METHOD_LABELS = {"GD": "GD", "SGD": "SGD", "momentum": mark("momentum"), "Adam": "Adam"}
VIEW = ((-2.5, 4.0), (-3.5, 4.5))       # (w range, b range) of the picture
FAR = 1e3                               # a path this far away has diverged: it stops there


@lru_cache(maxsize=1)
def regression_data(n=64, seed=0):
    """The fixed data set: x ~ N(1.5, 1), y = 2x - 1 + N(0, 0.5^2). Returns (x, y), each (n,)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(1.5, 1.0, n)
    y = 2.0 * x - 1.0 + rng.normal(0.0, 0.5, n)
    return x, y


def loss_and_grad(p, x, y):
    """Mean squared error of the line ``p = (w, b)`` on ``(x, y)``, and its gradient (2,)."""
    residual = p[0] * x + p[1] - y
    return 0.5 * np.mean(residual ** 2), np.array([np.mean(residual * x), np.mean(residual)])


def _minibatches(n, batch_size, rng):
    """Minibatch indices without end: one shuffled epoch after another."""
    while True:
        yield from iterate_minibatches(n, batch_size, rng)


def _run(method, lr, batch_size, steps, seed):
    """The points visited by ``method``: (steps + 1, 2) starting at START, fewer if it diverged."""
    x, y = regression_data()
    if method == "GD":
        batches = itertools.repeat(np.arange(len(x)))          # all the data, every step
    else:
        batches = _minibatches(len(x), batch_size, np.random.default_rng(seed))
    params = {"p": np.array(START, dtype=float)}
    velocity = {"p": np.zeros(2)}
    m, v = {"p": np.zeros(2)}, {"p": np.zeros(2)}
    path = [params["p"]]
    for t in range(1, steps + 1):
        batch = next(batches)
        grads = {"p": loss_and_grad(params["p"], x[batch], y[batch])[1]}
        if method in ("GD", "SGD"):
            params = sgd_step(params, grads, lr)
        elif method == "momentum":
            params, velocity = momentum_step(params, grads, velocity, lr, momentum=0.9)
        else:
            params, m, v = adam_step(params, grads, m, v, t, lr=lr)
        path.append(params["p"])
        if np.max(np.abs(params["p"])) > FAR:
            break
    return np.array(path)


@dataclass
class OptimizerPaths:
    """Where each optimizer went, and the full-data loss along the way."""

    paths: dict      # method -> (steps + 1, 2) points (w, b); shorter if the method diverged
    losses: dict     # method -> loss on all the data at each point
    lr: float
    batch_size: int
    steps: int

    def diverged(self, method):
        return len(self.paths[method]) < self.steps + 1


def optimizer_paths(lr=0.1, batch_size=8, steps=60, seed=0):
    """Run GD (all data) and SGD, momentum, Adam (minibatches of ``batch_size``) from START."""
    x, y = regression_data()
    batch_size = check_int(batch_size, "batch_size", 1)
    steps = check_int(steps, "steps", 1)
    paths = {method: _run(method, lr, batch_size, steps, seed) for method in METHODS}
    losses = {method: np.array([loss_and_grad(p, x, y)[0] for p in path]) for method, path in paths.items()}
    return OptimizerPaths(paths, losses, lr, batch_size, steps)


def _describe(result):
    finals = ", ".join(tr("{method} diverged").format(method=tr(METHOD_LABELS[method])) if result.diverged(method)
                       else f"{tr(METHOD_LABELS[method])} {losses[-1]:.3g}" for method, losses in result.losses.items())
    return tr("loss after {steps} steps (start {start}): <b>{finals}</b>").format(
        steps=result.steps, start=f"{result.losses['GD'][0]:.3g}", finals=finals)


@lru_cache(maxsize=1)
def least_squares():
    """The minimum (w, b) of the loss, solved directly."""
    x, y = regression_data()
    slope, intercept = np.polyfit(x, y, 1)
    return slope, intercept


@lru_cache(maxsize=1)
def _loss_grid(points=80):
    """Loss on a grid over VIEW, for the contour lines: (w, b, loss), each (points, points)."""
    x, y = regression_data()
    w, b = np.meshgrid(np.linspace(*VIEW[0], points), np.linspace(*VIEW[1], points))
    residual = w[..., None] * x + b[..., None] - y
    return w, b, 0.5 * np.mean(residual ** 2, axis=-1)


def _draw(figure, result):
    surface_ax, loss_ax = figure.subplots(1, 2, width_ratios=[1.15, 1], gridspec_kw={
        "left": 0.07, "right": 0.98, "top": 0.92, "bottom": 0.12, "wspace": 0.22})
    w, b, loss = _loss_grid()
    surface_ax.contour(w, b, loss, levels=np.geomspace(loss.min() + 1e-3, loss.max(), 14), colors="0.7",
                       linewidths=0.8)
    for i, (method, path) in enumerate(result.paths.items()):
        label = fig_tr(METHOD_LABELS[method])
        surface_ax.plot(path[:, 0], path[:, 1], ".-", color=f"C{i}", markersize=3, linewidth=1, label=label)
        loss_ax.plot(result.losses[method], color=f"C{i}", label=label)
    surface_ax.plot(*START, "k*", markersize=10)
    surface_ax.plot(*least_squares(), "k+", markersize=12, markeredgewidth=2)
    surface_ax.set_xlim(VIEW[0])
    surface_ax.set_ylim(VIEW[1])
    surface_ax.set_xlabel("w")
    surface_ax.set_ylabel("b")
    surface_ax.set_title(fig_tr("paths from ★ to the minimum +, lr = {lr}, batch = {batch}").format(
        lr=f"{result.lr:g}", batch=result.batch_size), fontsize=10)
    surface_ax.legend(fontsize=8, loc="lower left")
    loss_ax.set_yscale("log")
    loss_ax.yaxis.set_minor_locator(NullLocator())                 # plain labels draw faster
    loss_ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0e}"))
    loss_ax.set_xlabel(fig_tr("step"))
    loss_ax.set_title(fig_tr("loss on all the data"), fontsize=10)
    loss_ax.grid(alpha=0.3)


def optimizer_explorer():
    """Learning rate, batch size, steps and seed; the four optimizers' paths and losses."""
    x, _ = regression_data()
    controls = {
        "lr": widgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0, step=0.1, description=tr("learning rate"),
                                     continuous_update=False, style=STYLE),
        "batch_size": int_slider("batch size", 8, 1, len(x), continuous_update=False),
        "steps": int_slider("steps", 60, 5, 200, continuous_update=False),
        "seed": widgets.BoundedIntText(value=0, min=0, max=9999, description=tr("seed"), style=STYLE,
                                       layout=widgets.Layout(width="130px")),
    }
    return Explorer("optimizer", controls, optimizer_paths, _describe, _draw, figsize=(10, 4.2))
