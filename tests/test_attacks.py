"""The attack corpus (tests/attacks/cases.py) graded in one run beside a clean submission.

For every case: its score and its flag are as expected; the clean student's
results are byte-identical to a run without the attackers; the course's code
and sources are untouched; nothing the attackers started is left running; and
a grading run killed half-way resumes to the same CSVs.
"""

import hashlib
import os
import signal
import subprocess
import sys
import time
import types
import zipfile
from pathlib import Path

import coursekit.testing
import pytest

from autograder import notebook as nbtools
from attacks.cases import ASSIGNMENT, CASES, NOTEBOOK

COURSE = Path(__file__).parent / "attacks" / "course"
SOURCE = COURSE / ASSIGNMENT / NOTEBOOK
ENV = dict(os.environ, CFS_NOTEBOOKS=str(COURSE))
OPTIONS = ["--workers", "2", "--cell-timeout", "10", "--timeout", "240", "--memory-mb", "1024", "--quiet"]
CLEAN = ("clean", "blank")


def autograder(*args, timeout=1800):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rows(out, name, students=None):
    lines = (Path(out) / name).read_text().splitlines()[1:]
    return [line for line in lines if students is None or line.split(",")[0] in students]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("attacks")
    assert autograder("release", "--out", base / "release").returncode == 0
    release = nbtools.read(base / "release" / ASSIGNMENT / NOTEBOOK)
    source = nbtools.read(SOURCE)
    submissions, out = base / "submissions", base / "graded"
    ctx = types.SimpleNamespace(submissions=submissions, release=release, source=source, paths={
        "out": str(out), "other_student": str(submissions / "clean" / ASSIGNMENT),
        "source_notebook": str(SOURCE), "testing_module": coursekit.testing.__file__,
    })
    from attacks.cases import _save, reference
    _save(ctx, "clean", reference(ctx))
    _save(ctx, "blank", release)
    for name, _expectation, build in CASES:
        build(ctx, name)
    guarded = [coursekit.testing.__file__, SOURCE]
    before = {str(p): digest(p) for p in guarded}
    started = time.monotonic()
    run = autograder("grade", submissions, "--out", out, *OPTIONS)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-3000:]
    clean_subs = base / "clean-only"
    for student in CLEAN:
        (clean_subs / student).mkdir(parents=True)
        os.system(f"cp -r '{submissions / student}'/* '{clean_subs / student}'")
    assert autograder("grade", clean_subs, "--out", base / "clean-graded", *OPTIONS).returncode == 0
    return types.SimpleNamespace(base=base, out=out, clean_out=base / "clean-graded", submissions=submissions,
                                 clean_submissions=clean_subs, before=before, guarded=guarded, elapsed=elapsed,
                                 stderr=run.stderr)


def score(out, student):
    found = [line.split(",") for line in rows(out, "grades.csv", {student})]
    return sum(float(r[2]) for r in found), sum(float(r[3]) for r in found)


def flags(out, student):
    """The student's flags.csv rows, but "copied code": the samples are built from the course's own solution."""
    return [line for line in rows(out, "flags.csv", {student}) if not line.split(",", 2)[2].startswith("copied code: ")]


@pytest.mark.parametrize("name, expectation", [(name, expectation) for name, expectation, _ in CASES])
def test_case(corpus, name, expectation):
    got, top = score(corpus.out, name)
    blank, _ = score(corpus.out, "blank")
    if expectation == "fine":
        assert (got, not flags(corpus.out, name)) == (top, True) and top > 0, flags(corpus.out, name)
        return
    assert flags(corpus.out, name), f"{name} is not flagged"
    if expectation in ("cheat", "broken"):
        assert got <= blank, f"{name} scores {got}, a blank notebook {blank}"
    if expectation == "broken":
        assert got == 0


