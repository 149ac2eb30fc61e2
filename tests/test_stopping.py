"""Ctrl-C (SIGINT) and SIGTERM stop a grading run cleanly, and the next run resumes it.

The CLI grades three submissions one at a time from a scratch folder, with TMPDIR pointed at a
folder the test owns: a reference solution (graded first), an infinite loop (so a job is surely
running when the signal comes) and a blank release. The first run gets SIGINT once the reference's
result is cached, the second SIGTERM while the loop is being graded again, the third runs to the end.
A stop can also come before any job, while the run builds its copy of the course.
"""

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder import demo, exercises, samples
from process_kit import wait_for
from autograder import notebook as nbtools

ASSIGNMENT = "04_pooling"  # a quick notebook
NOTEBOOK = exercises.notebook_name(ASSIGNMENT)
STUDENTS = ["1-reference", "2-loop", "3-blank"]  # graded in this order (sorted) by one worker
OPTIONS = ["--workers", "1", "--cell-timeout", "10", "--timeout", "150", "--quiet"]  # the loop ends by the cell and call limits
PROMPT = 15  # seconds from the signal to the exit: "a few", with a busy shared machine's margin
pytestmark = pytest.mark.skipif(not exercises.source_notebook(ASSIGNMENT).exists(), reason=f"no {ASSIGNMENT} here")


