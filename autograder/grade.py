"""Grade a folder of submissions ``<student id>/<assignment id>/<notebook>.ipynb`` in parallel.

Each submission is graded by its own process (``job``) in its own copy of the
course, so a crash, a timeout or a hostile notebook costs only that student's
result. Writes grades.csv, exercises.csv, flags.csv (merged with earlier runs: reports.py),
gradebook_wide.csv, canvas_grades.csv (roster.py), feedback/ and an nbgrader
gradebook.db with every final score to ``out``.
"""

import contextlib
import functools
import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from . import course, exercises, feedback, lms, nbcourse, roster, stopping, warm
from .job import INTERNAL_ERROR, failed_result, plain_page
from . import notebook as nbtools
from .lms import MAX_ZIP_BYTES, MAX_ZIP_FILES, unpack  # noqa: F401 (importable from here, as before)
from .reports import _number, gradebook_table, per_function, write_reports  # noqa: F401


class Options:
    def __init__(self, workers=1, cell_timeout=course.CELL_TIMEOUT, call_timeout=20.0, verify_seconds=300.0,
                 job_timeout=900.0, memory_mb=3072, progress=True, isolate=True,
                 assignment=None, roster=None, scheduler=None):
        self.workers = max(1, int(workers))
        self.cell_timeout = cell_timeout
        self.call_timeout = call_timeout
        self.verify_seconds = verify_seconds
        self.job_timeout = job_timeout
        self.memory_mb = memory_mb
        self.progress = progress
        self.isolate = isolate
        self.assignment = assignment  # grade only this assignment; the one a Canvas or Moodle export holds
        self.roster = roster  # a roster.Roster: gradebook_wide.csv and canvas_grades.csv list every student
        self.scheduler = scheduler  # a Dask scheduler's address: the jobs run on its workers (autograder/cluster.py)


def discover(submissions):
    """``[(student, assignment, notebook path, problem or None)]`` for every folder found, sorted."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions folder not found: {submissions}")
    found = []
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")):
        entries = sorted(p for p in student_dir.iterdir() if not p.name.startswith("."))
        if not entries:
            found.append((student_dir.name, "", None, "empty folder: no assignment was submitted"))
        for entry in entries:
            if not entry.is_dir():
                found.append((student_dir.name, entry.name, None, f"unexpected file {entry.name}: expected a folder <assignment id>/"))
            elif entry.name not in exercises.EXERCISES:
                found.append((student_dir.name, entry.name, None, f"unknown assignment folder {entry.name!r}"))
            else:
                expected = entry / exercises.notebook_name(entry.name)
                if expected.is_file():
                    found.append((student_dir.name, entry.name, expected, None))
                else:
                    others = sorted(p.name for p in entry.glob("*.ipynb"))
                    hint = f"; found {', '.join(others)}" if others else ""
                    found.append((student_dir.name, entry.name, None, f"missing notebook {expected.name}{hint}"))
    return found


class Progress:
    """tqdm's progress bar on stderr, the submission last graded beside it: 5/10 [00:41<00:41] alice/01_conv_as_matmul."""

    def __init__(self, total, enabled):
        from tqdm import tqdm

        self.bar = tqdm(total=total, disable=not enabled or total == 0, file=sys.stderr, unit="submission",
                        dynamic_ncols=True)
        self.lock = threading.Lock()

    def advance(self, label):
        with self.lock:
            self.bar.set_postfix_str(label[:40], refresh=False)
            self.bar.update(1)

    def close(self):
        """Ends the bar's line (before a stop's last line, which must come last)."""
        self.bar.close()


