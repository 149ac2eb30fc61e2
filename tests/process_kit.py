"""Waiting on processes a test started (the CLI, servers, grading jobs): one bounded poll."""

import time


def wait_for(condition, seconds, what):
    """Poll ``condition()`` every 0.2 s until it is true; fail the test naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)
