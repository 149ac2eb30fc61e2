"""Grading speed as a user meets it: the CLIs in subprocesses, side by side in one run, on this machine.

    .venv/bin/python benchmarks/grading.py                 # 20 copies, 40 students x 9 assignments (long)
    .venv/bin/python benchmarks/grading.py --students 5    # a medium class simulation
    .venv/bin/python benchmarks/grading.py --quick         # 2 copies, 2 students x 2 assignments (CI, 3-5 min)

Two parts, each row timed as wall-clock seconds of the commands a user types,
run in a scratch folder with relative paths:

1. Side by side, on the same submissions (``--copies`` copies of notebook 01's
   reference solution): plain nbgrader (``nbgrader autograde 01_conv_as_matmul``
   then ``nbgrader generate_feedback 01_conv_as_matmul`` in a course directory
   built from the same source notebooks) against ``python -m autograder grade``
   with 1 and 2 workers. Prints seconds per submission, the ratio of
   throughputs (autograder with 2 workers / plain nbgrader), the median
   seconds per submission on 1 worker (the gaps between consecutive
   completions, read from the mtimes of ``graded/.cache/*.json``) and the
   median of each phase the job records (the ``timings`` of its result).
2. A class simulation: ``--students`` students x ``--assignments`` assignments,
   each submission the reference, a partial or a blank notebook (seeded), graded
   with every core; prints submissions per core-minute and the time 200 students
   x 9 assignments would take on this machine at that rate.

Every grading is checked: the reference copies must get full marks (from both
graders) and the class's blanks 0, or the script exits 1 after the table.
"""

import argparse
import csv
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import course, demo, exercises, samples
from autograder.grade import assignment_maximum as autograded_maximum
from autograder import notebook as nbtools

SIDE_BY_SIDE = "01_conv_as_matmul"  # the notebook of the goal (median <= 3 s per submission)
KINDS = {"reference": 6, "partial": 3, "blank": 1}  # the class's mix: weights of random.choices
CLASS_TARGET = (200, 9)  # students x assignments of the extrapolation
# Kernels and jobs of both graders single-threaded and headless, as the autograder runs its own.
KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# -- the machine -------------------------------------------------------------------

def cpu_model():
    """The CPU's model name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load():
    """The 1-, 5- and 15-minute load averages, as printed in the table."""
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def machine():
    from importlib.metadata import version

    return (f"machine: {CORES} cores usable ({os.cpu_count()} online), {cpu_model()}; Python {sys.version.split()[0]}, "
            f"nbgrader {version('nbgrader')}; load average 1/5/15 min before each row")


# -- the commands ------------------------------------------------------------------

def environment():
    """The subprocesses' environment: this Python's bin/ first on PATH (nbgrader runs ``alembic`` and kernels by name)."""
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), **KERNEL_ENV)


def nbgrader_command():
    """How to call nbgrader's CLI: the ``nbgrader`` script beside this Python, else ``python -m nbgrader``."""
    script = Path(sys.executable).parent / "nbgrader"
    return [str(script)] if script.exists() else [sys.executable, "-m", "nbgrader"]


def timed_run(command, cwd):
    """Run ``command`` in ``cwd``; ``(seconds, wall-clock start)``. A failing command stops the benchmark."""
    started, clock = time.time(), time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=environment(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - clock
    if result.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(command)} (in {cwd}) exited {result.returncode}:\n{result.stderr[-2000:]}")
    return seconds, started


def autograder_grade(scratch, submissions, out, workers):
    """``python -m autograder grade SUBMISSIONS --out OUT --workers N --quiet`` in ``scratch``; (seconds, start)."""
    return timed_run([sys.executable, "-m", "autograder", "grade", submissions, "--out", out,
                      "--workers", str(workers), "--quiet"], scratch)


NBGRADER_CONFIG = f"""\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{course.COURSE_ID}"
c.Execute.timeout = {course.CELL_TIMEOUT}
"""


