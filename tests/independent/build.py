"""Build submissions from independently written solutions.

``tests/independent/<assignment id>.py`` holds one student's answers to an assignment, written from
the released notebook alone (not from the source solutions), in other styles on purpose. Each
answer cell starts with a line ``# %% <grade_id>``; what follows, up to the next such line, replaces
that answer cell of the released notebook.

    python tests/independent/build.py RELEASE_DIR SUBMISSIONS_DIR [STUDENT]

writes ``SUBMISSIONS_DIR/STUDENT/<assignment id>/<notebook>`` for every assignment that has a file here.
"""

import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
MARKER = re.compile(r"^# %% (\S+)\s*$", re.MULTILINE)


def answers(path):
    """``{grade_id: source}`` of one solutions file."""
    text = Path(path).read_text()
    parts = MARKER.split(text)
    return {grade_id: source.strip() + "\n" for grade_id, source in zip(parts[1::2], parts[2::2])}


def build(release_dir, submissions_dir, student="independent"):
    """Write the submissions; returns ``{assignment id: path}``."""
    written = {}
    for solutions in sorted(HERE.glob("[0-9][0-9]_*.py")):
        assignment = solutions.stem
        release = next((Path(release_dir) / assignment).glob("*.ipynb"), None)
        if release is None:
            print(f"skipped {assignment}: not in {release_dir}", file=sys.stderr)
            continue
        nb = nbformat.read(str(release), as_version=4)
        mine = answers(solutions)
        cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells
                 if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
        unknown = sorted(set(mine) - set(cells))
        if unknown:
            raise ValueError(f"{solutions.name}: no answer cell {unknown} in the release of {assignment}")
        for grade_id, source in mine.items():
            cells[grade_id].source = source
        target = Path(submissions_dir) / student / assignment / release.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(target))
        written[assignment] = target
    return written


if __name__ == "__main__":
    for assignment, path in build(*sys.argv[1:]).items():
        print(f"{assignment}: {path}")
