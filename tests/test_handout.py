"""`python -m autograder handout`: what students get holds no answer of an open assignment, and still runs.

The wheel is installed into a fresh venv that cannot see the repository's coursekit (the test checks
which coursekit the kernel imported); the released notebooks run there, unanswered and with the
reference solutions pasted in from the source notebooks.
"""

import ast
import inspect
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

import coursekit.nn as repo_nn
from autograder import exercises, handout, notebook

FIRST = exercises.assignment_ids()[1]          # the first graded assignment (conv as matmul)
# The assignment of conv2d_backward (conv backprop): its setup imports FIRST's im2col, col2im, conv2d_forward.
DEPENDENT = exercises.assignment_of_function("conv2d_backward")

RUNNER = textwrap.dedent('''
    import json, sys
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.read(sys.argv[1], as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import coursekit; print(coursekit.__file__)"))
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}})
    result = {"ok": True}
    try:
        client.execute()
    except CellExecutionError as error:
        result = {"ok": False, "ename": error.ename, "evalue": error.evalue}
    result["coursekit"] = nb.cells[0].outputs[0]["text"].strip()
    print(json.dumps(result))
''')


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory):
    """A venv without the repository: this venv's libraries through a path line (its .pth hooks, such as
    the editable install of coursekit, do not run), coursekit only from a wheel installed later."""
    root = tmp_path_factory.mktemp("student")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True, timeout=120)
    python = root / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (root / "runner.py").write_text(RUNNER)
    return root, python, Path(site)


def install(venv, wheel):
    root, python, site = venv
    for old in site.glob("coursekit*"):
        subprocess.run(["rm", "-rf", str(old)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True, timeout=120)


def groups():
    """Assignments that can be checked with one handout: none uses another's references.

    Each group is handed out with its members locked and every other assignment unlocked, so each
    notebook runs with its own answers locked and everything it builds on unlocked.
    """
    needs = {a: set(n.values()) for a, n in handout.dependencies().items()}
    made = []
    for assignment in exercises.assignment_ids():
        for group in made:
            if not any(assignment in needs[other] or other in needs[assignment] for other in group):
                group.append(assignment)
                break
        else:
            made.append([assignment])
    return made


GROUPS = groups()


@pytest.fixture(scope="module")
def handouts(tmp_path_factory):
    """Everything locked, and one handout per group (its members locked, the others unlocked)."""
    work = tmp_path_factory.mktemp("handouts")
    made = {}
    configurations = [("locked", [])] + [
        (f"group{i}", ["--unlock", *(a for a in exercises.assignment_ids() if a not in group)])
        for i, group in enumerate(GROUPS)]
    for name, unlock in configurations:
        run = run_cli("handout", "--out", name, *unlock, cwd=work)
        assert run.returncode == 0, run.stderr
        made[name] = (work / name, next((work / name).glob("coursekit-*.whl")), run.stdout)
    return made


def group_of(assignment):
    return next(f"group{i}" for i, group in enumerate(GROUPS) if assignment in group)


# Code of the package outside coursekit.nn: shipped whatever is locked, so its lines are not distinctive.
SHARED_TEXT = "\n".join(p.read_text() for p in Path(repo_nn.__file__).parent.parent.rglob("*.py")
                        if "nn" not in p.relative_to(Path(repo_nn.__file__).parent.parent).parts)


SHARED_STATEMENTS = {ast.dump(node) for node in ast.walk(ast.parse(SHARED_TEXT)) if isinstance(node, ast.stmt)}


def reference_lines(function):
    """Distinctive lines of a reference's body in the repository (no docstring), the way they are written."""
    source = textwrap.dedent(inspect.getsource(getattr(repo_nn, function)))
    tree = ast.parse(source).body[0]
    body = tree.body[1:] if isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant) \
        else tree.body
    lines = set()
    for node in body:
        for line in ast.get_source_segment(source, node).splitlines():
            line = line.strip()
            if len(line) >= 25 and not line.startswith("#") and line not in SHARED_TEXT:
                lines.add(line)
    return lines