def nbgrader_course(root, assignments):
    """A plain nbgrader course directory: ``source/`` from the course's notebooks, the assignments generated
    into ``release/`` (``autograder.course.build``, not timed: an instructor does it once) and nbgrader's
    defaults but for the course id and the cell timeout."""
    course.build(root, assignments)
    (Path(root) / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    return Path(root)


def submit(root, assignment, submissions):
    """Copy ``submissions/<student>/<assignment>/`` into the course's ``submitted/``, as nbgrader collects them."""
    for student in sorted(p.name for p in Path(submissions).iterdir()):
        shutil.copytree(Path(submissions) / student / assignment, Path(root) / "submitted" / student / assignment)
    return root


def nbgrader_grade(root, assignment):
    """``nbgrader autograde A`` then ``nbgrader generate_feedback A`` in the course root; seconds of both."""
    autograde, _ = timed_run([*nbgrader_command(), "autograde", assignment], root)
    feedback, _ = timed_run([*nbgrader_command(), "generate_feedback", assignment], root)
    return autograde + feedback


# -- the submissions ---------------------------------------------------------------

class Samples:
    """The demo's reference, partial and blank notebooks of each assignment, made once from a release."""

    def __init__(self, release):
        self.release = Path(release)
        self.made = {}

    def notebook(self, kind, assignment):
        if (kind, assignment) not in self.made:
            name = exercises.notebook_name(assignment)
            released = nbtools.read(self.release / assignment / name)
            source = nbtools.read(exercises.source_notebook(assignment))
            if kind == "reference":
                nb = samples.reference(released, source, assignment)
            elif kind == "partial":
                nb, _ = samples.partial(released, source, assignment)
            else:
                nb = released
            self.made[(kind, assignment)] = nb
        return self.made[(kind, assignment)]

    def write(self, kind, folder, student, assignment):
        demo.write(self.notebook(kind, assignment), folder, student, assignment)


def copies_of_reference(made, folder, assignment, count):
    """``count`` students (copy01, ...) who all submit the reference solution of ``assignment``."""
    students = [f"copy{i:02d}" for i in range(1, count + 1)]
    for student in students:
        made.write("reference", folder, student, assignment)
    return {(student, assignment): "reference" for student in students}


def class_of(made, folder, students, assignments, seed):
    """``students`` x ``assignments`` submissions, each kind drawn with the weights of KINDS (seeded);
    an assignment without graded functions (the tour) has no partial version: reference or blank."""
    rng = random.Random(seed)
    kinds = {}
    for s in range(1, students + 1):
        for assignment in assignments:
            choices = [k for k in KINDS if k != "partial" or exercises.functions(assignment)]
            kind = rng.choices(choices, weights=[KINDS[k] for k in choices])[0]
            made.write(kind, folder, f"s{s:03d}", assignment)
            kinds[(f"s{s:03d}", assignment)] = kind
    return kinds


# -- reading the runs --------------------------------------------------------------

def graded_scores(out):
    """``{(student, assignment): (score, autograded maximum)}`` from an autograder run's grades.csv; a written
    answer's points (pending manual grading, in max_score) are not the autograder's to give."""
    with open(Path(out) / "grades.csv", newline="", encoding="utf-8") as f:
        return {(r["student_id"], r["assignment_id"]): (float(r["score"]), sum(autograded_maximum(r["assignment_id"]).values()))
                for r in csv.DictReader(f)}


def nbgrader_scores(root, assignment):
    """``{(student, assignment): (score, max_score)}`` from a plain nbgrader course's gradebook."""
    from nbgrader.api import MissingEntry

    scores = {}
    with course.quiet(), course.gradebook(root) as gb:
        for student in sorted(p.name for p in (Path(root) / "submitted").iterdir()):
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:  # not graded at all: check() reports it
                continue
            scores[(student, assignment)] = (float(submission.score), float(submission.max_score))
    return scores


def check(scores, kinds, who):
    """Sentences for every submission graded against its kind: references full, blanks 0, partials below full."""
    problems = []
    for key, kind in sorted(kinds.items()):
        if key not in scores:
            problems.append(f"{who}: {'/'.join(key)} not graded")
            continue
        score, top = scores[key]
        if (kind == "reference" and score != top) or (kind == "blank" and score != 0) or \
                (kind == "partial" and not score < top):
            problems.append(f"{who}: {'/'.join(key)} ({kind}) got {score:g}/{top:g}")
    return problems


def cache_entries(out):
    """The results the grader kept in ``out/.cache/*.json`` with their mtimes, oldest first: ``[(mtime, result)]``."""
    entries = []
    for path in Path(out).glob(".cache/*.json"):
        try:
            entries.append((path.stat().st_mtime, json.loads(path.read_text())["result"]))
        except (OSError, ValueError, KeyError):
            continue
    return sorted(entries, key=lambda entry: entry[0])


def completion_gaps(entries):
    """Seconds between consecutive completions: with one worker, the time of each submission but the first."""
    times = [mtime for mtime, _ in entries]
    return [later - earlier for earlier, later in zip(times, times[1:])]


def phase_medians(entries):
    """``{phase: median seconds}`` over the kept results that carry the job's ``timings``."""
    phases = {}
    for _, result in entries:
        for phase, seconds in (result.get("timings") or {}).items():
            phases.setdefault(phase, []).append(seconds)
    return {phase: statistics.median(values) for phase, values in phases.items()}


# -- the benchmark -----------------------------------------------------------------

class Table:
    """Rows of (what, submissions, seconds, load before); printed with seconds per submission."""

    def __init__(self):
        self.rows = []

    def time(self, what, count, run):
        before = load()
        print(f"benchmark: {what} ...", file=sys.stderr, flush=True)
        seconds = run()
        self.rows.append((what, count, seconds, before))
        return seconds

    def print(self):
        print(f"{'what':<52} {'subs':>5} {'seconds':>8} {'s/sub':>6} {'load before':>14}")
        for what, count, seconds, before in self.rows:
            print(f"{what:<52} {count:>5} {seconds:8.1f} {seconds / count:6.2f} {before:>14}")


def side_by_side(table, scratch, root, made, copies, problems):
    """Part 1: plain nbgrader (in the course root ``root``) and the autograder's CLI with 1 and 2 workers
    on ``copies`` reference copies."""
    kinds = copies_of_reference(made, scratch / "copies", SIDE_BY_SIDE, copies)
    submit(root, SIDE_BY_SIDE, scratch / "copies")
    plain = table.time("plain nbgrader: autograde + generate_feedback", copies, lambda: nbgrader_grade(root, SIDE_BY_SIDE))
    problems += check(nbgrader_scores(root, SIDE_BY_SIDE), kinds, "plain nbgrader")
    seconds, starts = {}, {}
    for workers in (1, 2):
        def run(workers=workers):
            seconds[workers], starts[workers] = autograder_grade(scratch, "copies", f"copies-w{workers}", workers)
            return seconds[workers]
        table.time(f"python -m autograder grade, {workers} worker{'s' * (workers > 1)}", copies, run)
        problems += check(graded_scores(scratch / f"copies-w{workers}"), kinds, f"autograder, {workers} workers")
    entries = cache_entries(scratch / "copies-w1")
    gaps = completion_gaps(entries)
    lines = [f"throughput, autograder with 2 workers / plain nbgrader, same {copies} submissions: "
             f"{plain / seconds[2]:.2f}x (goal >= 1.5x)"]
    if gaps:
        startup = entries[0][0] - starts[1] - statistics.median(gaps)
        lines.append(f"{SIDE_BY_SIDE} reference, 1 worker: median {statistics.median(gaps):.2f} s per submission "
                     f"(goal <= 3 s; {len(gaps)} gaps between completions, min {min(gaps):.2f}, max {max(gaps):.2f}); "
                     f"start-up before the first submission {startup:.1f} s")
    else:
        lines.append(f"{SIDE_BY_SIDE} reference, 1 worker: median per submission n/a (need --copies >= 2 and graded/.cache)")
    phases = phase_medians(entries)
    if phases:
        recorded = ", ".join(f"{phase} {value:.2f}" for phase, value in phases.items())
        lines.append(f"  per phase, median s (the job's timings): {recorded}; sum {sum(phases.values()):.2f}"
                     + (f", the rest (job start, imports, the grader's own work) {statistics.median(gaps) - sum(phases.values()):.2f}" if gaps else ""))
    return lines


def class_simulation(table, scratch, made, students, assignments, seed, problems):
    """Part 2: a seeded class graded with every core; throughput per core and the 200 x 9 extrapolation."""
    kinds = class_of(made, scratch / "class", students, assignments, seed)
    count, workers = len(kinds), CORES
    mix = ", ".join(f"{sum(k == kind for k in kinds.values())} {kind}" for kind in KINDS)
    seconds = table.time(f"class: {students} students x {len(assignments)} assignments, {workers} workers", count,
                         lambda: autograder_grade(scratch, "class", "class-graded", workers)[0])
    problems += check(graded_scores(scratch / "class-graded"), kinds, "autograder, class")
    per_core_minute = count / (seconds / 60) / workers
    target = CLASS_TARGET[0] * CLASS_TARGET[1]
    return [f"class ({mix}; seed {seed}): {per_core_minute:.1f} submissions per core-minute on {workers} cores",
            f"extrapolated: {CLASS_TARGET[0]} students x {CLASS_TARGET[1]} assignments ({target} submissions) "
            f"on this machine: {seconds * target / count / 60:.0f} min"
            + ("" if len(assignments) == len(exercises.assignment_ids()) else
               f" (from {len(assignments)} of the {len(exercises.assignment_ids())} assignments' mix)")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 copies, 2 students x 2 assignments: checks the script works")
    parser.add_argument("--copies", type=int, help="copies of notebook 01's reference, side by side (default 20; quick 2)")
    parser.add_argument("--students", type=int, help="students of the class simulation (default 40; quick 2)")
    parser.add_argument("--assignments", type=int, help="the first N assignments, 1-9 (default 9; quick 2)")
    parser.add_argument("--seed", type=int, default=0, help="the class's mix of submissions (default 0)")
    args = parser.parse_args()
    copies = args.copies or (2 if args.quick else 20)
    students = args.students or (2 if args.quick else 40)
    assignments = exercises.assignment_ids()[:args.assignments or (2 if args.quick else 9)]
    if copies < 1 or students < 1 or not assignments:
        parser.error("--copies, --students and --assignments must be at least 1")
    table, problems = Table(), []
    with tempfile.TemporaryDirectory(prefix="cfs-bench-") as scratch:
        scratch = Path(scratch)
        needed = sorted(set(assignments) | {SIDE_BY_SIDE})
        print(f"benchmark: a plain nbgrader course of {len(needed)} assignments ...", file=sys.stderr, flush=True)
        root = nbgrader_course(scratch / "nbgrader-course", needed)
        made = Samples(root / "release")  # the student versions nbgrader generated: the samples start from them
        notes = side_by_side(table, scratch, root, made, copies, problems)
        notes += class_simulation(table, scratch, made, students, assignments, args.seed, problems)
    print(machine())
    table.print()
    for line in notes:
        print(line)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("scores checked: OK" if not problems else f"scores checked: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
