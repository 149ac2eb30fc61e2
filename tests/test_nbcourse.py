"""The kit inside a standard nbgrader course: ``python -m autograder course COURSE``, then nbgrader's own CLI.

Everything runs as an instructor types it: the CLIs in subprocesses, from a scratch folder, relative
paths, the exchange in the scratch folder. Expected values come from nbgrader itself (its Gradebook
API, its ``export``), from the source notebooks' metadata, or from the dates the test chose.
"""

import csv
import getpass
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


def test_a_new_gradebook_is_stamped_with_the_revision_alembic_reports(tmp_path):
    """The autograder stamps new gradebooks in its own process; nbgrader asks the ``alembic`` CLI. Same revision."""
    import sqlite3

    from nbgrader.dbutil import _temp_alembic_ini

    autograder("course", "course", cwd=tmp_path)
    with _temp_alembic_ini(f"sqlite:///{tmp_path / 'unused.db'}") as alembic_ini:
        heads = run([str(BIN / "alembic"), "-c", alembic_ini, "heads"], cwd=tmp_path).stdout.split()
    assert heads and heads[1] == "(head)", heads

    def stamped():
        with sqlite3.connect(tmp_path / "course" / "gradebook.db") as db:
            return db.execute("SELECT version_num FROM alembic_version").fetchall()

    assert stamped() == [(heads[0],)]
    nbgrader("db", "upgrade", cwd=tmp_path / "course")  # nbgrader's migrations find nothing to do
    assert stamped() == [(heads[0],)]


def test_course_refuses_bad_due_dates(tmp_path):
    done = autograder("course", "c", "--due", "99_nothing=2026-10-01", cwd=tmp_path, check=False)
    assert done.returncode == 2 and "99_nothing is not registered" in done.stderr
    done = autograder("course", "c", "--due", "00_tour=someday", cwd=tmp_path, check=False)
    assert done.returncode == 2 and "not a date" in done.stderr


A06 = "06_initialization"
NB06 = exercises.notebook_name(A06)
DUE = "2026-10-01T12:00:00+00:00"
LATE_STAMP = "2026-10-01 14:30:00.000000 UTC"  # 2.5 h late: 3 started hours
ON_TIME_STAMP = "2026-10-01 11:00:00.000000 UTC"
PER_HOUR = 1.5


def source_points(assignment):
    """(autograded points, manually graded points) of an assignment, from its source notebook's metadata."""
    auto = manual = 0.0
    for cell in nbtools.read(exercises.source_notebook(assignment)).cells:
        meta = nbtools.nbgrader_meta(cell)
        if meta.get("grade"):
            if meta.get("solution"):
                manual += float(meta["points"])
            elif cell.cell_type == "code":
                auto += float(meta["points"])
    return auto, manual


def put_submission(course, student, nb, stamp):
    """A submission as nbgrader's collect leaves it: the notebook, timestamp.txt and submission_secret.txt."""
    folder = course / "submitted" / student / A06
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / NB06))
    (folder / "timestamp.txt").write_text(stamp)
    (folder / "submission_secret.txt").write_text("0123456789abcdef")


def export(course):
    nbgrader("export", "--to", "export.csv", cwd=course)
    return {(r["student_id"], r["assignment"]): r for r in read_csv(course / "export.csv")}


