"""A standard nbgrader course root around the hardened grader: ``python -m autograder course COURSE``.

``make_course`` turns a folder into an nbgrader course (``nbgrader_config.py``, ``source/``, the
assignments and their due dates in ``gradebook.db``) on which nbgrader's own commands work
(generate_assignment, release_assignment, collect, autograde, generate_feedback, release_feedback,
export, formgrader). ``finish`` is the hook ``grade`` calls once every submission is graded: it adds
what a term needs to the results (nbgrader's timestamps, due dates and late penalties; manually graded
cells and the points an instructor gave them in formgrader) and writes them into the output's
``gradebook.db`` *merged* (nobody else's students, grades, due dates or timestamps are touched), plus,
in a course root, ``autograded/`` for formgrader and ``feedback/`` ready for ``release_feedback``.
"""

import csv
import html
import math
import re
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import nbformat
from traitlets import Float
from traitlets.config import Config

from . import course, exercises
from . import notebook as nbtools

CONFIG_FILE = "nbgrader_config.py"
BEGIN, END = "# BEGIN autograder settings", "# END autograder settings"
MANUAL_FLAG = "needs manual grading"  # the start of the flags.csv reason for a pending written answer
LATE_FLAG = "late"


# --- the course root ------------------------------------------------------------------------------

def is_course_root(folder):
    return (Path(folder) / CONFIG_FILE).is_file()


def load_config(root):
    """COURSE/nbgrader_config.py as nbgrader reads it (a traitlets Config)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_FILE, path=str(Path(root).resolve())).load_config()


def _python_value(value, root):
    """``value`` as Python source for the config file; paths inside the course are relative to the file."""
    if isinstance(value, type):
        return repr(f"{value.__module__}.{value.__qualname__}")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_python_value(item, root) for item in value) + "]"
    if isinstance(value, str) and (value == str(root) or value.startswith(str(root) + "/")):
        relative = value[len(str(root)):].lstrip("/")
        return f"os.path.join(HERE, {relative!r})" if relative else "HERE"
    return repr(value)


def _config_lines(config, root, prefix="c"):
    lines = []
    for key, value in sorted(config.items()):
        if isinstance(value, Config):
            lines += _config_lines(value, root, f"{prefix}.{key}")
        else:
            lines.append(f"{prefix}.{key} = {_python_value(value, root)}")
    return lines


# Left to nbgrader: it takes the course root from the working folder and the gradebook beside it.
NOT_WRITTEN = {("CourseDirectory", "root"), ("CourseDirectory", "db_url")}

LATE_PENALTY_HELP = '''
# Late work (nbgrader's late-penalty plugins; `python -m autograder grade ... --out COURSE` applies them too).
# A submission is late when its timestamp.txt is after the assignment's due date (gradebook.db).
# nbgrader's own plugin: "none" (flag only) or "zero" (the whole score):
#   c.AssignLatePenalties.plugin_class = "nbgrader.plugins.LateSubmissionPlugin"
#   c.LateSubmissionPlugin.penalty_method = "zero"
# The course's plugin: N points per started hour late (never below 0):
#   c.AssignLatePenalties.plugin_class = "autograder.nbcourse.PerHourPenalty"
#   c.PerHourPenalty.points_per_hour = 1.0
'''


def config_text(root, course_id, exchange):
    """The generated block of nbgrader_config.py: the grader's own nbgrader settings (course.nbgrader_config)."""
    root = Path(root).resolve()
    config = course.nbgrader_config(root)
    config.CourseDirectory.course_id = course_id
    config.Exchange.root = str(Path(exchange).resolve()) if exchange else str(root / "exchange")
    for section, key in NOT_WRITTEN:
        config[section].pop(key, None)
    sockets = Path(config.KernelManager.ip).parent  # the kernels' IPC sockets: the folder must exist
    return "\n".join([
        BEGIN,
        "# Written by `python -m autograder course`: the settings the hardened grader uses (autograder/course.py).",
        "# Running it again rewrites only this block; put your own settings outside it.",
        "import os",
        "HERE = os.path.dirname(os.path.abspath(__file__))",
        f"os.makedirs({_python_value(str(sockets), root)}, exist_ok=True)  # the kernels' IPC sockets",
        "c = get_config()  # noqa: F821",
        *_config_lines(config, root),
        END,
    ])


