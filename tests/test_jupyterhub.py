"""A class on a real JupyterHub, driven in headless Chromium where a person would click.

The test makes an nbgrader course root with ``python -m autograder course`` in the instructor's home,
starts JupyterHub (from PyPI) with configurable-http-proxy (from npm) on free ports of 127.0.0.1, with
three accounts (an instructor and two students, DummyAuthenticator with one password) whose servers
JupyterHub's SimpleLocalProcessSpawner starts in per-user homes under pytest's tmp_path. Then, as in a
term:

1. the instructor releases the assignment on nbgrader's CLI (generate_assignment, release_assignment);
2. student ``alice`` logs in, opens the Assignments tab (nbgrader's JupyterLab extension), fetches the
   assignment, opens the notebook, writes one answer, runs it and its test cell, saves, and submits it
   in the Assignments tab;
3. student ``bob`` fetches and submits the reference solution on nbgrader's CLI;
4. the instructor runs ``nbgrader collect``, the hardened ``python -m autograder grade submitted --out .``
   in the course root, and ``nbgrader release_feedback``;
5. alice fetches the feedback in the Assignments tab and opens it: the page names the exercises and
   gives the hardened scores; the gradebook (nbgrader's API) holds the same scores;
6. the instructor logs in and opens formgrader (menu Nbgrader > Formgrader, Manage Students): both
   students' hardened scores. The instructor's ``jupyter_server_config.py`` allows same-origin frames
   (jupyterhub-singleuser sends ``frame-ancestors 'none'``, which leaves JupyterLab's Formgrader tab blank).

Expected scores come from the source notebook's test cells (their points), not from the grader.

SimpleLocalProcessSpawner runs every server as the OS user running the test, so nbgrader cannot take
the student id from the OS account as it does on a hub with one account per person; each student's
``~/.jupyter/nbgrader_config.py`` sets ``CourseDirectory.student_id`` to the hub user name (which is
what nbgrader does itself for the ``jovyan`` user of the docker images). Everything else (the exchange,
fetch, submit, collect, feedback) is nbgrader's own code, unchanged.

Skipped, saying why, without Playwright, Debian's Chromium (``apt-get install -y chromium``),
configurable-http-proxy (``npm install -g configurable-http-proxy``) or JupyterHub (``pip install
jupyterhub``). Every wait has a timeout; the hub and every process it started (servers, kernels) are
stopped at the end, by their process ids. Screenshots of each step go to ``$COURSEKIT_SCREENSHOT_DIR``
if set, else to ``tmp_path/screens``.
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser_kit import CHROMIUM, CHROMIUM_ARGS, NEEDS_CHROMIUM, free_port, terminate  # noqa: F401

from autograder import exercises, samples
from autograder import notebook as nbtools

ASSIGNMENT = "04_pooling"  # quick to grade, six named exercises (00_tour has none: its feedback names no exercise)
NOTEBOOK = exercises.notebook_name(ASSIGNMENT)
COURSE_ID = "convnets-101"
INSTRUCTOR, STUDENTS = "instructor", ("alice", "bob")
ANSWERED = "global_avgpool_forward"  # the exercise alice answers in the browser
ANSWER = '''def global_avgpool_forward(x):
    """The mean of each channel over the whole image."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {x.shape}")
    return x.mean(axis=(2, 3))