def by_student(rows, assignment=A06):
    return {r["student_id"]: r for r in rows if r["assignment_id"] == assignment}


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """A course with a roster, one student submitting through the exchange, one late submission (correct code
    that writes warnings) and one that tampers with its kernel, both put where collect puts them, graded
    with the README's command from the folder above the course."""
    from autograder import samples

    tmp = tmp_path_factory.mktemp("term")
    (tmp / "exchange").mkdir()
    autograder("course", "course", "--exchange", "exchange", "--course-id", COURSE_ID, "--due", f"{A06}={DUE}", cwd=tmp)
    course = tmp / "course"
    with open(course / "nbgrader_config.py", "a") as f:  # the README's late-penalty lines
        f.write(f'\nc.AssignLatePenalties.plugin_class = "autograder.nbcourse.PerHourPenalty"\n'
                f"c.PerHourPenalty.points_per_hour = {PER_HOUR}\n")
    nbgrader("generate_assignment", A06, cwd=course)
    nbgrader("release_assignment", A06, cwd=course)
    with gradebook(course) as gb:  # the roster, and another assignment's grade: both must survive grading
        gb.update_or_create_student("carol", first_name="Carol", email="carol@example.org")
        gb.update_or_create_student("bob", first_name="Bob", email="bob@example.org")
        gb.add_submission("00_tour", "carol", timestamp="2026-09-20 10:00:00 UTC")
    source = nbtools.read(exercises.source_notebook(A06))
    release = nbtools.read(course / "release" / A06 / NB06)
    # Student 1, the machine's user, through the exchange: fetch, answer, submit; the due date is later.
    home = tmp / "home"
    home.mkdir()
    student_nbgrader("fetch_assignment", A06, cwd=home, exchange=tmp / "exchange")
    nbformat.write(samples.reference(nbtools.read(home / A06 / NB06), source, A06), str(home / A06 / NB06))
    student_nbgrader("submit", A06, cwd=home, exchange=tmp / "exchange")
    with gradebook(course) as gb:
        gb.update_or_create_assignment(A06, duedate=datetime(2100, 1, 1))
    nbgrader("collect", A06, cwd=course)
    with gradebook(course) as gb:
        gb.update_or_create_assignment(A06, duedate=datetime(2026, 10, 1, 12, 0))
    me = getpass.getuser()
    stamp = (course / "submitted" / me / A06 / "timestamp.txt").read_text().strip()
    (course / "submitted" / me / A06 / "timestamp.txt").write_text(ON_TIME_STAMP)  # on time for the due date
    # Student 2: late, correct but noisy (stderr), handed in by e-mail and put where collect puts it.
    put_submission(course, "bob", samples.wrapped(release, source, A06, samples.NOISY), LATE_STAMP)
    # Student 3: on time, no answers, but every later cell of her kernel runs as `pass`: nbgrader's own
    # autograde gives her full marks (../shared/NBGRADER_NOTES.md), the hardened grader 0.
    hostile = samples.attack(release, source, A06, "tamper-exceptions")
    first = next(c for c in hostile.cells if nbtools.is_answer(c))
    first.source = 'get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])\n' + first.source
    put_submission(course, "mallory", hostile, ON_TIME_STAMP)
    command = ["grade", "course/submitted", "--out", "course", "--workers", "1", "--quiet"]
    first = autograder(*command, cwd=tmp, timeout=900)
    return {"tmp": tmp, "course": course, "me": me, "home": home, "command": command, "first": first,
            "real_stamp": stamp}


def test_grading_into_the_course_merges_the_gradebook_and_applies_the_late_penalty(graded_course):
    course, me = graded_course["course"], graded_course["me"]
    auto, manual = source_points(A06)
    assert manual == 2 and auto > 0
    penalty = 3 * PER_HOUR  # 2.5 h late, per started hour
    details = by_student(read_csv(course / "details.csv"))
    assert float(details[me]["auto_score"]) == auto and float(details["bob"]["auto_score"]) == auto
    assert float(details[me]["late_penalty"]) == 0 and float(details["bob"]["late_penalty"]) == penalty
    for student in (me, "bob"):
        assert float(details[student]["manual_pending"]) == manual and float(details[student]["manual_score"]) == 0
        assert float(details[student]["max_score"]) == auto + manual
    assert details["bob"]["submitted_at"] == "2026-10-01 14:30:00 UTC" and details["bob"]["due_at"] == "2026-10-01 12:00:00 UTC"
    grades = by_student(read_csv(course / "grades.csv"))
    assert float(grades["bob"]["score"]) == auto - penalty and float(grades["bob"]["max_score"]) == auto + manual
    assert float(grades[me]["score"]) == auto
    flags = read_csv(course / "flags.csv")
    assert f"late: submitted 2026-10-01 14:30:00 UTC, 2.5 h after the due date; penalty {penalty:g} points" in \
        [f["reason"] for f in flags if f["student_id"] == "bob"]
    for student in (me, "bob"):
        assert f"needs manual grading: explain_symmetry ({manual:g} points pending)" in \
            [f["reason"] for f in flags if f["student_id"] == student]
    # The gradebook: merged, and nbgrader's own export shows the hardened scores and nbgrader's penalty.
    with gradebook(course) as gb:
        assert gb.find_student("carol").email == "carol@example.org" and gb.find_student("bob").first_name == "Bob"
        assert gb.find_submission("00_tour", "carol").timestamp == datetime(2026, 9, 20, 10, 0)
        assert gb.find_submission(A06, "bob").timestamp == datetime(2026, 10, 1, 14, 30)
        assert gb.find_assignment(A06).duedate == datetime(2026, 10, 1, 12, 0)
    rows = export(course)
    assert float(rows[("bob", A06)]["raw_score"]) == auto and float(rows[("bob", A06)]["late_submission_penalty"]) == penalty
    assert float(rows[("bob", A06)]["score"]) == auto - penalty and float(rows[(me, A06)]["score"]) == auto
    assert float(rows[("bob", A06)]["max_score"]) == auto + manual
    # The feedback page says it at the top.
    page = (course / "feedback" / "bob" / A06 / NB06.replace(".ipynb", ".html")).read_text()
    assert "Late: submitted 2026-10-01 14:30:00 UTC, 2.5 h after the due date" in page and f"penalty {penalty:g} points" in page
    assert page.index("Late: submitted") < page.index("explain_symmetry") if "explain_symmetry" in page else True


