"""The convolution explorer in a real browser: JupyterLab 4 + headless Chromium (Debian's) via Playwright.

Releases the tour notebook with nbgrader (the student version, whose explorer
section shows ``conv_arithmetic_explorer()``), opens it, runs all cells,
moves the "input size n" slider with the keyboard and checks that the output
size the page shows follows. The Korean release of the tour (``release --lang ko``) is opened too:
its headings are Hangul drawn with a real font (not boxes), its formulas are typeset by MathJax, and
its explorer speaks Korean. Skipped, saying why, without Chromium or Playwright:

    apt-get install -y chromium          # Debian's build; `playwright install` is not needed
    pip install playwright

JupyterLab runs on 127.0.0.1 with its own token, in temporary HOME and Jupyter
folders, and is stopped by its PID at the end. The screenshot of the explorer
goes to ``$COURSEKIT_SCREENSHOT_DIR`` if set, else under pytest's basetemp.
"""

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser_kit import CHROMIUM, CHROMIUM_ARGS, NEEDS_CHROMIUM, free_port, terminate  # noqa: F401

from autograder.course import release

TOUR = ("00_tour", "tour.ipynb")   # the released tour notebook: what a student opens first
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TIMEOUT_MS = 60_000     # per step: a loaded 2-core machine can take a while to start a kernel
QUIET_SETTINGS = {   # JupyterLab user settings: no news, every cell in the page, no autosave
    "apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    sync_playwright = None

pytestmark = NEEDS_CHROMIUM


def api(server, method, path):
    request = urllib.request.Request(f"{server['url']}{path}", method=method,
                                     headers={"Authorization": f"token {server['token']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def wait_until_ready(server, process, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode}; see {server['log']}")
        try:
            api(server, "GET", "/api/status")
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer within {timeout} s; see {server['log']}")


def stop(process):
    """SIGTERM to the server's PID (it shuts its kernels down); SIGKILL only if it does not stop."""
    terminate(process, grace=20)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A private JupyterLab serving a copy of the test notebook: dict with url, token, root, log."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root, home = base / "notebooks", base / "home"
    release(root, [TOUR[0]])
    release(root / "ko", [TOUR[0]], lang="ko")      # the Korean edition's tour, with its explorers' settings
    env = dict(os.environ)
    for name in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                 "MPLCONFIGDIR", "TMPDIR"):
        folder = home if name == "HOME" else base / name.lower()
        folder.mkdir(exist_ok=True)
        env[name] = str(folder)
    for relative, settings in QUIET_SETTINGS.items():
        path = base / "jupyter_config_dir" / "lab" / "user-settings" / "@jupyterlab" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))

    port, token = free_port(), secrets.token_hex(16)
    server = {"url": f"http://127.0.0.1:{port}", "token": token, "root": root, "log": base / "jupyterlab.log"}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={token}", "--allow-root", "--ServerApp.port_retries=0",
               f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={base / 'workspaces'}"]
    with open(server["log"], "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_ready(server, process)
        yield server
    finally:
        stop(process)


@pytest.fixture
def page(jupyterlab, tmp_path):
    """A fresh headless Chromium page; the kernels it started are deleted afterwards."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1400, "height": 1000})
        page = context.pages[0] if context.pages else context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        try:
            yield page
        finally:
            context.close()
            for session in api(jupyterlab, "GET", "/api/sessions"):
                api(jupyterlab, "DELETE", f"/api/sessions/{session['id']}")


def screenshot_path(tmp_path, name):
    folder = Path(os.environ.get("COURSEKIT_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def open_and_run_all(page, jupyterlab, path):
    """Open the notebook at ``path`` (under the server's root) and run all its cells; returns its panel
    (the workspace may keep the tabs of notebooks opened before, hidden in the page)."""
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(f"{jupyterlab['url']}/lab/tree/{path}?token={jupyterlab['token']}")
    # The status bar names the kernel once it exists and is idle (the toolbar says idle before that).
    expect(page.get_by_role("button", name=re.compile(r"^Python 3 \(ipykernel\) \| Idle$"))).to_be_visible()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def test_conv_explorer_follows_the_keyboard_in_jupyterlab(jupyterlab, page, tmp_path):
    panel = open_and_run_all(page, jupyterlab, f"{TOUR[0]}/{TOUR[1]}")

    explorer = panel.locator(".coursekit-conv-arithmetic")
    summary = explorer.locator(".coursekit-summary")
    expect(summary).to_contain_text("output size: 5")             # n=7, k=3, stride 1, no padding

    n_slider = explorer.locator(".widget-slider", has_text="input size n").get_by_role("slider")
    expect(n_slider).to_have_attribute("aria-valuenow", re.compile(r"^7(\.0)?$"))
    n_slider.focus()
    n_slider.press("ArrowRight")
    expect(n_slider).to_have_attribute("aria-valuenow", re.compile(r"^8(\.0)?$"))
    expect(summary).to_contain_text("output size: 6")             # the kernel answered: (8 - 3) + 1
    n_slider.press("ArrowRight")
    expect(summary).to_contain_text("output size: 7")

    explorer.screenshot(path=str(screenshot_path(tmp_path, "conv_explorer_jupyterlab.png")))
    assert page.errors == []


# Width of a text in the heading's font, and of as many characters no font has: equal widths mean tofu boxes.
TOFU_CHECK = """heading => {
    const context = document.createElement("canvas").getContext("2d");
    context.font = getComputedStyle(heading).font;
    return [context.measureText("합성곱 신경망").width, context.measureText("\uE000\uE001\uE002 \uE003\uE004\uE005").width];
}"""


def test_the_korean_tour_renders_hangul_formulas_and_a_korean_explorer(jupyterlab, page, tmp_path):
    """The Korean release of the tour: Hangul headings drawn with a real font, MathJax formulas, and its
    explorer speaking Korean (the kernel finds the release's settings file in the notebook's folder)."""
    panel = open_and_run_all(page, jupyterlab, f"ko/{TOUR[0]}/{TOUR[1]}")
    heading = panel.locator(".jp-MarkdownOutput h1").first
    expect(heading).to_be_visible()
    assert HANGUL.search(heading.inner_text()), heading.inner_text()
    hangul, tofu = heading.evaluate(TOFU_CHECK)
    assert hangul != tofu, "Hangul drawn as boxes: install a Hangul font (apt-get install -y fonts-nanum)"
    formula = panel.locator(".jp-MarkdownOutput mjx-container").first
    expect(formula).to_be_attached()                              # MathJax typeset a formula

    explorer = panel.locator(".coursekit-conv-arithmetic")
    summary = explorer.locator(".coursekit-summary")
    expect(summary).to_contain_text("출력 크기: 5")
    slider = explorer.locator(".widget-slider", has_text="입력 크기 n").get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    expect(summary).to_contain_text("출력 크기: 6")
    explorer.screenshot(path=str(screenshot_path(tmp_path, "korean_conv_explorer_jupyterlab.png")))
    formula.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_path(tmp_path, "korean_tour_jupyterlab.png")))
    assert page.errors == []