def job_environment():
    """The environment of grading jobs: the course's notebooks, and one BLAS thread per job."""
    return dict(os.environ, CFS_NOTEBOOKS=str(exercises.NOTEBOOKS),
                OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


WORKERS = warm.Pool(job_environment)  # warm worker processes, one per grading thread (autograder/warm.py)


@contextlib.contextmanager
def local_workers(count):
    """A local run's warm workers: ``count`` started at once (they import while the course copy is
    built), every one stopped at the end; the next run starts its own (in its own environment)."""
    WORKERS.start(count)
    try:
        yield
    finally:
        WORKERS.close()


def run_job(request, workdir, timeout):
    """Run one grading job (forked by this thread's warm worker); afterwards kill everything it started,
    even what left its group."""
    workdir = Path(workdir)
    (workdir / "request.json").write_text(json.dumps(request))
    token = secrets.token_hex(8)
    with stopping.starting(token):  # a run being stopped (Ctrl-C, SIGTERM) starts no job
        worker = WORKERS.worker()
        worker.send(workdir, token, timeout)
    try:
        failure = worker.receive(workdir)  # the worker kills the job's process group if it outlives timeout
    finally:
        stopping.kill_marked(token)  # the kernel, the student's process and anything they started
        stopping.finished(token)  # a job of a run being stopped ends here: no result, nothing cached
    result_path = workdir / "result.json"
    if failure is None and result_path.exists():
        result = json.loads(result_path.read_text())
    else:
        result = failed_result(request["student"], request["assignment"], failure or "grading process left no result")
    page = workdir / "feedback.html"
    if page.exists():
        feedback.deliver(page, request["feedback"])
    graded = workdir / "autograded.ipynb"
    if request.get("autograded") and graded.exists():  # a course root: formgrader's manual grading needs it
        Path(request["autograded"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(graded, request["autograded"])
    return result


def job_runner(scheduler):
    """The jobs' runner as a context manager: here (``run_job``), or on a Dask cluster's workers."""
    if scheduler is None:
        return contextlib.nullcontext(run_job)
    from . import cluster as dask_cluster  # the optional extra: imported only when asked for

    return dask_cluster.on_cluster(scheduler)


def write_plain_page(result, target):
    """The feedback page of a submission whose job left none (timed out, killed): its reason and scores."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    reasons = ([result["error"]] if result["error"] else []) + result["flags"]
    target.write_text(plain_page(result["student"], result["assignment"], reasons, result["scores"], result["max_scores"]),
                      encoding="utf-8")


def cache_key(path, assignment, options):
    """What a cached result depends on: the submission, the source notebook, the grader and its limits."""
    digest = hashlib.sha256(Path(path).read_bytes() if path else b"")
    digest.update(course_digest(assignment).encode())
    digest.update(json.dumps([options.cell_timeout, options.call_timeout, options.verify_seconds,
                              options.job_timeout, options.memory_mb]).encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def course_digest(assignment):
    """Digest of the grader's code and the assignment's source notebook: read once per run, not per submission."""
    digest = hashlib.sha256()
    for file in [exercises.source_notebook(assignment), *sorted(Path(__file__).parent.glob("*.py"))]:
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()


def cached(cache_file, key, feedback):
    """A result kept by an earlier, possibly interrupted, run of the same grading, if still valid."""
    try:
        entry = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        return None
    if entry.get("key") == key and Path(feedback).exists():
        return entry["result"]
    return None


def keep(cache_file, key, result):
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    partial = cache_file.with_suffix(".tmp")
    partial.write_text(json.dumps({"key": key, "result": result}, sort_keys=True))
    partial.replace(cache_file)  # atomic: a killed grader leaves no half-written entry


@functools.lru_cache(maxsize=None)
def assignment_maximum(assignment):
    """``{test cell: points}`` of an assignment, from its source notebook."""
    tests = nbtools.test_cells(nbtools.read(exercises.source_notebook(assignment)))
    return {grade_id: points for grade_id, points, _ in tests}


@stopping.stoppable  # Ctrl-C or SIGTERM: every job killed, temporary folders removed, exit 130 or 143
def grade(submissions, out, options=None, _staged=None):
    """Grade everything under ``submissions``; returns the list of results (also written as CSVs)."""
    options = options or Options()
    # Jobs run in their own working folders: every path they are given must be absolute.
    out, submissions = Path(out).resolve(), Path(submissions).resolve()
    if _staged is None:
        staged = lms.stage(submissions, options.assignment)  # a zip unpacked, a Canvas or Moodle export converted
        if staged:
            with staged:
                return grade(staged.folder, out, options, _staged=staged)
    runner = job_runner(options.scheduler)  # before anything is written: an unreachable scheduler changes nothing
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    entries = [e for e in discover(submissions) if options.assignment in (None, e[1])]
    graded_assignments = sorted({a for _, a, _, _ in entries if a in exercises.assignment_ids()})
    progress = Progress(len(entries), options.progress)
    ahead = 0 if options.scheduler else min(options.workers, len(entries))
    with runner as job, tempfile.TemporaryDirectory(prefix="cfs-grade-") as tmp, local_workers(ahead):
        tmp = Path(tmp)
        template = course.grading_template(course.build(tmp / "course", graded_assignments)) if graded_assignments else None

        def one(index_entry):
            index, (student, assignment, path, problem) = index_entry
            workdir = tmp / f"job{index}"
            workdir.mkdir()
            if assignment not in exercises.assignment_ids():
                problem = problem or f"assignment {assignment} has no source notebook in this course"
                result = failed_result(student, assignment, problem)
            else:
                notebook = exercises.notebook_name(assignment).replace(".ipynb", ".html")
                request = {
                    "student": student, "assignment": assignment,
                    "submission": str(path) if path else None, "problem": problem,
                    "template": str(template),
                    "feedback": str(out / "feedback" / student / assignment / notebook),
                    "autograded": nbcourse.autograded_target(out, student, assignment),
                    "hide": [str(out), str(submissions), str(exercises.NOTEBOOKS),
                             str(exercises.REPO / ".git"), *([str(_staged.origin)] if _staged else [])],
                    "isolate": options.isolate,
                    "cell_timeout": options.cell_timeout, "call_timeout": options.call_timeout,
                    "verify_seconds": options.verify_seconds, "memory_mb": options.memory_mb,
                }
                key = cache_key(path, assignment, options)
                cache_file = out / ".cache" / f"{student}--{assignment}.json"
                result = cached(cache_file, key, request["feedback"])
                if result is None:
                    result = job(request, workdir, options.job_timeout)
                    keep(cache_file, key, result)
                if not result["max_scores"]:
                    result["max_scores"] = dict(assignment_maximum(assignment))
                    result["scores"] = {k: 0.0 for k in result["max_scores"]}
                if not Path(request["feedback"]).exists():  # a job that timed out or died: the page says why
                    write_plain_page(result, request["feedback"])
            progress.advance(f"{student}/{assignment}")
            return result

        try:
            # (on a cluster: twice its worker threads in flight, at least cluster.MIN_IN_FLIGHT)
            results = stopping.run_all(one, enumerate(entries), getattr(job, "parallel", options.workers))
        finally:
            progress.close()
        if template:  # out's gradebook merged; late work and written answers (autograder/nbcourse.py)
            nbcourse.finish(results, out, submissions, tmp / "course")
    lms.add_flags(results, _staged.flags if _staged else {})
    lms.add_flags(results, roster.unlisted(results, options.roster))
    roster.write_gradebooks(write_reports(results, out), out, options.roster)  # the CSVs merged with earlier runs
    for warning in sorted({w for r in results for w in r.get("warnings", [])}):
        print(f"warning: {warning}", file=sys.stderr)
    return results


def internal_errors(results):
    """The results the grader itself failed on (a bug of ours, not the student's fault)."""
    return [r for r in results if (r.get("error") or "").startswith(INTERNAL_ERROR)]
