"""What the instructor hands out: the released notebooks and a student wheel of ``coursekit``.

``python -m autograder handout --out handout/ [--unlock ID ...]`` writes

- ``handout/notebooks/<assignment id>/<notebook>.ipynb``: the released notebooks (``course.release``);
- ``handout/coursekit-<version>-py3-none-any.whl``: ``coursekit`` in which every reference of a
  *locked* assignment (every assignment not given with ``--unlock``) is a stub that raises
  ``coursekit.nn.X is the answer of A: it unlocks after that assignment closes``.

The wheel is built by ``pip wheel --no-deps`` (setuptools, in pip's build isolation) from a
generated tree: a copy of ``coursekit/`` whose ``nn/*.py`` are edited along their :mod:`ast`: a
locked function's lines become one call of the stub, and private helpers that only locked functions
used are dropped (everything else keeps its text and comments). So no source of a locked reference
is in the wheel (no ``.pyc`` either: pip does not compile wheels). A public ``nn`` function that is not graded but named ``<graded function>_<suffix>``
(``conv2d_forward_keep_dtype``) is locked with that function.

A stub first looks for the student's own function of the same name in the notebook (``__main__``):
a course figure or explorer that draws with ``coursekit.nn.im2col`` then runs with the student's
``im2col`` once it is defined. Another assignment's layer a notebook uses (``08_architectures``
uses ``conv2d_forward`` of ``01_conv_as_matmul``) works once that assignment is unlocked; until
then its stub's error names the assignment, and ``handout`` prints which notebooks need what.
"""

import ast
import inspect
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import course, exercises

PACKAGE = Path(__file__).resolve().parent.parent / "coursekit"
NN_MODULE_NAMES = ("conv", "linear", "pooling", "norm", "init", "optim", "arch")

LOCKED_MODULE = '''"""Stubs of the course's reference layers whose assignment is still open (written by the handout)."""

import sys
import threading

_inside = threading.local()


class LockedReference(RuntimeError):
    """A reference layer of an assignment that is still open."""


def locked(name, assignment):
    """A stand-in for ``coursekit.nn.<name>``: the student's own ``name`` in the notebook, or a clear error."""

    def stub(*args, **kwargs):
        own = getattr(sys.modules.get("__main__"), name, None)
        if callable(own) and getattr(own, "__module__", None) == "__main__" and not getattr(_inside, name, False):
            setattr(_inside, name, True)   # the student's function calling coursekit.nn.<name>: no recursion
            try:
                return own(*args, **kwargs)
            finally:
                setattr(_inside, name, False)
        raise LockedReference(
            f"coursekit.nn.{name} is the answer of {assignment}: it unlocks after that assignment closes. "
            f"Until then, the course's figures and explorers use your own {name} once you have defined it "
            f"in this notebook.")

    stub.__name__ = stub.__qualname__ = name
    stub.__doc__ = f"Locked: the answer of {assignment}; it unlocks after that assignment closes."
    return stub
'''

PYPROJECT = '''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "coursekit"
version = "{version}"
description = "ConvNets from Scratch: the student package (locked: {locked})."
requires-python = ">=3.11"
dependencies = ["numpy>=1.26", "scipy>=1.11", "matplotlib>=3.8", "ipywidgets>=8.1"]

[tool.setuptools.packages.find]
include = ["coursekit*"]

[tool.setuptools.package-data]
coursekit = ["datasets/*.csv.gz", "datasets/*.md", "locale/*/*.json"]
'''


def locked_functions(locked_assignments):
    """``{function: assignment}`` of every ``coursekit.nn`` function to stub for these assignments."""
    import coursekit.nn as nn

    owners = {f: a for a in locked_assignments for f in exercises.functions(a)}
    graded = {f for a in exercises.EXERCISES for f in exercises.functions(a)}
    for name in dir(nn):
        if name.startswith("_") or name in graded or not inspect.isfunction(getattr(nn, name)):
            continue
        variants = [f for f in graded if name.startswith(f + "_")]
        if variants and max(variants, key=len) in owners:
            owners[name] = owners[max(variants, key=len)]
    return owners


def _names_used(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | \
           {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def lock_module(source, owners, used_elsewhere=frozenset()):
    """``source`` of an ``nn`` module with the functions in ``owners`` stubbed and their private helpers dropped.

    The rest of the text stays as written (comments included); a locked function's lines, decorators and
    the comment lines right above it are replaced by one line ``name = _locked("name", "assignment")``.
    ``used_elsewhere``: names other modules of the package take from this one (kept if defined here).
    """
    tree = ast.parse(source)
    stubbed = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in owners}
    dropped = set()
    while True:  # private top-level functions that nothing left uses, until none is dropped
        kept = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and (n.name in stubbed or n.name in dropped))]
        used = set(used_elsewhere)
        for node in kept:
            used |= _names_used(node) - ({node.name} if isinstance(node, ast.FunctionDef) else set())
        unused = {n.name for n in kept if isinstance(n, ast.FunctionDef) and n.name.startswith("_") and n.name not in used}
        if not unused:
            break
        dropped |= unused
    if not stubbed:
        return source
    lines = source.splitlines()
    for node in sorted((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in stubbed | dropped),
                       key=lambda n: n.lineno, reverse=True):
        first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        while first > 0 and lines[first - 1].lstrip().startswith("#"):
            first -= 1   # the comment that explains it
        replacement = [f"{node.name} = _locked({node.name!r}, {owners[node.name]!r})"] if node.name in stubbed else []
        lines[first:node.end_lineno] = replacement
    first_import = next(n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
    lines.insert(first_import.lineno - 1, "from .._locked import locked as _locked")
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines) + "\n")


