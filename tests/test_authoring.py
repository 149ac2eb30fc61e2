"""Authoring: an assignment or exercise is registered in one place (autograder/exercises.json), and the
authoring checks say "not registered" when it is not, instead of failing later as possible tampering.

The CLI runs from a scratch folder on a small course of its own (CFS_NOTEBOOKS).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import authoring, exercises

REPO = Path(__file__).resolve().parent.parent
REGISTERED = "04_pooling"  # a registered assignment, copied into the small course with an extra exercise


def nbgrader(cell, **meta):
    cell.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False, "locked": False, **meta}
    return cell


def answer_cell(function, body):
    return nbgrader(nbformat.v4.new_code_cell(f"def {function}(x):\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION\n"),
                    solution=True, grade_id=function)


def graded_cell(grade_id, source):
    return nbgrader(nbformat.v4.new_code_cell(source), grade=True, locked=True, grade_id=grade_id, points=1)


def setup_cell():
    cell = nbgrader(nbformat.v4.new_code_cell("import numpy as np\n"), locked=True, grade_id="setup")
    cell.metadata["tags"] = ["setup"]
    return cell


@pytest.fixture
def course(tmp_path):
    """A course folder: an assignment the registry does not know, and a registered one with a new
    exercise (foo), a misnamed test cell and a registered exercise whose answer cell was removed."""
    notebooks = tmp_path / "notebooks"
    new = nbformat.v4.new_notebook(cells=[setup_cell(), answer_cell("square", "return x * x"),
                                          graded_cell("test_square", "assert square(3) == 9\n")])
    (notebooks / "99_new").mkdir(parents=True)
    nbformat.write(new, str(notebooks / "99_new" / "new.ipynb"))
    pooling = nbformat.read(str(exercises.source_notebook(REGISTERED)), as_version=4)
    pooling.cells = [c for c in pooling.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != "avgpool_forward"]
    pooling.cells += [answer_cell("foo", "return x + 1"), graded_cell("test_foo", "assert foo(1) == 2\n"),
                      graded_cell("test_maxpol_forward", "assert maxpool_forward(np.zeros((1, 1, 2, 2))).shape == (1, 1, 1, 1)\n")]
    (notebooks / REGISTERED).mkdir()
    nbformat.write(pooling, str(notebooks / REGISTERED / exercises.notebook_name(REGISTERED)))
    work = tmp_path / "work"
    work.mkdir()
    return work, dict(os.environ, CFS_NOTEBOOKS=str(notebooks))


def autograder(course, *args):
    work, env = course
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=work, env=env, capture_output=True,
                          text=True, timeout=600)


UNREGISTERED = ("PROBLEM: 99_new is not registered: add it to autograder/exercises.json "
                "(its notebook and graded functions; see notebooks/README.md)")


def test_selfcheck_of_an_unregistered_assignment_says_not_registered(course):
    run = autograder(course, "selfcheck", "99_new")
    assert run.returncode == 1
    assert run.stdout.splitlines() == [UNREGISTERED, "1 problem(s)"], run.stdout + run.stderr
    assert "tamper" not in run.stdout + run.stderr


def test_run_and_release_of_an_unregistered_assignment_say_not_registered(course):
    run = autograder(course, "run", "99_new")
    assert run.returncode == 1 and run.stdout.splitlines()[0] == UNREGISTERED, run.stdout + run.stderr
    release = autograder(course, "release", "--out", "release", "99_new")
    assert release.returncode == 2, release.stderr
    assert release.stderr.strip() == "error: " + UNREGISTERED.removeprefix("PROBLEM: ")
    assert not (course[0] / "release").exists()


def test_an_exercise_missing_from_the_registry_is_named_with_its_assignment(course):
    run = autograder(course, "selfcheck", REGISTERED)
    assert run.returncode == 1
    assert sorted(run.stdout.splitlines()[:-1]) == sorted([
        "PROBLEM: answer cell foo is not registered for 04_pooling: add foo to the functions of 04_pooling in "
        "autograder/exercises.json (or give the cell a registered function's grade_id)",
        "PROBLEM: test cell test_maxpol_forward of 04_pooling grades no registered function: name it test_<function> "
        "or test_<function>_<suffix> after one of maxpool_forward, maxpool_backward, avgpool_forward, "
        "avgpool_backward, global_avgpool_forward, global_avgpool_backward",
        "PROBLEM: 04_pooling: avgpool_forward is registered in autograder/exercises.json but no answer cell has "
        "grade_id avgpool_forward",
    ]), run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "3 problem(s)"
    assert "tamper" not in run.stdout + run.stderr


def test_selfcheck_of_everything_reports_the_folders_the_registry_does_not_know(course):
    work, env = course
    shutil.rmtree(Path(env["CFS_NOTEBOOKS"]) / REGISTERED)
    run = autograder(course, "selfcheck")
    assert run.returncode == 1
    assert run.stdout.splitlines() == [UNREGISTERED, "1 problem(s)"], run.stdout + run.stderr


def test_every_source_notebook_is_registered_and_agrees_with_the_registry():
    assert exercises.unregistered_folders() == []
    assert {a: authoring.registration_problems(a) for a in exercises.assignment_ids()} == \
        {a: [] for a in exercises.assignment_ids()}


def test_the_registry_is_read_from_one_file():
    """The ids the grader knows are exactly the registry's, in its order (nothing else lists them)."""
    registry = json.loads((REPO / "autograder" / "exercises.json").read_text())
    assert list(exercises.EXERCISES) == list(registry)
    assert all(exercises.functions(a) == spec["functions"] and exercises.notebook_name(a) == spec["notebook"]
               for a, spec in registry.items())


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout")
@pytest.mark.parametrize("path", ["submissions/alice/04_pooling/pooling.ipynb", "graded/grades.csv", "demo/graded/x.csv",
                                  "release/04_pooling/pooling.ipynb", "handout/coursekit.whl", "course/gradebook.db"])
def test_students_work_and_the_commands_outputs_are_kept_out_of_git(path):
    assert subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", path]).returncode == 0, f"{path} is not ignored"


def test_the_source_notebooks_are_not_ignored():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    path = exercises.source_notebook(REGISTERED).relative_to(REPO)
    assert subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", str(path)]).returncode == 1
