"""Shared by test_lms.py and test_reports.py: released notebooks, answers made from them, the CLI, the CSVs."""

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import exercises, grade, samples
from autograder import notebook as nbtools

TOUR, CONV = "00_tour", "01_conv_as_matmul"
# Expected totals come from the source notebook's points, not from a grading run.
CONV_FULL = sum(grade.assignment_maximum(CONV).values())


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    """``answers(assignment, kind)``: the bytes of a reference (kind "full") or untouched ("blank") notebook."""
    scratch = tmp_path_factory.mktemp("release")
    run = subprocess.run([sys.executable, "-m", "autograder", "release", "--out", "release", TOUR, CONV],
                         cwd=scratch, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]

    def make(assignment, kind):
        release = nbtools.read(scratch / "release" / assignment / exercises.notebook_name(assignment))
        nb = samples.reference(release, nbtools.read(exercises.source_notebook(assignment)), assignment) if kind == "full" else release
        return nbformat.writes(nb).encode()

    return make


def write_zip(path, files):
    """A zip of ``{name inside the zip: bytes}``."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def write_tree(root, files):
    for name, data in files.items():
        (Path(root) / name).parent.mkdir(parents=True, exist_ok=True)
        (Path(root) / name).write_bytes(data)
    return Path(root)


def grade_cli(cwd, *args, timeout=900):
    """``python -m autograder grade ARGS --workers 1 --quiet`` in ``cwd``, as a user types it."""
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *args, "--workers", "1", "--quiet"],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def by_pair(rows):
    return {(r["student_id"], r["assignment_id"]): r for r in rows}


def flags(out):
    """flags.csv's rows, without the copied-code flags: the full answers here are the course's own solution."""
    return [r for r in read_csv(Path(out) / "flags.csv") if not r["reason"].startswith("copied code:")]


def reasons(out, student, assignment=None):
    return [r["reason"] for r in flags(out) if r["student_id"] == student and assignment in (None, r["assignment_id"])]
