"""The course's registry of assignments and graded functions: ``autograder/exercises.json``.

It is the one place where an assignment or an exercise is registered: the
release, the grader, the samples and the tests all read it from here. It is
the machine-readable list of the course contract (``docs/COURSE_SPEC.md``):
``{assignment id: {"notebook": file name, "functions": [graded function, ...], "written": {grade_id: points}}}``
(``"written"``, the manually graded answers, only where there are some)
in course order. An assignment or an exercise that an instructor adds goes
there first (see ``notebooks/README.md``, "Adding an assignment or an exercise").
"""

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REGISTRY = Path(__file__).parent / "exercises.json"
REGISTRY_NAME = "autograder/exercises.json"  # as an instructor finds it in the repository

# Source notebooks; CFS_NOTEBOOKS points elsewhere (the grader's own tests use a small course).
NOTEBOOKS = Path(os.environ.get("CFS_NOTEBOOKS", REPO / "notebooks")).resolve()
EXERCISES = json.loads(REGISTRY.read_text())


class NotRegistered(ValueError):
    """An assignment id that is not in the registry."""

    def __init__(self, assignment):
        super().__init__(f"{assignment} is not registered: add it to {REGISTRY_NAME} "
                         f"(its notebook and graded functions; see notebooks/README.md)")
        self.assignment = assignment


def _spec(assignment):
    try:
        return EXERCISES[assignment]
    except KeyError:
        raise NotRegistered(assignment) from None


def assignment_ids():
    """Assignment ids that have a source notebook in this checkout, in course order."""
    return [a for a in EXERCISES if (NOTEBOOKS / a / EXERCISES[a]["notebook"]).exists()]


def unregistered_folders():
    """Folders of the source notebooks that hold a notebook but are not in the registry, sorted."""
    if not NOTEBOOKS.is_dir():
        return []
    return sorted(p.name for p in NOTEBOOKS.iterdir()
                  if p.is_dir() and p.name not in EXERCISES and not p.name.startswith(".") and any(p.glob("*.ipynb")))


def notebook_name(assignment):
    return _spec(assignment)["notebook"]


def functions(assignment):
    return list(_spec(assignment)["functions"])


def written(assignment):
    """``{grade_id: points}`` of the assignment's manually graded answer cells (``"written"`` in the registry)."""
    return {grade_id: float(points) for grade_id, points in _spec(assignment).get("written", {}).items()}


def source_notebook(assignment):
    return NOTEBOOKS / assignment / notebook_name(assignment)


def function_of_test(grade_id, assignment):
    """The graded function a test cell ``test_<function>[_suffix]`` belongs to (longest match)."""
    matches = [f for f in functions(assignment) if grade_id == f"test_{f}" or grade_id.startswith(f"test_{f}_")]
    return max(matches, key=len) if matches else None


def assignment_of_function(function):
    for assignment, spec in EXERCISES.items():
        if function in spec["functions"]:
            return assignment
    return None