def test_clean_results_are_byte_identical_to_a_run_without_attackers(corpus):
    for name in ("grades.csv", "exercises.csv", "flags.csv"):
        assert rows(corpus.out, name, CLEAN) == rows(corpus.clean_out, name, CLEAN), name
    for student in CLEAN:
        page = Path("feedback") / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")
        assert digest(corpus.out / page) == digest(corpus.clean_out / page)
    assert score(corpus.out, "clean")[0] == score(corpus.out, "clean")[1] > 0


def test_course_code_sources_and_submissions_are_untouched(corpus):
    assert {str(p): digest(p) for p in corpus.guarded} == corpus.before
    assert not (corpus.submissions / "clean" / ASSIGNMENT / "evil.txt").exists()
    assert not (corpus.out / "feedback" / "clean" / "x.html").exists()


def test_reasons_name_the_problem(corpus):
    expected = {
        "custom-exc": "set_custom_exc", "rebind-numpy": "numpy.allclose", "input-transformer": "input_transformers",
        "silence-helpers": "passed inside the notebook but failed when re-run outside it",
        "hard-coded": "hard-coded", "edit-test-cells": "test cell test_conv_output_size was edited",
        "delete-test-cells": "was deleted", "infinite-loop": "timed out", "sleep-forever": "timed out",
        "memory-blow-up": "memory", "output-flood": "outputs cut", "fork-storm": "fork",
        "kill-kernel": "kernel died", "kill-grader": "grading process", "invalid-json": "invalid JSON",
        "other-assignment": "02_fc_backprop", "missing-notebook": "missing notebook", "empty-folder": "empty folder",
        "lms-zip": "unexpected file submission.zip", "read-solutions": "opens files",
    }
    for student, words in expected.items():
        assert any(words in f for f in flags(corpus.out, student)), (student, flags(corpus.out, student))


def test_nothing_the_attackers_started_is_still_running(corpus):
    # Every process a grading job starts (kernel, student process, their children) carries the job's
    # token and the course it grades; other graders on this machine grade other courses.
    ours = f"CFS_NOTEBOOKS={COURSE}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        assert not (ours in environment and any(v.startswith((b"CFS_JOB=", b"CFS_WARM=")) for v in environment)), \
            f"process {entry.name} survived"


def test_a_zip_of_submissions_grades_like_the_folder(corpus, tmp_path):
    archive = tmp_path / "from-the-lms.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in corpus.clean_submissions.rglob("*"):
            zf.write(path, Path("submissions") / path.relative_to(corpus.clean_submissions))
    run = autograder("grade", archive, "--out", tmp_path / "graded", *OPTIONS)
    assert run.returncode == 0, run.stderr[-2000:]
    for name in ("grades.csv", "exercises.csv", "flags.csv"):
        assert rows(tmp_path / "graded", name) == rows(corpus.clean_out, name)


def test_unsafe_zip_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.txt", "x")
    run = autograder("grade", archive, "--out", tmp_path / "graded")
    assert run.returncode == 2 and "unsafe entry" in run.stderr
    assert not (tmp_path.parent / "outside.txt").exists()


def test_killed_grading_run_resumes_to_the_same_results(corpus, tmp_path):
    students = ["clean", "blank", "hard-coded", "invalid-json", "kill-kernel", "rebind-numpy"]
    subset = tmp_path / "subset"
    for student in students:
        os.system(f"mkdir -p '{subset / student}' && cp -r '{corpus.submissions / student}'/* '{subset / student}'")
    out = tmp_path / "graded"
    command = [sys.executable, "-m", "autograder", "grade", str(subset), "--out", str(out), *OPTIONS]
    process = subprocess.Popen(command, env=ENV, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(list((out / ".cache").glob("*.json"))) < 2:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    cached = len(list((out / ".cache").glob("*.json")))
    assert 2 <= cached < len(students), "the run was not interrupted half-way"
    run = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-2000:]
    for name in ("grades.csv", "exercises.csv", "flags.csv"):
        assert rows(out, name) == rows(corpus.out, name, set(students)), name
