"""The feedback page as a student opens it: exercise names in the summary, each error once, formulas
typeset offline: they are MathML in the page, which the browser typesets with no script.

One quick assignment's reference, a partial sample (two exercises off by one) and a realistic mistake
whose error the grader's re-run reports under another exception name (a sum over an axis the array does
not have: NumPy's AxisError) are graded by the CLI from a scratch folder with relative paths. The pages
are parsed, then the partial one is opened in headless Chromium (Debian's, via Playwright) from a copy
of the page made the way ``nbgrader release_feedback`` copies it (the HTML file alone),
with every request that is not a local file aborted and counted. Skipped, saying why, without Chromium or
Playwright (``apt-get install -y chromium``; ``pip install playwright``). Screenshots go to
``$COURSEKIT_SCREENSHOT_DIR`` if set, else under pytest's basetemp.
"""

import csv
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser_kit import CHROMIUM, CHROMIUM_ARGS, NEEDS_CHROMIUM, free_port  # noqa: F401

from autograder import demo, exercises, samples
from autograder import notebook as nbtools

ASSIGNMENT = "04_pooling"  # array exercises, formulas in the prose, a quick notebook
NOTEBOOK = exercises.notebook_name(ASSIGNMENT)
PAGE = NOTEBOOK.replace(".ipynb", ".html")
# A realistic mistake: the right result summed over an axis it does not have. NumPy raises AxisError, a type
# the grader's re-run passes on wrapped ("StudentCodeError: AxisError: ..."), so its message and the
# kernel's are the same error under two names.
WRONG_AXIS = "    return _correct_{name}(*args, **kwargs).sum(axis=9)\n"
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.skipif(not exercises.source_notebook(ASSIGNMENT).exists(), reason=f"no {ASSIGNMENT} here")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("instructor")
    cli = [sys.executable, "-m", "autograder"]
    subprocess.run(cli + ["release", "--out", "release", ASSIGNMENT], cwd=scratch, check=True, capture_output=True,
                   timeout=600)
    source = nbtools.read(exercises.source_notebook(ASSIGNMENT))
    release = nbtools.read(scratch / "release" / ASSIGNMENT / NOTEBOOK)
    demo.write(samples.reference(release, source, ASSIGNMENT), scratch / "submissions", "reference", ASSIGNMENT)
    partial, broken = samples.partial(release, source, ASSIGNMENT)
    demo.write(partial, scratch / "submissions", "partial", ASSIGNMENT)
    demo.write(samples.wrapped(release, source, ASSIGNMENT, WRONG_AXIS), scratch / "submissions", "wrong-axis", ASSIGNMENT)
    run = subprocess.run(cli + ["grade", "submissions", "--out", "graded", "--quiet"], cwd=scratch,
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    with open(scratch / "graded" / "exercises.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {"scratch": scratch, "folder": scratch / "graded" / "feedback", "broken": broken, "rows": rows,
            "source": source}


def page_path(graded, student):
    return graded["folder"] / student / ASSIGNMENT / PAGE


def page(graded, student):
    return page_path(graded, student).read_text(encoding="utf-8")


class Page(HTMLParser):
    """The summary's items, each test cell's output texts, and every URL a tag loads."""

    LOADS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "embed": "src",
             "audio": "src", "video": "src", "object": "data"}

    def __init__(self, text):
        super().__init__()
        self.summary, self.cells, self.loads = [], {}, []
        self._in_toc = self._in_li = False
        self._toc_depth = None
        self._cell = None  # grade_id of the test cell being read
        self._output_depth = None
        self._depth = 0
        self._text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.LOADS and attrs.get(self.LOADS[tag]):
            self.loads.append((tag, attrs[self.LOADS[tag]]))
        if tag == "div":
            self._depth += 1
            if attrs.get("id") == "toc":
                self._in_toc = True
                self._toc_depth = self._depth
            classes = (attrs.get("class") or "").split()
            if "cell" in classes:
                self._cell = None
            if self._cell and "output_subarea" in classes:
                self._output_depth, self._text = self._depth, []
        if tag == "li" and self._in_toc:
            self._in_li, self._text = True, []
        if tag == "a" and attrs.get("name", "").startswith("test_") and not self._in_toc:
            self._cell = attrs["name"]
            self.cells[self._cell] = []

    def handle_endtag(self, tag):
        if tag == "li" and self._in_li:
            self.summary.append(" ".join("".join(self._text).split()))
            self._in_li = False
        if tag == "div":
            if self._output_depth == self._depth:
                self.cells[self._cell].append("".join(self._text).strip())
                self._output_depth = None
            if self._in_toc and self._toc_depth == self._depth:
                self._in_toc = False
            self._depth -= 1

    def handle_data(self, data):
        if self._in_li or self._output_depth is not None:
            self._text.append(data)


