"""Copied answers are flagged: the course's reference pasted with renamed variables and no comments is;
an independent solution (tests/independent) is not."""

import ast
import inspect
import textwrap

import pytest

import coursekit.nn as nn
from autograder import exercises, similarity
from autograder import notebook as nbtools

ASSIGNMENTS = [a for a in exercises.assignment_ids() if exercises.functions(a)]


class _Disguise(ast.NodeTransformer):
    """What a student does to pasted code: every argument and local renamed, docstrings dropped."""

    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.names.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node):
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            node.body = node.body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node


def disguised(function):
    """The repo's reference of ``function``: renamed locals (``my_<name>_2``), no docstring; comments go with unparse."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(nn, function))))
    top = tree.body[0]
    local = {a.arg for a in ast.walk(top.args) if isinstance(a, ast.arg)}
    local |= {n.id for n in ast.walk(top) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    tree = _Disguise({name: f"my_{name}_2" for name in local}).visit(tree)
    source = ast.unparse(tree)
    assert "my_" in source and "#" not in source
    return source


def long_enough(assignment, where=""):
    """The functions whose course code (``where`` it comes from, e.g. coursekit/nn) is long enough to compare."""
    source = nbtools.read(exercises.source_notebook(assignment))
    return source, [f for f, c in similarity.references(assignment, source).items() if any(where in w for w, _ in c)]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_pasted_reference_is_flagged(assignment):
    source, compared = long_enough(assignment, "coursekit/nn/")
    assert compared, f"no function of {assignment} is long enough to compare"
    for function in compared:
        cell = disguised(function)
        reasons = similarity.flags([(f"answer {function}", cell)], assignment, source)
        assert len(reasons) == 1 and reasons[0].startswith(f"copied code: {function} matches the course's "), reasons
        # The reference's file, named as an instructor finds it.
        assert f"coursekit/nn/{inspect.getsourcefile(getattr(nn, function)).rsplit('/', 1)[1]}" in reasons[0]
        assert "(similarity 1.00)" in reasons[0]


def independent_functions(assignment):
    from pathlib import Path
    path = Path(__file__).parent / "independent" / f"{assignment}.py"
    return similarity.functions_in(path.read_text())


def best_scores():
    """The highest similarity of each independent solution to the course's code, ``[(score, assignment, function)]``."""
    scores = []
    for assignment in ASSIGNMENTS:
        source = nbtools.read(exercises.source_notebook(assignment))
        course = similarity.references(assignment, source)
        for name, tree in independent_functions(assignment).items():
            if course.get(name):
                mine = similarity.tokens(tree)
                scores.append((max(similarity.score(mine, t) for _, t in course[name]), assignment, name))
    return sorted(scores, reverse=True)


def test_independent_solutions_are_below_the_threshold_with_a_margin():
    scores = best_scores()
    assert len(scores) >= 40      # nearly every graded function has an independent solution compared
    top = scores[0]
    assert top[0] <= similarity.THRESHOLD - 0.05, f"margin too small: {top}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_independent_solution_is_not_flagged(assignment):
    from pathlib import Path
    source = nbtools.read(exercises.source_notebook(assignment))
    text = (Path(__file__).parent / "independent" / f"{assignment}.py").read_text()
    assert similarity.flags([("answer", text)], assignment, source) == []


def test_the_source_notebooks_solution_is_flagged_too():
    """A student who copies the source notebook's answer cell (solution markers removed)."""
    assignment = ASSIGNMENTS[0]
    source = nbtools.read(exercises.source_notebook(assignment))
    cells = [(f"answer {k}", nbtools.solution_source(v)) for k, v in nbtools.answer_sources(source).items()]
    flagged = {r.split(":")[1].split()[0] for r in similarity.flags(cells, assignment, source)}
    _, compared = long_enough(assignment)
    assert flagged == set(compared)


def test_scores_measure_edits():
    """A score is 1.0 for the same code however renamed, and falls as statements are rewritten."""
    a = similarity.functions_in("def f(x, y):\n    z = x + y\n    w = z * 2\n    return w - 1\n")["f"]
    b = similarity.functions_in("def g(p, q):\n    # sum\n    r = p + q\n    s = r * 2\n    return s - 1\n")["g"]
    c = similarity.functions_in("def g(p, q):\n    r = q + p\n    s = 2 * r\n    return s - 1\n")["g"]
    assert similarity.score(similarity.tokens(a), similarity.tokens(b)) == 1.0
    assert similarity.score(similarity.tokens(a), similarity.tokens(c)) == pytest.approx(2 * 1 / 6)
