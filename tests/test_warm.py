"""Warm grading workers (autograder/warm.py): one worker serves many jobs, a job that outlives its
timeout is killed with everything it started, a dead worker is replaced. What the jobs grade is
checked through the CLI by test_grading, test_attacks and test_stopping; here, the worker itself."""

import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from autograder import course, demo, exercises, grade, samples, stopping, warm
from autograder import notebook as nbtools

ASSIGNMENT = "04_pooling"
pytestmark = pytest.mark.skipif(not exercises.source_notebook(ASSIGNMENT).exists(), reason=f"no {ASSIGNMENT} here")


@pytest.fixture(scope="module")
def course_copy():
    """(a grading template of 04_pooling, its reference submission, an infinite loop), in a short /tmp
    folder (kernels' IPC socket paths have at most 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="warm-", dir="/tmp"))
    template = course.grading_template(course.build(folder / "course", [ASSIGNMENT]))
    release = nbtools.read(folder / "course" / "release" / ASSIGNMENT / exercises.notebook_name(ASSIGNMENT))
    source = nbtools.read(exercises.source_notebook(ASSIGNMENT))
    demo.write(samples.reference(release, source, ASSIGNMENT), folder / "subs", "ref", ASSIGNMENT)
    demo.write(samples.attack(release, source, ASSIGNMENT, "infinite-loop"), folder / "subs", "loop", ASSIGNMENT)
    notebook = exercises.notebook_name(ASSIGNMENT)
    yield template, folder / "subs" / "ref" / ASSIGNMENT / notebook, folder / "subs" / "loop" / ASSIGNMENT / notebook
    shutil.rmtree(folder, ignore_errors=True)


def job_folder(template, name, submission=None, problem=None):
    """A job folder with its request.json, as grade.run_job writes it."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=template.parent.parent))
    request = {"student": name, "assignment": ASSIGNMENT, "submission": str(submission) if submission else None,
               "problem": problem, "template": str(template), "feedback": str(workdir / "delivered.html"),
               "autograded": None, "hide": [], "isolate": True, "cell_timeout": 10, "call_timeout": 20.0,
               "verify_seconds": 60.0, "memory_mb": 3072}
    (workdir / "request.json").write_text(json.dumps(request))
    return workdir


def marked(name, token):
    """Pids of live processes whose environment carries ``name=token``."""
    marker = f"{name}={token}".encode()
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def test_one_worker_serves_many_jobs_each_in_its_own_forked_process(course_copy):
    template = course_copy[0]
    worker = warm.Worker(grade.job_environment())
    try:
        for name in ("first", "second"):
            workdir = job_folder(template, name, problem=f"missing notebook of {name}")
            worker.send(workdir, token=f"{name}0000", timeout=60)
            assert worker.receive(workdir) is None
            result = json.loads((workdir / "result.json").read_text())
            assert (result["student"], result["error"]) == (name, f"missing notebook of {name}")
            assert f"missing notebook of {name}" in (workdir / "feedback.html").read_text()
            assert worker.alive()
        # Only the worker is left: each job's process ended with its job.
        assert marked(warm.MARKER, worker.token) == [worker.process.pid]
    finally:
        worker.close()
    assert marked(warm.MARKER, worker.token) == []


def test_a_job_past_its_timeout_is_killed_with_all_it_started_and_the_worker_goes_on(course_copy):
    template, reference, loop = course_copy
    worker = warm.Worker(grade.job_environment())
    try:
        slow = job_folder(template, "slow", submission=loop)
        worker.send(slow, token="slow0000", timeout=4)  # its kernel loops until the 10 s cell timeout
        started = time.monotonic()
        assert worker.receive(slow) == "grading timed out after 4 s"
        assert time.monotonic() - started < 30
        stopping.kill_marked("slow0000")  # as grade.run_job does: the kernel left the job's group
        time.sleep(0.5)
        assert marked("CFS_JOB", "slow0000") == []
        assert not (slow / "result.json").exists()
        assert marked(warm.MARKER, worker.token) == [worker.process.pid]

        after = job_folder(template, "after", submission=reference)
        worker.send(after, token="after000", timeout=300)
        assert worker.receive(after) is None
        result = json.loads((after / "result.json").read_text())
        assert result["error"] is None and sum(result["scores"].values()) == sum(result["max_scores"].values()) == 12
    finally:
        worker.close()


def test_a_crashing_job_reports_its_stderr(course_copy):
    template = course_copy[0]
    workdir = job_folder(template, "crash", problem="x")
    (workdir / "request.json").write_text("{not json")  # the job process itself fails, before any result
    worker = warm.Worker(grade.job_environment())
    try:
        worker.send(workdir, token="crash000", timeout=60)
        failure = worker.receive(workdir)
        assert failure.startswith("grading process exited with code 1: ") and "JSONDecodeError" in failure
        assert worker.alive()
    finally:
        worker.close()


def test_a_dead_worker_is_replaced_for_the_next_job(course_copy):
    template = course_copy[0]
    pool = warm.Pool(grade.job_environment)
    try:
        first = pool.worker()
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()
        workdir = job_folder(template, "lost", problem="p")
        first.send(workdir, token="lost0000", timeout=60)
        assert first.receive(workdir) == "the grading worker stopped answering"
        second = pool.worker()
        assert second is not first and second.alive()
        workdir = job_folder(template, "next", problem="missing notebook")
        second.send(workdir, token="next0000", timeout=60)
        assert second.receive(workdir) is None
        assert json.loads((workdir / "result.json").read_text())["error"] == "missing notebook"
    finally:
        pool.close()
    assert marked(warm.MARKER, second.token) == []
