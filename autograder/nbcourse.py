"""A standard nbgrader course root around the hardened grader: ``python -m autograder course COURSE``.

``make_course`` turns a folder into an nbgrader course (``nbgrader_config.py``, ``source/``, the
assignments and their due dates in ``gradebook.db``) on which nbgrader's own commands work
(generate_assignment, release_assignment, collect, autograde, generate_feedback, release_feedback,
export, formgrader). ``finish`` is the hook ``grade`` calls once every submission is graded: it adds
what a term needs to the results (nbgrader's timestamps, due dates and late penalties; manually graded
cells and the points an instructor gave them in formgrader) and writes them into the output's
``gradebook.db`` *merged* (nobody else's students, grades, due dates or timestamps are touched), plus,
in a course root, ``autograded/`` for formgrader and ``feedback/`` ready for ``release_feedback``.
"""

import html
import math
import re
import shutil
import sys
from pathlib import Path

import nbformat
from traitlets import Float
from traitlets.config import Config

from . import course, exercises, reports
from . import notebook as nbtools

CONFIG_FILE = "nbgrader_config.py"
BEGIN, END = "# BEGIN autograder settings", "# END autograder settings"
MANUAL_FLAG = "needs manual grading"  # the start of the flags.csv reason for a pending written answer
LATE_FLAG = "late"


# --- the course root ------------------------------------------------------------------------------

def is_course_root(folder):
    return (Path(folder) / CONFIG_FILE).is_file()


def load_config(root):
    """COURSE/nbgrader_config.py as nbgrader reads it (a traitlets Config)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_FILE, path=str(Path(root).resolve())).load_config()


def _python_value(value, root):
    """``value`` as Python source for the config file; paths inside the course are relative to the file."""
    if isinstance(value, type):
        return repr(f"{value.__module__}.{value.__qualname__}")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_python_value(item, root) for item in value) + "]"
    if isinstance(value, str) and (value == str(root) or value.startswith(str(root) + "/")):
        relative = value[len(str(root)):].lstrip("/")
        return f"os.path.join(HERE, {relative!r})" if relative else "HERE"
    return repr(value)


def _config_lines(config, root, prefix="c"):
    lines = []
    for key, value in sorted(config.items()):
        if isinstance(value, Config):
            lines += _config_lines(value, root, f"{prefix}.{key}")
        else:
            lines.append(f"{prefix}.{key} = {_python_value(value, root)}")
    return lines


# Left to nbgrader: it takes the course root from the working folder and the gradebook beside it.
NOT_WRITTEN = {("CourseDirectory", "root"), ("CourseDirectory", "db_url")}

LATE_PENALTY_HELP = '''
# Late work (nbgrader's late-penalty plugins; `python -m autograder grade ... --out COURSE` applies them too).
# A submission is late when its timestamp.txt is after the assignment's due date (gradebook.db).
# nbgrader's own plugin: "none" (flag only) or "zero" (the whole score):
#   c.AssignLatePenalties.plugin_class = "nbgrader.plugins.LateSubmissionPlugin"
#   c.LateSubmissionPlugin.penalty_method = "zero"
# The course's plugin: N points per started hour late (never below 0):
#   c.AssignLatePenalties.plugin_class = "autograder.nbcourse.PerHourPenalty"
#   c.PerHourPenalty.points_per_hour = 1.0
'''


def config_text(root, course_id, exchange):
    """The generated block of nbgrader_config.py: the grader's own nbgrader settings (course.nbgrader_config)."""
    root = Path(root).resolve()
    config = course.nbgrader_config(root)
    config.CourseDirectory.course_id = course_id
    config.Exchange.root = str(Path(exchange).resolve()) if exchange else str(root / "exchange")
    for section, key in NOT_WRITTEN:
        config[section].pop(key, None)
    sockets = Path(config.KernelManager.ip).parent  # the kernels' IPC sockets: the folder must exist
    return "\n".join([
        BEGIN,
        "# Written by `python -m autograder course`: the settings the hardened grader uses (autograder/course.py).",
        "# Running it again rewrites only this block; put your own settings outside it.",
        "import os",
        "HERE = os.path.dirname(os.path.abspath(__file__))",
        f"os.makedirs({_python_value(str(sockets), root)}, exist_ok=True)  # the kernels' IPC sockets",
        "c = get_config()  # noqa: F821",
        *_config_lines(config, root),
        END,
    ])


