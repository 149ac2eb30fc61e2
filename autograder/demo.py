"""``python -m autograder demo``: release, make sample submissions, grade them, print the gradebook."""

import shutil
import time
from pathlib import Path

import nbformat

from . import course, exercises, grade, samples
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
    make_submissions(out / "release", out / "submissions")
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
    return results
