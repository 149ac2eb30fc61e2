"""The README's main job end to end: `python -m autograder demo` releases, makes samples, grades them.

One demo run (a session fixture) is checked from every side: full marks for the
reference, zero for blank and hostile submissions, partial credit on exactly
the broken exercises, every broken input reported, feedback without hidden
tests, originals untouched, and a second grading giving identical CSVs.
"""

import csv
import hashlib
import html
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import exercises, samples
from autograder import notebook as nbtools

ATTACKS = list(samples.ATTACKS)
ASSIGNMENTS = [a for a in exercises.EXERCISES if exercises.source_notebook(a).exists()]
GRADED = [a for a in ASSIGNMENTS if exercises.functions(a)]
ATTACKED = GRADED[0] if GRADED else None


def tree_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The README's main job as a user types it: ``python -m autograder demo`` in a scratch folder."""
    scratch = tmp_path_factory.mktemp("user")
    out = scratch / "demo"  # the default --out, relative to the working folder
    run = subprocess.run([sys.executable, "-m", "autograder", "demo"], cwd=scratch,
                         capture_output=True, text=True, timeout=3000)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {"out": out, "stdout": run.stdout, "graded": out / "graded",
            "grades": {(r["student_id"], r["assignment_id"]): r for r in read_csv(out / "graded" / "grades.csv")},
            "exercises": read_csv(out / "graded" / "exercises.csv"),
            "flags": read_csv(out / "graded" / "flags.csv")}


def score(demo, student, assignment):
    row = demo["grades"][(student, assignment)]
    return float(row["score"]), float(row["max_score"])


def flags_of(demo, student):
    """The reasons flagged for ``student``, except written answers waiting for a person (pending, not a problem)."""
    return [r["reason"] for r in demo["flags"] if r["student_id"] == student
            and not r["reason"].startswith("needs manual grading:")]


def written_points(assignment):
    """Points of the manually graded answer cells of an assignment, from its source notebook."""
    return sum(float(nbtools.nbgrader_meta(c)["points"]) for c in nbtools.read(exercises.source_notebook(assignment)).cells
               if nbtools.nbgrader_meta(c).get("grade") and nbtools.nbgrader_meta(c).get("solution"))


def test_demo_prints_the_gradebook_and_its_verdict(demo):
    assert "student" in demo["stdout"] and "reference" in demo["stdout"]
    for assignment in ASSIGNMENTS:
        assert assignment in demo["stdout"]
    assert "Demo OK" in demo["stdout"] and "internal grader error:" not in demo["stdout"]


def test_demo_verdict_fails_when_an_expectation_does_not_hold(demo):
    from autograder import demo as demo_module

    results = [{"student": "reference", "assignment": GRADED[0], "scores": {"t": 0.0}, "max_scores": {"t": 2.0},
                "flags": [], "error": None},
               {"student": "tamper-numpy", "assignment": GRADED[0], "scores": {"t": 2.0}, "max_scores": {"t": 2.0},
                "flags": [], "error": None},
               {"student": "blank", "assignment": GRADED[0], "scores": {}, "max_scores": {},
                "flags": [], "error": "internal grader error: KeyError: 'x'"}]
    expectations = {("reference", GRADED[0]): "full", ("tamper-numpy", GRADED[0]): "zero", ("blank", GRADED[0]): "zero",
                    ("partial", GRADED[0]): ("wrong", ["x"])}
    problems = demo_module.verdict(results, expectations)
    assert any("reference" in p and "expected full marks" in p for p in problems)
    assert any("tamper-numpy" in p and "expected 0" in p for p in problems)
    assert any("tamper-numpy" in p and "no flag" in p for p in problems)
    assert any("internal grader error" in p for p in problems)
    assert any("partial" in p and "not graded" in p for p in problems)
    assert demo_module.verdict([r for r in results if r["student"] == "blank"][:0], {}) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solution_gets_full_marks_and_no_flag(demo, assignment):
    got, top = score(demo, "reference", assignment)
    assert got == top - written_points(assignment)  # written answers: in the maximum, pending until graded
    if written_points(assignment):
        assert any(r["reason"].startswith("needs manual grading:") for r in demo["flags"]
                   if r["student_id"] == "reference" and r["assignment_id"] == assignment)
    assert top > 0 or not exercises.functions(assignment)
    # The reference sample is the course's own solution: its only flags say so (autograder/similarity.py).
    assert all(reason.startswith("copied code: ") for reason in flags_of(demo, "reference"))
    copied = [r for r in demo["flags"] if r["student_id"] == "reference" and r["assignment_id"] == assignment]
    assert bool(copied) == bool(exercises.functions(assignment))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_gets_zero(demo, assignment):
    assert score(demo, "blank", assignment)[0] == 0


