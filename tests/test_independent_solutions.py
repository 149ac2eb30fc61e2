"""Complete solutions written independently of the source solutions, from the released notebooks alone,
in other styles on purpose (loops, einsum, stride tricks, helpers, isinstance checks, np.where over
both branches, generators, NumPy scalar returns): they must get full marks, without a flag.

Graded as an instructor does it: the CLI in a subprocess, from a scratch folder, relative paths.
A lost point here means the prose, the visible tests and the hidden tests disagree somewhere.
"""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import exercises

HERE = Path(__file__).parent / "independent"
ASSIGNMENTS = sorted(p.stem for p in HERE.glob("[0-9][0-9]_*.py") if exercises.source_notebook(p.stem).exists())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("instructor")
    cli = [sys.executable, "-m", "autograder"]
    subprocess.run(cli + ["release", "--out", "release", *ASSIGNMENTS], cwd=scratch, check=True, capture_output=True)
    subprocess.run([sys.executable, str(HERE / "build.py"), "release", "submissions"], cwd=scratch, check=True,
                   capture_output=True)
    run = subprocess.run(cli + ["grade", "submissions", "--out", "graded", "--quiet"], cwd=scratch,
                         capture_output=True, text=True, timeout=2400)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]

    def rows(name):
        with open(scratch / "graded" / name, newline="") as f:
            return list(csv.DictReader(f))

    return {"grades": rows("grades.csv"), "exercises": rows("exercises.csv"), "flags": rows("flags.csv")}


def test_there_are_independent_solutions_of_every_assignment():
    assert ASSIGNMENTS == exercises.assignment_ids()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_independent_solution_gets_full_marks_without_a_flag(graded, assignment):
    lost = [(r["grade_id"], f"{r['score']}/{r['max_score']}") for r in graded["exercises"]
            if r["assignment_id"] == assignment and float(r["score"]) < float(r["max_score"])]
    flags = [r["reason"] for r in graded["flags"] if r["assignment_id"] == assignment
             and not r["reason"].startswith("needs manual grading:")]  # written answers wait for a person
    assert [r for r in graded["grades"] if r["assignment_id"] == assignment], "not graded"
    assert not lost and not flags, (lost, flags)
