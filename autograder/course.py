"""nbgrader course directories: source notebooks in, student releases and a gradebook out."""

import contextlib
import io
import json
import logging
import os
import shutil
import sys
from pathlib import Path

import nbformat
from traitlets.config import Config

from . import exercises, feedback

COURSE_ID = "convnets-from-scratch"
CELL_TIMEOUT = 30  # seconds per cell in the student's kernel


def nbgrader_config(root, cell_timeout=CELL_TIMEOUT):
    """The nbgrader configuration of a course root (the same keys a nbgrader_config.py would set)."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import ClearHiddenTests, GetGrades, LimitOutput

    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{Path(root) / 'gradebook.db'}"
    c.Execute.timeout = cell_timeout
    c.Execute.interrupt_on_timeout = True
    c.Execute.kernel_name = "python3"
    # Once the last cell has replied the kernel has nothing more to give: stop it at once instead of asking it
    # to shut down and waiting (0.3 s of each submission); the job kills whatever the student's code left.
    c.Execute.shutdown_kernel = "immediate"
    # Kernels talk over IPC sockets in the job's own runtime folder: parallel jobs never race for
    # TCP ports (jupyter/nbgrader#174), and no other process can reach a student's kernel.
    sockets = str(Path(root) / "runtime" / "kernel")  # absolute: the kernel runs in another folder
    for manager in (c.KernelManager, c.AsyncKernelManager):
        manager.transport = "ipc"
        manager.ip = sockets
    c.LimitOutput.max_lines = 200
    c.LimitOutput.max_traceback = 50
    c.OverwriteCells.add_missing_cells = True
    # Feedback: never show hidden tests, and keep outputs short; the course's template (exercise names in
    # the summary) and formulas as MathML (autograder/feedback.py).
    c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, LimitOutput, *feedback.PREPROCESSORS,
                                        CSSHTMLHeaderPreprocessor]
    feedback.configure(c)
    c.Exchange.root = str(Path(root) / "exchange")
    return c


def tools_on_path():
    """nbgrader runs ``alembic`` and kernels by name: find them beside this Python (a venv's bin/)."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def alembic_head():
    """The revision a new gradebook is stamped with: the head of nbgrader's migrations, read in this process."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def nbgrader_ready():
    """Before using nbgrader: its tools on PATH, and new gradebooks stamped without a subprocess.

    nbgrader stamps a new gradebook.db with the output of ``alembic heads``, a new Python process that
    imports alembic and SQLAlchemy again: 2 s of every course copy built (a release, each grading run).
    The same answer, read from the same migration scripts in this process, takes milliseconds.
    """
    import nbgrader.api

    tools_on_path()
    nbgrader.api.get_alembic_version = alembic_head


def api(root, cell_timeout=CELL_TIMEOUT):
    nbgrader_ready()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = nbgrader_config(root, cell_timeout)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


@contextlib.contextmanager
def quiet():
    """nbgrader logs a lot at INFO; keep the instructor's terminal for our own output."""
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logging.disable(logging.NOTSET)


def build(root, assignments=None, lang="en"):
    """A course root with ``source/`` copied from ``notebooks/`` (in ``lang``) and every assignment generated.

    Returns the path of ``root``; ``root/release/<id>/<notebook>`` are the student versions
    and ``root/gradebook.db`` knows every assignment.
    """
    from . import translations

    root = Path(root)
    assignments = assignments or exercises.assignment_ids()
    for assignment in assignments:
        source = root / "source" / assignment
        source.mkdir(parents=True, exist_ok=True)
        target = source / exercises.notebook_name(assignment)
        if lang == translations.ENGLISH:
            shutil.copy(exercises.source_notebook(assignment), target)
        else:
            nbformat.write(translations.source_in(assignment, lang), str(target))
    grader = api(root)
    for assignment in assignments:
        with quiet():
            result = grader.generate_assignment(assignment)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.get('log', '')}{result.get('error', '')}")
    return root


def release(out, assignments=None, workdir=None, lang="en"):
    """Student versions of every assignment in ``out/<id>/<notebook>.ipynb``, their prose in ``lang``
    (and, in another language than English, the explorers' settings file beside each notebook)."""
    import tempfile

    out = Path(out)
    if out.resolve() == exercises.NOTEBOOKS or exercises.NOTEBOOKS in out.resolve().parents:
        raise ValueError(f"--out {out} is the source notebooks' folder: the release would overwrite the solutions")
    with tempfile.TemporaryDirectory(prefix="cfs-release-", dir=workdir) as tmp:
        root = build(Path(tmp) / "course", assignments, lang)
        for assignment in assignments or exercises.assignment_ids():
            target = out / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / "release" / assignment, target)
            if lang != "en":
                write_language_settings(target, lang)
    return out


def write_language_settings(folder, lang):
    """The settings file that makes the explorers (``coursekit.widgets``) of the notebooks in ``folder`` speak ``lang``.

    The notebook's code stays the English one: its kernel, started in ``folder`` by JupyterLab,
    ``jupyter nbconvert --execute`` or nbgrader, finds the language here.
    """
    from coursekit.widgets._language import SETTINGS_FILE

    (Path(folder) / SETTINGS_FILE).write_text(json.dumps({"language": lang}) + "\n", encoding="utf-8")


def grading_template(root):
    """Copy of a built course's gradebook and config, without the source notebooks.

    Each submission is graded in its own copy, so no kernel can reach another
    student's results or the solutions.
    """
    template = Path(root) / "template"
    template.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(root) / "gradebook.db", template / "gradebook.db")
    return template


def gradebook(root):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}", COURSE_ID)


def set_scores(root, assignment, student, final):
    """Write the grader's final score of each cell back into the gradebook (``{cell name: score}``)."""
    with quiet(), gradebook(root) as gb:
        notebook = exercises.notebook_name(assignment).removesuffix(".ipynb")
        for name, score in final.items():
            grade = gb.find_grade(name, notebook, assignment, student)
            grade.auto_score = score
            grade.manual_score = None
            grade.needs_manual_grade = False
        gb.db.commit()


def environment_for_kernels():
    """Environment every student kernel inherits: quiet, single-threaded, headless plots."""
    os.environ.update({
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
