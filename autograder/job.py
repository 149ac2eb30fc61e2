"""Grade one submission (one student, one assignment) in its own process and its own course copy.

Run as ``python -I -m autograder.job WORKDIR``, or forked by a warm worker (autograder/warm.py)
that calls ``main(WORKDIR)``: reads
``WORKDIR/request.json``, writes ``WORKDIR/result.json`` and
``WORKDIR/feedback.html`` and nothing else outside its course copy. Whatever
happens to the submission, a result is written: a score of 0 with a reason at worst.
"""

import html
import json
import os
import re
import resource
import shutil
import sys
import time
import traceback
from pathlib import Path

import nbformat

from . import course, exercises, isolation, scan, similarity, verify
from . import notebook as nbtools

INTERNAL_ERROR = "internal grader error"  # the prefix of a failure that is the grader's fault


class Submission:
    """What one grading run knows and decides about a submission."""

    def __init__(self, request):
        self.request = request
        self.student = request["student"]
        self.assignment = request["assignment"]
        self.source = nbtools.read(exercises.source_notebook(self.assignment))
        self.max_scores = {grade_id: points for grade_id, points, _ in nbtools.test_cells(self.source)}
        self.scores = {grade_id: 0.0 for grade_id in self.max_scores}
        self.flags = []
        self.warnings = []  # about the grading itself (e.g. isolation off), not the submission
        self.error = None
        self.feedback_notes = {}
        self.timings = {}  # seconds per phase, for whoever wonders where grading time goes
        self._clock = time.monotonic()

    def lap(self, phase):
        now = time.monotonic()
        self.timings[phase] = round(now - self._clock, 2)
        self._clock = now

    def result(self):
        return {
            "student": self.student,
            "assignment": self.assignment,
            "scores": self.scores,
            "max_scores": self.max_scores,
            "flags": self.flags,
            "warnings": self.warnings,
            "error": self.error,
            "timings": self.timings,
        }


def failed_result(student, assignment, reason):
    """The result of a submission that could not be graded: nothing scored, and why."""
    return {"student": student, "assignment": assignment, "scores": {}, "max_scores": {},
            "flags": [], "warnings": [], "error": reason}


def check_belongs(nb, assignment):
    """A reason if ``nb`` is not a notebook of ``assignment`` (e.g. another week's), else None."""
    wanted = set(exercises.functions(assignment))
    ids = {nbtools.grade_id(cell) for cell in nb.cells if nbtools.grade_id(cell)}
    if not wanted or ids & wanted:
        return None
    for other, spec in exercises.EXERCISES.items():
        if ids & set(spec["functions"]):
            return f"wrong notebook: this is the notebook of {other} ({spec['notebook']}), not of {assignment}"
    return f"wrong notebook: none of the exercises of {assignment} ({', '.join(sorted(wanted)[:3])}, ...) is in it"


def edited_test_cells(nb, source):
    """Reasons for read-only test cells the student deleted or edited (nbgrader restores them)."""
    submitted = {nbtools.grade_id(c): c.source for c in nb.cells if nbtools.is_test(c)}
    reasons = []
    for grade_id, _points, source_text in nbtools.test_cells(source):
        released = nbtools.without_hidden_tests(source_text)
        if grade_id not in submitted:
            reasons.append(f"test cell {grade_id} was deleted")
        elif _normalise(submitted[grade_id]) != _normalise(released):
            reasons.append(f"test cell {grade_id} was edited")
    return reasons


def _normalise(source):
    return [line.rstrip() for line in source.strip().splitlines() if line.strip()]


def student_cells(nb, source):
    """``[(label, source)]`` of the code the student wrote: answer cells, and cells added or changed."""
    locked = {nbtools.grade_id(c) for c in source.cells if nbtools.is_test(c) or nbtools.is_setup(c)}
    as_released = {c.source.strip() for c in source.cells if c.cell_type == "code" and not nbtools.is_answer(c)}
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or nbtools.grade_id(cell) in locked:
            continue
        if nbtools.is_answer(cell):
            cells.append((f"answer {nbtools.grade_id(cell)}", cell.source))
        elif cell.source.strip() not in as_released:
            cells.append((f"cell {index + 1}", cell.source))
    return cells


def summarise_findings(findings, limit=4):
    shown = "; ".join(f"{label} line {line}: {text}" for label, line, text in findings[:limit])
    more = f" (+{len(findings) - limit} more)" if len(findings) > limit else ""
    return f"suspicious code: {shown}{more}"


