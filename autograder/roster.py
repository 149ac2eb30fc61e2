"""The class list (``--roster roster.csv``) and the gradebooks made from grades.csv with it.

A roster is a CSV with a header row and at least the column ``student_id``
(the id the submissions carry: the folder name, or the Canvas user id or Moodle
participant id of an LMS export); optional ``name``, ``sis_id``,
``sis_login_id`` and ``section``. Canvas's own gradebook export (Grades >
Export) is a roster too: its ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``
and ``Section`` columns are read, its ``Points Possible`` rows skipped, and an
assignment column named ``<assignment id> (<Canvas id>)`` is where
canvas_grades.csv puts that assignment's scores.

Written to ``out`` after every grading run, from the merged grades.csv:

- ``gradebook_wide.csv``: ``student_id,name,sis_id,section,<one column per assignment>,note``;
  one row per rostered student (roster order), with or without a submission
  (an empty cell: nothing submitted), then every graded student the roster
  lacks (``note``: ``not in the roster``; also flagged in flags.csv).
- ``canvas_grades.csv``: Canvas's gradebook import format,
  ``Student,ID,SIS User ID,SIS Login ID,Section,<assignment>...``, a
  ``Points Possible`` row, and the rostered students (every graded student
  without a roster); ``ID`` is the student id.
"""

import csv
import re
import sys
from pathlib import Path

from . import exercises

FIELDS = {  # our column: the names it may have (ours first, then Canvas's gradebook export)
    "student_id": ("student_id", "ID"),
    "name": ("name", "Student"),
    "sis_id": ("sis_id", "SIS User ID"),
    "sis_login_id": ("sis_login_id", "SIS Login ID"),
    "section": ("section", "Section"),
}
CANVAS_COLUMN = re.compile(r"^(?P<title>.+) \((?P<id>\d+)\)$")  # "Tour (123456)" in a Canvas export
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
NOT_LISTED = "not in the roster"


class Roster:
    """``students``: ``{student id: {field: value}}`` in the roster's order; ``columns``: Canvas assignment columns."""

    def __init__(self, path, students, columns):
        self.path, self.students, self.columns = Path(path), students, columns


def read(path):
    """Read a roster; a clear ValueError if it cannot be one."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: Excel's byte-order mark
            table = list(csv.reader(f))
    except FileNotFoundError:
        raise ValueError(f"roster not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"roster {path} cannot be read as CSV: {error}") from None
    header = [name.strip() for name in table[0]] if table else []
    where = {field: next((header.index(n) for n in names if n in header), None) for field, names in FIELDS.items()}
    if where["student_id"] is None:
        raise ValueError(f"roster {path}: no student_id column (its header is {', '.join(header) or 'empty'}); "
                         f"a roster needs student_id, and may have name, sis_id, sis_login_id, section")
    students = {}
    for row in table[1:]:
        values = {field: (row[i].strip() if i is not None and i < len(row) else "") for field, i in where.items()}
        if not values["student_id"] or values["name"].strip().lower() in ("points possible", "manual posting"):
            continue  # a blank line, or the rows under a Canvas export's header
        if values["student_id"] in students:
            print(f"warning: roster {path}: student {values['student_id']} is listed twice; the first row is used", file=sys.stderr)
            continue
        students[values["student_id"]] = values
    columns = {}
    for name in header:
        match = CANVAS_COLUMN.match(name)
        if match and match["title"].strip() in exercises.EXERCISES:
            columns[match["title"].strip()] = name
    return Roster(path, students, columns)


def unlisted(results, roster):
    """``{(student, assignment): [flag]}`` for results of students the roster does not list."""
    if roster is None:
        return {}
    return {(r["student"], r["assignment"]): [f"{NOT_LISTED} {roster.path.name}"]
            for r in results if r["student"] not in roster.students}


def _course_order(assignments):
    return sorted(assignments, key=list(exercises.EXERCISES).index)


def write_gradebooks(rows, out, roster=None):
    """gradebook_wide.csv and canvas_grades.csv from the merged grades.csv ``rows``."""
    out = Path(out)
    # Columns are the course's assignments: a row about a stray file or folder (flagged) makes none.
    scores = {(student, assignment): score for student, assignment, score, _ in rows if assignment in exercises.EXERCISES}
    maxima = {}
    for _, assignment, _, top in rows:
        if assignment in exercises.EXERCISES:
            maxima[assignment] = max(maxima.get(assignment, 0.0), float(top))
    assignments = _course_order(maxima)
    graded = sorted({student for student, _, _, _ in rows})
    listed = roster.students if roster else {}
    students = list(listed) + [s for s in graded if s not in listed]
    with open(out / "gradebook_wide.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["student_id", "name", "sis_id", "section", *assignments, "note"])
        for student in students:
            info = listed.get(student, {})
            note = NOT_LISTED if roster and student not in listed else ""
            writer.writerow([student, info.get("name", ""), info.get("sis_id", ""), info.get("section", ""),
                             *[scores.get((student, a), "") for a in assignments], note])
    columns = [roster.columns.get(a, a) if roster else a for a in assignments]
    with open(out / "canvas_grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CANVAS_HEADER + columns)
        writer.writerow(["Points Possible", "", "", "", "", *[f"{maxima[a]:g}" for a in assignments]])
        for student in (list(listed) if roster else students):
            info = listed.get(student, {})
            writer.writerow([info.get("name", ""), student, info.get("sis_id", ""), info.get("sis_login_id", ""),
                             info.get("section", ""), *[scores.get((student, a), "") for a in assignments]])
