"""The feedback page a student opens: nbgrader's feedback, with exercise names and formulas that render offline.

nbgrader's ``generate_feedback`` writes the page with the course's template
(``templates/cfs_feedback``, which extends nbgrader's own ``feedback`` template)
and two preprocessors of this module:

- ``ExerciseNames`` tells the template which exercise each test cell grades, so the
  summary reads ``conv2d_forward — test_conv2d_forward: 2 / 3``, not "Test cell";
- ``OfflineMathJax`` puts MathJax 3 (from the ``django-static-mathjax`` package, which has no
  dependency) into the page's own folder as ``mathjax/``, through nbconvert's resource
  outputs (how nbconvert writes extracted figures): the feedback folder is self-contained,
  the page loads nothing from the network, and it still works after
  ``nbgrader release_feedback`` copies ``feedback/<student>/<assignment>/`` to the student.
"""

import shutil
from importlib import metadata
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from . import exercises

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "cfs_feedback"  # a folder of TEMPLATES; its conf.json names nbgrader's "feedback" as base
TEMPLATE_FILE = "feedback_page.html.j2"

MATHJAX_PACKAGE = "django-static-mathjax"  # MathJax 3.2 as files; its Django part is unused and needs no Django
MATHJAX_DIR = "mathjax"  # beside the page
# MathJax's single-file TeX-to-SVG build (every TeX extension, SVG output needs no font files), the
# safe extension it loads (no javascript: links in student-written formulas), and its licence.
MATHJAX_FILES = {
    "tex-svg-full.js": "es5/tex-svg-full.js",
    "ui/safe.js": "es5/ui/safe.js",
    "LICENSE": "LICENSE",
}
MATHJAX_URL = f"{MATHJAX_DIR}/tex-svg-full.js"  # relative to the page; templates/cfs_feedback/mathjax.html.j2 loads it


def mathjax_sources():
    """``{name in mathjax/: file of the installed MathJax}``; a clear error if the package is missing."""
    try:
        distribution = metadata.distribution(MATHJAX_PACKAGE)
    except metadata.PackageNotFoundError:
        raise RuntimeError(f"MathJax for the feedback pages is missing: pip install {MATHJAX_PACKAGE}") from None
    root = Path(distribution.locate_file("mathjax/static/mathjax"))
    sources = {name: root / relative for name, relative in MATHJAX_FILES.items()}
    missing = [str(path) for path in sources.values() if not path.is_file()]
    if missing:
        raise RuntimeError(f"{MATHJAX_PACKAGE} is installed without {', '.join(missing)}: reinstall it")
    return sources


def nbgrader_templates():
    import nbgrader

    return Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"


class ExerciseNames(Preprocessor):
    """``resources["exercise_of"] = {test cell grade_id: graded function}`` for the page's summary."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        assignment = (resources.get("nbgrader") or {}).get("assignment")
        names = {}
        if assignment in exercises.EXERCISES:
            for cell in nb.cells:
                grade_id = (cell.metadata.get("nbgrader") or {}).get("grade_id")
                function = exercises.function_of_test(grade_id, assignment) if grade_id else None
                if function:
                    names[grade_id] = function
        resources["exercise_of"] = names
        return nb, resources


class OfflineMathJax(Preprocessor):
    """MathJax's files as resource outputs: nbconvert's writer puts them in ``mathjax/`` beside the page."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        outputs = resources.setdefault("outputs", {})
        for name, path in mathjax_sources().items():
            outputs[f"{MATHJAX_DIR}/{name}"] = path.read_bytes()
        return nb, resources


def configure(config):
    """Select the course's feedback template for nbgrader's GenerateFeedback (and nothing else).

    The keys are scoped to ``GenerateFeedback.HTMLExporter``: formgrader's own HTMLExporter keeps its
    templates, and NbGraderAPI.generate_feedback, which forces ``HTMLExporter.template_name =
    'feedback'``, is overridden by the more specific section.
    """
    exporter = config.GenerateFeedback.HTMLExporter
    exporter.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates())]
    exporter.template_name = TEMPLATE_NAME
    exporter.template_file = TEMPLATE_FILE
    exporter.mathjax_url = MATHJAX_URL
    return config


PREPROCESSORS = [ExerciseNames, OfflineMathJax]


def deliver(page, target):
    """Copy a job's feedback ``page`` to ``target`` and, if it loads the local MathJax, MathJax beside it.

    (The job ships only the page; the files come from the installed package, like nbgrader's own
    generate_feedback writes them.)
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(page, target)
    if f'src="{MATHJAX_URL}"' in Path(page).read_text(encoding="utf-8", errors="replace"):
        for name, source in mathjax_sources().items():
            destination = target.parent / MATHJAX_DIR / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
