"""``python -m autograder demo``: release, make sample submissions, grade them, print the gradebook."""

import shutil
import time
from pathlib import Path

import nbformat

from . import course, exercises, grade, nbcourse, samples, similarity
from . import notebook as nbtools


def write(nb, folder, student, assignment):
    path = Path(folder) / student / assignment / exercises.notebook_name(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def make_submissions(release_dir, folder, assignments=None, attack_assignment=None):
    """Sample submissions under ``folder``; returns ``{(student, assignment): expectation}``."""
    assignments = assignments or exercises.assignment_ids()
    graded = [a for a in assignments if exercises.functions(a)]
    attack_assignment = attack_assignment or (graded[0] if graded else None)
    expectations = {}
    for assignment in assignments:
        source = nbtools.read(exercises.source_notebook(assignment))
        release = nbtools.read(Path(release_dir) / assignment / exercises.notebook_name(assignment))
        write(samples.reference(release, source, assignment), folder, "reference", assignment)
        expectations[("reference", assignment)] = "full"
        write(release, folder, "blank", assignment)
        expectations[("blank", assignment)] = "zero"
        if exercises.functions(assignment):
            nb, broken = samples.partial(release, source, assignment)
            write(nb, folder, "partial", assignment)
            expectations[("partial", assignment)] = ("wrong", broken)
    if attack_assignment:
        source = nbtools.read(exercises.source_notebook(attack_assignment))
        release = nbtools.read(Path(release_dir) / attack_assignment / exercises.notebook_name(attack_assignment))
        for kind in samples.ATTACKS:
            write(samples.attack(release, source, attack_assignment, kind), folder, kind, attack_assignment)
            expectations[(kind, attack_assignment)] = "zero"
        nb, delegated = samples.delegating(release, source, attack_assignment)
        write(nb, folder, "delegates", attack_assignment)
        expectations[("delegates", attack_assignment)] = ("wrong", delegated)
        expectations.update(make_broken(release_dir, folder, attack_assignment, assignments))
    return expectations


def make_broken(release_dir, folder, assignment, assignments):
    """Submissions an instructor meets in practice: none of them can be graded, all must be reported."""
    folder = Path(folder)
    notebook = exercises.notebook_name(assignment)
    (folder / "broken-json" / assignment).mkdir(parents=True)
    (folder / "broken-json" / assignment / notebook).write_text('{"cells": [ {"cell_type": "code", "source": "x = 1"')
    other = next((a for a in assignments if a != assignment), None)
    if other:
        (folder / "wrong-notebook" / assignment).mkdir(parents=True)
        shutil.copy(Path(release_dir) / other / exercises.notebook_name(other), folder / "wrong-notebook" / assignment / notebook)
    (folder / "missing-notebook" / assignment).mkdir(parents=True)
    shutil.copy(Path(release_dir) / assignment / notebook, folder / "missing-notebook" / assignment / "Untitled.ipynb")
    (folder / "stray-file").mkdir(parents=True)
    (folder / "stray-file" / "submission.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    return {(student, assignment): "zero" for student in ("broken-json", "wrong-notebook", "missing-notebook")}


MARKER = ".convnets-demo"  # a folder the demo made, and may therefore replace


def run(out="demo", workers=2):
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise FileExistsError(f"{out} exists and was not made by the demo: choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by python -m autograder demo; the next demo run replaces this folder\n")
    started = time.monotonic()
    print(f"Releasing the student versions of {len(exercises.assignment_ids())} assignments to {out / 'release'} ...")
    course.release(out / "release")
    expectations = make_submissions(out / "release", out / "submissions")
    print(f"Grading the sample submissions in {out / 'submissions'} with {workers} workers ...")
    results = grade.grade(out / "submissions", out / "graded", grade.Options(workers=workers))
    print()
    print(grade.gradebook_table(results))
    print()
    flags = (out / "graded" / "flags.csv").read_text().strip().splitlines()[1:]
    print(f"{len(flags)} flags for a person to look at ({out / 'graded' / 'flags.csv'}):")
    for line in flags:
        print("  " + (line if len(line) < 160 else line[:157] + "..."))
    print(f"\nDone in {time.monotonic() - started:.0f} s. Feedback pages: {out / 'graded' / 'feedback'}")
    problems = verdict(results, expectations)
    if problems:
        print(f"\nDEMO FAILED: {len(problems)} sample(s) were not graded as expected:")
        for problem in problems:
            print("  " + problem)
    else:
        print("\nDemo OK: the reference solution has full marks on every assignment (and is flagged as copied code: it is the course's own), the untouched release 0, "
              "every hostile or broken sample is flagged with 0 on what it attacked, and no internal grader error.")
    return problems


def copied(flag):
    """Whether a flags.csv reason is a copied-code flag (autograder/similarity.py)."""
    return flag.startswith(similarity.COPIED_FLAG + ":")


def verdict(results, expectations):
    """What went wrong against the samples' expectations, as sentences (empty when the demo holds)."""
    by_key = {(r["student"], r["assignment"]): r for r in results}
    problems = [f"{r['student']}/{r['assignment']}: {r['error']}" for r in grade.internal_errors(results)]
    for (student, assignment), expected in sorted(expectations.items(), key=str):
        result = by_key.get((student, assignment))
        if result is None:
            problems.append(f"{student}/{assignment}: not graded at all")
            continue
        score, top = sum(result["scores"].values()), sum(result["max_scores"].values())
        # Written answers waiting for a person are pending, not lost: neither a lost point nor a problem flag.
        reasons = ([result["error"]] if result["error"] else []) + nbcourse.review_flags(result)
        if expected == "full":
            if score != top or top == 0 and exercises.functions(assignment):
                problems.append(f"{student}/{assignment}: expected full marks, got {score:g}/{top:g} {reasons}")
            elif [f for f in nbcourse.review_flags(result) if not (student == "reference" and copied(f))]:
                problems.append(f"{student}/{assignment}: full marks but flagged: {reasons}")
            elif student == "reference" and exercises.functions(assignment) and \
                    not any(copied(f) for f in result["flags"]):
                # The reference sample is the course's own solution: it must be recognised as copied.
                problems.append(f"{student}/{assignment}: the course's own solution was not flagged as copied code")
        elif expected == "zero":
            if score != 0:
                problems.append(f"{student}/{assignment}: expected 0, got {score:g}/{top:g}")
            if student != "blank" and not reasons:
                problems.append(f"{student}/{assignment}: a hostile or broken sample with no flag and no reason")
        else:  # ("wrong", [functions that must lose their points])
            _, broken = expected
            lost = {f for f, (got, maximum) in grade.per_function(result).items() if got < maximum}
            if lost != set(broken):
                problems.append(f"{student}/{assignment}: expected to lose exactly {sorted(broken)}, lost {sorted(lost)}")
            if student == "delegates" and not nbcourse.review_flags(result):
                problems.append(f"{student}/{assignment}: delegation was not flagged")
    return problems
