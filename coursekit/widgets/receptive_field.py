"""Explorer 3: which input pixels one unit sees, traced down a stack of layers.

Along one axis, a layer with kernel ``k`` and stride ``s`` (no padding) gives
its unit ``j`` the inputs ``j*s .. j*s + k - 1``. Going down the stack, the
units a chosen unit sees form an interval that grows layer by layer:

    receptive field = 1 + sum over layers l of (k_l - 1) * (s_1 * ... * s_{l-1})
"""

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection

from coursekit.nn import conv_output_size, receptive_field
from coursekit.checks import check_int

from ._language import fig_tr, tr
from ._explorer import CHOSEN, STYLE, WINDOW, Explorer, int_slider, set_range

__all__ = ["parse_layers", "ReceptiveFieldTrace", "receptive_field_trace", "receptive_field_explorer"]


def parse_layers(text):
    """``"3,1; 3,1; 2,2"`` -> ``[(3, 1), (3, 1), (2, 2)]``: (kernel, stride) pairs, input first."""
    layers = []
    for item in text.split(";"):
        if not item.strip():
            continue
        parts = item.replace(",", " ").split()
        if len(parts) != 2 or not all(part.isdigit() for part in parts):
            raise ValueError(tr("layers must be 'kernel,stride' pairs separated by ';', could not read {item}").format(
                item=repr(item.strip())))
        kernel, stride = int(parts[0]), int(parts[1])
        layers.append((check_int(kernel, "kernel", 1), check_int(stride, "stride", 1)))
    if not layers:
        raise ValueError(tr("layers is empty: write 'kernel,stride' pairs separated by ';', e.g. '3,1; 2,2'"))
    return layers


def layer_sizes(layers, n):
    """Units along one axis: the input's ``n``, then after each layer (no padding)."""
    sizes = [check_int(n, "n", 1)]
    for number, (kernel, stride) in enumerate(layers, start=1):
        if kernel > sizes[-1]:
            raise ValueError(tr("layer {number} (kernel {kernel}, stride {stride}) gets only {units} units, "
                                "fewer than its kernel: use a larger input or fewer layers").format(
                number=number, kernel=kernel, stride=stride, units=sizes[-1]))
        sizes.append(conv_output_size(sizes[-1], kernel, stride))
    return sizes


@dataclass
class ReceptiveFieldTrace:
    """What unit ``unit`` of layer ``layer`` sees, in every layer below it."""

    layers: list       # (kernel, stride) pairs, input first
    sizes: list        # units in the input and after each layer
    layer: int         # 1 .. len(layers)
    unit: int
    seen: list         # seen[i] = (first, last) unit of layer i it depends on, i = 0 (the input) .. layer
    size: int          # receptive field in input pixels: last - first + 1 of seen[0]

    def jump(self, level):
        """Input pixels between neighbouring units of layer ``level``: the product of the strides below it."""
        return int(np.prod([stride for _, stride in self.layers[:level]]))

    def field(self, level):
        """Receptive field of every unit of layer ``level`` (1 for the input), by ``coursekit.nn.receptive_field``."""
        return receptive_field(self.layers[:level])

    def center(self, level, j):
        """Where unit ``j`` of layer ``level`` looks, in input pixels: the middle of its receptive field."""
        return j * self.jump(level) + (self.field(level) - 1) / 2

    @property
    def formula(self):
        """The receptive field by the formula, with the numbers filled in."""
        terms = " + ".join(f"({kernel}−1)·{self.jump(i)}" for i, (kernel, _) in enumerate(self.layers[:self.layer]))
        return tr("1 + Σ (k − 1)·(product of the strides below) = 1 + {terms} = {field}").format(
            terms=terms, field=self.field(self.layer))