def write_config(root, course_id, exchange):
    """Write or refresh the generated block of ``nbgrader_config.py``, keeping everything else in the file."""
    path = Path(root) / CONFIG_FILE
    block = config_text(root, course_id, exchange)
    if not path.exists():
        path.write_text(block + "\n" + LATE_PENALTY_HELP)
        return
    text = path.read_text()
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        path.write_text(before + block + after)
    else:  # a course the instructor made: our block first, their settings after it (theirs win)
        path.write_text(block + "\n\n" + text)


def parse_due(text):
    """``ASSIGNMENT=ISO-TIME`` as ``(assignment, naive UTC datetime)``; a time without a zone is UTC."""
    from nbgrader.utils import parse_utc

    assignment, sep, when = text.partition("=")
    if not sep or not when.strip():
        raise ValueError(f"--due {text!r}: expected ASSIGNMENT=TIME, e.g. 01_conv_as_matmul=2026-10-01T23:59:00+00:00")
    if assignment not in exercises.EXERCISES:
        raise ValueError(f"--due {text!r}: {exercises.NotRegistered(assignment)}")
    try:
        return assignment, parse_utc(when.strip())
    except (ValueError, OverflowError) as error:
        raise ValueError(f"--due {text!r}: not a date and time ({error})") from None


def copy_sources(root, assignments):
    """``source/<id>/``: the assignment's folder in notebooks/ (its notebook and any data files), refreshed."""
    for assignment in assignments:
        source, target = exercises.NOTEBOOKS / assignment, Path(root) / "source" / assignment
        target.mkdir(parents=True, exist_ok=True)
        for item in source.iterdir():
            if item.name.startswith(".") or item.name == "__pycache__":
                continue
            if item.is_dir():
                shutil.copytree(item, target / item.name, dirs_exist_ok=True)
            else:
                shutil.copy(item, target / item.name)


def make_course(root, course_id=None, exchange=None, due=(), assignments=None):
    """Make (or refresh) the nbgrader course root ``root``; returns ``{assignment: due date or None}``.

    Never removes anything: students, grades, submissions, timestamps and due dates already in
    ``gradebook.db`` stay; due dates given here are set, the others kept.
    """
    root = Path(root).resolve()
    if root == exercises.NOTEBOOKS or exercises.NOTEBOOKS in root.parents:
        raise ValueError(f"{root} is inside the source notebooks' folder: choose a folder outside it")
    due = dict(parse_due(item) for item in due)
    assignments = assignments or exercises.assignment_ids()
    root.mkdir(parents=True, exist_ok=True)
    if is_course_root(root):  # keep what an earlier run (or the instructor) chose
        old = load_config(root)
        course_id = course_id or old.CourseDirectory.get("course_id")
        exchange = exchange or old.Exchange.get("root")
    write_config(root, course_id or course.COURSE_ID, exchange)
    copy_sources(root, assignments)
    with course.quiet(), gradebook(root, course_id or course.COURSE_ID) as gb:
        for assignment in assignments:
            fields = {"duedate": due[assignment]} if assignment in due else {}
            gb.update_or_create_assignment(assignment, **fields)
        dates = {a.name: a.duedate for a in gb.assignments}
    return {a: dates.get(a) for a in assignments}


def db_url(folder):
    return f"sqlite:///{Path(folder).resolve() / 'gradebook.db'}"


def gradebook(folder, course_id=course.COURSE_ID):
    """nbgrader's Gradebook of ``folder/gradebook.db`` (made, or migrated, by nbgrader itself)."""
    course.nbgrader_ready()
    from nbgrader.api import Gradebook

    return Gradebook(db_url(folder), course_id)


def cli(args):
    """``python -m autograder course COURSE [--exchange DIR] [--course-id ID] [--due ID=TIME ...]``."""
    try:
        dates = make_course(args.course, args.course_id, args.exchange, args.due)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.course} is an nbgrader course root ({CONFIG_FILE}, source/, gradebook.db) with {len(dates)} assignments:")
    for assignment, when in dates.items():
        print(f"  {assignment}  due {when:%Y-%m-%d %H:%M:%S} UTC" if when else f"  {assignment}  no due date")
    print(f"Next, from {args.course}: nbgrader generate_assignment ID, then nbgrader release_assignment ID")
    return 0


# --- late work -------------------------------------------------------------------------------------

def _started_hours(seconds):
    return math.ceil(seconds / 3600 - 1e-9)


def _late_plugin_base():
    from nbgrader.plugins import LateSubmissionPlugin

    return LateSubmissionPlugin


