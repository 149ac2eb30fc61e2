"""Canvas and Moodle exports, --assignment, --roster: the CLI as a user runs it, on zips built here.

The zips are made from released notebooks and the sample answers of
``autograder/samples.py``; names follow the formats Canvas ("Download
Submissions") and Moodle ("Download all submissions") write. Expected scores
come from the source notebook's points (``lms_kit.CONV_FULL``).
"""

import pytest

from lms_kit import CONV, CONV_FULL, TOUR, answers, by_pair, flags, grade_cli, read_csv, reasons, write_tree, write_zip  # noqa: F401

from autograder.lms import LATE_FLAG

FULL = f"{CONV_FULL:g}"
ROSTER = ("student_id,name,sis_id,section\n"
          '12345,"Doe, Jane",S-1,A\n'
          '23456,"Roe, Bob",S-2,A\n'
          '45678,"Poe, Ed",S-4,B\n')  # Ed submitted nothing; 34567 is not in the roster
CANVAS_EXPORT = ("Student,ID,SIS User ID,SIS Login ID,Section,01_conv_as_matmul (4711),Current Score\n"
                 "    Points Possible,,,,,20,\n"
                 '"Doe, Jane",12345,S-1,jdoe,A,,\n'
                 '"Roe, Bob",23456,S-2,broe,A,,\n')


@pytest.fixture(scope="module")
def canvas(answers, tmp_path_factory):
    """A Canvas zip graded with --assignment and --roster, as the README says."""
    scratch = tmp_path_factory.mktemp("canvas")
    files = {
        "doejane_12345_67890_conv_as_matmul.ipynb": answers(CONV, "full"),
        # Bob submitted late, twice: Canvas named the second upload conv_as_matmul-1.ipynb.
        "roebob_LATE_23456_78901_conv_as_matmul.ipynb": answers(CONV, "blank"),
        "roebob_LATE_23456_78955_conv_as_matmul-1.ipynb": answers(CONV, "full"),
        "smithann_34567_89012_report.pdf": b"%PDF-1.4 not a notebook",
        "README.txt": b"a file whose name has no owner",
    }
    zipped = write_zip(scratch / "canvas.zip", files)
    before = zipped.read_bytes()
    (scratch / "roster.csv").write_text(ROSTER)
    run = grade_cli(scratch, "canvas.zip", "--assignment", CONV, "--out", "graded", "--roster", "roster.csv")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert zipped.read_bytes() == before
    return scratch, run


def test_canvas_zip_is_graded_per_canvas_user_id(canvas):
    scratch, _ = canvas
    grades = by_pair(read_csv(scratch / "graded" / "grades.csv"))
    assert (grades[("12345", CONV)]["score"], grades[("12345", CONV)]["max_score"]) == (FULL, FULL)
    assert reasons(scratch / "graded", "12345") == []
    # Of bob's two uploads the newer (-1, full marks) is graded, and that is said; so is LATE.
    assert grades[("23456", CONV)]["score"] == FULL
    bob = reasons(scratch / "graded", "23456", CONV)
    assert LATE_FLAG in bob
    assert any("conv_as_matmul-1.ipynb" in r and "newest" in r for r in bob), bob
    # A file that is not the notebook: 0 and said, the others still graded.
    assert grades[("34567", CONV)]["score"] == "0"
    ann = reasons(scratch / "graded", "34567", CONV)
    assert any("report.pdf" in r for r in ann) and any("not in the roster" in r for r in ann), ann
    assert any("cannot be told" in r for r in reasons(scratch / "graded", "README.txt")), "a file with no owner is reported"


def test_roster_gives_a_wide_gradebook_with_every_student(canvas):
    scratch, _ = canvas
    wide = read_csv(scratch / "graded" / "gradebook_wide.csv")
    assert [r["student_id"] for r in wide] == ["12345", "23456", "45678", "34567", "README.txt"]
    row = {r["student_id"]: r for r in wide}
    assert (row["12345"]["name"], row["12345"]["section"], row["12345"][CONV]) == ("Doe, Jane", "A", FULL)
    assert row["45678"][CONV] == "" and row["45678"]["note"] == ""  # rostered, nothing submitted
    assert row["34567"][CONV] == "0" and row["34567"]["note"] == "not in the roster"


def test_canvas_grades_csv_is_in_canvas_import_format(canvas):
    scratch, _ = canvas
    lines = (scratch / "graded" / "canvas_grades.csv").read_text().splitlines()
    assert lines[0] == f"Student,ID,SIS User ID,SIS Login ID,Section,{CONV}"
    assert lines[1] == f"Points Possible,,,,,{FULL}"
    rows = read_csv(scratch / "graded" / "canvas_grades.csv")[1:]
    assert [(r["ID"], r["Student"], r["SIS User ID"], r[CONV]) for r in rows] == [
        ("12345", "Doe, Jane", "S-1", FULL), ("23456", "Roe, Bob", "S-2", FULL), ("45678", "Poe, Ed", "S-4", "")]


