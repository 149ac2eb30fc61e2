"""What the browser tests share: Debian's Chromium, started the way that works on this machine, and a free port.

Chromium is started headless, without a sandbox (root), and without the background connections that the
closed network refuses (../shared/BROWSER_TESTING_NOTES.md).
"""

import os
import signal
import socket
import subprocess

import pytest

CHROMIUM = os.environ.get("COURSEKIT_CHROMIUM", "/usr/lib/chromium/chromium")  # the real binary, not the wrapper
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

try:
    from playwright import sync_api
except ImportError:
    sync_api = None

# pytestmark for a module that drives Chromium: skipped, saying why, where it cannot.
NEEDS_CHROMIUM = [
    pytest.mark.skipif(sync_api is None, reason="playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"Debian's chromium not found at {CHROMIUM} (apt-get install -y chromium)"),
]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def terminate(process, grace):
    """SIGTERM to a server's process (it shuts down what it started), SIGKILL if it is not gone in ``grace`` s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
