"""The feedback page a student opens: nbgrader's feedback, with exercise names and formulas that render offline.

nbgrader's ``generate_feedback`` writes the page with the course's template
(``templates/cfs_feedback``, which extends nbgrader's own ``feedback`` template)
and three preprocessors of this module:

- ``ExerciseNames`` tells the template which exercise each test cell grades, so the
  summary reads ``conv2d_forward — test_conv2d_forward: 2 / 3``, not "Test cell";
- ``MathMLFormulas`` turns the TeX formulas of the markdown cells into MathML (with the
  ``latex2mathml`` package), which the browser typesets itself: the page is one file that
  loads no script and nothing from the network, so it renders the same after
  ``nbgrader release_feedback`` copies the HTML file alone to the student, and in
  JupyterLab's HTML viewer before "Trust HTML";
- ``OneStreamOutput`` merges the pieces of one stream's output, which the kernel splits as timing has it:
  the same submission gives the same page, on any machine (autograder/cluster.py).
"""

import html
import re
import shutil
from pathlib import Path

from nbconvert.preprocessors import CoalesceStreamsPreprocessor, Preprocessor
from traitlets import Bool

from . import exercises

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "cfs_feedback"  # a folder of TEMPLATES; its conf.json names nbgrader's "feedback" as base
TEMPLATE_FILE = "feedback_page.html.j2"

# In a markdown cell: fenced code and code spans (left alone), $$display$$ and $inline$ formulas (which
# may wrap onto the next line, not across a blank one).
MARKDOWN_PIECES = re.compile(r"(?P<fence>^```.*?^```)|(?P<code>`[^`\n]*`)|\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>(?:[^$\n]|\n(?!\s*\n))+?)\$",
                             re.S | re.M)


def mathml(tex, display):
    """MathML for one TeX formula; the TeX itself, escaped, if latex2mathml cannot read it."""
    from latex2mathml.converter import convert

    try:
        markup = convert(tex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds; the page must still be written
        return html.escape(f"$${tex}$$" if display else f"${tex}$")
    return markup


def formulas_as_mathml(source):
    """A markdown cell's source with every formula outside code replaced by MathML."""
    def replace(match):
        if match.group("fence") or match.group("code"):
            return match.group(0)
        if match.group("display") is not None:
            return mathml(match.group("display").strip(), True)
        return mathml(match.group("inline"), False)

    return MARKDOWN_PIECES.sub(replace, source)


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


class MathMLFormulas(Preprocessor):
    """The formulas of markdown cells as MathML: typeset by the browser, with no script and no network."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = formulas_as_mathml(cell.source)
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
    return config


class OneStreamOutput(CoalesceStreamsPreprocessor):
    """Consecutive outputs of one stream as one: a kernel sends ``print``'s text and its newline in one
    message or in two as timing has it (a busy machine, another worker), and the page must not show that."""

    enabled = Bool(True).tag(config=True)


PREPROCESSORS = [OneStreamOutput, ExerciseNames, MathMLFormulas]


def deliver(page, target):
    """Copy a job's feedback ``page`` (one self-contained file) to ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(page, target)
