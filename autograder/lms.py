"""Submissions as an LMS hands them out: a zip, and the exports of Canvas and Moodle for one assignment.

``stage(submissions, assignment)`` turns what ``grade`` is given into nbgrader's
submitted layout ``<student id>/<assignment id>/<notebook>.ipynb`` in a
temporary folder (the originals are only read), with the flags each student's
files call for. Supported (see README, "From an LMS (Canvas, Moodle)"):

- **Canvas**, "Download Submissions": flat files
  ``<name>[_LATE]_<canvas user id>_<id>_<file name as submitted>``, e.g.
  ``doejane_LATE_12345_67890_tour-1.ipynb``; Canvas appends ``-N`` to a file
  name the student had already uploaded. The student id is the Canvas user id
  (the ``ID`` column of Canvas's gradebook export).
- **Moodle**, "Download all submissions": one folder per student
  ``<Full Name>_<participant id>_assignsubmission_file_/<file name>``, or flat
  files ``<Full Name>_<participant id>_assignsubmission_file_<file name>``.
  The student id is Moodle's participant id (the number in ``Participant 12345``
  of its grading worksheet; Moodle numbers participants per assignment).

Such an export holds one assignment and does not say which: ``--assignment ID``
does. Of a student's files, the assignment's notebook is graded (with several
copies, the newest: the highest ``-N`` suffix, then the highest LMS id); a lone
notebook under another name is graded as the notebook; every other file is
named in a flag, as is ``LATE``. A file whose name has no owner is reported
under its own name.
"""

import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

from . import exercises

MAX_ZIP_BYTES = 2 * 1024**3
MAX_ZIP_FILES = 100_000

CANVAS = re.compile(r"^(?P<name>[^_]+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<id>\d+)_(?P<file>.+)$")
MOODLE = re.compile(r"^(?P<name>[^_]+)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<file>.*)$")
RESUBMITTED = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)(?P<ext>\.[^.]+)$")  # Canvas's tour-1.ipynb
LATE_FLAG = "late (per the LMS file name)"
IGNORED = (".", "__MACOSX")


