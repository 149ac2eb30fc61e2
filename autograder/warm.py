"""Warm grading workers: the grader's imports paid once per worker, not once per submission.

A grading thread of ``grade`` starts one worker process (``python -I -m autograder.warm``)
that imports the grader and nbgrader once, then reads one order per line on its stdin and
forks one child per submission. The child is a grading job exactly as ``python -I -m
autograder.job WORKDIR`` would be: its own session, ``CFS_JOB`` token, limits, isolation and
course copy (``job.main``); it leaves the same files in WORKDIR. The worker waits for the
child, kills its process group if it outlives the job's timeout, and answers with one line
``{"returncode": ..., "timed_out": ...}``.

Every worker and every child it forks carries ``CFS_WARM=<worker token>`` in the environment
it was started with (a forked child shares its parent's), so ``stopping.kill_marked(token, "CFS_WARM")``
finds all of them. A worker ends when its stdin closes (the grader is gone).
"""

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

from . import stopping

MARKER = "CFS_WARM"
STDERR_FILE = "job-stderr.txt"  # the child's stderr, in its job folder: the reason of a crash
EXTRA_SECONDS = 60.0  # how long past a job's timeout the grader waits for a worker's answer before giving it up


class Worker:
    """The grader's side of one warm worker process."""

    def __init__(self, environment):
        self.token = os.urandom(8).hex()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.warm"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True, env=dict(environment, **{MARKER: self.token}),
        )

    def send(self, workdir, token, timeout):
        """Start grading the job in ``workdir`` (its request.json written) as ``CFS_JOB=token``."""
        self.timeout = timeout
        order = {"workdir": str(workdir), "token": token, "timeout": timeout}
        try:
            self.process.stdin.write((json.dumps(order) + "\n").encode())
            self.process.stdin.flush()
        except (OSError, ValueError):
            pass  # a dead worker: receive() says so

    def receive(self, workdir):
        """Wait for the job sent last; returns why it failed, or None."""
        try:
            ready, _, _ = select.select([self.process.stdout], [], [], self.timeout + EXTRA_SECONDS)
            answer = self.process.stdout.readline() if ready else b""
        except (OSError, ValueError):
            answer = b""
        if not answer:
            self.close()
            return "the grading worker stopped answering"
        outcome = json.loads(answer)
        if outcome["timed_out"]:
            return f"grading timed out after {self.timeout:g} s"
        if outcome["returncode"] != 0:
            stderr_file = Path(workdir) / STDERR_FILE
            stderr = stderr_file.read_bytes() if stderr_file.exists() else b""
            return f"grading process exited with code {outcome['returncode']}: {stderr.decode(errors='replace').strip()[-300:]}"
        return None

    def alive(self):
        return self.process.poll() is None

    def close(self):
        """Stop the worker and every job it forked."""
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        stopping.kill_marked(self.token, MARKER)
        self.process.wait()


class Pool:
    """One warm worker per grading thread, started on the thread's first job; ``close()`` stops them all."""

    def __init__(self, environment):
        self.environment = environment  # a function: the workers' environment when they start
        self.local = threading.local()
        self.lock = threading.Lock()
        self.workers = []
        self.idle = []  # started by start(), not yet any thread's

    def start(self, count):
        """Start ``count`` workers now, for the threads' first jobs: their imports overlap what the
        grader does before its first job (building the course copy)."""
        for _ in range(count):
            worker = self._started()
            with self.lock:
                self.idle.append(worker)

    def worker(self):
        """This thread's worker: one started ahead (``start``), else a new one if it has none (or its
        last one died)."""
        worker = getattr(self.local, "worker", None)
        if worker is None or not worker.alive():
            with self.lock:
                worker = self.idle.pop() if self.idle else None
            self.local.worker = worker if worker is not None and worker.alive() else self._started()
        return self.local.worker

    def _started(self):
        worker = Worker(self.environment())
        with self.lock:
            self.workers.append(worker)
        stopping.watch(worker.token, MARKER)  # a stop kills the worker and the job it is running
        return worker

    def close(self):
        with self.lock:
            for worker in self.workers:
                worker.close()
                stopping.unwatch(worker.token, MARKER)
            self.workers, self.idle = [], []


# ---- the worker process ------------------------------------------------------------------------------

# What a job would otherwise import each time: nbgrader, nbconvert and the kernel client (autograde and
# the feedback page), the page's highlighter and HTML parser, and what the source notebooks' test cells
# import when the verifier runs them in the job (measured with cProfile: scipy.signal alone was the
# largest single import of a 01 job).
WARM_IMPORTS = (
    "nbgrader.apps", "nbgrader.preprocessors", "nbconvert.exporters", "nbclient", "jupyter_client",
    "bs4", "mistune", "pygments.lexers.python", "pygments.formatters.html", "IPython", "IPython.lib.lexers",
    "latex2mathml.converter", "sqlalchemy.dialects.sqlite",
    "scipy.signal", "coursekit", "coursekit.nn", "coursekit.testing", "coursekit.gradcheck", "coursekit.data",
    "coursekit.checks",
)


def warm_up():
    """Import what a job imports and compile what it compiles on first use: the feedback page's code
    highlighter builds its regular expressions once per class (cProfile of a warm job: 0.5 s of its
    feedback page went to importing IPython's lexers and compiling theirs)."""
    for module in WARM_IMPORTS:
        importlib.import_module(module)
    from IPython.lib.lexers import IPython3Lexer
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    highlight("import numpy as np\n%timeit np.zeros(3)\n", IPython3Lexer(), HtmlFormatter())


def serve():
    """Import the grader once; then fork a job for each order read on stdin, until stdin closes."""
    from . import job  # the grader's own modules, nbformat, traitlets, numpy
    warm_up()

    for line in sys.stdin.buffer:
        order = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            run_child(job, order)  # never returns
        returncode, timed_out = wait_for(pid, order["timeout"])
        sys.stdout.write(json.dumps({"returncode": returncode, "timed_out": timed_out}) + "\n")
        sys.stdout.flush()


def run_child(job, order):
    """The forked job: what ``python -I -m autograder.job WORKDIR`` does, then exit."""
    code = 1
    try:
        os.setsid()  # its own session and process group, which the worker kills on a timeout
        workdir = order["workdir"]
        os.chdir(workdir)
        error = os.open(os.path.join(workdir, STDERR_FILE), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        nothing = os.open(os.devnull, os.O_RDWR)
        for fd, target in ((0, nothing), (1, nothing), (2, error)):
            os.dup2(target, fd)  # (and the worker's pipes are no longer held open by this child)
        os.environ["CFS_JOB"] = order["token"]  # every process the job starts carries its token
        job.main(Path(workdir))
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - report it on the job's stderr, as a crashed job process would
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def wait_for(pid, timeout):
    """``(returncode, timed_out)`` of the child ``pid``; its process group is killed before it is reaped
    (until then its pid, and so its group id, cannot belong to another process)."""
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
    timed_out = not ready
    try:
        os.killpg(pid, signal.SIGKILL)  # what the job left in its group, or the job itself on a timeout
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), timed_out


if __name__ == "__main__":
    serve()