def write_config(root, course_id, exchange):
    """Write or refresh the generated block of ``nbgrader_config.py``, keeping everything else in the file."""
    path = Path(root) / CONFIG_FILE
    block = config_text(root, course_id, exchange)
    if not path.exists():
        path.write_text(block + "\n" + LATE_PENALTY_HELP)
        return
    text = path.read_text()
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        path.write_text(before + block + after)
    else:  # a course the instructor made: our block first, their settings after it (theirs win)
        path.write_text(block + "\n\n" + text)


def parse_due(text):
    """``ASSIGNMENT=ISO-TIME`` as ``(assignment, naive UTC datetime)``; a time without a zone is UTC."""
    from nbgrader.utils import parse_utc

    assignment, sep, when = text.partition("=")
    if not sep or not when.strip():
        raise ValueError(f"--due {text!r}: expected ASSIGNMENT=TIME, e.g. 01_conv_as_matmul=2026-10-01T23:59:00+00:00")
    if assignment not in exercises.EXERCISES:
        raise ValueError(f"--due {text!r}: {exercises.NotRegistered(assignment)}")
    try:
        return assignment, parse_utc(when.strip())
    except (ValueError, OverflowError) as error:
        raise ValueError(f"--due {text!r}: not a date and time ({error})") from None


def copy_sources(root, assignments):
    """``source/<id>/``: the assignment's folder in notebooks/ (its notebook and any data files), refreshed."""
    for assignment in assignments:
        source, target = exercises.NOTEBOOKS / assignment, Path(root) / "source" / assignment
        target.mkdir(parents=True, exist_ok=True)
        for item in source.iterdir():
            if item.name.startswith(".") or item.name == "__pycache__":
                continue
            if item.is_dir():
                shutil.copytree(item, target / item.name, dirs_exist_ok=True)
            else:
                shutil.copy(item, target / item.name)


def make_course(root, course_id=None, exchange=None, due=(), assignments=None):
    """Make (or refresh) the nbgrader course root ``root``; returns ``{assignment: due date or None}``.

    Never removes anything: students, grades, submissions, timestamps and due dates already in
    ``gradebook.db`` stay; due dates given here are set, the others kept.
    """
    root = Path(root).resolve()
    if root == exercises.NOTEBOOKS or exercises.NOTEBOOKS in root.parents:
        raise ValueError(f"{root} is inside the source notebooks' folder: choose a folder outside it")
    due = dict(parse_due(item) for item in due)
    assignments = assignments or exercises.assignment_ids()
    root.mkdir(parents=True, exist_ok=True)
    if is_course_root(root):  # keep what an earlier run (or the instructor) chose
        old = load_config(root)
        course_id = course_id or old.CourseDirectory.get("course_id")
        exchange = exchange or old.Exchange.get("root")
    write_config(root, course_id or course.COURSE_ID, exchange)
    copy_sources(root, assignments)
    with course.quiet(), gradebook(root, course_id or course.COURSE_ID) as gb:
        for assignment in assignments:
            fields = {"duedate": due[assignment]} if assignment in due else {}
            gb.update_or_create_assignment(assignment, **fields)
        dates = {a.name: a.duedate for a in gb.assignments}
    return {a: dates.get(a) for a in assignments}


def db_url(folder):
    return f"sqlite:///{Path(folder).resolve() / 'gradebook.db'}"


def gradebook(folder, course_id=course.COURSE_ID):
    """nbgrader's Gradebook of ``folder/gradebook.db`` (made, or migrated, by nbgrader itself)."""
    course.tools_on_path()  # nbgrader runs alembic by name
    from nbgrader.api import Gradebook

    return Gradebook(db_url(folder), course_id)


def cli(args):
    """``python -m autograder course COURSE [--exchange DIR] [--course-id ID] [--due ID=TIME ...]``."""
    try:
        dates = make_course(args.course, args.course_id, args.exchange, args.due)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.course} is an nbgrader course root ({CONFIG_FILE}, source/, gradebook.db) with {len(dates)} assignments:")
    for assignment, when in dates.items():
        print(f"  {assignment}  due {when:%Y-%m-%d %H:%M:%S} UTC" if when else f"  {assignment}  no due date")
    print(f"Next, from {args.course}: nbgrader generate_assignment ID, then nbgrader release_assignment ID")
    return 0
