"""Explorers 1 and 2: convolution arithmetic, and im2col one output position at a time.

Both work on a square ``n x n`` input and a square ``k x k`` kernel; output
positions are numbered row by row, like the rows of the im2col matrix.
"""

from dataclasses import dataclass

import numpy as np

from coursekit.nn import conv_output_size, im2col
from coursekit.checks import check_int

from ._language import tr
from ._explorer import (FAINT, PADDING, SPAN, WHITE, WINDOW, Explorer, filled, html_grid, int_slider,
                        number_labels, set_range, side_by_side)

__all__ = ["ConvArithmetic", "conv_arithmetic", "conv_arithmetic_explorer",
           "Im2colStep", "im2col_step", "im2col_explorer"]


def _output_cell(position, out_size):
    """(row, col) of output ``position`` (row-major) in an ``out_size x out_size`` output."""
    position = check_int(position, "position", 0)
    if position >= out_size * out_size:
        raise ValueError(tr("position must be < {limit} (the output is {size}x{size}), got {position}").format(
            limit=out_size * out_size, size=out_size, position=position))
    return divmod(position, out_size)


@dataclass
class ConvArithmetic:
    """Everything the convolution-arithmetic explorer shows."""

    n: int
    k: int
    stride: int
    pad: int
    dilation: int
    position: int
    output_size: int      # floor((n + 2*pad - dilation*(k-1) - 1) / stride) + 1
    output_cell: tuple    # (row, col) of the chosen output
    taps: list            # the k*k input cells the kernel touches there, in padded coordinates
    formula: str          # the formula with the numbers filled in

    @property
    def padded_size(self):
        return self.n + 2 * self.pad


def conv_arithmetic(n=7, k=3, stride=1, pad=0, dilation=1, position=0):
    """The output size of a convolution and the window at output ``position``.

    Raises the ``ValueError`` of ``conv_output_size`` for an impossible combination.
    """
    out = conv_output_size(n, k, stride, pad, dilation)
    row, col = _output_cell(position, out)
    taps = [(row * stride + i * dilation, col * stride + j * dilation) for i in range(k) for j in range(k)]
    numerator = n + 2 * pad - dilation * (k - 1) - 1
    formula = (f"⌊(n + 2·pad − dilation·(k − 1) − 1) / stride⌋ + 1 "
               f"= ⌊({n} + 2·{pad} − {dilation}·({k} − 1) − 1) / {stride}⌋ + 1 "
               f"= ⌊{numerator} / {stride}⌋ + 1 = {out}")
    return ConvArithmetic(n, k, stride, pad, dilation, position, out, (row, col), taps, formula)


def _describe_arithmetic(state):
    row, col = state.output_cell
    return (tr("<b>output size: {size}</b> &nbsp; ({size}×{size} outputs; showing output ({row}, {col}))").format(
        size=state.output_size, row=row, col=col) + f"<br><code>{state.formula}</code>")


def _draw_arithmetic(state):
    size = state.padded_size
    colors = filled((size, size), PADDING)
    colors[state.pad:state.pad + state.n, state.pad:state.pad + state.n] = WHITE
    # Dilation spreads the k taps over dilation*(k-1)+1 cells: tint that span, then mark the taps.
    top, first = state.taps[0]
    span = state.dilation * (state.k - 1) + 1
    colors[top:top + span, first:first + span] = SPAN
    for tap in state.taps:
        colors[tap] = WINDOW
    out_colors = filled((state.output_size, state.output_size), WHITE)
    out_colors[state.output_cell] = WINDOW
    padded = tr(", padded to {size}×{size}").format(size=size) if state.pad else ""
    return side_by_side(
        html_grid(colors, title=tr("input {n}×{n}").format(n=state.n) + padded),
        html_grid(out_colors, title=tr("output {size}×{size}").format(size=state.output_size)))


def _keep_position_inside_output(name):
    """A ``sync`` for the explorers: the slider ``name`` spans the output positions (when the settings are valid)."""
    def sync(controls):
        settings = {key: control.value for key, control in controls.items() if key != name}
        try:
            out = conv_output_size(**settings)
        except ValueError:
            return                       # the explorer shows the error instead
        set_range(controls[name], 0, out * out - 1)
    return sync


