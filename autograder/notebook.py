"""Reading notebooks by the roles of their cells (setup, answer, test); see notebooks/README.md."""

import json

import nbformat

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


class NotebookError(Exception):
    """A submission that cannot be read as a notebook."""


def read(path):
    """Read a notebook of any nbformat version as version 4; ``NotebookError`` with a plain reason otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except UnicodeDecodeError as error:
        raise NotebookError(f"not a text file ({error.reason})") from None
    except json.JSONDecodeError as error:
        raise NotebookError(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise NotebookError("valid JSON, but not a Jupyter notebook (no cells)")
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises several kinds
        raise NotebookError(f"not a valid notebook: {str(error).splitlines()[0]}") from None
    return nb


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell):
    return nbgrader_meta(cell).get("grade_id")


def is_setup(cell):
    return cell.cell_type == "code" and "setup" in cell.get("metadata", {}).get("tags", [])


def is_answer(cell):
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("solution", False) and not meta.get("grade", False)


def is_test(cell):
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def setup_sources(nb):
    return [cell.source for cell in nb.cells if is_setup(cell)]


def answer_sources(nb):
    """``{grade_id: source}`` of the answer cells, in notebook order."""
    return {grade_id(cell): cell.source for cell in nb.cells if is_answer(cell)}


def test_cells(nb):
    """``[(grade_id, points, source)]`` of the test cells, in notebook order."""
    return [(grade_id(c), float(nbgrader_meta(c).get("points", 0)), c.source) for c in nb.cells if is_test(c)]


def strip_markers(source, begin, end, keep_inside=True):
    """Remove a ``begin``/``end`` marker pair; keep or drop the lines between them."""
    lines, inside = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker == begin:
            inside = True
        elif marker == end:
            inside = False
        elif keep_inside or not inside:
            lines.append(line)
    return "\n".join(lines)


def solution_source(source):
    """An answer cell's source with the solution markers removed (the reference solution)."""
    return strip_markers(source, SOLUTION_BEGIN, SOLUTION_END)


def without_hidden_tests(source):
    return strip_markers(source, HIDDEN_BEGIN, HIDDEN_END, keep_inside=False)


def clear_outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb
