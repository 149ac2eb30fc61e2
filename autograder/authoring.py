"""Checks for people writing source notebooks: run them, release them (in English and in every translation),
grade the reference and a blank of each."""

import ast
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from . import course, demo, exercises, grade, nbcourse, translations
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


def registration_problems(assignment):
    """How ``assignment`` and its source notebook disagree with the registry (autograder/exercises.json).

    Checked first: the grader knows only registered functions, so an unregistered answer
    cell's tests fail outside the kernel, which would otherwise read as tampering.
    """
    registry = exercises.REGISTRY_NAME
    if assignment not in exercises.EXERCISES:
        if (exercises.NOTEBOOKS / assignment).is_dir():
            return [str(exercises.NotRegistered(assignment))]
        return [f"{assignment} is not an assignment: there is no folder {exercises.NOTEBOOKS / assignment} "
                f"and it is not registered in {registry}"]
    path = exercises.source_notebook(assignment)
    if not path.exists():
        others = sorted(p.name for p in path.parent.glob("*.ipynb")) if path.parent.is_dir() else []
        found = f" (found {', '.join(others)}: the registered name is the notebook's name)" if others else ""
        return [f"{assignment}: its notebook {path.name}, registered in {registry}, is not in {path.parent}{found}"]
    try:
        nb = nbtools.read(path)
    except nbtools.NotebookError as error:
        return [f"{assignment}: {path} cannot be read: {error}"]
    functions = exercises.functions(assignment)
    answers = [nbtools.grade_id(cell) for cell in nb.cells if nbtools.is_answer(cell)]
    tests = nbtools.test_cells(nb)
    # An unregistered answer cell matters when a test cell grades it or calls it (else it is ungraded practice).
    unregistered = [gid for gid, source in nbtools.answer_sources(nb).items() if gid not in functions and any(
        name_of_test(test_id, gid) or any(re.search(rf"\b{re.escape(name)}\b", test_source) for name in defined(gid, source))
        for test_id, _points, test_source in tests)]
    problems = [f"answer cell {gid} is not registered for {assignment}: add {gid} to the functions of "
                f"{assignment} in {registry} (or give the cell a registered function's grade_id)" for gid in unregistered]
    for gid, _points, _source in tests:
        if exercises.function_of_test(gid, assignment) is None and not any(name_of_test(gid, a) for a in unregistered):
            problems.append(f"test cell {gid} of {assignment} grades no registered function: name it "
                            f"test_<function> or test_<function>_<suffix> after one of {', '.join(functions) or 'none'}")
    problems += nbcourse.written_problems(assignment, nb)  # manually graded answers: "written" in the registry
    for function in functions:
        if function not in answers:
            problems.append(f"{assignment}: {function} is registered in {registry} but no answer cell has grade_id {function}")
    return problems


def name_of_test(test_id, function):
    """Whether ``test_id`` is a test cell's name for ``function``: ``test_<function>[_suffix]``."""
    return test_id == f"test_{function}" or test_id.startswith(f"test_{function}_")


def defined(grade_id, source):
    """The names an answer cell defines at its top level, and its grade_id."""
    names = {grade_id}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return names
    return names | {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def run_source(assignment):
    """Problems found executing the source notebook top to bottom (all its tests must pass)."""
    if assignment not in exercises.EXERCISES or not exercises.source_notebook(assignment).exists():
        return registration_problems(assignment)  # nothing to run
    course.environment_for_kernels()
    nb = nbtools.read(exercises.source_notebook(assignment))
    with tempfile.TemporaryDirectory() as tmp:
        execute(nb, tmp, allow_errors=True)
    return [f"{assignment} source, cell {i} ({gid}): {ename}: {evalue}" for i, gid, ename, evalue in error_outputs(nb)]


def run_release(release_path, assignment):
    """Problems in a release notebook: anything failing other than NotImplementedError, or leftover solutions.

    It runs in a scratch folder holding what the release put beside it (the explorers' language settings).
    """
    release_path = Path(release_path)
    nb = nbtools.read(release_path)
    problems = []
    text = nbformat.writes(nb)
    for marker in (nbtools.SOLUTION_BEGIN, nbtools.HIDDEN_BEGIN):
        if marker in text:
            problems.append(f"{assignment} release still contains {marker!r}")
    from coursekit.widgets._language import SETTINGS_FILE

    with tempfile.TemporaryDirectory() as tmp:
        settings = release_path.parent / SETTINGS_FILE
        if settings.exists():
            shutil.copy(settings, tmp)
        execute(nb, tmp, allow_errors=True)
    for i, gid, ename, evalue in error_outputs(nb):
        if ename != "NotImplementedError":
            problems.append(f"{assignment} release, cell {i} ({gid}): {ename}: {evalue}")
    return problems


def selfcheck(assignments):
    """Every problem found, as sentences; empty when the assignments are ready to ship."""
    problems = []
    # Registration first: an assignment the registry does not describe cannot be released or graded.
    for assignment in list(assignments):
        found = registration_problems(assignment)
        problems += found
        if found:
            assignments = [a for a in assignments if a != assignment]
    if not assignments:
        return problems
    for assignment in assignments:
        problems += run_source(assignment)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for lang in translations.LANGUAGES:  # every edition: released, run, and graded in one grading run
            problems += release_and_submit(tmp, assignments, lang)
        results = grade.grade(tmp / "submissions", tmp / "graded", grade.Options(workers=2, progress=False))
    for r in results:
        kind, lang = sample_of(r["student"])
        name = r["assignment"] if lang == translations.ENGLISH else f"{r['assignment']} ({lang})"
        score, top = sum(r["scores"].values()), sum(r["max_scores"].values())
        detail = "; ".join(([r["error"]] if r["error"] else []) + r["flags"])
        if kind == "reference" and score != top:
            lost = [g for g, m in r["max_scores"].items() if r["scores"].get(g, 0) < m]
            problems.append(f"{name}: the reference solution scores {score:g}/{top:g}; lost {lost} {detail}")
        if kind == "blank" and score != 0:
            problems.append(f"{name}: an untouched release scores {score:g}/{top:g}")
        # A written answer to grade is no problem, nor is the reference flagged as copied code: it is the course's own.
        flagged = [f for f in nbcourse.review_flags(r) if not demo.copied(f)]
        if kind == "reference" and flagged:
            problems.append(f"{name}: the reference solution is flagged: {'; '.join(flagged)}")
    return problems


def first_error(log):
    """The first ``SomeError: message`` line of a log with tracebacks (the whole first line if there is none)."""
    found = re.search(r"^\s*(\w+(?:Error|Exception): .+)$", log, flags=re.MULTILINE)
    return found.group(1).strip() if found else log.strip().splitlines()[0]


def sample_student(kind, lang):
    """The student folder of a selfcheck sample: ``reference``, ``blank``, ``reference-ko``, ..."""
    return kind if lang == translations.ENGLISH else f"{kind}-{lang}"


def sample_of(student):
    """``(kind, lang)`` of a selfcheck sample's student folder (the inverse of ``sample_student``)."""
    kind, _, lang = student.partition("-")
    return kind, lang or translations.ENGLISH


def release_and_submit(tmp, assignments, lang):
    """Release ``assignments`` in ``lang`` under ``tmp``, run each release, and write its reference and blank
    submissions to ``tmp/submissions``; returns the problems found running them."""
    problems = []
    release_dir = tmp / f"release-{lang}"
    try:
        course.release(release_dir, assignments, lang=lang)
    except RuntimeError as error:  # nbgrader refused a notebook: say why, and check the other editions
        return [f"release --lang {lang} failed: {first_error(str(error))}"]
    for assignment in assignments:
        name = assignment if lang == translations.ENGLISH else f"{assignment} ({lang})"
        path = release_dir / assignment / exercises.notebook_name(assignment)
        problems += run_release(path, name)
        source, release = translations.source_in(assignment, lang), nbtools.read(path)
        demo.write(demo.samples.reference(release, source, assignment), tmp / "submissions",
                   sample_student("reference", lang), assignment)
        demo.write(release, tmp / "submissions", sample_student("blank", lang), assignment)
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
