"""The course's fixed list of assignments and graded functions (a copy of COURSE_SPEC's exercises.json)."""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
import os

# Source notebooks; CFS_NOTEBOOKS points elsewhere (the grader's own tests use a small course).
NOTEBOOKS = Path(os.environ.get("CFS_NOTEBOOKS", REPO / "notebooks")).resolve()
EXERCISES = json.loads((Path(__file__).parent / "exercises.json").read_text())


def assignment_ids():
    """Assignment ids that have a source notebook in this checkout, in course order."""
    return [a for a in EXERCISES if (NOTEBOOKS / a / EXERCISES[a]["notebook"]).exists()]


def notebook_name(assignment):
    return EXERCISES[assignment]["notebook"]


def functions(assignment):
    return list(EXERCISES[assignment]["functions"])


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