class PerHourPenalty(_late_plugin_base()):
    """The course's late-penalty plugin: ``points_per_hour`` points per started hour late.

    In COURSE/nbgrader_config.py: ``c.AssignLatePenalties.plugin_class = "autograder.nbcourse.PerHourPenalty"``
    and ``c.PerHourPenalty.points_per_hour = 1.0``. nbgrader caps a penalty at the score (never below 0).
    """

    points_per_hour = Float(1.0, help="points taken per started hour after the due date").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return _started_hours(total_seconds_late) * self.points_per_hour


def assign_late_penalty(config, folder, course_id, assignment, student):
    """nbgrader's own AssignLatePenalties (with the course's configured plugin) on one graded submission.

    Returns the penalty nbgrader stored on the submission (0 when on time or when the plugin gives none).
    """
    from nbgrader.preprocessors import AssignLatePenalties

    late = AssignLatePenalties(config=config)
    notebook = exercises.notebook_name(assignment).removesuffix(".ipynb")
    resources = {"nbgrader": {"notebook": notebook, "assignment": assignment, "student": student,
                              "db_url": db_url(folder)}}
    with course.quiet():
        late.preprocess(nbformat.v4.new_notebook(), resources)
        with gradebook(folder, course_id) as gb:
            return float(gb.find_submission(assignment, student).late_submission_penalty or 0.0)


def read_timestamp(submissions, student, assignment):
    """The submission's ``timestamp.txt`` (nbgrader's submit/collect write it) as naive UTC, or None."""
    from nbgrader.utils import parse_utc

    path = Path(submissions) / student / assignment / "timestamp.txt"
    try:
        return parse_utc(path.read_text().strip())
    except (OSError, ValueError, OverflowError):
        return None


def utc_text(moment):
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else ""


def late_reason(result):
    hours = result["late_seconds"] / 3600
    return (f"{LATE_FLAG}: submitted {result['submitted_at']}, {hours:.1f} h after the due date; "
            f"penalty {result['late_penalty']:g} points")


# --- written answers (manually graded cells) -------------------------------------------------------

def is_manual(cell):
    """nbgrader's "Manually graded answer": a solution cell that is also graded (no test)."""
    meta = nbtools.nbgrader_meta(cell)
    return bool(meta.get("grade")) and bool(meta.get("solution"))


def manual_cells(assignment):
    """``{grade_id: points}`` of the assignment's manually graded answer cells, from its source notebook."""
    nb = nbtools.read(exercises.source_notebook(assignment))
    return {nbtools.grade_id(c): float(nbtools.nbgrader_meta(c).get("points", 0)) for c in nb.cells if is_manual(c)}


def written_problems(assignment, nb):
    """How the manually graded answer cells of ``nb`` disagree with the registry's ``"written"``, as sentences."""
    registry, registered = exercises.REGISTRY_NAME, exercises.written(assignment)
    found = {nbtools.grade_id(c): float(nbtools.nbgrader_meta(c).get("points", 0)) for c in nb.cells if is_manual(c)}
    problems = [f"written answer cell {gid} is not registered for {assignment}: add \"{gid}\": {points:g} to the "
                f"\"written\" of {assignment} in {registry}" for gid, points in found.items() if gid not in registered]
    problems += [f"{assignment}: written answer {gid} is registered in {registry} but no manually graded answer cell "
                 f"has grade_id {gid}" for gid in registered if gid not in found]
    problems += [f"{assignment}: written answer {gid} has {found[gid]:g} points in the notebook, {points:g} in {registry}"
                 for gid, points in registered.items() if gid in found and found[gid] != points]
    return problems


def manual_reason(pending):
    names = ", ".join(pending)
    return f"{MANUAL_FLAG}: {names} ({sum(pending.values()):g} points pending)"


def review_flags(result):
    """The result's flags without the notes of a term's routine (a written answer to grade, a late submission)."""
    return [f for f in result["flags"] if not f.startswith((MANUAL_FLAG + ":", LATE_FLAG + ":"))]


# --- the merged gradebook --------------------------------------------------------------------------

