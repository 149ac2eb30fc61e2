"""How long each explorer takes to answer a control change: ``python -m coursekit.widgets.benchmark``.

Moves every slider one step up and back, flips every checkbox and cycles every
choice, and prints the median and worst update time per explorer: wall-clock
time, and the CPU time of this process (less sensitive to a busy machine).
"""

import statistics
import time

import ipywidgets as widgets

from . import (conv_arithmetic_explorer, im2col_explorer, init_explorer, norm_axes_explorer, optimizer_explorer,
               pooling_explorer, receptive_field_explorer)

EXPLORERS = (conv_arithmetic_explorer, im2col_explorer, receptive_field_explorer, pooling_explorer,
             norm_axes_explorer, init_explorer, optimizer_explorer)


def _moves(control):
    """(attribute, value) changes to try on one control, ending where it started."""
    if isinstance(control, widgets.Checkbox):
        return [("value", not control.value), ("value", control.value)]
    if isinstance(control, widgets.BoundedIntText):
        return [("value", control.value + 1), ("value", control.value)]
    if isinstance(control, (widgets.ToggleButtons, widgets.Dropdown, widgets.SelectionSlider)):
        others = [index for index in range(len(control.options)) if index != control.index]
        return [("index", index) for index in others] + [("index", control.index)]
    if isinstance(control, widgets.IntSlider):
        other = control.value + 1 if control.value < control.max else control.value - 1
        return [("value", other), ("value", control.value)]
    if isinstance(control, widgets.FloatLogSlider):
        return [("value", control.value / 2), ("value", control.value)]
    return []          # text boxes keep their default


def time_updates(make_explorer):
    """(wall seconds, CPU seconds) of every update caused by moving the controls of a new explorer."""
    explorer = make_explorer()
    wall, cpu = [], []
    for control in explorer.controls.values():
        for attribute, value in _moves(control):
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            setattr(control, attribute, value)
            wall.append(time.perf_counter() - start_wall)
            cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main():
    print(f"{'explorer':28} {'updates':>7} {'median ms':>10} {'max ms':>8} {'median CPU ms':>14}")
    for make_explorer in EXPLORERS:
        wall, cpu = time_updates(make_explorer)
        print(f"{make_explorer.__name__:28} {len(wall):7d} {1e3 * statistics.median(wall):10.0f} "
              f"{1e3 * max(wall):8.0f} {1e3 * statistics.median(cpu):14.0f}")


if __name__ == "__main__":
    main()
