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
6. the instructor logs in and opens formgrader's gradebook, which shows both students' scores.

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
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder import exercises, samples
from autograder import notebook as nbtools

ASSIGNMENT = "04_pooling"  # quick to grade, several named exercises
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
CHROMIUM = os.environ.get("COURSEKIT_CHROMIUM", "/usr/lib/chromium/chromium")  # the real binary, not the wrapper
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 90_000  # per browser step: a spawn, a kernel start or a fetch on a loaded 2-core machine
CLI_TIMEOUT = 300  # per command line
QUIET_SETTINGS = {  # JupyterLab user settings: no news, every cell in the page, no autosave
    "apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
BIN = Path(sys.executable).parent

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    sync_playwright = None
try:
    import jupyterhub
except ImportError:
    jupyterhub = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"Debian's chromium not found at {CHROMIUM} (apt-get install -y chromium)"),
    pytest.mark.skipif(jupyterhub is None, reason="jupyterhub is not installed (pip install jupyterhub)"),
    pytest.mark.skipif(shutil.which("configurable-http-proxy") is None,
                       reason="configurable-http-proxy is not on PATH (npm install -g configurable-http-proxy)"),
    pytest.mark.skipif(not (BIN / "jupyterhub-singleuser").exists(),
                       reason=f"no jupyterhub-singleuser beside {sys.executable}"),
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
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


