"""The CSV reports of a grading run: grades.csv, exercises.csv, flags.csv, merged into what ``out`` holds.

A run that grades one student or one assignment into an existing ``--out``
replaces the rows of the (student, assignment) pairs it graded and keeps every
other row. A report file that cannot be read as ours (another program's CSV, a
hand-edited file with a broken row) is never overwritten: it is moved aside as
``<name>.foreign.csv`` (``.foreign-2.csv``, ... if that exists) and the report
starts afresh, with a warning.
"""

import csv
import sys
from pathlib import Path

from . import exercises

GRADES = ("grades.csv", ["student_id", "assignment_id", "score", "max_score"])
EXERCISES = ("exercises.csv", ["student_id", "assignment_id", "grade_id", "score", "max_score"])
FLAGS = ("flags.csv", ["student_id", "assignment_id", "reason"])


def _number(value):
    return f"{float(value):g}"


def final_score(result):
    """Autograded points + manually graded points - late penalty, never below 0."""
    return max(0, sum(result["scores"].values()) + result.get("manual_score", 0) - result.get("late_penalty", 0))


def maximum(result):
    """The autograded maximum plus the assignment's manually graded points."""
    return sum(result["max_scores"].values()) + sum(result.get("manual_max_scores", {}).values())


def per_function(result):
    """Sum test-cell scores into exercises: ``{function: (score, max_score)}``."""
    totals = {}
    for grade_id, top in result["max_scores"].items():
        function = exercises.function_of_test(grade_id, result["assignment"]) or grade_id
        score, most = totals.get(function, (0.0, 0.0))
        totals[function] = (score + result["scores"].get(grade_id, 0.0), most + top)
    return totals


def rows_of(result):
    """``{report file name: [rows]}`` of one result."""
    student, assignment = result["student"], result["assignment"]
    return {
        GRADES[0]: [[student, assignment, _number(final_score(result)), _number(maximum(result))]],
        EXERCISES[0]: [[student, assignment, function, _number(score), _number(top)]
                       for function, (score, top) in sorted(per_function(result).items())],
        FLAGS[0]: [[student, assignment, reason] for reason in ([result["error"]] if result["error"] else []) + result["flags"]],
    }


def read_rows(path, header):
    """The rows of one of our report files; ``[]`` if it is missing; None if it is not ours or not whole."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: a file re-saved by Excel
            table = list(csv.reader(f))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if not table or table[0] != header or any(len(row) != len(header) for row in table[1:]):
        return None
    return table[1:]


def set_aside(path):
    """Move a file that is not ours out of the way, keeping every byte; returns where it went."""
    stem = Path(path).name.removesuffix(".csv")
    number = 1
    while True:
        target = Path(path).with_name(f"{stem}.foreign{'' if number == 1 else f'-{number}'}.csv")
        if not target.exists():
            Path(path).replace(target)
            return target
        number += 1


def merge(path, header, graded, new_rows):
    """Write ``path``: its rows of pairs not in ``graded`` kept, then ``new_rows``; sorted by pair. Returns the rows.

    Any report keyed by (student_id, assignment_id) in its first two columns can be merged so.
    """
    path = Path(path)
    kept = read_rows(path, header)
    if kept is None:
        moved = set_aside(path)
        print(f"warning: {path} is not a {path.name} this grader wrote: kept it as {moved.name}, "
              f"and started a new {path.name}", file=sys.stderr)
        kept = []
    rows = [row for row in kept if (row[0], row[1]) not in graded] + list(new_rows)
    rows.sort(key=lambda row: (row[0], row[1]))  # stable: a pair's rows keep their order
    partial = path.with_suffix(".tmp")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    partial.replace(path)  # atomic: a killed run leaves the old file or the new one
    return rows


def write_reports(results, out):
    """grades.csv, exercises.csv (one row per graded function) and flags.csv, merged with what ``out`` holds.

    Returns the merged rows of grades.csv (``[student_id, assignment_id, score, max_score]``).
    """
    graded = {(r["student"], r["assignment"]) for r in results}
    merged = {name: merge(Path(out) / name, header, graded, [row for r in results for row in rows_of(r)[name]])
              for name, header in (GRADES, EXERCISES, FLAGS)}
    return merged[GRADES[0]]


def read_grades(out):
    """The rows of ``out/grades.csv`` as written by ``write_reports`` (``[]`` if none or not ours)."""
    return read_rows(Path(out) / GRADES[0], GRADES[1]) or []


def table(rows):
    """A text gradebook from grades.csv rows: one row per student, one column per assignment."""
    cell = {(student, assignment): f"{score}/{top}" for student, assignment, score, top in rows}
    students = sorted({student for student, _ in cell})
    assignments = sorted({assignment for _, assignment in cell if assignment})
    width = max([len("student")] + [len(s) for s in students])
    columns = [max(len(a), 7) for a in assignments]
    lines = ["student".ljust(width) + "  " + "  ".join(a.ljust(w) for a, w in zip(assignments, columns))]
    for student in students:
        lines.append(student.ljust(width) + "  " + "  ".join(cell.get((student, a), "-").ljust(w) for a, w in zip(assignments, columns)))
    return "\n".join(lines)


def gradebook_table(results):
    """The gradebook of these results as a text table."""
    return table([row for r in results for row in rows_of(r)[GRADES[0]]])
