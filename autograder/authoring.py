"""Checks for people writing source notebooks: run them, release them, grade the reference and a blank."""

import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from . import course, demo, exercises, grade
from . import notebook as nbtools


def execute(nb, cwd, timeout=300, allow_errors=False):
    """Execute ``nb`` in place with a fresh kernel; returns it."""
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def error_outputs(nb):
    """``[(cell index, grade_id, ename, evalue)]`` of every error output."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((index + 1, nbtools.grade_id(cell), output.get("ename"), output.get("evalue", "")[:300]))
    return found


def run_source(assignment):
    """Problems found executing the source notebook top to bottom (all its tests must pass)."""
    course.environment_for_kernels()
    nb = nbtools.read(exercises.source_notebook(assignment))
    with tempfile.TemporaryDirectory() as tmp:
        execute(nb, tmp, allow_errors=True)
    return [f"{assignment} source, cell {i} ({gid}): {ename}: {evalue}" for i, gid, ename, evalue in error_outputs(nb)]


def run_release(release_path, assignment):
    """Problems in a release notebook: anything failing other than NotImplementedError, or leftover solutions."""
    nb = nbtools.read(release_path)
    problems = []
    text = nbformat.writes(nb)
    for marker in (nbtools.SOLUTION_BEGIN, nbtools.HIDDEN_BEGIN):
        if marker in text:
            problems.append(f"{assignment} release still contains {marker!r}")
    with tempfile.TemporaryDirectory() as tmp:
        execute(nb, tmp, allow_errors=True)
    for i, gid, ename, evalue in error_outputs(nb):
        if ename != "NotImplementedError":
            problems.append(f"{assignment} release, cell {i} ({gid}): {ename}: {evalue}")
    return problems


def selfcheck(assignments):
    """Every problem found, as sentences; empty when the assignments are ready to ship."""
    problems = []
    for assignment in assignments:
        problems += run_source(assignment)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        course.release(tmp / "release", assignments)
        for assignment in assignments:
            problems += run_release(tmp / "release" / assignment / exercises.notebook_name(assignment), assignment)
        for assignment in assignments:
            source = nbtools.read(exercises.source_notebook(assignment))
            release = nbtools.read(tmp / "release" / assignment / exercises.notebook_name(assignment))
            demo.write(demo.samples.reference(release, source, assignment), tmp / "submissions", "reference", assignment)
            demo.write(release, tmp / "submissions", "blank", assignment)
        results = grade.grade(tmp / "submissions", tmp / "graded", grade.Options(workers=2, progress=False))
    for r in results:
        score, top = sum(r["scores"].values()), sum(r["max_scores"].values())
        detail = "; ".join(([r["error"]] if r["error"] else []) + r["flags"])
        if r["student"] == "reference" and score != top:
            lost = [g for g, m in r["max_scores"].items() if r["scores"].get(g, 0) < m]
            problems.append(f"{r['assignment']}: the reference solution scores {score:g}/{top:g}; lost {lost} {detail}")
        if r["student"] == "blank" and score != 0:
            problems.append(f"{r['assignment']}: an untouched release scores {score:g}/{top:g}")
        if r["student"] == "reference" and r["flags"]:
            problems.append(f"{r['assignment']}: the reference solution is flagged: {detail}")
    return problems


def strip_all():
    """Clear outputs of every source notebook; returns the paths changed."""
    changed = []
    for assignment in exercises.EXERCISES:
        path = exercises.source_notebook(assignment)
        if not path.exists():
            continue
        nb = nbformat.read(str(path), as_version=4)
        before = nbformat.writes(nb)
        nbtools.clear_outputs(nb)
        if nbformat.writes(nb) != before:
            nbformat.write(nb, str(path))
            changed.append(path)
    return changed