def run_kernel(sub, nb, root):
    """nbgrader autograde in ``root``; returns the autograded notebook, or None if the kernel died."""
    target = root / "submitted" / sub.student / sub.assignment / exercises.notebook_name(sub.assignment)
    target.parent.mkdir(parents=True)
    nbformat.write(nb, str(target))
    grader = course.api(root, sub.request["cell_timeout"])
    with course.quiet():
        outcome = grader.autograde(sub.assignment, sub.student)
    graded = root / "autograded" / sub.student / sub.assignment / exercises.notebook_name(sub.assignment)
    if not outcome["success"] or not graded.exists():
        log = (outcome.get("log") or "") + (outcome.get("error") or "")
        if "DeadKernel" in log or "Kernel died" in log or "kernel died" in log:
            sub.flags.append("the notebook's kernel died while it ran (os._exit, a crash or the memory limit)")
        else:
            errors = [line.strip() for line in log.splitlines() if "Error" in line and "Please see" not in line]
            detail = errors[-1][:300] if errors else "no detail in nbgrader's log"
            sub.flags.append(f"nbgrader could not run the notebook: {detail}")
        return None
    return nbformat.read(str(graded), as_version=4)


def cells_with_error(graded, word):
    """Labels of the cells whose error output's name contains ``word`` (Timeout, MemoryError)."""
    labels = []
    for index, cell in enumerate(graded.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and word in output.get("ename", ""):
                labels.append(nbtools.grade_id(cell) or f"cell {index + 1}")
    return labels


MAX_OUTPUT_CHARS = 20_000


def limit_outputs(graded):
    """Cut every output of the graded copy to MAX_OUTPUT_CHARS; returns how many characters were cut."""
    cut = 0

    def shorten(text):
        nonlocal cut
        text = "".join(text) if isinstance(text, list) else text
        if len(text) <= MAX_OUTPUT_CHARS:
            return text
        cut += len(text) - MAX_OUTPUT_CHARS
        return text[:MAX_OUTPUT_CHARS] + f"\n... output cut by the grader ({len(text):,} characters) ...\n"

    for cell in graded.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = shorten(output["text"])
            if "evalue" in output:
                output["evalue"] = shorten(output["evalue"])
            for mime, value in list(output.get("data", {}).items()):
                if isinstance(value, (str, list)):
                    output["data"][mime] = shorten(value)
    return cut


def kernel_scores_of(graded, max_scores):
    """``{test cell: points}`` as the student saw them: full points unless the cell raised an error.

    nbgrader's own rule also zeroes a cell that merely wrote to stderr (a NumPy warning, say);
    here only a failed assertion or another error costs the points.
    """
    failed = {nbtools.grade_id(cell) for cell in graded.cells if nbtools.is_test(cell)
              and any(output.get("output_type") == "error" for output in cell.get("outputs", []))}
    return {grade_id: 0.0 if grade_id in failed else maximum for grade_id, maximum in max_scores.items()}


def decide(sub, kernel_scores, verdicts):
    """Final cell scores: nbgrader's score, but only where the out-of-kernel re-run passed too."""
    tampered = []
    for grade_id, maximum in sub.max_scores.items():
        in_kernel = kernel_scores.get(grade_id) or 0.0
        verdict = verdicts.get(grade_id, {"passed": False, "visible_passed": False, "message": "not run", "delegations": []})
        sub.scores[grade_id] = min(float(in_kernel), maximum) if verdict["passed"] else 0.0
        if in_kernel > 0 and not verdict["passed"] and not verdict["delegations"]:
            tampered.append(grade_id)
        if not verdict["passed"]:
            sub.feedback_notes[grade_id] = (in_kernel > 0, verdict["message"])
    if tampered:
        sub.flags.append(
            f"{len(tampered)} test cell(s) passed inside the notebook but failed when re-run outside it "
            f"({', '.join(tampered[:5])}): the notebook may tamper with the tests"
        )
    only_visible = [g for g, v in verdicts.items() if v.get("visible_passed") and not v["passed"] and not v["delegations"]]
    if only_visible and len(only_visible) == len(verdicts):
        sub.flags.append("passes every visible test but fails every hidden one: the answers may be hard-coded")
    delegated = sorted({d for v in verdicts.values() if isinstance(v, dict) for d in v.get("delegations", [])})
    if delegated:
        sub.flags.append(f"delegates to {', '.join(delegated)}: those exercises score 0")


# An absolute path of two or more parts (not inside a URL or a fraction): the grading machine's business.
MACHINE_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.+@-]+/)+(?=[\w.+@-])")


ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def scrub(text):
    """``text`` without the grading machine's folders: ``/srv/x/lib/numpy/core.py`` becomes ``…/core.py``.

    Colour codes go too (a traceback colours its file names, which would hide them from the pattern)."""
    return MACHINE_PATH.sub("…/", ANSI_COLOUR.sub("", text))


