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