def test_the_course_folders_are_where_formgrader_and_release_feedback_want_them(graded_course):
    course, me, home = graded_course["course"], graded_course["me"], graded_course["home"]
    for student in (me, "bob"):
        graded = nbformat.read(str(course / "autograded" / student / A06 / NB06), as_version=4)
        ids = {nbtools.grade_id(c) for c in graded.cells}
        assert "explain_symmetry" in ids and all(c.metadata.get("nbgrader", {}).get("cell_type") or True for c in graded.cells)
        for name in ("timestamp.txt", "submission_secret.txt"):
            assert (course / "feedback" / student / A06 / name).read_text() == \
                (course / "submitted" / student / A06 / name).read_text()
    # nbgrader's release_feedback, and the student (who submitted through the exchange) fetches the page.
    (course / "feedback" / me / A06 / "timestamp.txt").write_text(graded_course["real_stamp"])
    nbgrader("release_feedback", A06, cwd=course)
    student_nbgrader("fetch_feedback", A06, cwd=home, exchange=graded_course["tmp"] / "exchange")
    fetched = list((home / A06 / "feedback").glob(f"*/{NB06.replace('.ipynb', '.html')}"))
    assert fetched and "test_compute_fans" in fetched[0].read_text()


def test_manual_grades_count_once_given_and_hardened_scores_beat_nbgrader_autograde(graded_course):
    course, me = graded_course["course"], graded_course["me"]
    auto, manual = source_points(A06)
    assert float(by_student(read_csv(course / "details.csv"))["mallory"]["auto_score"]) == 0
    # nbgrader's own autograde overwrites the auto scores with its own (mallory's swallowed errors pass) ...
    nbgrader("autograde", A06, "--force", cwd=course)
    assert float(export(course)[("mallory", A06)]["raw_score"]) > 0
    # ... the instructor grades the written answers in formgrader (what it sets, through the Gradebook API) ...
    notebook = NB06.removesuffix(".ipynb")
    with gradebook(course) as gb:
        for student, given in ((me, 2.0), ("bob", 1.5), ("mallory", 0.0)):
            grade = gb.find_grade("explain_symmetry", notebook, A06, student)
            grade.manual_score, grade.needs_manual_grade = given, False
        gb.db.commit()
    # ... and grading again (cached results), as the README types it inside the course: totals include
    # them, and the hardened auto scores are back.
    autograder("grade", "submitted", "--out", ".", "--workers", "1", "--quiet", cwd=course, timeout=600)
    penalty = 3 * PER_HOUR
    details = by_student(read_csv(course / "details.csv"))
    assert float(details[me]["manual_score"]) == 2 and float(details[me]["manual_pending"]) == 0
    assert float(details[me]["score"]) == auto + manual
    assert float(details["bob"]["score"]) == auto + 1.5 - penalty and float(details["bob"]["auto_score"]) == auto
    assert not [f for f in read_csv(course / "flags.csv") if f["reason"].startswith("needs manual grading")]
    rows = export(course)
    assert float(rows[("bob", A06)]["raw_score"]) == auto + 1.5
    assert float(rows[("bob", A06)]["score"]) == auto + 1.5 - penalty
    assert float(rows[(me, A06)]["score"]) == auto + manual
    assert float(rows[("mallory", A06)]["raw_score"]) == 0