def test_the_summary_names_the_exercise_of_every_test_cell(graded):
    """One line per test cell of the source, "<function> — <grade_id>: <score> / <points>", in the order of the
    notebook; every graded function of the assignment is named, and no line says just "Test cell"."""
    tests = nbtools.test_cells(graded["source"])
    functions = exercises.functions(ASSIGNMENT)
    for student in ("reference", "partial"):
        summary = Page(page(graded, student)).summary
        assert len(summary) == len(tests), summary
        named = set()
        for line, (grade_id, points, _) in zip(summary, tests):
            match = re.fullmatch(r"(\w+) — (\w+): ([\d.]+) / ([\d.]+)", line)
            assert match, f"{student}: summary line {line!r}"
            function, shown_id, score, maximum = match.groups()
            assert function in functions and shown_id == grade_id, line
            assert grade_id == f"test_{function}" or grade_id.startswith(f"test_{function}_"), line
            assert float(maximum) == points, line
            # the reference has every point; the partial sample loses exactly the cells of its broken exercises
            lost = student == "partial" and function in graded["broken"]
            assert float(score) == (0.0 if lost else points), (student, line, graded["broken"])
            named.add(function)
        assert named == set(functions), f"{student}: the summary does not name {set(functions) - named}"
        assert not [line for line in summary if "Test cell" in line]


def error_messages(outputs):
    """The message of every error output of a cell (its first line is ``Name: message``)."""
    messages = []
    for text in outputs:
        first = text.strip().splitlines()[0] if text.strip() else ""
        match = re.match(r"^[A-Z]\w*(?:Error|Exception): (.+)$", first)
        if match:
            messages.append(match.group(1).strip())
    return messages


def test_no_cell_repeats_an_error(graded):
    checked = 0
    for student in ("reference", "partial", "wrong-axis"):
        cells = Page(page(graded, student)).cells
        assert cells, f"{student}: no test cell found on the page"
        for grade_id, outputs in cells.items():
            assert len(outputs) == len(set(outputs)), (student, grade_id, outputs)
            text = "\n".join(outputs)
            for message in error_messages(outputs):
                assert text.count(message) == 1, f"{student} {grade_id} says it twice: {message!r}\n{text}"
                checked += 1
    wrong_axis = Page(page(graded, "wrong-axis")).cells
    axis_errors = [g for g, outputs in wrong_axis.items() if any("out of bounds" in o for o in outputs)]
    assert axis_errors, f"the wrong-axis sample raised no AxisError: it tests nothing ({wrong_axis})"
    assert checked >= len(axis_errors)


def test_the_page_is_one_file_that_loads_nothing(graded):
    folder = page_path(graded, "partial").parent
    text = page(graded, "partial")
    loads = Page(text).loads
    assert loads == [] or all(url.startswith(("#", "data:")) for _, url in loads), loads
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", text, re.I)
    assert [p.name for p in folder.iterdir()] == [PAGE], "the page needs no file beside it"
    assert text.count("<math") > 0, "no formula became MathML"


def copy_as_released(graded, tmp_path):
    """The page where a student gets it: release_feedback and fetch_feedback copy the HTML file alone."""
    target = tmp_path / "student" / ASSIGNMENT / "feedback" / "2026-01-01 00:00:00.000000 UTC"
    target.mkdir(parents=True)
    shutil.copy(page_path(graded, "partial"), target / PAGE)
    return target / PAGE


