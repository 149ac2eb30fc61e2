"""The CLI's exit status: a failure of the grader itself is never a silent 0."""

from autograder import cli, grade


def test_grade_exits_nonzero_and_says_so_when_the_grader_fails(monkeypatch, tmp_path, capsys):
    results = [
        {"student": "alice", "assignment": "00_tour", "scores": {}, "max_scores": {}, "flags": [], "warnings": [],
         "error": "internal grader error: FileNotFoundError: [Errno 2] No such file or directory: 'x'"},
        {"student": "bob", "assignment": "00_tour", "scores": {"t": 1.0}, "max_scores": {"t": 1.0}, "flags": [],
         "warnings": [], "error": None},
    ]
    monkeypatch.setattr(grade, "grade", lambda submissions, out, options: results)
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: the grader failed on 1 of 2 submissions") and "alice/00_tour" in err[-1]


def test_grade_exits_zero_when_every_submission_was_graded(monkeypatch, tmp_path):
    results = [{"student": "bob", "assignment": "00_tour", "scores": {"t": 0.0}, "max_scores": {"t": 1.0}, "flags": [],
                "warnings": [], "error": "unreadable notebook: invalid JSON at line 1, column 2: x"}]
    monkeypatch.setattr(grade, "grade", lambda submissions, out, options: results)
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 0


def test_a_submission_out_of_time_gets_a_page_that_says_so_and_is_not_regraded_on_resume(tmp_path):
    """``--timeout`` stops a submission's job: the student's page gives the reason, and a second run of the same
    command (a resume) keeps that result instead of spending the whole timeout again."""
    import json
    import subprocess
    import sys

    assignment, notebook = "04_pooling", "pooling.ipynb"

    def autograder(*args):
        run = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=tmp_path, capture_output=True,
                             text=True, timeout=900)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]

    autograder("release", "--out", "release", assignment)
    nb = json.loads((tmp_path / "release" / assignment / notebook).read_text())
    answer = next(c for c in nb["cells"] if (c.get("metadata", {}).get("nbgrader") or {}).get("solution"))
    answer["source"] = "import time\ntime.sleep(10**6)\n"  # longer than the submission's whole time
    (tmp_path / "subs" / "slow" / assignment).mkdir(parents=True)
    (tmp_path / "subs" / "slow" / assignment / notebook).write_text(json.dumps(nb))
    command = ["grade", "subs", "--out", "graded", "--cell-timeout", "300", "--timeout", "20", "--workers", "1", "--quiet"]

    autograder(*command)
    page = tmp_path / "graded" / "feedback" / "slow" / assignment / notebook.replace(".ipynb", ".html")
    assert page.is_file(), "no feedback page for a submission that ran out of time"
    assert "grading timed out after 20 s" in page.read_text(encoding="utf-8")
    cache = tmp_path / "graded" / ".cache" / f"slow--{assignment}.json"
    kept = cache.stat().st_mtime_ns

    autograder(*command)
    assert cache.stat().st_mtime_ns == kept, "the resumed run graded the timed-out submission again"
    assert "grading timed out after 20 s" in page.read_text(encoding="utf-8")
