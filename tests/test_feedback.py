"""What a student reads: every lost point has a reason in its cell, correct code is never zeroed for
writing to stderr, and no page shows a path of the grading machine.

Realistic mistakes (``samples.BUGS``: no argument checks, an input modified in place, an extra axis)
and correct but noisy code (``samples.NOISY``: warnings on stderr) are graded by the CLI from a
scratch folder with relative paths, as an instructor runs it; then the feedback pages are read.
"""

import csv
import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import demo, exercises, samples
from autograder import notebook as nbtools

ASSIGNMENT = "04_pooling"  # array exercises with argument checks, backward passes and a quick notebook
NOTEBOOK = exercises.notebook_name(ASSIGNMENT)
pytestmark = pytest.mark.skipif(not exercises.source_notebook(ASSIGNMENT).exists(), reason=f"no {ASSIGNMENT} here")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("instructor")
    cli = [sys.executable, "-m", "autograder"]
    subprocess.run(cli + ["release", "--out", "release", ASSIGNMENT], cwd=scratch, check=True, capture_output=True)
    source = nbtools.read(exercises.source_notebook(ASSIGNMENT))
    release = nbtools.read(scratch / "release" / ASSIGNMENT / NOTEBOOK)
    for kind, body in samples.BUGS.items():
        demo.write(samples.wrapped(release, source, ASSIGNMENT, body), scratch / "submissions", kind, ASSIGNMENT)
    demo.write(samples.wrapped(release, source, ASSIGNMENT, samples.NOISY), scratch / "submissions", "noisy", ASSIGNMENT)
    run = subprocess.run(cli + ["grade", "submissions", "--out", "graded", "--quiet"], cwd=scratch,
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    with open(scratch / "graded" / "exercises.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {"folder": scratch / "graded", "rows": rows}


def page(graded, student):
    return (graded["folder"] / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()


def graded_cells(text):
    """``{grade_id: (score, maximum, [output texts])}`` of the test cells of a feedback page."""
    cells = {}
    for match in re.finditer(r'<a name="(test_\w+)"></a><div class="panel-heading">.*?Score: ([\d.]+) / ([\d.]+)', text, re.S):
        end = text.find('<div class="cell border-box-sizing', match.end())
        outputs = re.findall(r'<div class="output_subarea[^"]*">\s*<pre>(.*?)</pre>', text[match.end():end], re.S)
        cells[match.group(1)] = (float(match.group(2)), float(match.group(3)),
                                 [html.unescape(re.sub(r"<[^>]+>", "", o)) for o in outputs])
    return cells


def test_correct_code_that_writes_to_stderr_keeps_full_marks(graded):
    rows = [r for r in graded["rows"] if r["student_id"] == "noisy"]
    assert rows and all(float(r["score"]) == float(r["max_score"]) for r in rows), rows
    assert "a harmless warning from correct code" in page(graded, "noisy")  # the student still sees the warning


@pytest.mark.parametrize("kind", list(samples.BUGS))
def test_every_lost_point_has_its_reason_in_its_cell(graded, kind):
    cells = graded_cells(page(graded, kind))
    lost = {g: c for g, c in cells.items() if c[0] < c[1]}
    assert lost, f"the {kind} sample lost no point: the sample does not test anything"
    for grade_id, (_, _, outputs) in lost.items():
        function = exercises.function_of_test(grade_id, ASSIGNMENT)
        reasons = [o for o in outputs if "Error" in o or "Grader" in o]
        assert reasons, f"{kind}: {grade_id} lost its points without a reason: {outputs}"
        assert any(f"{function}(" in o for o in reasons), f"{kind}: {grade_id}'s reason names no call of {function}: {reasons}"


def test_no_page_shows_a_path_of_the_grading_machine(graded):
    machine = [str(Path(sys.prefix)), str(exercises.REPO), "/tmp/", str(graded["folder"].parent)]
    for student in [*samples.BUGS, "noisy"]:
        text = html.unescape(page(graded, student))
        assert not [m for m in machine if m in text], (student, [m for m in machine if m in text])
