"""Every source notebook runs with its tests passing; every release holds no solution and fails only on stubs."""

import json

import nbformat
import pytest

from autograder import authoring, course, exercises
from autograder import notebook as nbtools

ASSIGNMENTS = list(exercises.EXERCISES)
GRADED = [a for a in ASSIGNMENTS if exercises.functions(a)]


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    course.release(out, [a for a in ASSIGNMENTS if exercises.source_notebook(a).exists()])
    return out


def source(assignment):
    path = exercises.source_notebook(assignment)
    if not path.exists():
        pytest.fail(f"{path} is missing")
    return nbtools.read(path)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_is_committed_without_outputs(assignment):
    raw = json.loads(exercises.source_notebook(assignment).read_text()) if exercises.source_notebook(assignment).exists() else pytest.fail("missing")
    dirty = [i for i, c in enumerate(raw["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"cells with outputs: {dirty}"


@pytest.mark.parametrize("assignment", GRADED)
def test_every_function_has_an_answer_cell_and_scored_locked_tests(assignment):
    nb = source(assignment)
    answers = nbtools.answer_sources(nb)
    tests = nbtools.test_cells(nb)
    for function in exercises.functions(assignment):
        assert function in answers, f"no answer cell {function}"
        assert nbtools.SOLUTION_BEGIN in answers[function], f"{function}: no solution markers"
        mine = [(gid, points) for gid, points, _ in tests if exercises.function_of_test(gid, assignment) == function]
        assert mine, f"no test cell for {function}"
        assert all(points > 0 and points == int(points) for _, points in mine), mine
    for cell in nb.cells:
        if nbtools.is_test(cell):
            assert nbtools.nbgrader_meta(cell)["locked"], nbtools.grade_id(cell)
            assert exercises.function_of_test(nbtools.grade_id(cell), assignment), f"{nbtools.grade_id(cell)} grades no function"
            assert nbtools.HIDDEN_BEGIN in cell.source, f"{nbtools.grade_id(cell)} has no hidden tests"
    assert nbtools.setup_sources(nb), "no setup cell"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_runs_with_every_test_passing(assignment):
    source(assignment)
    assert authoring.run_source(assignment) == []


def secret_lines(nb):
    """Distinctive lines (> 25 characters) of solutions and hidden tests that stand nowhere else in the notebook."""
    inside, outside = [], []
    for cell in nb.cells:
        if nbtools.is_answer(cell):
            begin, end = nbtools.SOLUTION_BEGIN, nbtools.SOLUTION_END
        elif nbtools.is_test(cell):
            begin, end = nbtools.HIDDEN_BEGIN, nbtools.HIDDEN_END
        else:
            outside += cell.source.splitlines()
            continue
        public = nbtools.strip_markers(cell.source, begin, end, keep_inside=False).splitlines()
        outside += public
        inside += [line for line in nbtools.strip_markers(cell.source, begin, end).splitlines() if line not in public]
    public_lines = {line.strip() for line in outside}
    return [line.strip() for line in inside if len(line.strip()) > 25 and line.strip() not in public_lines]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_stubs_no_solutions_no_hidden_tests(release_dir, assignment):
    path = release_dir / assignment / exercises.notebook_name(assignment)
    released = nbtools.read(path)
    released_code = "\n".join(cell.source for cell in released.cells)
    for marker in (nbtools.SOLUTION_BEGIN, nbtools.HIDDEN_BEGIN):
        assert marker not in released_code
    for name, answer in nbtools.answer_sources(released).items():
        assert "raise NotImplementedError()" in answer, name
    secrets = secret_lines(source(assignment))
    assert secrets, "no solution or hidden-test line to look for"
    released_lines = {line.strip() for line in released_code.splitlines()}
    leaked = [line for line in secrets if line in released_lines]
    assert not leaked, leaked[:3]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_runs_failing_only_with_not_implemented(release_dir, assignment):
    path = release_dir / assignment / exercises.notebook_name(assignment)
    assert authoring.run_release(path, assignment) == []
