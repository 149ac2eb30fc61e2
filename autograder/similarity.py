"""Answers copied from the course's own code: an answer's function against the reference and the solution.

For the open-source case: a student who finds the repository can paste ``coursekit/nn``'s reference
or the source notebook's solution, rename the variables and strip the comments. Each graded
function an answer cell defines is compared with both, after normalising the code:

- docstrings and comments go (comments are not in the AST anyway);
- arguments and local variables are renamed ``v0, v1, ...`` in order of first appearance, so
  renaming them changes nothing; global names (``np``, helpers) and attributes stay;
- string constants (error messages) become one token ``str``; numbers keep their value (``1.0``
  and ``1.`` are the same number).

The score is ``difflib.SequenceMatcher.ratio`` over the two functions' normalised statements (each
statement unparsed after the renaming, compound statements by their header): 1.0 is the same code,
and each statement written otherwise lowers it. Functions of fewer than ``MIN_STATEMENTS`` statements
are not compared (``np.maximum(x, 0)`` can only be written
a few ways). Above ``THRESHOLD`` the submission is flagged:
``copied code: <function> matches the course's reference coursekit/nn/<file>.py (similarity 0.97)``.
The score never changes a grade.
"""

import ast
import difflib
import inspect
import textwrap
from pathlib import Path

from . import exercises
from . import notebook as nbtools

THRESHOLD = 0.9   # independent solutions of the course: at most 0.80 (tests/test_similarity.py)
MIN_STATEMENTS = 4

COPIED_FLAG = "copied code"  # the start of its flags.csv reasons


class _Normaliser:
    """Names of a function's arguments and locals, renamed ``v0, v1, ...`` in order of first appearance."""

    def __init__(self, function):
        self.local = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.local.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.Lambda)) and node is not function:
                self.local |= {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        self.names = {}

    def name(self, identifier):
        if identifier in self.local:
            return self.names.setdefault(identifier, f"v{len(self.names)}")
        return identifier


def tokens(function):
    """The normalised statements of an ``ast.FunctionDef`` (not its name), one string per statement.

    Compound statements (``if``, ``for``, ``with``...) give their header (``For v3 in range(v1)``)
    and then their body's statements, in order.
    """
    import copy

    normaliser = _Normaliser(function)
    for argument in ast.walk(function.args):   # the arguments first, in order
        if isinstance(argument, ast.arg):
            normaliser.name(argument.arg)
    tree = _Renamer(normaliser).visit(copy.deepcopy(function))
    lines = []

    def emit(statements):
        for node in statements:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node.value.value == "str":
                continue  # a docstring
            bodies = [getattr(node, f) for f in ("body", "orelse", "finalbody") if isinstance(getattr(node, f, None), list)]
            if bodies and not isinstance(node, ast.Lambda):
                header = [ast.unparse(getattr(node, f)) for f in ("test", "target", "iter") if getattr(node, f, None) is not None]
                header += [ast.unparse(item) for item in getattr(node, "items", [])]
                lines.append(f"{type(node).__name__} {' '.join(header)}")
                for body in bodies:
                    emit(body)
                for handler in getattr(node, "handlers", []):
                    lines.append(f"except {ast.unparse(handler.type) if handler.type else ''}")
                    emit(handler.body)
            else:
                lines.append(ast.unparse(node))

    emit(tree.body)
    return lines


class _Renamer(ast.NodeTransformer):
    """Apply a normaliser's renaming; every string becomes ``"str"``."""

    def __init__(self, normaliser):
        self.normaliser = normaliser

    def visit_Name(self, node):
        node.id = self.normaliser.name(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.normaliser.name(node.arg)
        node.annotation = None
        return node

    def visit_Constant(self, node):
        return ast.Constant("str") if isinstance(node.value, (str, bytes)) else node

    def visit_JoinedStr(self, node):
        return ast.Constant("str")


def functions_in(source):
    """``{name: ast.FunctionDef}`` of the top-level functions of some code (IPython lines dropped)."""
    python = "\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in source.splitlines())
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return {}
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def score(a, b):
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def references(assignment, source_nb):
    """``{function: [(where, tokens)]}``: the course's code each graded function of ``assignment`` could be copied from."""
    import coursekit.nn as nn

    found = {}
    solutions = {}
    for source in nbtools.answer_sources(source_nb).values():
        solutions.update(functions_in(nbtools.solution_source(source)))
    for function in exercises.functions(assignment):
        candidates = []
        reference = getattr(nn, function, None)
        if reference is not None and inspect.isfunction(reference):
            tree = functions_in(textwrap.dedent(inspect.getsource(reference))).get(function)
            path = Path(inspect.getsourcefile(reference))
            if tree is not None:
                candidates.append((f"the course's reference coursekit/nn/{path.name}", tokens(tree)))
        if function in solutions:
            candidates.append((f"the source notebook's solution {exercises.notebook_name(assignment)}",
                               tokens(solutions[function])))
        found[function] = [(where, t) for where, t in candidates if len(t) >= MIN_STATEMENTS]
    return found


def matches(cells, assignment, source_nb):
    """``[(function, where, similarity)]`` of the answer cells' functions at or above ``THRESHOLD``.

    ``cells``: ``[(label, source)]`` as ``job.student_cells`` gives them.
    """
    course = references(assignment, source_nb)
    found = []
    for _, source in cells:
        for name, tree in functions_in(source).items():
            candidates = course.get(name)
            if not candidates:
                continue
            mine = tokens(tree)
            where, best = max(((w, score(mine, t)) for w, t in candidates), key=lambda pair: pair[1])
            if best >= THRESHOLD:
                found.append((name, where, best))
    return found


def flags(cells, assignment, source_nb):
    """The flags.csv reasons for copied code, one per function."""
    return [f"{COPIED_FLAG}: {name} matches {where} (similarity {similarity:.2f})"
            for name, where, similarity in matches(cells, assignment, source_nb)]