def log_in(browser, hub, user):
    """A fresh browser context; the user logs in on the hub's page and lands in their JupyterLab."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{hub['url']}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub["password"])
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=TIMEOUT_MS)
    expect(page.locator("#jp-main-dock-panel")).to_be_visible()
    return page


def open_assignments_tab(page):
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.get_by_role("menuitem", name="Assignment List", exact=True).click()
    panel = page.locator("#assignments")
    expect(panel).to_be_visible()
    return panel


def expected_points():
    """``{grade_id: points}`` of the source notebook's test cells, and the test cells of alice's exercise."""
    tests = nbtools.test_cells(nbtools.read(exercises.source_notebook(ASSIGNMENT)))
    points = {grade_id: value for grade_id, value, _ in tests}
    answered = [g for g in points if exercises.function_of_test(g, ASSIGNMENT) == ANSWERED]
    return points, answered


def test_a_class_on_jupyterhub(hub, tmp_path):
    screens = Screens(os.environ.get("COURSEKIT_SCREENSHOT_DIR") or tmp_path / "screens")
    timer = Timer()
    course, homes = hub["course"], hub["homes"]
    instructor_home = homes / INSTRUCTOR
    points, answered = expected_points()
    assert answered, f"{ANSWERED} has no test cell in {ASSIGNMENT}: this test checks nothing"

    # 1. The instructor releases the assignment (nbgrader's CLI, from the course root).
    run(nbgrader("generate_assignment", ASSIGNMENT), cwd=course, home=instructor_home)
    run(nbgrader("release_assignment", ASSIGNMENT), cwd=course, home=instructor_home)
    timer.lap("release")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            expect.set_options(timeout=TIMEOUT_MS)
            # 2. alice logs in, fetches, answers, saves and submits.
            alice = log_in(browser, hub, "alice")
            alice.set_default_timeout(TIMEOUT_MS)
            timer.lap("alice logs in (spawn)")
            panel = open_assignments_tab(alice)
            released = panel.locator("#released_assignments_list")
            expect(released).to_contain_text(ASSIGNMENT)
            expect(released).to_contain_text(COURSE_ID)
            screens.take(alice, "alice-assignments-released")
            released.get_by_role("button", name="Fetch").click()
            fetched = panel.locator("#fetched_assignments_list")
            expect(fetched).to_contain_text(ASSIGNMENT)
            fetched.get_by_text(ASSIGNMENT).click()  # expands the assignment: its notebooks
            fetched.get_by_role("link", name=NOTEBOOK.removesuffix(".ipynb"), exact=True).click()
            screens.take(alice, "alice-fetched")
            timer.lap("fetch")

            notebook = alice.locator(".jp-NotebookPanel:visible")
            expect(alice.get_by_role("button", name=re.compile(r"^Python 3 \(ipykernel\) \| Idle$"))).to_be_visible()
            notebook.locator(".jp-CodeCell").first.locator(".cm-content").click()  # the imports: run them first
            alice.keyboard.press("Shift+Enter")
            answer = notebook.locator(".jp-CodeCell").filter(has_text=f"def {ANSWERED}(").first
            answer.locator(".cm-content").click()
            alice.keyboard.press("Control+a")
            alice.keyboard.insert_text(ANSWER)  # as pasted: no auto-indent, no closed brackets
            answer.locator(".cm-content").click()
            alice.keyboard.press("Shift+Enter")  # runs the answer, moves to its test cell
            alice.keyboard.press("Shift+Enter")
            test_cell = notebook.locator(".jp-CodeCell").filter(has_text=f"assert_no_delegation({ANSWERED})").first
            expect(test_cell.locator(".jp-OutputArea")).to_contain_text("visible tests passed")
            alice.keyboard.press("Control+s")
            test_cell.scroll_into_view_if_needed()
            screens.take(alice, "alice-answered-and-saved")
            saved = homes / "alice" / ASSIGNMENT / NOTEBOOK
            deadline = time.monotonic() + 30
            while ANSWER.strip() not in nbtools.read(saved).cells[_cell_index(saved)].source and time.monotonic() < deadline:
                time.sleep(0.5)
            assert "x.mean(axis=(2, 3))" in nbtools.read(saved).cells[_cell_index(saved)].source
            timer.lap("answer, run, save")

            panel = open_assignments_tab(alice)
            fetched = panel.locator("#fetched_assignments_list")
            fetched.get_by_role("button", name="Submit").click()
            submitted = panel.locator("#submitted_assignments_list")
            expect(submitted).to_contain_text(ASSIGNMENT)
            screens.take(alice, "alice-submitted")
            timer.lap("submit")

            # 3. bob fetches and submits the reference solution (nbgrader's CLI, as bob).
            bob = homes / "bob"
            run(nbgrader("fetch_assignment", ASSIGNMENT), cwd=bob, home=bob)
            release = nbtools.read(bob / ASSIGNMENT / NOTEBOOK)
            source = nbtools.read(exercises.source_notebook(ASSIGNMENT))
            nbformat.write(samples.reference(release, source, ASSIGNMENT), str(bob / ASSIGNMENT / NOTEBOOK))
            run(nbgrader("submit", ASSIGNMENT), cwd=bob, home=bob)
            timer.lap("bob fetches and submits (CLI)")

            # 4. The instructor collects, grades with the hardened grader, releases the feedback.
            run(nbgrader("collect", ASSIGNMENT), cwd=course, home=instructor_home)
            for student in STUDENTS:
                assert (course / "submitted" / student / ASSIGNMENT / "timestamp.txt").is_file(), student
            graded = run([sys.executable, "-m", "autograder", "grade", "submitted", "--out", ".", "--workers", "1",
                          "--quiet"], cwd=course, home=instructor_home, timeout=900)
            timer.lap("collect, hardened grade")
            run(nbgrader("release_feedback", ASSIGNMENT), cwd=course, home=instructor_home)
            timer.lap("release_feedback")

            # 5. alice fetches her feedback and opens it.
            alice.reload()
            expect(alice.locator("#jp-main-dock-panel")).to_be_visible()
            panel = open_assignments_tab(alice)
            submitted = panel.locator("#submitted_assignments_list")
            submitted.get_by_role("button", name="Fetch Feedback").click()
            view = submitted.get_by_role("button", name="View Feedback")
            expect(view).to_be_visible()
            screens.take(alice, "alice-feedback-fetched")
            with alice.context.expect_page(timeout=TIMEOUT_MS) as opened:
                view.click()
            feedback = opened.value
            feedback.wait_for_load_state()
            expect(feedback.locator("#toc")).to_be_visible()
            summary = feedback.locator("#toc").inner_text()
            screens.take(feedback, "alice-feedback-page")
            timer.lap("fetch and open feedback")
        finally:
            browser.close()

    # The page: every exercise named with its score; alice has the points of her exercise only.
    total = sum(points.values())
    alice_score = sum(points[g] for g in answered)
    for grade_id, maximum in points.items():
        function = exercises.function_of_test(grade_id, ASSIGNMENT)
        score = maximum if grade_id in answered else 0
        assert f"{function} — {grade_id}: {score:g} / {maximum:g}" in summary, (grade_id, summary)
    assert f"{alice_score:g} / {total:g}" in summary.split("\n")[0] or \
        re.search(rf"\b{alice_score:g}(\.0+)? / {total:g}(\.0+)?", feedback_header(summary)), summary

    # The course's gradebook holds the hardened scores (nbgrader's own API reads it).
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        scores = {s: gb.find_submission(ASSIGNMENT, s).score for s in STUDENTS}
    assert scores == {"alice": alice_score, "bob": total}, (scores, graded.stdout[-2000:])
    print(f"\nJupyterHub class round: {timer.report()}; screenshots in {screens.folder}")


def feedback_header(summary):
    return summary


def _cell_index(path):
    for index, cell in enumerate(nbtools.read(path).cells):
        if cell.cell_type == "code" and f"def {ANSWERED}(" in cell.source:
            return index
    raise AssertionError(f"no answer cell for {ANSWERED} in {path}")