def screenshot_path(tmp_path, name):
    folder = Path(os.environ.get("COURSEKIT_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def display_formulas(nb):
    """How many ``$$ ... $$`` blocks the markdown cells hold (each becomes one displayed formula)."""
    return sum(len(re.findall(r"\$\$.+?\$\$", cell.source, re.S)) for cell in nb.cells if cell.cell_type == "markdown")


def parsed_formulas(page_file):
    """How many displayed MathML formulas a page holds."""
    return Path(page_file).read_text(encoding="utf-8").count('display="block"')


def test_formulas_are_typeset_offline_in_a_browser(graded, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Debian's chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    released = copy_as_released(graded, tmp_path)
    expected_display = display_formulas(nbtools.read(graded["scratch"] / "submissions" / "partial" / ASSIGNMENT / NOTEBOOK))
    assert expected_display > 0, "the notebook has no displayed formula: this test checks nothing"
    local, blocked, failed, errors = [], [], [], []

    def only_local(route):
        if route.request.url.startswith("file://"):
            local.append(route.request.url)
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1300, "height": 1000})
            context.route("**/*", only_local)
            tab = context.new_page()
            tab.set_default_timeout(TIMEOUT_MS)
            tab.on("requestfailed", lambda request: failed.append(request.url))
            tab.on("pageerror", lambda error: errors.append(str(error)))
            tab.goto(released.as_uri())
            # Typeset by the browser: every formula has a size on the page, none is an error.
            containers = tab.evaluate("() => [...document.querySelectorAll('math')].filter(m => m.getBoundingClientRect().height > 0).length")
            displayed = tab.locator("math[display='block']").count()
            tex_errors = tab.locator("math merror").count()
            prose = tab.evaluate("() => [...document.querySelectorAll('.text_cell_render')].map(e => e.innerText).join('\\n')")
            summary = tab.locator("#toc").inner_text()
            tab.screenshot(path=str(screenshot_path(tmp_path, "feedback-summary.png")))
            tab.locator("math[display='block']").first.scroll_into_view_if_needed()
            tab.screenshot(path=str(screenshot_path(tmp_path, "feedback-formula.png")))
            lost = tab.locator("a[name='test_maxpool_backward']").locator(
                "xpath=ancestor::div[contains(@class, 'code_cell')][1]//div[contains(@class, 'output_wrapper')]")
            lost.screenshot(path=str(screenshot_path(tmp_path, "feedback-lost-points.png")))
        finally:
            browser.close()

    assert blocked == [], f"{len(blocked)} request(s) tried to leave the machine: {blocked[:5]}"
    assert failed == [] and errors == [], (failed, errors)
    assert local == [released.as_uri()], local
    assert displayed == expected_display, (displayed, expected_display)
    assert containers > displayed and tex_errors == 0, (containers, tex_errors)
    assert "$" not in prose and not re.search(r"\\(?:frac|times|lfloor|sum|le)\b", prose), \
        [line for line in prose.splitlines() if "$" in line or "\\" in line][:5]
    points = dict((grade_id, points) for grade_id, points, _ in nbtools.test_cells(graded["source"]))
    assert f"maxpool_forward — test_maxpool_forward: {points['test_maxpool_forward']:g} / " in summary, summary


def test_nbgraders_own_generate_feedback_writes_the_same_page_folder(tmp_path):
    """An instructor's ``nbgrader autograde`` + ``nbgrader generate_feedback`` (nbgrader's CLI, a course whose
    nbgrader_config.py takes the kit's configuration) gives the same summary, with the formulas as MathML
    and no script to load."""
    from autograder import course

    root = course.build(tmp_path / "course", [ASSIGNMENT])
    (root / "runtime").mkdir()  # the configuration's kernels talk over IPC sockets in there
    (root / "nbgrader_config.py").write_text(
        "import os\nfrom autograder.course import nbgrader_config\n"
        "c = get_config()\nc.merge(nbgrader_config(os.path.dirname(os.path.abspath(__file__))))\n")
    source = nbtools.read(exercises.source_notebook(ASSIGNMENT))
    release = nbtools.read(root / "release" / ASSIGNMENT / NOTEBOOK)
    demo.write(samples.reference(release, source, ASSIGNMENT), root / "submitted", "alice", ASSIGNMENT)
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    for command in (["autograde", ASSIGNMENT], ["generate_feedback", ASSIGNMENT]):
        run = subprocess.run([nbgrader, *command], cwd=root, capture_output=True, text=True, timeout=600, env=env)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    folder = root / "feedback" / "alice" / ASSIGNMENT
    parsed = Page((folder / PAGE).read_text(encoding="utf-8"))
    assert [line.split(" — ")[0] for line in parsed.summary] == \
        [exercises.function_of_test(grade_id, ASSIGNMENT) for grade_id, _, _ in nbtools.test_cells(source)]
    scripts = [url for tag, url in parsed.loads if tag == "script"]
    assert scripts == [], scripts
    assert parsed_formulas(folder / PAGE) == display_formulas(source), "every displayed formula is MathML"
