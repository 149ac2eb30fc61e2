"""Sample submissions made from a release notebook: the reference solution, partial, blank and hostile ones."""

import copy
import re

from . import exercises
from . import notebook as nbtools

# A deliberately wrong version of a function: its correct result, off by one.
OFF_BY_ONE = '''

_correct_{name} = {name}


def {name}(*args, **kwargs):
    """Demo submission: a wrong answer (every number off by one)."""
    def off(value):
        if isinstance(value, dict):
            return {{key: off(item) for key, item in value.items()}}
        if isinstance(value, (tuple, list)):
            return type(value)(off(item) for item in value)
        if hasattr(value, "__next__"):
            return (off(item) for item in value)
        return value + 1
    return off(_correct_{name}(*args, **kwargs))
'''

# Mistakes students really make, each wrapped around the correct function (as OFF_BY_ONE is).
BUGS = {
    "no-checks": "    try:\n        return _correct_{name}(*args, **kwargs)\n    except ValueError:\n        return None\n",
    "mutates-input": (
        "    result = _correct_{name}(*args, **kwargs)\n"
        "    for arg in args:\n"
        "        if hasattr(arg, 'flags') and arg.flags.writeable and arg.size:\n"
        "            arg.flat[0] += 1.0\n"
        "    return result\n"
    ),
    "wrong-shape": (
        "    result = _correct_{name}(*args, **kwargs)\n"
        "    return result[None] if hasattr(result, 'ndim') else result\n"
    ),
}
# Correct code that writes to stderr: a NumPy FutureWarning (a name looked up on numpy) and a RuntimeWarning.
NOISY = (
    "    import warnings\n"
    "    assert isinstance('{name}', str) and not hasattr(np, 'no_such_name')\n"
    "    warnings.warn('a harmless warning from correct code', RuntimeWarning)\n"
    "    return _correct_{name}(*args, **kwargs)\n"
)
BUG_WRAPPER = '''

_correct_{name} = {name}


def {name}(*args, **kwargs):
    """Demo submission: a realistic mistake."""
{body}'''

ATTACKS = {
    "tamper-numpy": (
        "import numpy\nimport numpy.testing\n"
        "numpy.allclose = lambda *args, **kwargs: True\n"
        "numpy.array_equal = lambda *args, **kwargs: True\n"
        "numpy.testing.assert_allclose = lambda *args, **kwargs: None\n"
    ),
    "tamper-helpers": (
        "import coursekit.testing\n"
        "def _silent(*args, **kwargs):\n    return None\n"
        "for _name in ('assert_close', 'assert_equal', 'assert_shape', 'assert_raises', 'assert_no_delegation'):\n"
        "    setattr(coursekit.testing, _name, _silent)\n    globals()[_name] = _silent\n"
        "assert_inputs_unchanged = lambda f, *a, **k: f(*a, **k)\n"
    ),
    "tamper-exceptions": (
        "import sys\n"
        "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
        "sys.excepthook = lambda *args: None\n"
    ),
    "kernel-exit": "import os\nos._exit(0)\n",
    "infinite-loop": "while True:\n    pass\n",
}


def _answer_cells(nb, assignment):
    functions = exercises.functions(assignment)
    return [cell for cell in nb.cells if nbtools.is_answer(cell) and nbtools.grade_id(cell) in functions]


def reference(release_nb, source_nb, assignment):
    """The release with every answer cell holding the source's solution."""
    nb = copy.deepcopy(release_nb)
    solutions = nbtools.answer_sources(source_nb)
    for cell in nb.cells:
        if nbtools.is_answer(cell) and nbtools.grade_id(cell) in solutions:
            cell.source = nbtools.solution_source(solutions[nbtools.grade_id(cell)])
    return nb


def leaf_functions(source_nb, assignment):
    """Graded functions no other answer uses: breaking one breaks exactly one exercise."""
    answers = nbtools.answer_sources(source_nb)
    leaves = []
    for function in [f for f in exercises.functions(assignment) if f in answers]:
        used_elsewhere = any(re.search(rf"\b{function}\b", src) for gid, src in answers.items() if gid != function)
        if not used_elsewhere:
            leaves.append(function)
    return leaves


def partial(release_nb, source_nb, assignment):
    """The reference solution with two leaf exercises made wrong; returns ``(notebook, broken functions)``."""
    nb = reference(release_nb, source_nb, assignment)
    leaves = leaf_functions(source_nb, assignment)
    broken = sorted({leaves[0], leaves[-1]}) if leaves else []
    for cell in _answer_cells(nb, assignment):
        if nbtools.grade_id(cell) in broken:
            cell.source += OFF_BY_ONE.format(name=nbtools.grade_id(cell))
    return nb, broken


def wrapped(release_nb, source_nb, assignment, body):
    """The reference solution with every leaf exercise wrapped in ``body`` (a ``BUGS`` entry, or ``NOISY``)."""
    nb = reference(release_nb, source_nb, assignment)
    leaves = leaf_functions(source_nb, assignment)
    for cell in _answer_cells(nb, assignment):
        name = nbtools.grade_id(cell)
        if name in leaves:
            cell.source += BUG_WRAPPER.format(name=name, body=body.format(name=name))
    return nb


def attack(release_nb, source_nb, assignment, kind):
    """A hostile submission: answers that return None, plus the attack at the top of the first answer cell.

    Without the attack it would score 0, like a blank notebook: any point it
    gets is one the attack won.
    """
    nb = copy.deepcopy(release_nb)
    cells = _answer_cells(nb, assignment)
    for cell in cells:
        cell.source = cell.source.replace("raise NotImplementedError()", "return None")
    if cells:
        cells[0].source = ATTACKS[kind] + "\n" + cells[0].source
    return nb


def delegating(release_nb, source_nb, assignment):
    """The reference solution, except one exercise (a leaf) calls the course's own reference implementation."""
    nb = reference(release_nb, source_nb, assignment)
    leaves = leaf_functions(source_nb, assignment)
    if not leaves:
        return nb, []
    name = leaves[0]
    for cell in _answer_cells(nb, assignment):
        if nbtools.grade_id(cell) == name:
            cell.source += f"\n\nfrom coursekit.nn import {name} as _reference\n\n\ndef {name}(*args, **kwargs):\n    return _reference(*args, **kwargs)\n"
    return nb, [name]
