"""The kit inside a standard nbgrader course: ``python -m autograder course COURSE``, then nbgrader's own CLI.

Everything runs as an instructor types it: the CLIs in subprocesses, from a scratch folder, relative
paths, the exchange in the scratch folder. Expected values come from nbgrader itself (its Gradebook
API, its ``export``), from the source notebooks' metadata, or from the dates the test chose.
"""

import csv
import getpass
import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from autograder import exercises
from autograder import notebook as nbtools

BIN = Path(sys.executable).parent
NBGRADER = str(BIN / "nbgrader")
COURSE_ID = "cfs-test"
ENV_PATH = {"PATH": f"{BIN}:/usr/bin:/bin"}


def run(args, cwd, timeout=600, check=True):
    """A command as typed in ``cwd``; its output on failure."""
    import os

    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **ENV_PATH))
    if check:
        assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def autograder(*args, cwd, **kw):
    return run([sys.executable, "-m", "autograder", *args], cwd, **kw)


def nbgrader(*args, cwd, **kw):
    return run([NBGRADER, *args], cwd, **kw)


def student_nbgrader(*args, cwd, exchange):
    """A student's nbgrader: the course and the exchange from the command line (a student has no course root)."""
    return nbgrader(*args, "--course", COURSE_ID, f"--Exchange.root={exchange}", cwd=cwd)


def gradebook(course):
    from autograder import nbcourse

    return nbcourse.gradebook(course, COURSE_ID)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_course_is_a_standard_nbgrader_course_and_rerunning_keeps_everything(tmp_path):
    (tmp_path / "exchange").mkdir()
    autograder("course", "course", "--exchange", "exchange", "--course-id", COURSE_ID,
               "--due", "00_tour=2026-10-01T23:59:00+02:00", cwd=tmp_path)
    course = tmp_path / "course"
    notebook = exercises.notebook_name("00_tour")
    assert (course / "source" / "00_tour" / notebook).read_bytes() == exercises.source_notebook("00_tour").read_bytes()

    # nbgrader's own workflow, from the course root, the student in a folder of their own.
    nbgrader("generate_assignment", "00_tour", cwd=course)
    nbgrader("release_assignment", "00_tour", cwd=course)
    home = tmp_path / "student"
    home.mkdir()
    exchange = tmp_path / "exchange"
    student_nbgrader("fetch_assignment", "00_tour", cwd=home, exchange=exchange)
    assert (home / "00_tour" / notebook).exists()
    student_nbgrader("submit", "00_tour", cwd=home, exchange=exchange)
    nbgrader("collect", "00_tour", cwd=course)
    me = getpass.getuser()
    assert (course / "submitted" / me / "00_tour" / "timestamp.txt").exists()
    nbgrader("autograde", "00_tour", cwd=course)
    nbgrader("generate_feedback", "00_tour", cwd=course)
    nbgrader("release_feedback", "00_tour", cwd=course)
    student_nbgrader("fetch_feedback", "00_tour", cwd=home, exchange=exchange)
    assert list((home / "00_tour" / "feedback").glob(f"*/{notebook.replace('.ipynb', '.html')}"))
    nbgrader("export", cwd=course)
    row = next(r for r in read_csv(course / "grades.csv") if r["assignment"] == "00_tour")
    assert row["student_id"] == me and row["duedate"] == "2026-10-01 21:59:00" and row["timestamp"]

    # An instructor's roster and a later due date, then the command again: nothing is lost.
    with gradebook(course) as gb:
        gb.update_or_create_student("bea", first_name="Bea", last_name="Example", email="bea@example.org")
        stamp = gb.find_submission("00_tour", me).timestamp
    (course / "source" / "00_tour" / notebook).write_text("edited by mistake")
    autograder("course", "course", "--due", "01_conv_as_matmul=2026-10-08T12:00:00", cwd=tmp_path)
    assert (course / "source" / "00_tour" / notebook).read_bytes() == exercises.source_notebook("00_tour").read_bytes()
    with gradebook(course) as gb:
        bea = gb.find_student("bea")
        assert (bea.first_name, bea.email) == ("Bea", "bea@example.org")
        assert gb.find_submission("00_tour", me).timestamp == stamp
        assert gb.find_assignment("00_tour").duedate == datetime(2026, 10, 1, 21, 59)
        assert gb.find_assignment("01_conv_as_matmul").duedate == datetime(2026, 10, 8, 12, 0)
    # The course id and the exchange chosen the first time stay without being given again.
    nbgrader("export", cwd=course)
    assert any(r["assignment"] == "00_tour" and r["student_id"] == me for r in read_csv(course / "grades.csv"))
    from autograder import nbcourse

    config = nbcourse.load_config(course)
    assert config.CourseDirectory.course_id == COURSE_ID and config.Exchange.root == str(exchange)


def test_course_refuses_bad_due_dates(tmp_path):
    done = autograder("course", "c", "--due", "99_nothing=2026-10-01", cwd=tmp_path, check=False)
    assert done.returncode == 2 and "99_nothing is not registered" in done.stderr
    done = autograder("course", "c", "--due", "00_tour=someday", cwd=tmp_path, check=False)
    assert done.returncode == 2 and "not a date" in done.stderr
