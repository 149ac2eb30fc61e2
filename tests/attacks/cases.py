"""The attack corpus: one hostile or broken submission per case, built from the attack course's release.

Each case is ``(name, expectation, build)``. ``build(ctx)`` writes the
submission folder of student ``name`` under ``ctx.submissions`` (or leaves it
malformed). Expectations:

- ``"cheat"``: scores no more than a blank notebook, and is flagged;
- ``"abuse"``: is flagged; its score is whatever its correct parts earn;
- ``"broken"``: scores 0 and is flagged with a reason;
- ``"fine"``: an unusual but honest submission: full marks, not flagged.
"""

import copy
import shutil
import zipfile

import nbformat

from autograder import exercises, samples
from autograder import notebook as nbtools

ASSIGNMENT = "01_conv_as_matmul"
NOTEBOOK = exercises.notebook_name(ASSIGNMENT)


def _save(ctx, student, nb, name=NOTEBOOK, version=4):
    folder = ctx.submissions / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / name), version=version)
    return folder


def reference(ctx):
    return samples.reference(ctx.release, ctx.source, ASSIGNMENT)


def wrong(ctx):
    """Every answer off by one: what a cheat must hide."""
    nb = reference(ctx)
    for cell in nb.cells:
        if nbtools.is_answer(cell):
            cell.source += samples.OFF_BY_ONE.format(name=nbtools.grade_id(cell))
    return nb


def with_code(base, code, where="first"):
    """``base`` with ``code`` prepended to the first answer cell (or appended to the last)."""
    nb = copy.deepcopy(base)
    answers = [c for c in nb.cells if nbtools.is_answer(c)]
    cell = answers[0] if where == "first" else answers[-1]
    cell.source = code + "\n" + cell.source if where == "first" else cell.source + "\n" + code
    return nb


def injected(code, base=wrong):
    def build(ctx, student):
        _save(ctx, student, with_code(base(ctx), code.format(**ctx.paths)))
    return build


def editing_tests(change):
    def build(ctx, student):
        nb = wrong(ctx)
        for cell in list(nb.cells):
            if nbtools.is_test(cell):
                change(nb, cell)
        _save(ctx, student, nb)
    return build


def _blank_test(nb, cell):
    cell.source = "pass"


def _delete_test(nb, cell):
    nb.cells.remove(cell)


def _edit_metadata(nb, cell):
    meta = cell.metadata["nbgrader"]
    meta["points"] = 100
    meta["checksum"] = "0" * 32
    if meta["grade_id"] == "test_conv_param_count":
        meta["grade_id"] = "test_conv_param_count_extra"


CASES = []


def case(name, expectation):
    def register(build):
        CASES.append((name, expectation, build))
        return build
    return register


# -- tampering inside the kernel --------------------------------------------------------------
for name, code in {
    "rebind-numpy": "import numpy, numpy.testing\nnumpy.allclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True\n"
                    "numpy.testing.assert_allclose = lambda *a, **k: None\nnumpy.abs = lambda x: 0 * x",
    "silence-helpers": "import coursekit.testing as _t\n_quiet = lambda *a, **k: None\n"
                       "for _n in ('assert_close', 'assert_equal', 'assert_raises'):\n    setattr(_t, _n, _quiet)\n    globals()[_n] = _quiet\n"
                       "assert_inputs_unchanged = lambda f, *a, **k: f(*a, **k)",
    "replace-module": "import sys, types, coursekit\n_fake = types.ModuleType('coursekit.testing')\n"
                      "for _n in ('assert_close', 'assert_equal', 'assert_raises'):\n    setattr(_fake, _n, lambda *a, **k: None)\n"
                      "_fake.assert_inputs_unchanged = lambda f, *a, **k: f(*a, **k)\n"
                      "sys.modules['coursekit.testing'] = _fake\ncoursekit.testing = _fake\nglobals().update(vars(_fake))",
    "custom-exc": "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
    "excepthook": "import sys\nsys.excepthook = lambda *a: None",
    "showtraceback": "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\nip._showtraceback = lambda *a, **k: None",
    "rebind-builtins": "import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {{}})\n"
                       "builtins.NotImplementedError = type('Quiet2', (Exception,), {{}})",
    "input-transformer": "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])",
}.items():
    CASES.append((name, "cheat", injected(code)))

@case("hard-coded", "cheat")
def _hard_coded(ctx, student):
    nb = copy.deepcopy(ctx.release)
    bodies = {
        "conv_output_size": "def conv_output_size(n, k, stride=1, pad=0, dilation=1):\n    return 3 if stride == 1 else 4",
        "correlate2d_loops": "def correlate2d_loops(x, k):\n    return np.full((3, 4), -6.0)",
        "conv_param_count": "def conv_param_count(c_in, c_out, kh, kw, bias=True):\n    return 23296",
    }
    for cell in nb.cells:
        if nbtools.is_answer(cell):
            cell.source = bodies[nbtools.grade_id(cell)]
    _save(ctx, student, nb)


