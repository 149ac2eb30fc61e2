"""The Korean edition end to end, as an instructor runs it: ``release --lang ko`` of all 9 notebooks, the Korean
reference submission and the untouched Korean release graded through the CLI (one grading run of 18
submissions, 2 workers), a Korean notebook executed with ``jupyter nbconvert --execute`` (its explorer speaks
Korean), and ``selfcheck`` finding a problem of the Korean release only.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import demo, exercises, samples, translations
from autograder import notebook as nbtools

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENTS = exercises.assignment_ids()
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def autograder(*args, cwd, env=None, timeout=1800):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def written_points(assignment):
    """Points of the manually graded answers (pending until a person grades them), from the source notebook."""
    return sum(float(nbtools.nbgrader_meta(c)["points"]) for c in nbtools.read(exercises.source_notebook(assignment)).cells
               if nbtools.nbgrader_meta(c).get("grade") and nbtools.nbgrader_meta(c).get("solution"))


@pytest.fixture(scope="module")
def korean(tmp_path_factory):
    """A scratch folder with ``release/`` (--lang ko) and ``graded/``: its reference and blank submissions graded."""
    scratch = tmp_path_factory.mktemp("instructor")
    done = autograder("release", "--lang", "ko", "--out", "release", cwd=scratch)
    assert done.returncode == 0, done.stderr
    for assignment in ASSIGNMENTS:
        release = nbtools.read(scratch / "release" / assignment / exercises.notebook_name(assignment))
        reference = samples.reference(release, translations.source_in(assignment, "ko"), assignment)
        demo.write(reference, scratch / "submissions", "reference", assignment)
        demo.write(release, scratch / "submissions", "blank", assignment)
    start = time.perf_counter()
    done = autograder("grade", "submissions", "--out", "graded", "--workers", "2", "--quiet", cwd=scratch)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"\ngrading 18 Korean submissions with 2 workers: {seconds:.0f} s")
    return {"root": scratch, "seconds": seconds,
            "grades": {(r["student_id"], r["assignment_id"]): r for r in read_csv(scratch / "graded" / "grades.csv")},
            "flags": read_csv(scratch / "graded" / "flags.csv")}


def test_every_korean_release_is_korean_with_its_explorers_settings(korean):
    for assignment in ASSIGNMENTS:
        folder = korean["root"] / "release" / assignment
        nb = nbtools.read(folder / exercises.notebook_name(assignment))
        assert nb.metadata["coursekit"] == {"language": "ko"}
        assert HANGUL.search(next(c.source for c in nb.cells if c.cell_type == "markdown"))
        assert json.loads((folder / ".coursekit.json").read_text()) == {"language": "ko"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_korean_reference_gets_full_marks_and_the_korean_blank_zero(korean, assignment):
    reference, blank = korean["grades"][("reference", assignment)], korean["grades"][("blank", assignment)]
    top = float(reference["max_score"])
    assert top > 0 or not exercises.functions(assignment)
    assert float(reference["score"]) == top - written_points(assignment)   # written answers: pending, not autograded
    assert float(blank["score"]) == 0
    reasons = [r["reason"] for r in korean["flags"] if r["student_id"] == "reference" and r["assignment_id"] == assignment]
    # The reference is the course's own code ("copied code"); a written answer waits for a person.
    assert all(reason.startswith(("copied code: ", "needs manual grading:")) for reason in reasons), reasons
    assert any(reason.startswith("needs manual grading:") for reason in reasons) == bool(written_points(assignment))


def feedback_page(korean, student, assignment):
    return (korean["root"] / "graded" / "feedback" / student / assignment / exercises.notebook_name(assignment)) \
        .with_suffix(".html").read_text(encoding="utf-8")


ERROR_OUTPUT = 'class="output_subarea output_text output_error"'   # how the feedback page shows a failed cell


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_korean_reference_runs_top_to_bottom(korean, assignment):
    """Its feedback page is the executed notebook, in Korean: no cell of it failed (the blank's stubs did)."""
    text = feedback_page(korean, "reference", assignment)
    assert HANGUL.search(text)
    assert ERROR_OUTPUT not in text
    if exercises.functions(assignment):
        assert ERROR_OUTPUT in feedback_page(korean, "blank", assignment)


def test_a_korean_notebook_executed_with_nbconvert_has_korean_explorers(korean, tmp_path):
    """``jupyter nbconvert --execute`` runs the kernel in the notebook's folder: the release's settings file there."""
    folder = tmp_path / "student"
    shutil.copytree(korean["root"] / "release" / "04_pooling", folder / "04_pooling")
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           "--allow-errors", "--output", "executed.ipynb", "04_pooling/pooling.ipynb"],
                          cwd=folder, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    nb = json.loads((folder / "04_pooling" / "executed.ipynb").read_text())
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    descriptions = [model["state"].get("description", "") for model in state.values()]
    assert "풀링" in descriptions and "입력 x (행 단위)" in descriptions, descriptions


def test_selfcheck_releases_the_korean_edition_too(tmp_path):
    """A problem planted in the Korean catalog only (an unclosed solution marker in a translated cell: nbgrader
    refuses the Korean release) is found and named, and the English edition is still checked and graded."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks" / "04_pooling", notebooks / "04_pooling")
    catalog_file = notebooks / "04_pooling" / "locale" / "ko.po"
    text = catalog_file.read_text(encoding="utf-8")
    first = re.search(r'^msgstr "(?!")', text, flags=re.MULTILINE)
    catalog_file.write_text(text[:first.end()] + "### BEGIN SOLUTION\\n" + text[first.end():], encoding="utf-8")
    start = time.perf_counter()
    done = autograder("selfcheck", "04_pooling", cwd=tmp_path, env={"CFS_NOTEBOOKS": str(notebooks)})
    print(f"\nselfcheck 04_pooling (en and ko): {time.perf_counter() - start:.0f} s")
    assert done.returncode == 1
    assert done.stdout.splitlines() == ["PROBLEM: release --lang ko failed: RuntimeError: no end solution statement found",
                                        "1 problem(s)"], done.stdout + done.stderr[-2000:]