def scrub_outputs(cell):
    """Remove machine paths from every textual output of a cell (warnings quote the file they come from)."""
    for output in cell.get("outputs", []):
        for key in ("text", "evalue"):
            if key in output:
                output[key] = scrub("".join(output[key]) if isinstance(output[key], list) else output[key])
        if "traceback" in output:
            output["traceback"] = [scrub(line) for line in output["traceback"]]
        for mime, value in list(output.get("data", {}).items()):
            if mime.startswith("text/") and isinstance(value, (str, list)):
                output["data"][mime] = scrub("".join(value) if isinstance(value, list) else value)


def annotate(graded, sub):
    """Make the autograded notebook fit for feedback: short errors, the grader's verdicts, no hidden source,
    no path of the grading machine."""
    for cell in graded.cells:
        if cell.cell_type != "code":
            continue
        scrub_outputs(cell)
        if not nbtools.is_test(cell):
            continue
        outputs, shown = [], []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                # Tracebacks would quote hidden test lines: keep only the error itself.
                shown.append(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"[:2000])
                output["traceback"] = [shown[-1]]
            outputs.append(output)
        note = sub.feedback_notes.get(nbtools.grade_id(cell))
        text = grader_note(*note, shown) if note else ""
        if text:
            outputs.append(nbformat.v4.new_output("stream", name="stderr", text=text + "\n"))
        cell.outputs = outputs
    return graded


def grader_note(passed_inside, message, shown):
    """The grader's reason for the lost points of one test cell, without repeating an error already shown."""
    message = scrub(message)
    if passed_inside:
        return ("This test passed inside your notebook but failed when the grader re-ran it with your "
                f"answer cells in a clean process: {message}")
    first, _, rest = message.partition("\n  the last call to your code: ")
    if any(same_error(first, text) for text in shown):
        return f"Grader: the last call to your code was {rest}" if rest else ""
    return f"Grader's re-run: {message}"


EXCEPTION_PREFIX = re.compile(r"^(?:[A-Z][\w.]*: )+")  # "StudentCodeError: AxisError: " (the re-run wraps some types)
NUMBER = re.compile(r"\d+(?:\.\d*)?(?:e[+-]?\d+)?")


def same_error(one, other):
    """Whether two error texts say the same thing: the same words after their exception names, whatever
    numbers they quote (both runs fail the same check), a long one possibly cut short."""
    def core(text):
        return " ".join(NUMBER.sub("#", EXCEPTION_PREFIX.sub("", text.strip())).split())

    one, other = core(one), core(other)
    if not one or not other:
        return False
    return one == other or min(len(one), len(other)) >= 40 and (one in other or other in one)


class Outbox:
    """The job's own folder, opened before isolation hides it: results leave only through here."""

    def __init__(self, folder):
        self.fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)

    def write(self, name, data):
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=self.fd)
        with open(fd, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def plain_page(student, assignment, reasons, scores, max_scores, notes=None):
    """The HTML of a feedback page for a submission nbgrader could not run: the reasons, and every test cell's score."""
    notes = notes or {}
    items = "".join(f"<li>{html.escape(scrub(r))}</li>" for r in reasons)
    rows = "".join(
        f"<tr><td><code>{html.escape(grade_id)}</code></td><td>{scores.get(grade_id, 0):g} / {maximum:g}</td>"
        f"<td>{html.escape(scrub(notes.get(grade_id, (False, 'not scored: see the reasons above'))[1]))}</td></tr>"
        for grade_id, maximum in max_scores.items())
    table = f"<table><tr><th>test cell</th><th>score</th><th>why</th></tr>{rows}</table>" if rows else ""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(assignment)}</title></head><body>"
            f"<h1>{html.escape(assignment)} — {html.escape(student)}</h1>"
            f"<p>Score: {sum(scores.values()):g} / {sum(max_scores.values()):g}</p>"
            f"<p>Your notebook could not be graded normally:</p><ul>{items}</ul>{table}</body></html>")


def plain_feedback(sub, outbox):
    outbox.write("feedback.html", plain_page(sub.student, sub.assignment, ([sub.error] if sub.error else []) + sub.flags,
                                             sub.scores, sub.max_scores, sub.feedback_notes))