'''
TIMEOUT_MS = 90_000  # per browser step: a spawn, a kernel start or a fetch on a loaded 2-core machine
CLI_TIMEOUT = 300  # per command line
QUIET_SETTINGS = {  # JupyterLab user settings: no news, every cell in the page, no autosave
    "apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
BIN = Path(sys.executable).parent
FORMGRADER_FRAMES = """\
c = get_config()  # noqa: F821
c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
"""

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    sync_playwright = None
try:
    import jupyterhub
except ImportError:
    jupyterhub = None

pytestmark = [
    *NEEDS_CHROMIUM,
    pytest.mark.skipif(jupyterhub is None, reason="jupyterhub is not installed (pip install jupyterhub)"),
    pytest.mark.skipif(shutil.which("configurable-http-proxy") is None,
                       reason="configurable-http-proxy is not on PATH (npm install -g configurable-http-proxy)"),
    pytest.mark.skipif(not (BIN / "jupyterhub-singleuser").exists(),
                       reason=f"no jupyterhub-singleuser beside {sys.executable}"),
]


def environment(home):
    """What a user's shell has: their HOME, the course's Python first on PATH, headless plots."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "IPYTHON"))}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}", MPLBACKEND="Agg")
    return env


def run(command, cwd, home, timeout=CLI_TIMEOUT):
    """A command line as the user whose home is ``home``; fails the test with its output if it fails."""
    done = subprocess.run(command, cwd=cwd, env=environment(home), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))} exited {done.returncode}:\n" \
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def nbgrader(*args):
    return [str(BIN / "nbgrader"), *args]


def write_user_settings(home, student_id=None, exchange=None, course_root=None):
    """A user's ~/.jupyter: quiet JupyterLab settings and the nbgrader configuration a hub admin gives them."""
    jupyter = Path(home) / ".jupyter"
    for relative, settings in QUIET_SETTINGS.items():
        path = jupyter / "lab" / "user-settings" / "@jupyterlab" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    lines = ["c = get_config()  # noqa: F821", f"c.CourseDirectory.course_id = {COURSE_ID!r}"]
    if exchange:
        lines.append(f"c.Exchange.root = {str(exchange)!r}")
    if student_id:  # one OS account for every hub user here: say who this student is
        lines.append(f"c.CourseDirectory.student_id = {student_id!r}")
    if course_root:  # the instructor's formgrader and CLI find the course from anywhere
        lines.append(f"c.CourseDirectory.root = {str(course_root)!r}")
        # jupyterhub-singleuser forbids framing (frame-ancestors 'none'): JupyterLab's Formgrader tab is an iframe
        (jupyter / "jupyter_server_config.py").write_text(FORMGRADER_FRAMES)
    (jupyter / "nbgrader_config.py").write_text("\n".join(lines) + "\n")


def hub_config(base, ports, homes, password):
    return f"""\
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {ports['public']}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {ports['hub']}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{ports['proxy_api']}"
c.ConfigurableHTTPProxy.command = [{shutil.which('configurable-http-proxy')!r}]
c.ConfigurableHTTPProxy.debug = False
c.JupyterHub.db_url = "sqlite:///{base / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = "{base / 'jupyterhub_cookie_secret'}"
c.JupyterHub.pid_file = "{base / 'jupyterhub.pid'}"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = {set(STUDENTS) | {INSTRUCTOR}!r}
c.Authenticator.admin_users = {{{INSTRUCTOR!r}}}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{homes}/{{username}}"
c.Spawner.cmd = [{str(BIN / 'jupyterhub-singleuser')!r}]
c.Spawner.args = ["--allow-root", "--ServerApp.port_retries=0"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {{"PATH": {f"{BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin"!r}, "MPLBACKEND": "Agg"}}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
"""


def descendants(pid):
    """Every process below ``pid`` (from /proc), children first in the list order of discovery."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_hub(process):
    """SIGTERM to the hub (it stops the servers it spawned), then SIGKILL to whatever of its tree is left."""
    tree = descendants(process.pid)
    terminate(process, grace=30)
    deadline = time.monotonic() + 10
    for pid in tree:
        try:
            os.killpg(os.getpgid(pid), signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in tree):
        time.sleep(0.2)
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for_hub(url, process, log, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterHub exited with code {process.returncode}:\n{Path(log).read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/hub/api/", timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterHub did not answer within {timeout} s:\n{Path(log).read_text()[-3000:]}")


@pytest.fixture
def hub(tmp_path):
    """A running JupyterHub with the course made: dict with url, password, homes, course, exchange, log."""
    base, homes = tmp_path / "hub", tmp_path / "home"
    base.mkdir()
    exchange = tmp_path / "srv" / "nbgrader" / "exchange"
    exchange.mkdir(parents=True)
    exchange.chmod(0o777)  # nbgrader's exchange: every user writes their own inbound entries
    course = homes / INSTRUCTOR / "course"
    for user in (INSTRUCTOR, *STUDENTS):
        (homes / user).mkdir(parents=True)
        write_user_settings(homes / user, student_id=user if user in STUDENTS else None, exchange=exchange,
                            course_root=course if user == INSTRUCTOR else None)
    run([sys.executable, "-m", "autograder", "course", "course", "--exchange", str(exchange), "--course-id", COURSE_ID],
        cwd=homes / INSTRUCTOR, home=homes / INSTRUCTOR)

    ports = {name: free_port() for name in ("public", "hub", "proxy_api")}
    password = secrets.token_hex(8)
    (base / "jupyterhub_config.py").write_text(hub_config(base, ports, homes, password))
    url, log = f"http://127.0.0.1:{ports['public']}", base / "jupyterhub.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(base / "jupyterhub_config.py")], cwd=base,
                                   env=environment(base), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_hub(url, process, log)
        yield {"url": url, "password": password, "homes": homes, "course": course, "exchange": exchange, "log": log}
    finally:
        stop_hub(process)


class Screens:
    """Numbered screenshots of the steps, in the order taken."""

    def __init__(self, folder):
        self.folder, self.taken = Path(folder), []
        self.folder.mkdir(parents=True, exist_ok=True)

    def take(self, page, name):
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path))
        self.taken.append(path)


class Timer:
    """Seconds per step, printed at the end (pytest -s shows them; -rA keeps them in the report)."""

    def __init__(self):
        self.start = self.last = time.monotonic()
        self.steps = []

    def lap(self, name):
        now = time.monotonic()
        self.steps.append((name, now - self.last))
        self.last = now

    def report(self):
        return ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.steps) + \
            f"; total {time.monotonic() - self.start:.0f} s"


def wait_for(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.5)


def log_in(browser, hub, user):
    """A fresh browser context; the user logs in on the hub's page and lands in their JupyterLab."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{hub['url']}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub["password"])
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(rf"/user/{user}/lab"))
    expect(page.locator("#jp-main-dock-panel")).to_be_visible()
    return page


def open_menu(page, menu, item):
    page.get_by_role("menuitem", name=menu, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def open_assignments_tab(page):
    """nbgrader's Assignments tab (menu Nbgrader > Assignment List)."""
    open_menu(page, "Nbgrader", "Assignment List")
    panel = page.locator("#assignments")
    expect(panel).to_be_visible()
    return panel


def expected_points():
    """``{grade_id: points}`` of the source notebook's test cells, and the test cells of alice's exercise."""
    tests = nbtools.test_cells(nbtools.read(exercises.source_notebook(ASSIGNMENT)))
    points = {grade_id: value for grade_id, value, _ in tests}
    answered = [g for g in points if exercises.function_of_test(g, ASSIGNMENT) == ANSWERED]
    return points, answered


def answer_source(path):
    """The source of the answer cell of ``ANSWERED`` in the notebook file at ``path``."""
    return next(cell.source for cell in nbtools.read(path).cells if nbtools.is_answer(cell)
                and f"def {ANSWERED}(" in cell.source)


def student_fetches_answers_and_submits(page, home, screens, timer):
    """In the Assignments tab: fetch; open the notebook, run its imports, write the answer, run it and its
    test cell, save; submit. Returns the saved notebook's path."""
    panel = open_assignments_tab(page)
    released = panel.locator("#released_assignments_list")
    expect(released).to_contain_text(ASSIGNMENT)
    expect(released).to_contain_text(COURSE_ID)
    screens.take(page, "alice-assignments-released")
    released.get_by_role("button", name="Fetch").click()
    fetched = panel.locator("#fetched_assignments_list")
    expect(fetched).to_contain_text(ASSIGNMENT)
    fetched.get_by_role("button", name=re.compile(ASSIGNMENT)).click()  # expands the assignment: its notebooks
    link = fetched.get_by_role("link", name=NOTEBOOK.removesuffix(".ipynb"), exact=True)
    expect(link).to_be_visible()
    screens.take(page, "alice-fetched")
    link.click()
    timer.lap("fetch")

    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(page.get_by_role("button", name=re.compile(r"^Python 3 \(ipykernel\) \| Idle$"))).to_be_visible()
    notebook.locator(".jp-CodeCell").first.locator(".cm-content").click()  # the imports: run them first
    page.keyboard.press("Shift+Enter")
    answer = notebook.locator(".jp-CodeCell").filter(has_text=f"def {ANSWERED}(").first
    answer.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(ANSWER)  # as pasted: no auto-indent, no closed brackets
    page.keyboard.press("Shift+Enter")  # runs the answer, moves to its test cell
    page.keyboard.press("Shift+Enter")
    test_cell = notebook.locator(".jp-CodeCell").filter(has_text=f"assert_no_delegation({ANSWERED})").first
    expect(test_cell.locator(".jp-OutputArea")).to_contain_text("visible tests passed")
    page.keyboard.press("Control+s")
    saved = home / ASSIGNMENT / NOTEBOOK
    wait_for(lambda: "x.mean(axis=(2, 3))" in answer_source(saved), f"the answer saved in {saved}")
    answer.scroll_into_view_if_needed()
    screens.take(page, "alice-answered-and-saved")
    timer.lap("answer, run, save")

    page.get_by_role("tab", name="Assignments").click()
    panel.locator("#fetched_assignments_list").get_by_role("button", name="Submit").click()
    submitted = panel.locator("#submitted_assignments_list")
    expect(submitted).to_contain_text(ASSIGNMENT)
    expect(submitted).to_contain_text(" UTC")  # the submission's timestamp
    screens.take(page, "alice-submitted")
    timer.lap("submit")
    return saved


def submit_on_the_cli(home):
    """A student who works in a terminal: fetch, the reference solution as their notebook, submit."""
    run(nbgrader("fetch_assignment", ASSIGNMENT), cwd=home, home=home)
    path = home / ASSIGNMENT / NOTEBOOK
    source = nbtools.read(exercises.source_notebook(ASSIGNMENT))
    nbformat.write(samples.reference(nbtools.read(path), source, ASSIGNMENT), str(path))
    run(nbgrader("submit", ASSIGNMENT), cwd=home, home=home)


def student_opens_feedback(page, screens):
    """Assignments tab: Fetch Feedback, then "(view feedback)" (the file browser goes to the folder), then the
    page itself in JupyterLab's HTML viewer, not trusted (no script runs: the page needs none, its formulas are
    MathML that the browser typesets). Returns the heading: score and summary."""
    page.reload()
    expect(page.locator("#jp-main-dock-panel")).to_be_visible()
    panel = page.locator("#assignments")
    if not panel.is_visible():
        panel = open_assignments_tab(page)
    submitted = panel.locator("#submitted_assignments_list")
    expect(submitted).to_contain_text(ASSIGNMENT)
    submitted.get_by_role("button", name="Fetch Feedback").click()
    view = submitted.get_by_text("(view feedback)")
    expect(view).to_be_visible()
    screens.take(page, "alice-feedback-fetched")
    view.click()
    html = NOTEBOOK.replace(".ipynb", ".html")
    entry = page.locator(".jp-DirListing-item").filter(has_text=html)
    expect(entry).to_be_visible()
    entry.dblclick()
    viewer = page.locator(".jp-HTMLViewer:visible")
    expect(viewer).to_be_visible()
    frame = page.frame_locator(".jp-HTMLViewer:visible iframe")
    heading = frame.locator(".panel-heading:has(#toc)")  # score, then #toc
    expect(heading.locator("#toc")).to_contain_text(ANSWERED)
    summary = heading.inner_text()
    # The formulas reached the student typeset: each has a size on the page, and no TeX source is left.
    typeset = frame.locator("body").evaluate(
        "body => [...body.querySelectorAll('math')].filter(m => m.getBoundingClientRect().width > 0).length")
    prose = frame.locator("body").evaluate(
        "body => [...body.querySelectorAll('.text_cell_render')].map(e => e.innerText).join(' ')")
    assert typeset > 0 and "$" not in prose, (typeset, [w for w in prose.split() if "$" in w][:5])
    frame.locator("math[display='block']").first.scroll_into_view_if_needed()
    screens.take(page, "alice-feedback-formula")
    frame.locator("#toc").scroll_into_view_if_needed()
    screens.take(page, "alice-feedback-page")
    return summary


def instructor_opens_the_gradebook(page, screens):
    """Formgrader (menu Nbgrader > Formgrader), Manage Students: returns the table's text."""
    open_menu(page, "Nbgrader", "Formgrader")
    frame = page.frame_locator("#formgrader iframe")
    frame.get_by_role("link", name="Manage Students").click()
    table = frame.locator("table")
    for student in STUDENTS:
        expect(table).to_contain_text(student)
    screens.take(page, "instructor-formgrader-students")
    return table.inner_text()


def test_a_class_on_jupyterhub(hub, tmp_path):
    screens = Screens(os.environ.get("COURSEKIT_SCREENSHOT_DIR") or tmp_path / "screens")
    timer = Timer()
    course, homes = hub["course"], hub["homes"]
    instructor = homes / INSTRUCTOR
    points, answered = expected_points()
    assert answered, f"{ANSWERED} has no test cell in {ASSIGNMENT}: this test checks nothing"
    total, alice_score = sum(points.values()), sum(points[g] for g in answered)

    # 1. The instructor releases the assignment (nbgrader's CLI, from the course root).
    run(nbgrader("generate_assignment", ASSIGNMENT), cwd=course, home=instructor)
    run(nbgrader("release_assignment", ASSIGNMENT), cwd=course, home=instructor)
    timer.lap("release")

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # 2. alice, in the browser; 3. bob, in a terminal.
            alice = log_in(browser, hub, "alice")
            timer.lap("alice logs in (spawn)")
            student_fetches_answers_and_submits(alice, homes / "alice", screens, timer)
            submit_on_the_cli(homes / "bob")
            timer.lap("bob fetches and submits (CLI)")

            # 4. The instructor collects, grades with the hardened grader, releases the feedback.
            run(nbgrader("collect", ASSIGNMENT), cwd=course, home=instructor)
            for student in STUDENTS:
                assert (course / "submitted" / student / ASSIGNMENT / "timestamp.txt").is_file(), student
            run([sys.executable, "-m", "autograder", "grade", "submitted", "--out", ".", "--workers", "1", "--quiet"],
                cwd=course, home=instructor, timeout=900)
            timer.lap("collect, hardened grade")
            for student in STUDENTS:  # what release_feedback needs beside each page, written by grade
                for name in ("timestamp.txt", "submission_secret.txt"):
                    assert (course / "feedback" / student / ASSIGNMENT / name).is_file(), (student, name)
            run(nbgrader("release_feedback", ASSIGNMENT), cwd=course, home=instructor)
            timer.lap("release_feedback")

            # 5. alice fetches her feedback and opens it; 6. the instructor looks at formgrader.
            summary = student_opens_feedback(alice, screens)
            timer.lap("alice fetches and opens feedback")
            students_table = instructor_opens_the_gradebook(log_in(browser, hub, INSTRUCTOR), screens)
            timer.lap("instructor's formgrader")
        except BaseException:
            for number, context in enumerate(browser.contexts):  # what each page showed when it failed
                for page in context.pages:
                    screens.take(page, f"failure-{number}")
            print(f"JupyterHub's log ends with:\n{hub['log'].read_text()[-4000:]}", file=sys.stderr)
            raise
        finally:
            browser.close()

    # The page: every exercise named with its hardened score; alice has the points of her exercise only.
    for grade_id, maximum in points.items():
        function = exercises.function_of_test(grade_id, ASSIGNMENT)
        score = maximum if grade_id in answered else 0
        assert f"{function} — {grade_id}: {score:g} / {maximum:g}" in summary, (grade_id, summary)
    assert f"(Score: {alice_score:g} / {total:g})" in summary, summary
    # The course's gradebook (nbgrader's API) and formgrader hold the same scores.
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        scores = {student: gb.find_submission(ASSIGNMENT, student).score for student in STUDENTS}
    assert scores == {"alice": alice_score, "bob": total}, scores
    rows = {cells[1].strip(): [c.strip() for c in cells]  # Name, Student ID, Email, Overall Score, Edit
            for cells in (line.split("\t") for line in students_table.splitlines()) if len(cells) >= 4}
    print(f"\nJupyterHub class round: {timer.report()}; screenshots in {screens.folder}")
    for student, score in scores.items():
        assert rows[student][3] == f"{score:g} / {total:g}", (student, students_table)