def _imports_from_nn(package):
    """``{nn module: names}`` that modules of the package other than that one import from it (``from .conv import x``)."""
    wanted = {m: set() for m in NN_MODULE_NAMES}
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module.split(".")[-1]
                if module in wanted and path.stem != module:
                    wanted[module] |= {a.name for a in node.names}
    return wanted


def student_tree(root, locked_assignments):
    """Write the student package's source tree (``root/coursekit``, ``root/pyproject.toml``); returns ``root``."""
    root = Path(root)
    package = root / "coursekit"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    owners = locked_functions(locked_assignments)
    (package / "_locked.py").write_text(LOCKED_MODULE)
    imported = _imports_from_nn(package)
    for module in NN_MODULE_NAMES:
        path = package / "nn" / f"{module}.py"
        path.write_text(lock_module(path.read_text(), owners, frozenset(imported[module])))
    from coursekit import __version__ as version  # noqa: F401  (the repo's package version)
    locked = ", ".join(locked_assignments) or "none"
    (root / "pyproject.toml").write_text(PYPROJECT.format(version=version, locked=locked))
    return root


def build_wheel(tree, out):
    """``pip wheel`` of a generated tree into ``out``; returns the wheel's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("coursekit-*.whl"):
        old.unlink()
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                          "-q", "-w", str(out.resolve()), str(tree)], capture_output=True, text=True, cwd=tree)
    if run.returncode != 0:
        raise RuntimeError(f"building the student wheel failed:\n{run.stdout}{run.stderr}")
    return next(out.glob("coursekit-*.whl"))


def dependencies():
    """``{assignment: {function: owner}}``: the references of *other* assignments each notebook runs.

    Read from the notebooks' code outside answer cells and hidden tests, and from the course
    modules they import (``coursekit.model``, ``coursekit.widgets``, ``coursekit.architectures``).
    """
    owner = {f: a for a in exercises.EXERCISES for f in exercises.functions(a)}
    needs = {}
    for assignment in exercises.assignment_ids():
        names = nn_names_used(exercises.source_notebook(assignment))
        needs[assignment] = {n: owner[n] for n in sorted(names) if n in owner and owner[n] != assignment}
    return needs


def _nn_names_in(tree, nn_aliases=("nn", "_conv", "_arch", "reference")):
    """``coursekit.nn`` names a piece of code uses: imported from it, or read as ``<alias>.<name>``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and (
                node.module.startswith("coursekit.nn") or node.module.lstrip(".").startswith("nn")
                or (node.level and node.module in NN_MODULE_NAMES)):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in nn_aliases:
            names.add(node.attr)
    return names


def _course_module_names(tree):
    """Names of the course's modules (other than ``nn``) a piece of code imports from, as module files."""
    import importlib

    files = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("coursekit") \
                and not node.module.startswith("coursekit.nn"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                defined = inspect.getmodule(value) if value is not None else None
                if inspect.ismodule(value):
                    defined = value
                if defined is not None and getattr(defined, "__file__", None):
                    files.add(Path(defined.__file__))
    return files


def nn_names_used(path):
    """The ``coursekit.nn`` names a source notebook runs outside its answer cells and hidden tests.

    With the names the course modules it imports use (their own imports, followed once more).
    """
    from . import notebook

    nb = notebook.read(path)
    names, files = set(), set()
    for cell in nb.cells:
        if cell.cell_type != "code" or notebook.is_answer(cell):
            continue
        source = notebook.without_hidden_tests(cell.source)
        try:
            tree = ast.parse("\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in source.splitlines()))
        except SyntaxError:
            continue
        names |= _nn_names_in(tree)
        files |= _course_module_names(tree)
    seen = set()
    while files - seen:
        path = (files - seen).pop()
        seen.add(path)
        tree = ast.parse(path.read_text())
        names |= _nn_names_in(tree)
        files |= _course_module_names(tree) | {p for p in _relative_modules(tree, path)}
    return names


def _relative_modules(tree, path):
    """Files of the course's modules a module imports relatively (``from .model import x``), except ``nn``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level and node.module and not node.module.startswith("nn"):
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            candidate = base.joinpath(*node.module.split("."))
            for file in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                if file.exists() and PACKAGE in file.parents and "nn" not in file.relative_to(PACKAGE).parts:
                    yield file


def handout(out, unlock=()):
    """Write the handout to ``out``; returns ``(wheel path, [warning])``."""
    out = Path(out)
    for assignment in unlock:
        exercises.notebook_name(assignment)  # NotRegistered for an unknown id
    locked = [a for a in exercises.assignment_ids() if a not in unlock]
    course.release(out / "notebooks")
    with tempfile.TemporaryDirectory(prefix="cfs-handout-") as tmp:
        wheel = build_wheel(student_tree(Path(tmp) / "src", locked), out)
    warnings = []
    for assignment, needs in dependencies().items():
        missing = sorted({a for a in needs.values() if a in locked})
        if missing:
            names = ", ".join(n for n, a in needs.items() if a in missing)
            warnings.append(f"{assignment} uses {names} of {', '.join(missing)} (locked): those cells say it "
                            f"unlocks after that assignment closes; hand out again with --unlock {' '.join(missing)} "
                            f"once it has")
    return wheel, warnings