def ensure_assignment(folder, course_id, assignment, built):
    """Make the gradebook of ``folder`` know every cell of ``assignment`` (nbgrader's generate_assignment
    run on the scratch course ``built``, writing into this gradebook); existing entries are kept."""
    from nbgrader.api import MissingEntry

    wanted = {gid for gid, _, _ in nbtools.test_cells(nbtools.read(exercises.source_notebook(assignment)))}
    wanted |= set(manual_cells(assignment))
    notebook = exercises.notebook_name(assignment).removesuffix(".ipynb")
    with course.quiet(), gradebook(folder, course_id) as gb:
        try:
            known = {cell.name for cell in gb.find_notebook(notebook, assignment).grade_cells}
        except MissingEntry:
            known = set()
    if wanted <= known:
        return
    config = course.nbgrader_config(built)
    config.CourseDirectory.db_url = db_url(folder)
    config.CourseDirectory.course_id = course_id
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    with course.quiet():
        outcome = api.generate_assignment(assignment, force=True)
    if not outcome["success"]:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{outcome['log']}{outcome['error']}")


def write_result(gb, result, timestamp):
    """One result into the gradebook: the hardened auto scores; manual grades left as the instructor set them.

    Returns ``{manual cell: score or None}`` as the gradebook holds them."""
    from nbgrader.api import MissingEntry

    assignment, student = result["assignment"], result["student"]
    gb.update_or_create_student(student)  # an existing student keeps name and e-mail
    fields = {"timestamp": timestamp} if timestamp else {}
    gb.update_or_create_submission(assignment, student, **fields)
    notebook = exercises.notebook_name(assignment).removesuffix(".ipynb")
    for name, score in result["scores"].items():
        try:
            grade = gb.find_grade(name, notebook, assignment, student)
        except MissingEntry:
            continue
        grade.auto_score = score
        grade.manual_score = None  # the hardened score is the score: not nbgrader's, not a stale override
        grade.needs_manual_grade = False
    manual = {}
    for name in result.get("manual_max_scores", {}):
        try:
            grade = gb.find_grade(name, notebook, assignment, student)
        except MissingEntry:
            manual[name] = None
            continue
        if result["error"] and grade.manual_score is None:  # nothing a person could grade: 0, not pending
            grade.auto_score, grade.needs_manual_grade = 0.0, False
            manual[name] = 0.0
        else:
            grade.needs_manual_grade = grade.manual_score is None
            manual[name] = grade.manual_score
    gb.db.commit()
    return manual


def merge_gradebook(folder, results, course_id, built, submissions, config):
    """Write every result into ``folder/gradebook.db``, made if missing, merged if present; sets the results'
    manual and late fields from what the gradebook then holds (nbgrader's late-penalty plugin on its due dates)."""
    folder = Path(folder)
    if not (folder / "gradebook.db").exists():
        shutil.copy(Path(built) / "gradebook.db", folder / "gradebook.db")
    known = [r for r in results if r["assignment"] in exercises.assignment_ids()]
    for assignment in sorted({r["assignment"] for r in known}):
        try:
            ensure_assignment(folder, course_id, assignment, built)
        except RuntimeError as error:  # the grades still go in, cell by cell, where the gradebook has the cell
            reason = str(error).splitlines()[0]
            for result in known:
                if result["assignment"] == assignment:
                    result["warnings"] = result.get("warnings", []) + [f"{folder / 'gradebook.db'}: {reason}"]
    for result in known:
        timestamp = read_timestamp(submissions, result["student"], result["assignment"])
        result["manual_max_scores"] = manual_cells(result["assignment"])
        with course.quiet(), gradebook(folder, course_id) as gb:
            manual = write_result(gb, result, timestamp)
            submission = gb.find_submission(result["assignment"], result["student"])
            due, stamp, seconds = submission.duedate, submission.timestamp, submission.total_seconds_late
        result["manual_scores"] = manual
        result["manual_score"] = float(sum(v for v in manual.values() if v is not None))
        result["manual_pending"] = float(sum(result["manual_max_scores"][k] for k, v in manual.items() if v is None))
        result["submitted_at"], result["due_at"], result["late_seconds"] = utc_text(stamp), utc_text(due), float(seconds)
        result["late_penalty"] = assign_late_penalty(config, folder, course_id, result["assignment"], result["student"]) \
            if seconds > 0 else 0.0
        pending = {k: result["manual_max_scores"][k] for k, v in manual.items() if v is None}
        if pending:
            result["flags"].append(manual_reason(pending))
        if seconds > 0:
            result["flags"].append(late_reason(result))


# --- the course root's folders: autograded/ for formgrader, feedback/ for release_feedback --------------

SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