def kernel_environment(root):
    """Each job's kernels get their own home, runtime and config folders inside the course copy."""
    for name, folder in (("HOME", "home"), ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                         ("MPLCONFIGDIR", "matplotlib"), ("JUPYTER_DATA_DIR", "jupyter-data")):
        path = root / folder
        path.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(path)


def grade(request, outbox):
    sub = Submission(request)
    if request.get("problem"):
        sub.error = request["problem"]
        plain_feedback(sub, outbox)
        return sub.result()
    try:
        nb = nbtools.read(request["submission"])
    except nbtools.NotebookError as error:
        sub.error = f"unreadable notebook: {error}"
        plain_feedback(sub, outbox)
        return sub.result()
    wrong = check_belongs(nb, sub.assignment)
    if wrong:
        sub.error = wrong
        plain_feedback(sub, outbox)
        return sub.result()

    findings = scan.scan(student_cells(nb, sub.source), scan.defined_names(nbtools.setup_sources(sub.source)))
    if findings:
        sub.flags.append(summarise_findings(findings))
    sub.flags.extend(edited_test_cells(nb, sub.source))
    sub.flags.extend(similarity.flags(student_cells(nb, sub.source), sub.assignment, sub.source))

    root = Path(request["workdir"]) / "course"
    shutil.copytree(request["template"], root)
    if request.get("isolate", True):
        warning = isolation.enter(keep=root, hide=request["hide"])
        if warning:
            sub.warnings.append(warning)
    kernel_environment(root)
    sub.lap("prepare")
    graded = run_kernel(sub, nb, root)
    sub.lap("nbgrader autograde")
    if graded is not None:
        timeouts = cells_with_error(graded, "Timeout")
        if timeouts:
            sub.flags.append(f"timed out after {request['cell_timeout']} s in {', '.join(timeouts[:5])}")
        out_of_memory = cells_with_error(graded, "MemoryError")
        if out_of_memory:
            sub.flags.append(f"ran out of memory (limit {request['memory_mb']} MB) in {', '.join(out_of_memory[:5])}")
        cut = limit_outputs(graded)
        if cut:
            sub.flags.append(f"printed {cut:,} characters too many: outputs cut in the graded copy and the feedback")
    kernel_scores = kernel_scores_of(graded, sub.max_scores) if graded is not None else {}
    limits = verify.Limits(call_seconds=request["call_timeout"], memory_mb=request["memory_mb"])
    verdicts = verify.verify(sub.source, nb, sub.assignment, limits, request["verify_seconds"])
    sub.lap("verify outside the kernel")
    decide(sub, kernel_scores, verdicts)
    if graded is None:
        sub.scores = {grade_id: 0.0 for grade_id in sub.scores}
        sub.error = "scored 0: the notebook could not be run to the end"
        plain_feedback(sub, outbox)
        return sub.result()
    course.set_scores(root, sub.assignment, sub.student, sub.scores)
    notebook = exercises.notebook_name(sub.assignment)
    nbformat.write(annotate(graded, sub), str(root / "autograded" / sub.student / sub.assignment / notebook))
    outbox.write("autograded.ipynb", nbformat.writes(graded))  # for formgrader, when grading into a course root
    with course.quiet():
        outcome = course.api(root).generate_feedback(sub.assignment, sub.student)
    produced = root / "feedback" / sub.student / sub.assignment / notebook.replace(".ipynb", ".html")
    sub.lap("nbgrader feedback")
    if outcome["success"] and produced.exists():
        outbox.write("feedback.html", produced.read_bytes())
    else:
        sub.flags.append("nbgrader could not write the feedback page")
        plain_feedback(sub, outbox)
    return sub.result()


def main(workdir=None):
    """Grade the job in ``workdir`` (``sys.argv[1]`` when run as a program; a warm worker's child passes it)."""
    workdir = Path(workdir or sys.argv[1])
    request = json.loads((workdir / "request.json").read_text())
    request["workdir"] = str(workdir)
    outbox = Outbox(workdir)
    memory = (request["memory_mb"] + 1024) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    course.environment_for_kernels()
    try:
        result = grade(request, outbox)
    except Exception:  # noqa: BLE001 - a grader bug must still leave a result
        reason = f"{INTERNAL_ERROR}: " + traceback.format_exc(limit=3).strip().splitlines()[-1]
        result = failed_result(request["student"], request["assignment"], reason)
    outbox.write("result.json", json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
