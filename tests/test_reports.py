"""Regrade: grading one student or one assignment into an existing --out keeps everyone else's rows.

Runs the CLI as a user does (subprocess, scratch folder, relative paths). Expected
scores come from the source notebook's points (``lms_kit.CONV_FULL``), never from
an earlier run's output.
"""

from lms_kit import CONV, CONV_FULL, TOUR, answers, by_pair, grade_cli, read_csv, reasons, write_tree  # noqa: F401

from autograder import exercises

BROKEN = b'{"cells": [ {"cell_type": "code"'  # an unreadable notebook: graded 0 and flagged


def test_regrading_one_student_then_one_assignment_keeps_every_other_row(answers, tmp_path):
    write_tree(tmp_path / "week1", {
        f"alice/{TOUR}/tour.ipynb": answers(TOUR, "full"),
        f"alice/{CONV}/conv_as_matmul.ipynb": answers(CONV, "full"),
        f"bob/{TOUR}/tour.ipynb": BROKEN,
    })
    first = grade_cli(tmp_path, "week1", "--out", "graded")
    assert first.returncode == 0, first.stderr[-2000:]
    grades1 = by_pair(read_csv(tmp_path / "graded" / "grades.csv"))
    assert set(grades1) == {("alice", TOUR), ("alice", CONV), ("bob", TOUR)}
    assert (grades1[("alice", CONV)]["score"], grades1[("alice", CONV)]["max_score"]) == (f"{CONV_FULL:g}", f"{CONV_FULL:g}")
    bob_flag = reasons(tmp_path / "graded", "bob", TOUR)
    assert bob_flag, "the unreadable notebook must be flagged"
    alice_exercises = [r for r in read_csv(tmp_path / "graded" / "exercises.csv") if r["student_id"] == "alice"]
    assert len(alice_exercises) == len(exercises.functions(CONV))

    # One student, one assignment, late: only bob's new pair is added.
    write_tree(tmp_path / "late", {f"bob/{CONV}/conv_as_matmul.ipynb": answers(CONV, "blank")})
    second = grade_cli(tmp_path, "late", "--out", "graded")
    assert second.returncode == 0, second.stderr[-2000:]
    grades2 = by_pair(read_csv(tmp_path / "graded" / "grades.csv"))
    assert set(grades2) == set(grades1) | {("bob", CONV)}
    assert all(grades2[pair] == grades1[pair] for pair in grades1)
    assert (grades2[("bob", CONV)]["score"], grades2[("bob", CONV)]["max_score"]) == ("0", f"{CONV_FULL:g}")
    assert [r for r in read_csv(tmp_path / "graded" / "exercises.csv") if r["student_id"] == "alice"] == alice_exercises
    assert reasons(tmp_path / "graded", "bob", TOUR) == bob_flag
    # The gradebook printed at the end is the merged one: alice's full marks are in it.
    alice_line = next(line for line in second.stdout.splitlines() if line.startswith("alice"))
    assert f"{CONV_FULL:g}/{CONV_FULL:g}" in alice_line

    # One assignment regraded: alice resubmitted 01 (blank now); her broken 00_tour here is not graded.
    write_tree(tmp_path / "resubmitted", {
        f"alice/{CONV}/conv_as_matmul.ipynb": answers(CONV, "blank"),
        f"alice/{TOUR}/tour.ipynb": BROKEN,
    })
    third = grade_cli(tmp_path, "resubmitted", "--out", "graded", "--assignment", CONV)
    assert third.returncode == 0, third.stderr[-2000:]
    rows3 = read_csv(tmp_path / "graded" / "grades.csv")
    assert len(rows3) == len(grades2)  # replaced, not added
    grades3 = by_pair(rows3)
    assert grades3[("alice", CONV)]["score"] == "0"
    assert all(grades3[pair] == grades2[pair] for pair in grades2 if pair != ("alice", CONV))
    assert reasons(tmp_path / "graded", "alice", TOUR) == []  # --assignment: her 00_tour was left alone
    alice_conv = [r for r in read_csv(tmp_path / "graded" / "exercises.csv") if (r["student_id"], r["assignment_id"]) == ("alice", CONV)]
    assert len(alice_conv) == len(exercises.functions(CONV)) and {r["score"] for r in alice_conv} == {"0"}
    assert reasons(tmp_path / "graded", "bob", TOUR) == bob_flag