def notebook_path(folder, kind, result, suffix=".ipynb"):
    name = exercises.notebook_name(result["assignment"]).replace(".ipynb", suffix)
    return Path(folder) / kind / result["student"] / result["assignment"] / name


def place_submission_files(out, submissions, result):
    """nbgrader's submission files beside the autograded notebook and the feedback page."""
    for kind in ("autograded", "feedback"):
        target = notebook_path(out, kind, result).parent
        if not target.is_dir():
            continue
        for name in SUBMISSION_FILES:
            source = Path(submissions) / result["student"] / result["assignment"] / name
            if source.is_file():
                shutil.copy(source, target / name)


NOTE_BEGIN, NOTE_END = "<!-- autograder notes -->", "<!-- /autograder notes -->"


def page_notes(result):
    lines = []
    if result.get("late_seconds", 0) > 0:
        lines.append(f"Late: submitted {result['submitted_at']}, {result['late_seconds'] / 3600:.1f} h after the due date "
                     f"({result['due_at']}); penalty {result['late_penalty']:g} points.")
    written = sum(result.get("manual_max_scores", {}).values())
    if result.get("manual_pending"):
        lines.append(f"{result['manual_pending']:g} points of written answers are still to be graded by a person.")
    elif written:
        lines.append(f"Written answers, graded by a person: {result.get('manual_score', 0):g} / {written:g} points.")
    if lines:  # the page's own heading gives the tests' points: say how the final score is made of them
        made_of = f"tests {sum(result['scores'].values()):g}"
        if written:
            made_of += f" + written answers {result.get('manual_score', 0):g}" + (" so far" if result.get("manual_pending") else "")
        if result.get("late_penalty", 0):
            made_of += f" − late penalty {result['late_penalty']:g}"
        lines.append(f"Final score: {reports.final_score(result):g} / {reports.maximum(result):g} ({made_of}).")
    return lines


def annotate_page(page, result):
    """Put the late and manual-grading notes at the top of a feedback page (replacing earlier notes)."""
    page = Path(page)
    if not page.is_file():
        return
    text = page.read_text(encoding="utf-8")
    text = re.sub(re.escape(NOTE_BEGIN) + ".*?" + re.escape(NOTE_END), "", text, flags=re.S)
    lines = page_notes(result)
    if lines:
        block = (NOTE_BEGIN + "<div class='autograder-notes' style='border:2px solid #c60;padding:.5em 1em;margin:1em'>"
                 + "".join(f"<p>{html.escape(line)}</p>" for line in lines) + "</div>" + NOTE_END)
        match = re.search(r"<body[^>]*>", text)
        at = match.end() if match else 0
        text = text[:at] + block + text[at:]
    page.write_text(text, encoding="utf-8")


DETAILS_COLUMNS = ["student_id", "assignment_id", "auto_score", "manual_score", "manual_pending", "late_penalty",
                   "score", "max_score", "submitted_at", "due_at"]


def write_details(results, out):
    """details.csv: how each final score is made (auto + manual − late penalty) and when it was submitted;
    merged like grades.csv (a regrade keeps every other student's rows)."""
    number = reports._number
    rows = [[r["student"], r["assignment"], number(sum(r["scores"].values())),
             number(r.get("manual_score", 0)), number(r.get("manual_pending", 0)),
             number(r.get("late_penalty", 0)), number(reports.final_score(r)), number(reports.maximum(r)),
             r.get("submitted_at", ""), r.get("due_at", "")] for r in results]
    reports.merge(Path(out) / "details.csv", DETAILS_COLUMNS, {(r["student"], r["assignment"]) for r in results}, rows)


def autograded_target(out, student, assignment):
    """Where a job's graded notebook goes: ``OUT/autograded/...`` in a course root (formgrader), else nowhere."""
    if not is_course_root(out):
        return None
    return str(notebook_path(out, "autograded", {"student": student, "assignment": assignment}))


def finish(results, out, submissions, built):
    """After every job: the gradebook of ``out`` merged, late and manual fields set, notes, details.csv."""
    out = Path(out)
    if is_course_root(out):
        config = load_config(out)
        course_id = config.CourseDirectory.get("course_id") or course.COURSE_ID
    else:
        config, course_id = Config(), course.COURSE_ID
    merge_gradebook(out, results, course_id, built, submissions, config)
    for result in results:
        if result["assignment"] in exercises.assignment_ids():
            if is_course_root(out):
                place_submission_files(out, submissions, result)
            annotate_page(notebook_path(out, "feedback", result, ".html"), result)
    write_details(results, out)