CASES.append(("edit-test-cells", "cheat", editing_tests(_blank_test)))
CASES.append(("delete-test-cells", "cheat", editing_tests(_delete_test)))
CASES.append(("edit-test-metadata", "cheat", editing_tests(_edit_metadata)))

# -- resource abuse ----------------------------------------------------------------------------
CASES.append(("infinite-loop", "abuse", injected("while True:\n    pass", base=reference)))
@case("sleep-forever", "abuse")
def _sleep(ctx, student):
    nb = reference(ctx)
    _save(ctx, student, with_code(nb, "import time\n\ndef conv_param_count(*args, **kwargs):\n    time.sleep(10**6)", where="last"))


CASES.append(("memory-blow-up", "abuse", injected("_hog = bytearray(64 * 1024**3)", base=reference)))
CASES.append(("output-flood", "abuse", injected("print('x' * 5_000_000)\nfor _ in range(200_000):\n    print('flood')", base=reference)))
CASES.append(("fork-storm", "abuse", injected(
    "import os, time\nfor _ in range(40):\n    if os.fork() == 0:\n        time.sleep(600)\n        os._exit(0)", base=reference)))
CASES.append(("thread-storm", "abuse", injected(
    "import threading, time\nfor _ in range(300):\n    threading.Thread(target=time.sleep, args=(600,), daemon=True).start()", base=reference)))

# -- escaping the submission ---------------------------------------------------------------------
CASES.append(("read-solutions", "cheat", injected(
    "import json\n_cells = json.load(open({source_notebook!r}))['cells']\n"
    "for _c in _cells:\n    if _c.get('metadata', {{}}).get('nbgrader', {{}}).get('solution'):\n        exec(''.join(_c['source']))")))
CASES.append(("read-solutions-via-package", "cheat", injected(
    "import json, autograder.exercises as _e\n_cells = json.load(open(_e.source_notebook('01_conv_as_matmul')))['cells']\n"
    "for _c in _cells:\n    if _c.get('metadata', {{}}).get('nbgrader', {{}}).get('solution'):\n        exec(''.join(_c['source']))")))
CASES.append(("write-gradebook", "cheat", injected(
    "import sqlite3, glob\nfor _db in glob.glob('../../../gradebook.db') + glob.glob('/tmp/**/gradebook.db', recursive=True):\n"
    "    try:\n        _c = sqlite3.connect(_db)\n        _c.execute('UPDATE grade SET auto_score = 100')\n        _c.commit()\n    except Exception:\n        pass")))
CASES.append(("write-results", "cheat", injected(
    "import os\nfor _p in [{out!r} + '/grades.csv', {out!r} + '/feedback/clean/x.html', {other_student!r} + '/evil.txt',\n"
    "           {out!r} + '/.cache/clean--01_conv_as_matmul.json']:\n"
    "    try:\n        os.makedirs(os.path.dirname(_p), exist_ok=True)\n        open(_p, 'w').write('owned')\n    except OSError:\n        pass")))
CASES.append(("write-course-code", "cheat", injected(
    "try:\n    open({testing_module!r}, 'a').write('\\nassert_close = lambda *a, **k: None\\n')\nexcept OSError:\n    pass")))
CASES.append(("kill-kernel", "cheat", injected("import os\nos._exit(0)")))
CASES.append(("kill-grader", "cheat", injected("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")))


# -- broken input -------------------------------------------------------------------------------------
@case("invalid-json", "broken")
def _invalid_json(ctx, student):
    folder = ctx.submissions / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text('{"cells": [{"cell_type": "code",')


@case("other-assignment", "broken")
def _other_assignment(ctx, student):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def linear_forward(x, w, b):\n    return x @ w + b",
        metadata={"nbgrader": {"schema_version": 3, "grade": False, "solution": True, "locked": False, "grade_id": "linear_forward"}})])
    _save(ctx, student, nb)


@case("missing-notebook", "broken")
def _missing(ctx, student):
    folder = ctx.submissions / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(reference(ctx), str(folder / "conv_as_matmul (1).ipynb"))


@case("empty-folder", "broken")
def _empty(ctx, student):
    (ctx.submissions / student).mkdir(parents=True)


@case("lms-zip", "broken")
def _zip(ctx, student):
    (ctx.submissions / student).mkdir(parents=True)
    with zipfile.ZipFile(ctx.submissions / student / "submission.zip", "w") as zf:
        zf.writestr(f"{ASSIGNMENT}/{NOTEBOOK}", nbformat.writes(reference(ctx)))


@case("old-nbformat", "fine")
def _old_format(ctx, student):
    _save(ctx, student, reference(ctx), version=3)


@case("new-cell-ids", "fine")
def _new_ids(ctx, student):
    nb = reference(ctx)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"renamed-{index}"
    _save(ctx, student, nb)


@case("extra-files", "fine")
def _extra(ctx, student):
    folder = _save(ctx, student, reference(ctx))
    (folder / "notes.txt").write_text("my notes")
    (folder / "helper.py").write_text("raise SystemExit('never imported')\n")
    shutil.copy(folder / NOTEBOOK, folder / "backup.ipynb")