def reference_nodes(function):
    """The body of a reference as ``ast.dump`` strings of its statements (formatting-independent),
    without those the shipped code outside coursekit.nn has too (``x = np.asarray(x, dtype=np.float64)``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(repo_nn, function)))).body[0]
    return {ast.dump(node) for node in tree.body if not isinstance(node, ast.Expr)} - SHARED_STATEMENTS


def wheel_text(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        return names, {n: archive.read(n).decode("utf-8", "replace") for n in names}


def wheel_statements(files):
    dumps = set()
    for name, text in files.items():
        if name.endswith(".py"):
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.stmt):
                    dumps.add(ast.dump(node))
    return dumps


def test_locked_wheel_holds_no_reference_source(handouts):
    _, wheel, _ = handouts["locked"]
    names, files = wheel_text(wheel)
    assert not [n for n in names if n.endswith((".pyc", ".pyo"))]
    assert "coursekit/nn/conv.py" in names and "coursekit/testing.py" in names
    # The explorers' Korean texts as plain data; their gettext catalog stays with the instructors' tools.
    assert "coursekit/locale/ko/widgets.json" in names and not [n for n in names if n.endswith(".po")]
    statements = wheel_statements(files)
    for assignment in exercises.assignment_ids():
        for function in exercises.functions(assignment):
            for line in reference_lines(function):
                leaks = [n for n, text in files.items() if line in text]
                assert not leaks, f"{function}: {line!r} is in {leaks}"
            assert not reference_nodes(function) & statements, f"{function}: a statement of its body is in the wheel"


def test_unlocking_puts_the_references_back(handouts):
    assert FIRST not in GROUPS[int(group_of(DEPENDENT)[5:])]     # FIRST unlocked, DEPENDENT locked there
    _, wheel, _ = handouts[group_of(DEPENDENT)]
    _, files = wheel_text(wheel)
    statements = wheel_statements(files)
    for function in exercises.functions(FIRST):
        assert reference_nodes(function) <= statements, f"{function} of the unlocked {FIRST} is not in the wheel"
    unlocked = set().union(*(reference_nodes(f) for f in exercises.functions(FIRST)))
    for function in exercises.functions(DEPENDENT):   # its own statements: not a validation it shares with FIRST
        assert not (reference_nodes(function) - unlocked) & statements, f"{function} of the locked {DEPENDENT} is in the wheel"


def test_handout_says_which_notebooks_wait_for_which_assignment(handouts):
    folder, _, stdout = handouts["locked"]
    assert f"{DEPENDENT} uses" in stdout and f"--unlock {FIRST}" in stdout
    assert sorted(p.name for p in (folder / "notebooks").iterdir()) == exercises.assignment_ids()
    for i, group in enumerate(GROUPS):   # every dependency of the group's members is unlocked in its handout
        _, _, group_stdout = handouts[f"group{i}"]
        assert not [a for a in group if f"note: {a} uses" in group_stdout], group_stdout


def test_unknown_assignment_to_unlock_is_a_clear_error(tmp_path):
    run = run_cli("handout", "--out", "h", "--unlock", "99_nope", cwd=tmp_path)
    assert run.returncode == 2 and "99_nope is not registered" in run.stderr
    assert not (tmp_path / "h").exists()


def with_solutions(released, assignment, target):
    """The released notebook with each answer cell replaced by the source notebook's solution."""
    solutions = {k: notebook.solution_source(v)
                 for k, v in notebook.answer_sources(notebook.read(exercises.source_notebook(assignment))).items()}
    nb = notebook.read(released)
    for cell in nb.cells:
        if notebook.is_answer(cell):
            cell.source = solutions[notebook.grade_id(cell)]
    import nbformat
    nbformat.write(nb, target)
    return target


def run_notebook(venv, path):
    root, python, site = venv
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CFS_", "VIRTUAL_ENV"))}
    env.update(MPLBACKEND="Agg", PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}")
    run = subprocess.run([str(python), str(root / "runner.py"), str(path), str(path.parent)], cwd=path.parent,
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(result["coursekit"]).is_relative_to(site), f"the kernel imported {result['coursekit']}"
    return result


def released(folder, assignment):
    return folder / "notebooks" / assignment / exercises.notebook_name(assignment)


def test_locked_handout_runs_the_first_notebook_and_stops_clearly_at_a_locked_dependency(handouts, student_venv, tmp_path):
    folder, wheel, _ = handouts["locked"]
    install(student_venv, wheel)
    # FIRST depends on no other assignment: with the solutions pasted it runs top to bottom, its own
    # figures and explorers drawing with the student's functions.
    result = run_notebook(student_venv, with_solutions(released(folder, FIRST), FIRST, tmp_path / "first.ipynb"))
    assert result["ok"], result
    # Unanswered, it stops at the student's own stub.
    result = run_notebook(student_venv, released(folder, FIRST))
    assert not result["ok"] and result["ename"] == "NotImplementedError", result
    # DEPENDENT uses FIRST's layers: even answered, the locked reference says which assignment it waits for.
    result = run_notebook(student_venv, with_solutions(released(folder, DEPENDENT), DEPENDENT, tmp_path / "dep.ipynb"))
    assert not result["ok"] and result["ename"] == "LockedReference", result
    assert f"is the answer of {FIRST}: it unlocks after that assignment closes" in result["evalue"]




@pytest.mark.parametrize("assignment", exercises.assignment_ids())
def test_released_notebook_runs_once_what_it_builds_on_is_unlocked(assignment, handouts, student_venv, tmp_path):
    """Its answers pasted, it runs top to bottom; unanswered, it stops at the student's own stub."""
    folder, wheel, _ = handouts[group_of(assignment)]
    install(student_venv, wheel)
    result = run_notebook(student_venv, with_solutions(released(folder, assignment), assignment, tmp_path / "a.ipynb"))
    assert result["ok"], result
    if exercises.functions(assignment):
        result = run_notebook(student_venv, released(folder, assignment))
        assert not result["ok"] and result["ename"] == "NotImplementedError", result
