"""Grade one submission (one student, one assignment) in its own process and its own course copy.

Run by ``grade`` as ``python -m autograder.job REQUEST.json``; writes the
result JSON to the path the request names. Whatever happens to the
submission, a result is written: a score of 0 with a reason at worst.
"""

import html
import json
import resource
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

import nbformat

from . import course, exercises, scan, verify
from . import notebook as nbtools


class Submission:
    """What one grading run knows and decides about a submission."""

    def __init__(self, request):
        self.request = request
        self.student = request["student"]
        self.assignment = request["assignment"]
        self.source = nbtools.read(exercises.source_notebook(self.assignment))
        self.tests = nbtools.test_cells(self.source)
        self.max_scores = {grade_id: points for grade_id, points, _ in self.tests}
        self.scores = {grade_id: 0.0 for grade_id in self.max_scores}
        self.flags = []
        self.error = None
        self.feedback_notes = {}

    def result(self):
        return {
            "student": self.student,
            "assignment": self.assignment,
            "scores": self.scores,
            "max_scores": self.max_scores,
            "flags": self.flags,
            "error": self.error,
        }


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


def timed_out_cells(graded):
    labels = []
    for index, cell in enumerate(graded.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and "Timeout" in output.get("ename", ""):
                labels.append(nbtools.grade_id(cell) or f"cell {index + 1}")
    return labels


def decide(sub, kernel_scores, verdicts):
    """Final cell scores: nbgrader's score, but only where the out-of-kernel re-run passed too."""
    tampered = []
    for grade_id, maximum in sub.max_scores.items():
        in_kernel = kernel_scores.get(grade_id) or 0.0
        verdict = verdicts.get(grade_id, {"passed": False, "message": "not run"})
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
    delegated = sorted({d for v in verdicts.values() if isinstance(v, dict) for d in v.get("delegations", [])})
    if delegated:
        sub.flags.append(f"delegates to {', '.join(delegated)}: those exercises score 0")


def annotate(graded, sub):
    """Make the autograded notebook fit for feedback: short errors, the grader's verdicts, no hidden source."""
    for cell in graded.cells:
        if not nbtools.is_test(cell):
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                # Tracebacks would quote hidden test lines: keep only the error itself.
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"[:2000]]
            outputs.append(output)
        note = sub.feedback_notes.get(nbtools.grade_id(cell))
        if note:
            passed_inside, message = note
            prefix = ("This test passed inside your notebook but failed when the grader re-ran it with your "
                      "answer cells in a clean process" if passed_inside else "Grader's re-run")
            outputs.append(nbformat.v4.new_output("stream", name="stderr", text=f"{prefix}: {message}\n"))
        cell.outputs = outputs
    return graded


def plain_feedback(sub, path):
    """A feedback page for a submission nbgrader could not run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    total = sum(sub.max_scores.values())
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in ([sub.error] if sub.error else []) + sub.flags)
    path.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(sub.assignment)}</title></head><body>"
        f"<h1>{html.escape(sub.assignment)} — {html.escape(sub.student)}</h1>"
        f"<p>Score: {sum(sub.scores.values()):g} / {total:g}</p>"
        f"<p>Your notebook could not be graded normally:</p><ul>{reasons}</ul></body></html>",
        encoding="utf-8",
    )


def grade(request):
    sub = Submission(request)
    feedback_path = Path(request["feedback"])
    if request.get("problem"):
        sub.error = request["problem"]
        plain_feedback(sub, feedback_path)
        return sub.result()
    try:
        nb = nbtools.read(request["submission"])
    except nbtools.NotebookError as error:
        sub.error = f"unreadable notebook: {error}"
        plain_feedback(sub, feedback_path)
        return sub.result()
    wrong = check_belongs(nb, sub.assignment)
    if wrong:
        sub.error = wrong
        plain_feedback(sub, feedback_path)
        return sub.result()

    findings = scan.scan(student_cells(nb, sub.source), scan.defined_names(nbtools.setup_sources(sub.source)))
    if findings:
        sub.flags.append(summarise_findings(findings))
    sub.flags.extend(edited_test_cells(nb, sub.source))

    with tempfile.TemporaryDirectory(prefix="cfs-job-") as tmp:
        root = Path(tmp) / "course"
        shutil.copytree(request["template"], root)
        graded = run_kernel(sub, nb, root)
        if graded is not None:
            timeouts = timed_out_cells(graded)
            if timeouts:
                sub.flags.append(f"timed out after {request['cell_timeout']} s in {', '.join(timeouts[:5])}")
        kernel_scores = course.scores(root, sub.assignment, sub.student)
        limits = verify.Limits(call_seconds=request["call_timeout"], memory_mb=request["memory_mb"])
        verdicts = verify.verify(sub.source, nb, sub.assignment, limits, request["verify_seconds"])
        answer_errors = verdicts.pop(None)
        decide(sub, kernel_scores if graded is not None else {}, verdicts)
        if graded is None:
            sub.scores = {grade_id: 0.0 for grade_id in sub.scores}
            sub.error = "scored 0: the notebook could not be run to the end"
            plain_feedback(sub, feedback_path)
            return sub.result()
        if answer_errors:
            sub.feedback_notes.setdefault("__answers__", answer_errors)
        course.set_scores(root, sub.assignment, sub.student, sub.scores)
        autograded_path = root / "autograded" / sub.student / sub.assignment / exercises.notebook_name(sub.assignment)
        nbformat.write(annotate(graded, sub), str(autograded_path))
        with course.quiet():
            outcome = course.api(root).generate_feedback(sub.assignment, sub.student)
        produced = root / "feedback" / sub.student / sub.assignment / exercises.notebook_name(sub.assignment).replace(".ipynb", ".html")
        if outcome["success"] and produced.exists():
            feedback_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(produced, feedback_path)
        else:
            sub.flags.append("nbgrader could not write the feedback page")
            plain_feedback(sub, feedback_path)
    return sub.result()


def main():
    request = json.loads(Path(sys.argv[1]).read_text())
    memory = (request["memory_mb"] + 1024) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    course.environment_for_kernels()
    try:
        result = grade(request)
    except Exception:  # noqa: BLE001 - a grader bug must still leave a result
        result = {
            "student": request["student"], "assignment": request["assignment"],
            "scores": {}, "max_scores": {}, "flags": [],
            "error": "internal grader error: " + traceback.format_exc(limit=3).strip().splitlines()[-1],
        }
    Path(request["result"]).write_text(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
