"""Explorer 5: which activations share one mean and variance, in batch, layer, instance and group norm.

Activations of a conv layer form a cube (N, C, H·W). A normalization layer
splits it into blocks and standardizes each block with its own mean and variance:

- batch norm:    one block per channel c               (all samples, all pixels)
- layer norm:    one block per sample n                (all channels, all pixels)
- instance norm: one block per (n, c)                  (all pixels)
- group norm:    one block per (n, group of C/G channels)

Group norm with G = 1 is layer norm, with G = C instance norm.
"""

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import PolyCollection

from coursekit.checks import check_int

from ._language import fig_tr, mark, tr
from ._explorer import STYLE, Explorer, int_slider, set_range, toggles

__all__ = ["NORMS", "statistic_ids", "NormAxes", "norm_axes", "norm_axes_explorer"]

NORMS = {            # kind: (name, what one statistic is computed over)
    "batch": (mark("batch norm"), mark("(N, H·W): one per channel")),
    "layer": (mark("layer norm"), mark("(C, H·W): one per sample")),
    "instance": (mark("instance norm"), mark("(H·W): one per sample and channel")),
    "group": (mark("group norm"), mark("(C/G, H·W): one per sample and group of channels")),
}


def statistic_ids(kind, n, c, hw, groups=1):
    """(N, C, HW) array: the number of the mean/variance each activation is normalized with."""
    n, c, hw = check_int(n, "n", 1), check_int(c, "c", 1), check_int(hw, "hw", 1)
    sample = np.arange(n)[:, None, None]
    channel = np.arange(c)[None, :, None]
    if kind == "batch":
        ids = 0 * sample + channel
    elif kind == "layer":
        ids = sample + 0 * channel
    elif kind == "instance":
        ids = sample * c + channel
    elif kind == "group":
        groups = check_int(groups, "groups", 1)
        if c % groups:
            raise ValueError(tr("groups={groups} must divide the number of channels c={c}").format(groups=groups, c=c))
        ids = sample * groups + channel // (c // groups)
    else:
        raise ValueError(tr("kind must be one of {kinds}, got {kind}").format(kinds=list(NORMS), kind=repr(kind)))
    return np.broadcast_to(ids, (n, c, hw)).copy()


@dataclass
class NormAxes:
    """The activations that share a statistic with activation (sample, channel, any pixel)."""

    kind: str
    ids: np.ndarray     # (N, C, HW) statistic number of every activation
    mask: np.ndarray    # (N, C, HW) True where the statistic is the chosen one

    @property
    def statistics(self):
        """How many means (and variances) the layer computes."""
        return len(np.unique(self.ids))

    @property
    def block_size(self):
        """How many activations each mean averages."""
        return int(self.mask.sum())


def norm_axes(kind="batch", n=4, c=6, hw=5, groups=2, sample=0, channel=0):
    """Statistic ids of a ``kind`` norm on an (n, c, hw) cube, and the block of activation (sample, channel)."""
    ids = statistic_ids(kind, n, c, hw, groups)
    sample, channel = check_int(sample, "sample", 0), check_int(channel, "channel", 0)
    if sample >= n or channel >= c:
        raise ValueError(tr("(sample, channel) must be inside (n, c) = ({n}, {c}), got ({sample}, {channel})").format(
            n=n, c=c, sample=sample, channel=channel))
    return NormAxes(kind, ids, ids == ids[sample, channel, 0])


def _describe(axes):
    name, over = NORMS[axes.kind]
    n, c, hw = axes.ids.shape
    return tr("<b>{name}</b>: statistics over {over} → <b>{statistics}</b> means and variances "
              "for an (N, C, H·W) = ({n}, {c}, {hw}) batch, each over <b>{block}</b> activations.").format(
        name=tr(name), over=tr(over), statistics=axes.statistics, n=n, c=c, hw=hw, block=axes.block_size)


