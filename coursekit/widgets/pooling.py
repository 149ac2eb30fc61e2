"""Explorer 4: max versus average pooling, forward and backward, on a small input you edit.

The backward pass is ``coursekit.nn``'s: max pooling sends a window's upstream
gradient to its **first** maximum (row-major), average pooling spreads it evenly.
"""

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from coursekit.nn import avgpool_backward, avgpool_forward, conv_output_size, maxpool_backward, maxpool_forward
from coursekit.checks import check_int

from ._language import mark, tr
from ._explorer import (CHOSEN, STYLE, WHITE, WINDOW, Explorer, filled, html_grid, int_slider,
                        number_labels, parse_numbers, set_range, side_by_side, toggles)

__all__ = ["PoolingStep", "pooling_step", "pooling_explorer"]

DEFAULT_INPUT = "1 3 2 4\n5 6 1 2\n7 2 9 1\n3 4 5 9"
POOLS = {"max": (maxpool_forward, maxpool_backward), "average": (avgpool_forward, avgpool_backward)}
MODE_LABELS = {"max": mark("max"), "average": mark("average")}
MODE_TITLES = {"max": mark("max pool {pool}, stride {stride}"), "average": mark("average pool {pool}, stride {stride}")}


def parse_image(text):
    """Rows of numbers (one row per line or ';') -> a 2-D float array."""
    rows = parse_numbers(text, "x")
    if len({len(row) for row in rows}) != 1:
        raise ValueError(tr("x: every row needs the same number of values, got rows of lengths {lengths}").format(
            lengths=[len(r) for r in rows]))
    return np.array(rows)


@dataclass
class PoolingStep:
    """Forward and backward of one pooling layer on a 2-D input, seen from output ``position``."""

    x: np.ndarray          # (H, W)
    mode: str              # "max" or "average"
    pool: int
    stride: int
    out: np.ndarray        # (OH, OW) forward output
    output_cell: tuple     # (row, col) of the chosen output
    every_output: bool     # upstream gradient 1 at every output (else only at the chosen one)
    dout: np.ndarray       # (OH, OW) upstream gradient
    dx: np.ndarray         # (H, W) what the backward pass sends to the input

    @property
    def window(self):
        """The chosen window as (rows, cols) slices of x."""
        row, col = self.output_cell
        return (slice(row * self.stride, row * self.stride + self.pool),
                slice(col * self.stride, col * self.stride + self.pool))


def pooling_step(x=DEFAULT_INPUT, mode="max", pool=2, stride=2, position=0, every_output=False):
    """Pool ``x`` (2-D array or text), and send a gradient of 1 back from output ``position``
    (from every output if ``every_output``)."""
    if isinstance(x, str):
        x = parse_image(x)
    forward, backward = POOLS[mode]
    out = forward(x[None, None], pool, stride)[0, 0]
    position = check_int(position, "position", 0)
    if position >= out.size:
        raise ValueError(tr("position must be < {limit} (the output is {rows}x{cols}), got {position}").format(
            limit=out.size, rows=out.shape[0], cols=out.shape[1], position=position))
    output_cell = divmod(position, out.shape[1])
    dout = np.ones_like(out)
    if not every_output:
        dout = np.zeros_like(out)
        dout[output_cell] = 1.0
    dx = backward(dout[None, None], x[None, None], pool, stride)[0, 0]
    return PoolingStep(x, mode, pool, stride, out, output_cell, every_output, dout, dx)


def _describe(step):
    rows, cols = step.window
    window = step.x[rows, cols]
    row, col = step.output_cell
    if step.mode == "max":
        i, j = np.unravel_index(np.argmax(window), window.shape)   # argmax: the first maximum, row-major
        how = tr("max = {value} at input ({i}, {j}); the backward pass sends the whole gradient there "
                 "(the first maximum if there are ties)").format(value=f"{step.out[row, col]:g}", i=rows.start + i,
                                                                 j=cols.start + j)
    else:
        how = tr("mean = {value}; the backward pass gives every cell of the window 1/{cells}").format(
            value=f"{step.out[row, col]:g}", cells=step.pool ** 2)
    return tr("<b>output ({row}, {col})</b>: {how}.").format(row=row, col=col, how=how)


def _draw(step):
    x_colors = filled(step.x.shape, WHITE)
    x_colors[step.window] = WINDOW
    out_colors = filled(step.out.shape, WHITE)
    out_colors[step.output_cell] = WINDOW
    dout_colors = np.where(step.dout != 0, WINDOW, WHITE).astype(object)
    dx_colors = np.where(step.dx != 0, CHOSEN, WHITE).astype(object)
    upstream = tr("every output") if step.every_output else tr("output {cell}").format(cell=step.output_cell)
    pool_title = tr(MODE_TITLES[step.mode]).format(pool=step.pool, stride=step.stride)
    return side_by_side(
        html_grid(x_colors, number_labels(step.x), title=tr("input x (window in orange)"), cell_px=30),
        html_grid(out_colors, number_labels(step.out), title=pool_title, cell_px=30),
        html_grid(dout_colors, number_labels(step.dout), title=tr("upstream gradient (1 at {where})").format(
            where=upstream), cell_px=30),
        html_grid(dx_colors, number_labels(step.dx), title=tr("gradient sent to x (blue: receives some)"), cell_px=30))


def _sync(controls):
    """The position slider spans the output (when the input and pool size are valid)."""
    try:
        height, width = parse_image(controls["x"].value).shape
        out = conv_output_size(height, controls["pool"].value, controls["stride"].value) * \
            conv_output_size(width, controls["pool"].value, controls["stride"].value)
    except ValueError:
        return
    set_range(controls["position"], 0, out - 1)


def pooling_explorer():
    """Edit a small input; compare max and average pooling and where their gradients go."""
    controls = {
        "x": widgets.Textarea(value=DEFAULT_INPUT, description=tr("input x (rows)"), continuous_update=False,
                              rows=5, style=STYLE, layout=widgets.Layout(width="220px")),
        "mode": toggles("pooling", [(label, mode) for mode, label in MODE_LABELS.items()], "max"),
        "pool": int_slider("pool", 2, 1, 4),
        "stride": int_slider("stride", 2, 1, 4),
        "position": int_slider("output position", 0, 0, 3),
        "every_output": widgets.Checkbox(value=False, description=tr("gradient 1 from every output"), style=STYLE),
    }
    return Explorer("pooling", controls, pooling_step, _describe, _draw, sync=_sync)