@pytest.mark.parametrize("assignment", GRADED)
def test_partial_submission_loses_exactly_the_broken_exercises(demo, assignment):
    source = nbtools.read(exercises.source_notebook(assignment))
    leaves = samples.leaf_functions(source, assignment)
    broken = {leaves[0], leaves[-1]}
    rows = [r for r in demo["exercises"] if r["student_id"] == "partial" and r["assignment_id"] == assignment]
    assert {r["grade_id"] for r in rows} == set(exercises.functions(assignment))
    for r in rows:
        expected = 0.0 if r["grade_id"] in broken else float(r["max_score"])
        assert float(r["score"]) == expected, r


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_submission_scores_no_more_than_blank_and_is_flagged(demo, attack):
    assert score(demo, attack, ATTACKED)[0] <= score(demo, "blank", ATTACKED)[0]
    assert flags_of(demo, attack), f"{attack} is not in flags.csv"


def test_flag_reasons_say_what_happened(demo):
    assert any("kernel died" in f for f in flags_of(demo, "kernel-exit"))
    assert any("timed out" in f for f in flags_of(demo, "infinite-loop"))
    assert any("set_custom_exc" in f for f in flags_of(demo, "tamper-exceptions"))
    assert any("numpy.allclose" in f for f in flags_of(demo, "tamper-numpy"))
    assert any("passed inside the notebook but failed when re-run outside it" in f for f in flags_of(demo, "tamper-helpers"))


def test_delegation_scores_zero_on_that_exercise_only(demo):
    source = nbtools.read(exercises.source_notebook(ATTACKED))
    delegated = samples.leaf_functions(source, ATTACKED)[0]
    rows = {r["grade_id"]: r for r in demo["exercises"] if r["student_id"] == "delegates"}
    assert float(rows[delegated]["score"]) == 0
    assert all(float(r["score"]) == float(r["max_score"]) for g, r in rows.items() if g != delegated)
    assert any(f"coursekit.nn.{delegated}" in reason for reason in flags_of(demo, "delegates"))


@pytest.mark.parametrize("student, reason", [
    ("broken-json", "unreadable notebook: invalid JSON"),
    ("wrong-notebook", "wrong notebook"),
    ("missing-notebook", "missing notebook"),
    ("stray-file", "unexpected file submission.zip"),
])
def test_broken_input_is_reported_with_zero(demo, student, reason):
    rows = [r for key, r in demo["grades"].items() if key[0] == student]
    assert rows and all(float(r["score"]) == 0 for r in rows)
    assert any(reason in f for f in flags_of(demo, student)), flags_of(demo, student)


def test_every_graded_submission_has_feedback_without_hidden_tests(demo):
    secrets = {}
    for assignment in GRADED:
        source = nbtools.read(exercises.source_notebook(assignment))
        visible = "\n".join(nbtools.without_hidden_tests(src) for _, _, src in nbtools.test_cells(source))
        secrets[assignment] = [line.strip() for _, _, src in nbtools.test_cells(source)
                               for line in nbtools.strip_markers(src, nbtools.HIDDEN_BEGIN, nbtools.HIDDEN_END).splitlines()
                               if len(line.strip()) > 25 and line.strip() not in visible]
    for (student, assignment), row in demo["grades"].items():
        if assignment not in ASSIGNMENTS:
            continue
        page = demo["graded"] / "feedback" / student / assignment / exercises.notebook_name(assignment).replace(".ipynb", ".html")
        if student in ("missing-notebook",):
            continue
        assert page.exists(), page
        text = html.unescape(page.read_text())
        assert "BEGIN HIDDEN TESTS" not in text
        leaked = [line for line in secrets.get(assignment, []) if line in text]
        assert not leaked, (student, assignment, leaked[:2])


def test_submissions_are_never_modified_and_regrading_is_identical(demo, tmp_path):
    subset = tmp_path / "subset"
    for student in ["reference", "partial", "blank", "tamper-helpers", "broken-json"]:
        shutil.copytree(demo["out"] / "submissions" / student, subset / student)
    before = tree_digest(subset)
    # Relative paths, from the folder that holds them, as the README writes the command.
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "subset", "--out", "again",
                          "--workers", "1", "--quiet"], cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-2000:]
    assert tree_digest(subset) == before
    students = {p.name for p in subset.iterdir()}
    for name in ("grades.csv", "exercises.csv", "flags.csv"):
        first = [line for line in (demo["graded"] / name).read_text().splitlines()[1:] if line.split(",")[0] in students]
        second = (tmp_path / "again" / name).read_text().splitlines()[1:]
        assert first == second, name


def test_grade_of_a_missing_folder_is_a_clear_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert run.returncode == 2 and "submissions folder not found" in run.stderr


def test_demo_and_release_refuse_to_overwrite_what_they_did_not_make(tmp_path):
    precious = tmp_path / "course-notes"
    precious.mkdir()
    (precious / "mine.txt").write_text("keep me")
    run = subprocess.run([sys.executable, "-m", "autograder", "demo", "--out", str(precious)], capture_output=True, text=True)
    assert run.returncode == 2 and "not made by the demo" in run.stderr
    assert (precious / "mine.txt").read_text() == "keep me"
    run = subprocess.run([sys.executable, "-m", "autograder", "release", "--out", str(exercises.NOTEBOOKS)], capture_output=True, text=True)
    assert run.returncode == 2 and "overwrite the solutions" in run.stderr
    assert nbtools.SOLUTION_BEGIN in exercises.source_notebook("01_conv_as_matmul").read_text()