# Oblique projection of the cube: C to the right, H·W up, N into the page.
DEPTH = np.array([0.45, 0.35])
SHADES = {"front": ("#ffffff", "#ff9f1c"), "top": ("#e8e8e8", "#e0861a"), "side": ("#d0d0d0", "#c27016")}


def _face_quads(mask):
    """The three visible faces as (quadrilaterals, highlighted?, face name) per cell."""
    n, c, hw = mask.shape
    quads, lit, faces = [], [], []

    def add(corners, value, face):
        quads.append(corners)
        lit.append(value)
        faces.append(face)

    for ch in range(c):                        # front: sample 0
        for p in range(hw):
            add([(ch, p), (ch + 1, p), (ch + 1, p + 1), (ch, p + 1)], mask[0, ch, p], "front")
    for s in range(n):                         # top: the last pixel row, every sample
        for ch in range(c):
            base = np.array([ch, hw]) + s * DEPTH
            add([base, base + (1, 0), base + (1, 0) + DEPTH, base + DEPTH], mask[s, ch, hw - 1], "top")
    for s in range(n):                         # side: the last channel, every sample
        for p in range(hw):
            base = np.array([c, p]) + s * DEPTH
            add([base, base + DEPTH, base + DEPTH + (0, 1), base + (0, 1)], mask[s, c - 1, p], "side")
    return quads, lit, faces


def _draw(figure, axes):
    ax = figure.subplots(gridspec_kw={"left": 0.02, "right": 0.98, "top": 0.92, "bottom": 0.02})
    quads, lit, faces = _face_quads(axes.mask)
    colors = [SHADES[face][int(on)] for on, face in zip(lit, faces)]
    ax.add_collection(PolyCollection(quads, facecolors=colors, edgecolors="0.35", linewidths=0.7))
    n, c, hw = axes.mask.shape
    far = n * DEPTH
    ax.text(c / 2, -0.4, fig_tr("C (channels)"), ha="center", va="top")
    ax.text(-0.3, hw / 2, fig_tr("H·W (pixels)"), ha="right", va="center", rotation=90)
    ax.text(c + far[0] / 2 + 0.35, far[1] / 2 - 0.1, fig_tr("N (samples)"), ha="left", va="top", rotation=38)
    ax.set_xlim(-1.2, c + far[0] + 1.5)
    ax.set_ylim(-1.2, hw + far[1] + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(fig_tr(NORMS[axes.kind][0]), fontsize=11)


def _sync(controls):
    """Groups offer the divisors of C; sample and channel stay inside the cube."""
    c = controls["c"].value
    divisors = [g for g in range(1, c + 1) if c % g == 0]
    if list(controls["groups"].options) != divisors:
        previous = controls["groups"].value
        controls["groups"].options = divisors
        controls["groups"].value = max(g for g in divisors if g <= previous)
    set_range(controls["sample"], 0, controls["n"].value - 1)
    set_range(controls["channel"], 0, c - 1)


def norm_axes_explorer():
    """Pick a normalization; the cells sharing one mean and variance light up on the (N, C, H·W) cube."""
    controls = {
        "kind": toggles("norm", [(name, kind) for kind, (name, _) in NORMS.items()], "batch"),
        "n": int_slider("N", 4, 1, 8, continuous_update=False),
        "c": int_slider("C", 6, 1, 12, continuous_update=False),
        "hw": int_slider("H·W", 5, 1, 8, continuous_update=False),
        "groups": widgets.SelectionSlider(options=[1, 2, 3, 6], value=2, description=tr("groups G"),
                                              continuous_update=False, style=STYLE),
        "sample": int_slider("sample n", 0, 0, 3, continuous_update=False),
        "channel": int_slider("channel c", 0, 0, 5, continuous_update=False),
    }
    return Explorer("norm-axes", controls, norm_axes, _describe, _draw, figsize=(6, 4), sync=_sync)