def test_canvas_gradebook_export_as_roster_names_the_canvas_column(canvas):
    scratch, _ = canvas
    (scratch / "export.csv").write_text(CANVAS_EXPORT)
    run = grade_cli(scratch, "canvas.zip", "--assignment", CONV, "--out", "graded", "--roster", "export.csv")
    assert run.returncode == 0, run.stderr[-2000:]
    lines = (scratch / "graded" / "canvas_grades.csv").read_text().splitlines()
    assert lines[0] == f"Student,ID,SIS User ID,SIS Login ID,Section,{CONV} (4711)"
    assert lines[2:] == [f'"Doe, Jane",12345,S-1,jdoe,A,{FULL}', f'"Roe, Bob",23456,S-2,broe,A,{FULL}']
    wide = read_csv(scratch / "graded" / "gradebook_wide.csv")
    assert [r["student_id"] for r in wide] == ["12345", "23456", "34567", "README.txt"]


def test_moodle_zip_folders_and_flat_files(answers, tmp_path):
    # Moodle's zip, inside a folder as some browsers unpack and re-zip it; no roster.
    write_zip(tmp_path / "moodle.zip", {
        "Week 1-Convolution-42/Jane Doe_501_assignsubmission_file_/conv_as_matmul.ipynb": answers(CONV, "full"),
        "Week 1-Convolution-42/Bob Roe_502_assignsubmission_file_conv_as_matmul.ipynb": answers(CONV, "blank"),
    })
    run = grade_cli(tmp_path, "moodle.zip", "--assignment", CONV, "--out", "graded")
    assert run.returncode == 0, run.stderr[-2000:]
    grades = by_pair(read_csv(tmp_path / "graded" / "grades.csv"))
    assert {pair: (r["score"], r["max_score"]) for pair, r in grades.items()} == {
        ("501", CONV): (FULL, FULL), ("502", CONV): ("0", FULL)}
    assert flags(tmp_path / "graded") == []
    wide = read_csv(tmp_path / "graded" / "gradebook_wide.csv")
    assert [(r["student_id"], r[CONV]) for r in wide] == [("501", FULL), ("502", "0")]


@pytest.mark.parametrize("name", ["doejane_12345_67890_conv_as_matmul.ipynb",
                                  "Jane Doe_501_assignsubmission_file_conv_as_matmul.ipynb"])
def test_an_lms_zip_without_assignment_is_a_clear_error(tmp_path, name):
    write_zip(tmp_path / "export.zip", {name: b"{}"})
    run = grade_cli(tmp_path, "export.zip", "--out", "graded")
    assert run.returncode == 2
    assert "--assignment" in run.stderr and ("Canvas" in run.stderr or "Moodle" in run.stderr), run.stderr
    assert not (tmp_path / "graded" / "grades.csv").exists()


def test_an_unknown_assignment_is_a_clear_error(tmp_path):
    write_zip(tmp_path / "export.zip", {"doejane_12345_67890_x.ipynb": b"{}"})
    run = grade_cli(tmp_path, "export.zip", "--assignment", "99_nope", "--out", "graded")
    assert run.returncode == 2 and "99_nope: not an assignment of this course" in run.stderr


def test_a_roster_without_student_id_is_a_clear_error(tmp_path):
    (tmp_path / "roster.csv").write_text("name,email\nJane,j@x\n")
    (tmp_path / "subs").mkdir()
    run = grade_cli(tmp_path, "subs", "--out", "graded", "--roster", "roster.csv")
    assert run.returncode == 2 and "no student_id column" in run.stderr


def test_an_nbgrader_layout_zip_needs_no_assignment(answers, tmp_path):
    write_zip(tmp_path / "subs.zip", {f"alice/{TOUR}/tour.ipynb": answers(TOUR, "full")})
    run = grade_cli(tmp_path, "subs.zip", "--out", "graded")
    assert run.returncode == 0, run.stderr[-2000:]
    assert set(by_pair(read_csv(tmp_path / "graded" / "grades.csv"))) == {("alice", TOUR)}
    assert [r["student_id"] for r in read_csv(tmp_path / "graded" / "gradebook_wide.csv")] == ["alice"]


def test_which_of_a_students_files_is_graded(tmp_path):
    """The choice among one student's files (no grading needed to check it)."""
    from autograder.lms import File, choose

    def files(*names, late=False):
        return [File(tmp_path / name, "7", name, late=late, order=(i,)) for i, name in enumerate(names)]

    chosen, flags = choose(files("Untitled.ipynb", "notes.txt"), "tour.ipynb")
    assert chosen.original == "Untitled.ipynb"
    assert flags == ["graded Untitled.ipynb as tour.ipynb: the only notebook submitted",
                     "not graded (not the notebook tour.ipynb): notes.txt"]
    chosen, flags = choose(files("a.ipynb", "b.ipynb"), "tour.ipynb")
    assert chosen is None and flags == ["none of the notebooks submitted (a.ipynb, b.ipynb) is tour.ipynb: none graded"]
    chosen, flags = choose(files("tour-1.ipynb", "tour.ipynb", "other.ipynb", late=True), "tour.ipynb")
    assert chosen.original == "tour.ipynb"  # the higher order wins (for Canvas: -N, then the file id)
    assert flags[0] == LATE_FLAG and "2 copies of tour.ipynb" in flags[1] and flags[2].endswith(": other.ipynb")
    chosen, flags = choose(files("Tour.ipynb"), "tour.ipynb")
    assert chosen.original == "Tour.ipynb" and flags == []