def job_processes(tmp, markers=(b"CFS_JOB=", b"CFS_WARM=")):
    """Live processes of this test's grading: a job's CFS_JOB (or a warm worker's CFS_WARM) in the environment, and
    our TMPDIR in it (workers, jobs, kernels and student processes all inherit it, or a scratch folder inside it)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(v.startswith(markers) for v in environment) and any(str(tmp).encode() in v for v in environment):
            pids.append(int(entry.name))
    return pids


def job_running(tmp):
    """A submission is being graded (not only a warm worker waiting for one)."""
    return bool(job_processes(tmp, markers=(b"CFS_JOB=",)))


def cache_files(graded):
    return sorted(p.name for p in (graded / ".cache").iterdir()) if (graded / ".cache").exists() else []


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release")
    subprocess.run([sys.executable, "-m", "autograder", "release", "--out", "release", ASSIGNMENT], cwd=folder,
                   check=True, capture_output=True, timeout=600)
    return nbtools.read(exercises.source_notebook(ASSIGNMENT)), nbtools.read(folder / "release" / ASSIGNMENT / NOTEBOOK)


@pytest.fixture
def scratch(tmp_path, released):
    """(working folder with submissions/, its TMPDIR, the environment, the grade command)."""
    source, release = released
    submissions = tmp_path / "submissions"
    demo.write(samples.reference(release, source, ASSIGNMENT), submissions, "1-reference", ASSIGNMENT)
    demo.write(samples.attack(release, source, ASSIGNMENT, "infinite-loop"), submissions, "2-loop", ASSIGNMENT)
    demo.write(release, submissions, "3-blank", ASSIGNMENT)
    # TMPDIR is short: the kernels' IPC sockets live under it (a socket path has at most 107 bytes).
    tmp = Path(tempfile.mkdtemp(prefix="stop-", dir="/tmp"))
    try:
        yield tmp_path, tmp, dict(os.environ, TMPDIR=str(tmp)), \
            [sys.executable, "-m", "autograder", "grade", "submissions", "--out", "graded", *OPTIONS]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def interrupt(folder, tmp, env, command, signum, ready):
    """Start the run, send ``signum`` once ``ready()``; returns (exit code, seconds, stderr)."""
    run = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: run.poll() is None and ready(), 900, "the moment to stop the run")
        run.send_signal(signum)
        start = time.monotonic()
        _, stderr = run.communicate(timeout=120)
        return run.returncode, time.monotonic() - start, stderr
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def assert_stopped_cleanly(folder, tmp, code, seconds, stderr, signum):
    graded = folder / "graded"
    assert code == 128 + signum, stderr[-2000:]
    assert seconds < PROMPT, f"took {seconds:.1f} s to stop"
    assert stderr.strip().splitlines()[-1] == "interrupted: 1 of 3 graded; run the same command again to resume", stderr
    assert job_processes(tmp) == [], "a job's process survived the stop"
    assert sorted(os.listdir(tmp)) == [], "temporary folders were left"
    # Only the finished submission is kept, whole; no report was written half-way.
    assert cache_files(graded) == [f"1-reference--{ASSIGNMENT}.json"]
    assert not (graded / "grades.csv").exists() and not (graded / "exercises.csv").exists()


def test_a_stopped_run_leaves_nothing_behind_and_resumes(scratch):
    folder, tmp, env, command = scratch
    graded = folder / "graded"
    first = graded / ".cache" / f"1-reference--{ASSIGNMENT}.json"

    code, seconds, stderr = interrupt(folder, tmp, env, command, signal.SIGINT, lambda: first.exists() and job_running(tmp))
    assert_stopped_cleanly(folder, tmp, code, seconds, stderr, signal.SIGINT)
    kept = first.stat().st_mtime_ns

    code, seconds, stderr = interrupt(folder, tmp, env, command, signal.SIGTERM, lambda: job_running(tmp))
    assert_stopped_cleanly(folder, tmp, code, seconds, stderr, signal.SIGTERM)
    assert first.stat().st_mtime_ns == kept, "the finished submission was graded again"

    run = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-2000:]
    assert first.stat().st_mtime_ns == kept, "the finished submission was graded again"
    assert sorted(os.listdir(tmp)) == [] and job_processes(tmp) == []
    with open(graded / "grades.csv", newline="") as f:
        grades = {row["student_id"]: row for row in csv.DictReader(f)}
    assert sorted(grades) == STUDENTS
    assert grades["1-reference"]["score"] == grades["1-reference"]["max_score"] != "0"
    assert grades["2-loop"]["score"] == grades["3-blank"]["score"] == "0"
    with open(graded / "exercises.csv", newline="") as f:
        exercise_rows = list(csv.DictReader(f))
    assert {(r["student_id"], r["grade_id"]) for r in exercise_rows} == \
        {(s, function) for s in STUDENTS for function in exercises.functions(ASSIGNMENT)}
    with open(graded / "flags.csv", newline="") as f:
        flags = [r for r in csv.DictReader(f) if r["student_id"] == "2-loop"]
    assert any("timed out" in r["reason"] for r in flags), flags
    assert all((graded / "feedback" / s / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).exists() for s in STUDENTS)
    assert cache_files(graded) == sorted(f"{s}--{ASSIGNMENT}.json" for s in STUDENTS)  # no partial entry


def building(tmp):
    """The run is building its copy of the course (nbgrader's generate_assignment), before any job."""
    return any((grading / "course" / "source").is_dir() and not (grading / "course" / "template").exists()
               for grading in tmp.glob("cfs-grade-*")) and not job_running(tmp)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_while_the_course_is_built_exits_cleanly(scratch, signum):
    """The signal comes inside nbgrader's API, which catches every exception: still a clean stop, not a traceback."""
    folder, tmp, env, command = scratch
    code, seconds, stderr = interrupt(folder, tmp, env, command, signum, lambda: building(tmp))
    assert code == 128 + signum, stderr[-2000:]
    assert seconds < PROMPT, f"took {seconds:.1f} s to stop"
    assert "Traceback" not in stderr, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == "interrupted: nothing graded yet; run the same command again to resume", stderr
    assert job_processes(tmp) == [], "a warm worker survived the stop"
    assert sorted(os.listdir(tmp)) == [], "temporary folders were left"
    assert cache_files(folder / "graded") == [] and not (folder / "graded" / "grades.csv").exists()


DEFERRED = """
import os, signal, sys, time
from autograder import stopping

@stopping.stoppable
def run(out):
    results = stopping.run_all(lambda i: i * i, range(3), 2)
    os.kill(os.getpid(), signal.SIGTERM)  # comes while the results are being written
    with open(out, "w") as f:
        f.write("first half, ")
        time.sleep(0.5)
        f.write("second half\\n")
    return results

run(sys.argv[1])
print("not reached")
"""


def test_a_signal_while_results_are_written_waits_for_them(tmp_path):
    run = subprocess.run([sys.executable, "-c", DEFERRED, "report.csv"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 143, run.stderr
    assert (tmp_path / "report.csv").read_text() == "first half, second half\n"
    assert run.stderr.strip().splitlines()[-1] == "interrupted: 3 of 3 graded; run the same command again to resume"
    assert "not reached" not in run.stdout


WITHOUT_ISOLATION = """
from autograder import grade
grade.grade("submissions", "graded", grade.Options(workers=1, cell_timeout=10, job_timeout=150, progress=False,
                                                   isolate=False))
"""


def test_without_isolation_the_student_processes_scratch_folders_go_too(scratch):
    """Where isolation is off (no user namespaces), a student's process keeps its scratch folder in the
    real temporary folder: stopped mid-verification, the folder must still go."""
    folder, tmp, env, _ = scratch
    shutil.rmtree(folder / "submissions" / "1-reference")
    shutil.rmtree(folder / "submissions" / "3-blank")

    def student_process_running():
        return any(p.name.startswith("cfs-student-") for p in tmp.iterdir()) and job_running(tmp)

    code, seconds, stderr = interrupt(folder, tmp, env, [sys.executable, "-c", WITHOUT_ISOLATION], signal.SIGINT,
                                      student_process_running)
    assert code == 130, stderr[-2000:]
    assert seconds < PROMPT, f"took {seconds:.1f} s to stop"
    assert stderr.strip().splitlines()[-1] == "interrupted: 0 of 1 graded; run the same command again to resume"
    assert job_processes(tmp) == [] and sorted(os.listdir(tmp)) == []
    assert cache_files(folder / "graded") == []