def unpack(archive, dest):
    """Extract a zip of submissions (as an LMS hands them out) safely; returns the folder of student folders."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ZIP_FILES or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise ValueError(f"{archive}: too large to unpack ({len(members)} files)")
            for member in members:
                parts = Path(member.filename).parts
                if member.filename.startswith("/") or ".." in parts or stat.S_ISLNK(member.external_attr >> 16):
                    raise ValueError(f"{archive}: refusing the unsafe entry {member.filename!r}")
            zf.extractall(dest)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{archive}: not a valid zip file ({error})") from None
    top = visible(dest)
    # A zip of one folder holding the student folders: grade inside it.
    if len(top) == 1 and top[0].is_dir() and all(p.is_dir() for p in top[0].iterdir()) and \
            not any(p.name in exercises.EXERCISES for p in top[0].iterdir()):
        return top[0]
    return Path(dest)


def visible(folder):
    return sorted(p for p in Path(folder).iterdir() if not p.name.startswith(IGNORED))


class File:
    """One file of an LMS export: whose it is, and what the student called it."""

    def __init__(self, path, student, original, late=False, order=(0,)):
        self.path, self.student, self.original, self.late, self.order = Path(path), student, original, late, order


def read_export(folder):
    """``(kind, [File], [entries with no owner])`` of a Canvas or Moodle export; None for anything else."""
    top = visible(folder)
    if len(top) == 1 and top[0].is_dir() and not MOODLE.match(top[0].name):
        top = visible(top[0])  # the export inside one folder
    files, unowned, kinds = [], [], set()
    for entry in top:
        moodle, canvas = MOODLE.match(entry.name), CANVAS.match(entry.name)
        if entry.is_dir() and moodle and not moodle["file"]:
            kinds.add("Moodle")
            files += [File(p, moodle["user"], str(p.relative_to(entry)), order=(resubmission(p.name)[1],))
                      for p in sorted(entry.rglob("*")) if p.is_file() and not p.name.startswith(IGNORED)]
        elif entry.is_file() and moodle:
            kinds.add("Moodle")
            files.append(File(entry, moodle["user"], moodle["file"], order=(resubmission(moodle["file"])[1],)))
        elif entry.is_file() and canvas:
            kinds.add("Canvas")
            files.append(File(entry, canvas["user"], canvas["file"], late=bool(canvas["late"]),
                              order=(resubmission(canvas["file"])[1], int(canvas["id"]))))
        else:
            unowned.append(entry)
    if not files:
        return None
    return " and ".join(sorted(kinds)), files, unowned


def resubmission(name):
    """``(name without Canvas's -N suffix, N)``: ``tour-2.ipynb`` -> ``("tour.ipynb", 2)``."""
    match = RESUBMITTED.match(name)
    return (match["stem"] + match["ext"], int(match["n"])) if match else (name, 0)


def choose(files, notebook):
    """``(the file to grade or None, flags)`` for one student's files."""
    copies = [f for f in files if f.original.lower() == notebook.lower() or resubmission(f.original)[0].lower() == notebook.lower()]
    notebooks = [f for f in files if f.original.lower().endswith(".ipynb")]
    flags = [LATE_FLAG] if any(f.late for f in files) else []
    chosen = max(copies, key=lambda f: f.order) if copies else None
    if len(copies) > 1:
        flags.append(f"{len(copies)} copies of {notebook} submitted ({', '.join(f.original for f in copies)}): "
                     f"graded {chosen.original}, the newest (highest -N suffix, then highest LMS id)")
    elif not copies and len(notebooks) == 1:
        chosen = notebooks[0]
        flags.append(f"graded {chosen.original} as {notebook}: the only notebook submitted")
    elif not copies and notebooks:
        flags.append(f"none of the notebooks submitted ({', '.join(f.original for f in notebooks)}) is {notebook}: none graded")
    named = copies or (notebooks if len(notebooks) > 1 else [])  # already named in a flag above
    others = [f.original for f in files if f is not chosen and f not in named]
    if others:
        flags.append(f"not graded (not the notebook {notebook}): {', '.join(others)}")
    return chosen, flags


def to_layout(export, assignment, dest):
    """Write the export as ``dest/<student>/<assignment>/<notebook>``; returns ``{(student, assignment): [flags]}``."""
    kind, files, unowned = export
    notebook = exercises.notebook_name(assignment)
    by_student = {}
    for file in files:
        by_student.setdefault(file.student, []).append(file)
    flags = {}
    for student, mine in sorted(by_student.items()):
        chosen, flags[(student, assignment)] = choose(mine, notebook)
        folder = Path(dest) / student / assignment
        folder.mkdir(parents=True)
        if chosen:
            shutil.copyfile(chosen.path, folder / notebook)
    for entry in unowned:
        (Path(dest) / entry.name / assignment).mkdir(parents=True, exist_ok=True)
        flags.setdefault((entry.name, assignment), []).append(
            f"{entry.name}: not named as {kind} names a student's file, so whose it is cannot be told; not graded")
    return flags


class Staged:
    """Submissions in nbgrader's layout, made from a zip or an LMS export; removed on leaving ``with``."""

    def __init__(self, folder, flags, origin, temporary):
        self.folder, self.flags, self.origin, self.temporary = Path(folder), flags, Path(origin), temporary

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for folder in self.temporary:
            shutil.rmtree(folder, ignore_errors=True)


def stage(submissions, assignment=None):
    """What ``grade`` grades for ``submissions``; None when it is already a folder in nbgrader's layout."""
    if assignment is not None and assignment not in exercises.assignment_ids():
        raise ValueError(f"--assignment {assignment}: not an assignment of this course "
                         f"(one of {', '.join(exercises.assignment_ids())})")
    submissions = Path(submissions)
    temporary = []
    try:
        folder = submissions
        if submissions.is_file() and submissions.name.lower().endswith(".zip"):
            temporary.append(Path(tempfile.mkdtemp(prefix="cfs-unzip-")))
            folder = unpack(submissions, temporary[-1])
        export = read_export(folder) if folder.is_dir() else None
        if export is None:
            return Staged(folder, {}, submissions, temporary) if temporary else None
        if assignment is None:
            example = export[1][0].path.name
            raise ValueError(f"{submissions} is a {export[0]} export (files such as {example!r}), which does not "
                             f"say which assignment it holds: give it with --assignment ID "
                             f"(one of {', '.join(exercises.assignment_ids())})")
        temporary.append(Path(tempfile.mkdtemp(prefix="cfs-lms-")))
        return Staged(temporary[-1], to_layout(export, assignment, temporary[-1]), submissions, temporary)
    except BaseException:
        for folder in temporary:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def add_flags(results, flags):
    """Append the LMS's flags to the results of the pairs they are about."""
    for result in results:
        result["flags"] = result["flags"] + flags.get((result["student"], result["assignment"]), [])
