"""What every explorer shares: controls on top, a line of text, a picture below.

An explorer is built from three plain functions:

- ``compute(**control_values) -> state``  the numbers (no widgets, no drawing);
  it raises ``ValueError`` for settings that make no sense,
- ``describe(state) -> str``               one or two lines of HTML,
- ``draw``                                 the picture: either ``draw(figure, state)``
  filling a matplotlib figure (give ``figsize``), or ``draw(state) -> str`` returning
  HTML (grids of numbers: a table is crisp and draws in a millisecond).

Every change of a control recomputes the state once and redraws once. Figures
are rendered to PNG in an ``Image`` widget, so the explorers look the same with
any matplotlib backend, in JupyterLab and in Voila.

Texts go through ``tr`` / ``fig_tr`` (``_language``): English, or Korean in the Korean notebooks.
"""

import html
import io

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ._language import figure_fonts, tr

DPI = 90
STYLE = {"description_width": "initial"}

# Cell colours of the grids.
WHITE = "#ffffff"
PADDING = "#d9d9d9"
WINDOW = "#ffb347"
SPAN = "#ffe4bf"
CHOSEN = "#7aa7f0"
FAINT = "#f7efd9"


class Explorer(widgets.VBox):
    """A VBox of ``controls``, a ``summary`` (HTML) and a ``picture`` (Image or HTML widget).

    ``controls`` is a dict name -> widget; its values are passed to ``compute``
    by name. ``sync(controls)``, if given, runs first on every change and may
    adjust the range of a control that depends on others (say, the largest
    output position). After each update:

    - ``state``  is what ``compute`` returned (``None`` if it raised),
    - ``error``  is the ``ValueError`` message (``None`` if all went well).
    """

    def __init__(self, name, controls, compute, describe, draw, figsize=None, sync=None):
        self.controls = controls
        self.summary = widgets.HTML().add_class("coursekit-summary")
        if figsize is None:
            self.picture = widgets.HTML()
        else:       # shown at its own size: stretched, a PNG gets blurry
            self.picture = widgets.Image(format="png", layout=widgets.Layout(
                width=f"{figsize[0] * DPI:.0f}px", max_width="100%", height="auto"))
        self.picture.add_class("coursekit-picture")
        self.state = None
        self.error = None
        self._compute, self._describe, self._draw, self._sync = compute, describe, draw, sync
        self._figsize = figsize
        self._updating = False
        control_box = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([control_box, self.summary, self.picture])
        self.add_class("coursekit-explorer").add_class(f"coursekit-{name}")
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def values(self):
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change):
        if not self._updating:
            self.update()

    def update(self):
        """Recompute the state from the controls, then redraw the text and the figure."""
        self._updating = True          # changes made by ``sync`` must not trigger more updates
        try:
            if self._sync is not None:
                self._sync(self.controls)
            self.state = self._compute(**self.values())
            self.error = None
        except ValueError as error:
            self.state, self.error = None, str(error)
        finally:
            self._updating = False
        if self.error is None:
            self.summary.value = self._describe(self.state)
            if self._figsize is None:
                self.picture.value = self._draw(self.state)
            else:
                self.picture.value = render_png(self._draw, self.state, self._figsize)
            self.picture.layout.display = None
        else:
            self.summary.value = f'<span style="color:#b00000">{tr("invalid settings")}: {html.escape(self.error)}</span>'
            self.picture.layout.display = "none"


def render_png(draw, state, figsize):
    """Draw ``state`` on a new figure and return the PNG bytes (no pyplot: nothing global changes).

    No layout engine (it would double the drawing time): ``draw`` sets its margins. In Korean,
    the figure's texts take their Hangul from an installed Hangul font (``figure_fonts``).
    """
    fonts = figure_fonts()
    with matplotlib.rc_context({"font.family": fonts} if fonts else {}):
        figure = Figure(figsize=figsize, dpi=DPI)
        draw(figure, state)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def int_slider(description, value, low, high, continuous_update=True):
    """An IntSlider; pass ``continuous_update=False`` when a redraw is slow (a matplotlib figure):
    it then updates when the handle is released, not at every pixel of a drag."""
    return widgets.IntSlider(value=value, min=low, max=high, description=tr(description),
                             continuous_update=continuous_update, style=STYLE)


def toggles(description, options, value):
    """ToggleButtons; ``options`` are values, or (label, value) pairs whose labels are translated."""
    options = [(tr(option[0]), option[1]) if isinstance(option, tuple) else option for option in options]
    return widgets.ToggleButtons(options=options, value=value, description=tr(description),
                                 style={**STYLE, "button_width": "auto"})


def set_range(slider, low, high):
    """Set a slider's range, keeping its value inside (widen first so min <= max always holds)."""
    slider.max = max(slider.max, high)
    slider.min = low
    slider.max = high


def parse_numbers(text, name):
    """Rows separated by ';' or new lines, numbers by ',' or spaces -> list of lists of floats."""
    rows = [row.replace(",", " ").split() for row in text.replace(";", "\n").splitlines()]
    rows = [row for row in rows if row]
    if not rows:
        raise ValueError(tr("{name} is empty").format(name=name))
    try:
        return [[float(value) for value in row] for row in rows]
    except ValueError:
        raise ValueError(tr("{name} must hold numbers only, got {text}").format(name=name, text=repr(text))) from None


def html_grid(colors, labels=None, title="", cell_px=24):
    """An HTML table of coloured cells: ``colors`` is a 2-D array of CSS colours, ``labels`` of strings."""
    rows = []
    for i, row_colors in enumerate(colors):
        cells = []
        for j, color in enumerate(row_colors):
            text = "" if labels is None else html.escape(str(labels[i][j]))
            cells.append(f'<td style="background:{color};border:1px solid #777;width:{cell_px}px;'
                         f'height:{cell_px}px;padding:0;text-align:center;font-size:11px;color:#000">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = '<table style="border-collapse:collapse;table-layout:fixed">' + "".join(rows) + "</table>"
    return f'<div><div style="font-size:12px;margin-bottom:4px">{html.escape(title)}</div>{table}</div>'


def side_by_side(*parts):
    """Place HTML blocks in a row."""
    return '<div style="display:flex;gap:28px;align-items:flex-start;flex-wrap:wrap">' + "".join(parts) + "</div>"


def filled(shape, color):
    """A 2-D array of ``shape`` holding one CSS colour, to paint with indexing."""
    return np.full(shape, color, dtype=object)


def number_labels(values):
    """Short labels for the cells of ``values``: integers without '.0', others with 2 digits."""
    label = np.vectorize(lambda v: f"{v:.0f}" if float(v).is_integer() else f"{v:.2g}", otypes=[object])
    return label(values)