class _ConvArithmeticExplorer(Explorer):
    """The explorer, with a picture that never keeps the sizes of the last valid settings.

    With invalid settings the picture is hidden, and its caption says the settings are
    invalid (a front end that shows it anyway, or a saved page, shows no stale grids).
    """

    def update(self):
        super().update()
        if self.error is not None:
            self.picture.value = _invalid_arithmetic_picture(**self.values())


def _invalid_arithmetic_picture(n, k, stride, pad, dilation, position):
    padded = tr(", padded to {size}×{size}").format(size=n + 2 * pad) if pad else ""
    text = tr("input {n}×{n}{padded}, kernel {k}×{k}, stride {stride}, dilation {dilation}: invalid settings, "
              "no output").format(n=n, padded=padded, k=k, stride=stride, dilation=dilation)
    return f'<div style="font-size:12px;color:#b00000">{text}</div>'


def conv_arithmetic_explorer():
    """Sliders for n, k, stride, padding, dilation and the output position; draws input, window and output."""
    controls = {
        "n": int_slider("input size n", 7, 1, 12),
        "k": int_slider("kernel k", 3, 1, 7),
        "stride": int_slider("stride", 1, 1, 4),
        "pad": int_slider("padding", 0, 0, 3),
        "dilation": int_slider("dilation", 1, 1, 3),
        "position": int_slider("output position", 0, 0, 24),
    }
    return _ConvArithmeticExplorer("conv-arithmetic", controls, conv_arithmetic, _describe_arithmetic,
                                   _draw_arithmetic, sync=_keep_position_inside_output("position"))


@dataclass
class Im2colStep:
    """One step of im2col: the window at output ``row`` and the matching row of the unfolded matrix."""

    x: np.ndarray         # (n, n) input, the numbers 1 .. n*n
    x_padded: np.ndarray  # (n + 2*pad, n + 2*pad)
    cols: np.ndarray      # (out*out, k*k) = im2col(x) for one image and one channel
    k: int
    stride: int
    pad: int
    row: int              # the highlighted row of cols = the output position
    output_cell: tuple    # (row, col) of that output

    @property
    def window_corner(self):
        """Top-left cell of the window in padded coordinates."""
        out_row, out_col = self.output_cell
        return out_row * self.stride, out_col * self.stride


def im2col_step(n=5, k=3, stride=1, pad=0, row=0):
    """Unfold an ``n x n`` input holding 1 .. n*n with ``coursekit.nn.im2col``, and pick output ``row``."""
    x = np.arange(1.0, n * n + 1).reshape(n, n)
    cols = im2col(x[None, None], k, k, stride, pad)
    out = conv_output_size(n, k, stride, pad)
    output_cell = _output_cell(row, out)
    return Im2colStep(x, np.pad(x, pad), cols, k, stride, pad, row, output_cell)


def _describe_im2col(state):
    out_row, out_col = state.output_cell
    rows, columns = state.cols.shape
    return tr("im2col matrix: {rows} rows (one per output position) × {columns} columns (one per kernel tap). "
              "Row {row} is the window of output ({out_row}, {out_col}), read row by row.").format(
        rows=rows, columns=columns, row=state.row, out_row=out_row, out_col=out_col)


def _draw_im2col(state):
    size = state.x_padded.shape[0]
    colors = filled((size, size), PADDING)
    colors[state.pad:size - state.pad, state.pad:size - state.pad] = WHITE
    top, first = state.window_corner
    colors[top:top + state.k, first:first + state.k] = WINDOW
    matrix_colors = filled(state.cols.shape, FAINT)
    matrix_colors[state.row] = WINDOW
    rows, columns = state.cols.shape
    return side_by_side(
        html_grid(colors, number_labels(state.x_padded), title=tr("input (grey: zero padding)")),
        html_grid(matrix_colors, number_labels(state.cols), title=tr("im2col matrix {rows}×{columns}").format(
            rows=rows, columns=columns), cell_px=20))


def im2col_explorer():
    """Step through the output positions: the window in the input and its row in the im2col matrix."""
    controls = {
        "n": int_slider("input size n", 5, 2, 7),
        "k": int_slider("kernel k", 3, 1, 4),
        "stride": int_slider("stride", 1, 1, 3),
        "pad": int_slider("padding", 0, 0, 2),
        "row": int_slider("output position (row)", 0, 0, 8),
    }
    return Explorer("im2col", controls, im2col_step, _describe_im2col, _draw_im2col,
                    sync=_keep_position_inside_output("row"))
