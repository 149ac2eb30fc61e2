"""``python -m autograder VERB``: release, grade, demo, and the authoring checks selfcheck, run, strip."""

import argparse
import os
import sys
from pathlib import Path

from . import exercises
from .translations import LANGUAGES


# The cores this process may run on (fewer than os.cpu_count() in a restricted container).
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description="ConvNets from Scratch: instructor tools on nbgrader.")
    verbs = parser.add_subparsers(dest="verb", required=True)

    p = verbs.add_parser("release", help="write the student version of every assignment")
    p.add_argument("--out", default="release", help="output folder (default: release/)")
    p.add_argument("--lang", default="en", choices=LANGUAGES, help="language of the notebooks' prose (default: en)")
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")

    p = verbs.add_parser("handout", help="write what students get: released notebooks and a coursekit wheel without open answers")
    p.add_argument("--out", default="handout", help="output folder (default: handout/)")
    p.add_argument("--unlock", nargs="*", default=[], metavar="ID", help="assignments whose references go back in (closed ones)")

    p = verbs.add_parser("grade", help="grade SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb")
    p.add_argument("submissions", help="a folder of student folders, or a .zip of one")
    p.add_argument("--out", default="graded", help="output folder (default: graded/)")
    p.add_argument("--workers", type=int, default=CORES, help=f"submissions graded in parallel (default: the CPU cores, {CORES} here)")
    p.add_argument("--cell-timeout", type=int, default=30, help="seconds per notebook cell (default: 30)")
    p.add_argument("--timeout", type=float, default=900, help="seconds per submission in all (default: 900)")
    p.add_argument("--memory-mb", type=int, default=3072, help="memory limit of a student's process (default: 3072)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--assignment", help="grade only this assignment; required for a Canvas or Moodle export, which holds one")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="grade on this Dask distributed cluster's workers "
                   "(each with the course installed, the same version; needs the extra: pip install -e '.[cluster]'); "
                   "--workers is then the cluster's: twice its worker threads in flight, at least 64")
    p.add_argument("--roster", help="CSV of the class (student_id[,name,sis_id,sis_login_id,section], or Canvas's "
                   "gradebook export): gradebook_wide.csv and canvas_grades.csv list every rostered student")

    p = verbs.add_parser("course", help="make COURSE a standard nbgrader course root (safe to re-run)")
    p.add_argument("course", help="the course root to make or refresh")
    p.add_argument("--exchange", help="nbgrader's exchange folder (default: COURSE/exchange)")
    p.add_argument("--course-id", help=f"nbgrader course id (default: the one already set, else {'convnets-from-scratch'})")
    p.add_argument("--due", action="append", default=[], metavar="ID=TIME",
                   help="a due date, e.g. 01_conv_as_matmul=2026-10-01T23:59:00+00:00 (repeatable; no zone = UTC)")

    p = verbs.add_parser("demo", help="release, make sample submissions, grade them and print the gradebook")
    p.add_argument("--out", default="demo", help="output folder (default: demo/)")
    p.add_argument("--workers", type=int, default=CORES, help=f"submissions graded in parallel (default: {CORES})")

    p = verbs.add_parser("selfcheck", help="authoring check of source notebooks: run, release, grade reference and blank")
    p.add_argument("assignments", nargs="*")

    p = verbs.add_parser("run", help="execute source notebooks top to bottom and report failing cells")
    p.add_argument("assignments", nargs="*")

    verbs.add_parser("strip", help="clear outputs and execution counts of all source notebooks")

    p = verbs.add_parser("translate", help="bring the notebooks' translation catalogs in step with the English "
                         "notebooks and report what is left to translate")
    p.add_argument("--lang", default="ko", choices=[lang for lang in LANGUAGES if lang != "en"], help="(default: ko)")
    p.add_argument("--check", action="store_true", help="only report; exit 1 unless every catalog is complete")
    p.add_argument("assignments", nargs="*")

    args = parser.parse_args(argv)
    if args.verb == "release":
        from .course import release
        try:
            out = release(args.out, args.assignments or None, lang=args.lang)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"Released {len(args.assignments or exercises.assignment_ids())} assignments to {out}/")
        return 0
    if args.verb == "handout":
        from . import handout
        try:
            wheel, warnings = handout.handout(args.out, args.unlock)
        except (ValueError, RuntimeError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        for warning in warnings:
            print(f"note: {warning}")
        print(f"Wrote {Path(args.out) / 'notebooks'}/ and {Path(args.out) / wheel.name}")
        return 0
    if args.verb == "grade":
        from . import grade, reports, roster
        try:
            options = grade.Options(workers=args.workers, cell_timeout=args.cell_timeout, job_timeout=args.timeout,
                                    memory_mb=args.memory_mb, progress=not args.quiet, assignment=args.assignment,
                                    roster=roster.read(args.roster) if args.roster else None,
                                    scheduler=args.scheduler)
            results = grade.grade(args.submissions, args.out, options)
        except (FileNotFoundError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        merged = reports.read_grades(args.out)  # this run's grades and the earlier runs' kept ones
        print(reports.table(merged) if merged else grade.gradebook_table(results))
        print(f"\nWrote {Path(args.out) / 'grades.csv'}, exercises.csv, flags.csv, details.csv, gradebook_wide.csv, "
              f"canvas_grades.csv and feedback/")
        failed = grade.internal_errors(results)
        if failed:
            print(f"error: the grader failed on {len(failed)} of {len(results)} submissions (internal grader error, "
                  f"not the students' fault; see flags.csv), e.g. {failed[0]['student']}/{failed[0]['assignment']}: "
                  f"{failed[0]['error']}", file=sys.stderr)
            return 1
        return 0
    if args.verb == "course":
        from . import nbcourse
        return nbcourse.cli(args)
    if args.verb == "demo":
        from . import demo
        try:
            problems = demo.run(args.out, args.workers)
        except FileExistsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 1 if problems else 0
    if args.verb == "translate":
        from . import translations
        return translations.cli(args.assignments or exercises.assignment_ids(), args.lang, args.check)
    if args.verb == "strip":
        from . import authoring
        for path in authoring.strip_all():
            print(f"stripped {path}")
        return 0
    from . import authoring
    # Folders not in the registry too: they are reported as not registered, not skipped unseen.
    assignments = args.assignments or exercises.assignment_ids() + exercises.unregistered_folders()
    if args.verb == "run":
        problems = [p for a in assignments for p in authoring.run_source(a)]
    else:
        problems = authoring.selfcheck(assignments)
    for problem in problems:
        print("PROBLEM: " + problem)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0