def receptive_field_trace(layers="3,1; 3,1; 2,2", n=16, layer=None, unit=0):
    """Trace unit ``unit`` of layer ``layer`` (default: the last) down to the input of size ``n``."""
    if isinstance(layers, str):
        layers = parse_layers(layers)
    sizes = layer_sizes(layers, n)
    layer = len(layers) if layer is None else check_int(layer, "layer", 1)
    if layer > len(layers):
        raise ValueError(tr("layer must be <= {count} (the number of layers), got {layer}").format(
            count=len(layers), layer=layer))
    unit = check_int(unit, "unit", 0)
    if unit >= sizes[layer]:
        raise ValueError(tr("unit must be < {units} (the units of layer {layer}), got {unit}").format(
            units=sizes[layer], layer=layer, unit=unit))

    seen = {layer: (unit, unit)}
    for level in range(layer, 0, -1):
        kernel, stride = layers[level - 1]
        first, last = seen[level]
        seen[level - 1] = (first * stride, last * stride + kernel - 1)
    first, last = seen[0]
    seen_by_layer = [seen[level] for level in range(layer + 1)]
    return ReceptiveFieldTrace(layers, sizes, layer, unit, seen_by_layer, last - first + 1)


def _describe(trace):
    first, last = trace.seen[0]
    return (tr("<b>receptive field: {size} input pixels</b> (inputs {first} … {last}) for unit {unit} of layer {layer}")
            .format(size=trace.size, first=first, last=last, unit=trace.unit, layer=trace.layer)
            + f"<br><code>{trace.formula}</code>")


def _draw(figure, trace):
    ax = figure.subplots(gridspec_kw={"left": 0.22, "right": 0.98, "top": 0.97, "bottom": 0.14})
    for level, count in enumerate(trace.sizes):
        x = trace.center(level, np.arange(count))
        colors = np.full(count, "0.85", dtype=object)
        if level <= trace.layer:
            first, last = trace.seen[level]
            colors[first:last + 1] = WINDOW
        if level == trace.layer:
            colors[trace.unit] = CHOSEN
        ax.scatter(x, np.full(count, level), c=list(colors), marker="s", s=90, edgecolors="0.3", zorder=3)

    lines = []
    for level in range(trace.layer, 0, -1):
        kernel, stride = trace.layers[level - 1]
        first, last = trace.seen[level]
        for j in range(first, last + 1):
            for i in range(j * stride, j * stride + kernel):
                lines.append([(trace.center(level, j), level), (trace.center(level - 1, i), level - 1)])
    ax.add_collection(LineCollection(lines, colors=WINDOW, linewidths=1, alpha=0.8, zorder=2))

    first, last = trace.seen[0]
    ax.annotate("", xy=(first - 0.4, -0.45), xytext=(last + 0.4, -0.45),
                arrowprops={"arrowstyle": "<->", "color": CHOSEN})
    ax.text((first + last) / 2, -0.75, fig_tr("receptive field {size}").format(size=trace.size), ha="center",
            va="top", color="black")
    labels = [fig_tr("input")] + [fig_tr("layer {level}: k={k}, s={s}").format(level=level, k=k, s=s)
                                  for level, (k, s) in enumerate(trace.layers, start=1)]
    ax.set_yticks(range(len(trace.sizes)), [f"{label}  ({count})" for label, count in zip(labels, trace.sizes)])
    ax.set_ylim(-1.2, len(trace.sizes) - 0.5)
    ax.set_xlim(-1, trace.sizes[0])
    ax.set_xlabel(fig_tr("input pixel"))
    ax.spines[["top", "right", "left"]].set_visible(False)


def _sync(controls):
    """Layer and unit sliders follow the stack: at most the number of layers, and the units of that layer."""
    try:
        layers = parse_layers(controls["layers"].value)
        sizes = layer_sizes(layers, controls["n"].value)
    except ValueError:
        return
    at_last_layer = controls["layer"].value == controls["layer"].max
    set_range(controls["layer"], 1, len(layers))
    if at_last_layer:
        controls["layer"].value = len(layers)
    set_range(controls["unit"], 0, sizes[controls["layer"].value] - 1)


def receptive_field_explorer():
    """Edit a stack of (kernel, stride) layers and see what one unit of a layer sees below it."""
    controls = {
        "layers": widgets.Text(value="3,1; 3,1; 2,2", description=tr("layers (kernel,stride; …)"),
                               continuous_update=False, style=STYLE),
        "n": int_slider("input size", 16, 4, 40, continuous_update=False),
        "layer": int_slider("layer", 3, 1, 3, continuous_update=False),
        "unit": int_slider("unit", 0, 0, 5, continuous_update=False),
    }
    return Explorer("receptive-field", controls, receptive_field_trace, _describe, _draw, figsize=(9, 3.6), sync=_sync)