def answer_in_writing(nb):
    """The student writes something in every written-answer cell (validate asks for a response)."""
    for cell in nb.cells:
        meta = nbtools.nbgrader_meta(cell)
        if meta.get("grade") and meta.get("solution"):
            cell.source = "Equal weights get equal gradients, so they stay equal."
    return nb


def test_validate_gives_the_verdict_of_the_visible_tests(graded_course, tmp_path):
    """nbgrader validate on the released notebook: the reference passes; a realistic bug fails on exactly the
    visible test cells that show an error when the student runs the notebook."""
    from autograder import authoring, samples

    course = graded_course["course"]
    source = nbtools.read(exercises.source_notebook(A06))
    release = nbtools.read(course / "release" / A06 / NB06)
    good = answer_in_writing(samples.reference(release, source, A06))
    nbformat.write(good, str(tmp_path / "good.ipynb"))
    buggy = answer_in_writing(samples.wrapped(release, source, A06, samples.BUGS["wrong-shape"]))
    nbformat.write(buggy, str(tmp_path / "buggy.ipynb"))
    good = nbgrader("validate", "good.ipynb", cwd=tmp_path)
    assert "Success! Your notebook passes all the tests." in good.stdout, good.stdout[-2000:]
    bad = nbgrader("validate", "buggy.ipynb", cwd=tmp_path)
    import re

    match = re.search(r"VALIDATION FAILED ON (\d+) CELL", bad.stdout)
    assert match, bad.stdout[-2000:]
    ran = authoring.execute(buggy, tmp_path, allow_errors=True)
    failing = [c for c in ran.cells if nbtools.is_test(c) and any(o.get("output_type") == "error" for o in c.outputs)]
    assert failing and int(match.group(1)) == len(failing)


def test_regrading_one_student_into_a_plain_out_keeps_everyone_in_its_gradebook(tmp_path):
    autograder("release", "--out", "release", "00_tour", cwd=tmp_path)
    for student in ("ann", "ben"):
        target = tmp_path / "all" / student / "00_tour"
        target.mkdir(parents=True)
        shutil.copy(tmp_path / "release" / "00_tour" / exercises.notebook_name("00_tour"), target)
    shutil.copytree(tmp_path / "all" / "ben", tmp_path / "only-ben" / "ben")
    autograder("grade", "all", "--out", "graded", "--workers", "1", "--quiet", cwd=tmp_path)
    from autograder import nbcourse

    with nbcourse.gradebook(tmp_path / "graded") as gb:
        gb.update_or_create_student("ann", email="ann@example.org")  # the instructor adds an e-mail
    autograder("grade", "only-ben", "--out", "graded", "--workers", "1", "--quiet", cwd=tmp_path)
    with nbcourse.gradebook(tmp_path / "graded") as gb:
        assert {s.id for s in gb.students} == {"ann", "ben"} and gb.find_student("ann").email == "ann@example.org"
        assert {s.student.id for s in gb.assignment_submissions("00_tour")} == {"ann", "ben"}


def test_selfcheck_says_when_a_written_answer_is_not_registered(tmp_path):
    """A written-answer cell renamed in the notebook: selfcheck names it and the registered one, before running."""
    import os

    notebooks = tmp_path / "notebooks"
    nb = nbtools.read(exercises.source_notebook(A06))
    for cell in nb.cells:
        if nbtools.grade_id(cell) == "explain_symmetry":
            cell.metadata["nbgrader"]["grade_id"] = "explain_zeros"
    (notebooks / A06).mkdir(parents=True)
    nbformat.write(nb, str(notebooks / A06 / NB06))
    done = subprocess.run([sys.executable, "-m", "autograder", "selfcheck", A06], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, CFS_NOTEBOOKS=str(notebooks)))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f'PROBLEM: written answer cell explain_zeros is not registered for {A06}: add "explain_zeros": 2 to the '
        f'"written" of {A06} in autograder/exercises.json',
        f"PROBLEM: {A06}: written answer explain_symmetry is registered in autograder/exercises.json but no manually "
        f"graded answer cell has grade_id explain_symmetry",
        "2 problem(s)"], done.stdout + done.stderr