def test_a_report_that_is_not_ours_is_set_aside_whole_not_overwritten(answers, tmp_path):
    out = tmp_path / "graded"
    out.mkdir()
    foreign = b"Name,Mark\nsomeone,17\n"
    half_written = b"student_id,assignment_id,reason\njust-one-field\n"
    (out / "grades.csv").write_bytes(foreign)
    (out / "flags.csv").write_bytes(half_written)
    write_tree(tmp_path / "subs", {f"alice/{TOUR}/tour.ipynb": answers(TOUR, "full")})
    run = grade_cli(tmp_path, "subs", "--out", "graded")
    assert run.returncode == 0, run.stderr[-2000:]
    assert (out / "grades.foreign.csv").read_bytes() == foreign
    assert (out / "flags.foreign.csv").read_bytes() == half_written
    assert "grades.foreign.csv" in run.stderr and "flags.foreign.csv" in run.stderr
    assert set(by_pair(read_csv(out / "grades.csv"))) == {("alice", TOUR)}
    assert read_csv(out / "flags.csv") == []
    # A second foreign file does not overwrite the first one set aside.
    (out / "grades.csv").write_bytes(b"other\n")
    again = grade_cli(tmp_path, "subs", "--out", "graded")
    assert again.returncode == 0, again.stderr[-2000:]
    assert (out / "grades.foreign.csv").read_bytes() == foreign
    assert (out / "grades.foreign-2.csv").read_bytes() == b"other\n"


def test_grades_csv_and_the_gradebooks_hold_the_final_score(tmp_path):
    """auto + manual - late penalty, never below 0 (the shared rule), in grades.csv and gradebook_wide.csv."""
    from autograder import reports, roster

    def result(student, manual, penalty):
        return {"student": student, "assignment": CONV, "scores": {"test_im2col": 3.0, "test_col2im": 1.5},
                "max_scores": {"test_im2col": 3.0, "test_col2im": 3.0}, "flags": [], "error": None,
                "manual_score": manual, "late_penalty": penalty}

    stray = {"student": "dan", "assignment": "notes.txt", "scores": {}, "max_scores": {}, "flags": [],
             "error": "unexpected file notes.txt: expected a folder <assignment id>/"}
    rows = reports.write_reports([result("ann", 2, 1), result("ben", 0, 10), result("cy", 0, 0), stray], tmp_path)
    roster.write_gradebooks(rows, tmp_path)
    expected = {"ann": "5.5", "ben": "0", "cy": "4.5"}  # 3 + 1.5 + 2 - 1; 4.5 - 10 -> 0; 4.5
    assert {r["student_id"]: r["score"] for r in read_csv(tmp_path / "grades.csv")} == {**expected, "dan": "0"}
    wide = read_csv(tmp_path / "gradebook_wide.csv")
    assert list(wide[0]) == ["student_id", "name", "sis_id", "section", CONV, "note"]  # no column for a stray file
    assert {r["student_id"]: r[CONV] for r in wide} == {**expected, "dan": ""}
    assert {r["max_score"] for r in read_csv(tmp_path / "grades.csv") if r["student_id"] != "dan"} == {"6"}


def test_a_report_resaved_with_a_byte_order_mark_is_still_merged(tmp_path):
    from autograder import reports

    (tmp_path / "grades.csv").write_bytes("\ufeffstudent_id,assignment_id,score,max_score\nzoe,00_tour,0,0\n".encode())
    result = {"student": "amy", "assignment": CONV, "scores": {"test_im2col": 3.0}, "max_scores": {"test_im2col": 3.0},
              "flags": [], "error": None}
    reports.write_reports([result], tmp_path)
    assert [(r["student_id"], r["score"]) for r in read_csv(tmp_path / "grades.csv")] == [("amy", "3"), ("zoe", "0")]
    assert not (tmp_path / "grades.foreign.csv").exists()
