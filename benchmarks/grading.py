"""The course's own speed, measured side by side in one run, on this machine.

    .venv/bin/python benchmarks/grading.py            # about 8 minutes on 2 cores
    .venv/bin/python benchmarks/grading.py --quick    # 4 submissions, for CI

Prints a table: executing every source notebook with its solutions, grading one
student's whole course, and grading 20 demo submissions with 1 and with 2
workers (the ratio is the parallel speed-up).
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder import authoring, course, demo, exercises, grade


def timed(function):
    start = time.monotonic()
    function()
    return time.monotonic() - start


def twenty_submissions(release, folder, count):
    """Reference solutions of every assignment, then partial ones, then blanks: ``count`` in all."""
    everything = Path(tempfile.mkdtemp(prefix="cfs-bench-"))
    demo.make_submissions(release, everything)
    order = [(s, a) for s in ("reference", "partial", "blank") for a in exercises.assignment_ids()]
    chosen = [(s, a) for s, a in order if (everything / s / a).exists()][:count]
    for student, assignment in chosen:
        shutil.copytree(everything / student / assignment, Path(folder) / student / assignment)
    shutil.rmtree(everything)
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 submissions, no notebook run: checks the script works")
    args = parser.parse_args()
    count = 4 if args.quick else 20
    rows = []
    load = lambda: "%.2f" % os.getloadavg()[0]  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="cfs-bench-") as tmp:
        tmp = Path(tmp)
        if not args.quick:
            before = load()
            seconds = timed(lambda: [authoring.run_source(a) for a in exercises.assignment_ids()])
            rows.append(("execute every source notebook", f"{len(exercises.assignment_ids())} notebooks", seconds, before))
        course.release(tmp / "release")
        chosen = twenty_submissions(tmp / "release", tmp / "subs", count)
        students = {s for s, _ in chosen}
        one_student = tmp / "one"
        shutil.copytree(tmp / "subs" / "reference", one_student / "reference")
        for workers in (1, 2):
            before = load()
            seconds = timed(lambda: grade.grade(one_student, tmp / f"one-{workers}", grade.Options(workers=workers, progress=False)))
            rows.append((f"grade one student's course, workers {workers}", f"{len(list(one_student.glob('*/*')))} notebooks", seconds, before))
        times = {}
        for workers in (1, 2):
            before = load()
            times[workers] = timed(lambda: grade.grade(tmp / "subs", tmp / f"all-{workers}", grade.Options(workers=workers, progress=False)))
            rows.append((f"grade {len(chosen)} submissions, workers {workers}", f"{len(students)} students", times[workers], before))
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; load average before each row")
    print(f"{'what':<42} {'size':<14} {'seconds':>8} {'load':>6}")
    for what, size, seconds, before in rows:
        print(f"{what:<42} {size:<14} {seconds:8.1f} {before:>6}")
    print(f"speed-up of 2 workers over 1 on {len(chosen)} submissions: {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()
