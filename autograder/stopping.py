"""Stop a grading run cleanly on Ctrl-C (SIGINT) or SIGTERM, so that it resumes when run again.

Three hooks, used by ``grade``:

- ``@stoppable`` on ``grade()``: while it runs (in the main thread), SIGINT and SIGTERM
  raise ``Interrupted`` (a ``SystemExit`` with code 128 + the signal: 130, 143) after one
  line on stderr, ``interrupted: 3 of 10 graded; run the same command again to resume``.
  Temporary folders go as the exception leaves their ``with`` blocks. A library that catches
  everything (nbgrader's API does, while the course copy is built) may turn the stop into its
  own error: whatever error leaves the run after a signal was acted on is that stop.
- ``run_all(function, items, workers)`` maps ``function`` over ``items`` in a thread pool.
  When interrupted it starts no further job, kills every running one (each process
  that carries its ``CFS_JOB`` token: the job, its kernel, the student's processes and
  whatever they started), waits for the threads and re-raises. Once every job is done,
  a signal waits until ``grade()`` has written its results (no half-written CSV or
  gradebook) and is acted on then.
- ``starting(token)`` around a job's start and ``finished(token)`` when its process is
  gone: a job of a run being stopped raises ``Cancelled`` instead of giving a result,
  so nothing of it is cached and the next run grades it again.
- ``watch(token, name)`` for a process family that outlives single jobs (a warm worker and the
  job it forked, ``CFS_WARM=token``): a stop kills it too.
"""

import concurrent.futures
import contextlib
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

SIGNALS = (signal.SIGINT, signal.SIGTERM)
WAIT_FOR_JOBS = 20.0  # seconds to wait for the threads of killed jobs (they end within moments)


class Interrupted(SystemExit):
    """The run was stopped by a signal: exits with 128 + its number, as a shell reports it."""

    def __init__(self, signum):
        super().__init__(128 + signum)
        self.signum = signum


class Cancelled(BaseException):
    """A job of a run being stopped: it has no result. (Not an Exception: no ``except Exception``
    may turn it into a score of 0 and cache that.)"""


class _State:
    def __init__(self):
        self.lock = threading.RLock()  # (re-entered: a warm worker is watched while its first job starts)
        self.reset()

    def reset(self):
        self.stopping = False   # a stop was requested: no job starts, no job gives a result
        self.running = set()    # tokens of the jobs started and not finished
        self.watched = set()    # (name, token) of process families a stop kills too (warm workers)
        self.signal = None      # the first signal received
        self.raised = False     # it was raised as Interrupted (not deferred)
        self.defer = False      # writing results: a signal waits until they are written
        self.done = None        # submissions graded, of ...
        self.total = None       # ... the submissions of this run
        self.active = False     # inside the outermost stoppable call


_state = _State()


def _on_signal(signum, frame):
    if _state.signal is not None:
        return  # already stopping: a second Ctrl-C must not break the clean-up
    _state.signal = signum
    if not _state.defer and not _state.stopping:  # (stopping after an error: let the clean-up finish)
        _state.raised = True
        raise Interrupted(signum)


def stoppable(function):
    """Decorate the run (``grade``): signals become a clean stop, and the one line that says so."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        if _state.active or threading.current_thread() is not threading.main_thread():
            return function(*args, **kwargs)  # a nested call (a zip of submissions): the outer one decides
        _state.reset()
        _state.active = True
        previous = {number: signal.signal(number, _on_signal) for number in SIGNALS}
        try:
            result = function(*args, **kwargs)
        except Interrupted as stop:
            _state.defer = True
            _say(stop)
            raise
        except BaseException as error:
            if not _state.raised:
                raise
            _state.defer = True  # the stop, caught by a library and raised again as its own error
            stop = Interrupted(_state.signal)
            _say(stop)
            raise stop from error
        finally:
            _state.defer = True
            for number, handler in previous.items():
                signal.signal(number, handler)
            _state.active = False
        if _state.signal is not None:  # it came while the results were being written: they are
            stop = Interrupted(_state.signal)
            _say(stop)
            raise stop
        return result

    return run


def _say(stop):
    if _state.total is None:
        counted = "nothing graded yet"
    else:
        counted = f"{_state.done} of {_state.total} graded"
    lead = "\n" if sys.stderr.isatty() else ""  # end the progress bar's line
    sys.stderr.write(f"{lead}interrupted: {counted}; run the same command again to resume\n")
    sys.stderr.flush()


def run_all(function, items, workers):
    """``[function(item) for item in items]`` on ``workers`` threads, stopped cleanly by a signal."""
    items = list(items)
    if _state.raised:  # a stop that a library swallowed before the jobs began
        raise Interrupted(_state.signal)
    _state.done, _state.total = 0, len(items)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    futures = []
    try:
        for item in items:
            futures.append(pool.submit(function, item))  # one by one: a stop knows every job submitted
        results = [future.result() for future in futures]
    except BaseException:
        _stop_jobs(pool, futures)
        raise
    pool.shutdown()
    _state.done = len(results)
    _state.defer = True  # from here on the results are written: a signal waits until they are
    return results


def _stop_jobs(pool, futures):
    with _state.lock:
        _state.stopping = True
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + WAIT_FOR_JOBS
    while True:
        with _state.lock:
            tokens = set(_state.running)
        for token in tokens:
            sweep(token)
        for name, token in list(_state.watched):
            kill_marked(token, name)
        # (a future cancelled before it started counts as done for done(), not for wait())
        running = [future for future in futures if not future.done()]
        if not running or time.monotonic() > deadline:
            break
        concurrent.futures.wait(running, timeout=0.1)
    _state.done = sum(1 for f in futures if f.done() and not f.cancelled() and f.exception() is None)
    if not running:
        pool.shutdown()


@contextlib.contextmanager
def starting(token):
    """Around starting a job's process that carries ``CFS_JOB=token``: ``Cancelled`` once the run stops."""
    with _state.lock:  # held while the process starts: a stop sees either no job or its process
        if _state.stopping:
            raise Cancelled()
        _state.running.add(token)
        try:
            yield
        except BaseException:
            _state.running.discard(token)
            raise


def requested():
    """Whether the run is being stopped (a job waiting elsewhere, e.g. on a Dask worker, gives up then)."""
    with _state.lock:
        return _state.stopping


def finished(token):
    """A job's processes are gone: raises ``Cancelled`` if the run is being stopped (its result is not kept)."""
    with _state.lock:
        _state.running.discard(token)
        if _state.stopping:
            raise Cancelled()


def watch(token, name):
    """A stop of the run kills every process marked ``name=token`` (a warm worker and its job)."""
    with _state.lock:
        _state.watched.add((name, token))


def unwatch(token, name):
    with _state.lock:
        _state.watched.discard((name, token))


def kill_marked(token, name="CFS_JOB"):
    """Kill every process whose environment carries ``name=token`` (daemons that escaped the process group)."""
    marker = f"{name}={token}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def sweep(token, rounds=50):
    """Kill every process whose environment carries ``CFS_JOB=token``, until none is left (a process
    may fork while /proc is read); then remove the student scratch folders (``cfs-student-*`` in the
    temporary folder, where isolation is off) those processes used."""
    marker = f"CFS_JOB={token}".encode()
    scratch = set()
    for _ in range(rounds):
        found = False
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                environment = (entry / "environ").read_bytes().split(b"\0")
                if marker not in environment:
                    continue
                os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ValueError):
                continue
            found = True
            scratch.update(v[len(b"TMPDIR="):] for v in environment if v.startswith(b"TMPDIR="))
        if not found:
            break
    temp = os.path.realpath(tempfile.gettempdir())
    for folder in map(os.fsdecode, scratch):
        if os.path.basename(folder).startswith("cfs-student-") and os.path.dirname(os.path.realpath(folder)) == temp:
            shutil.rmtree(folder, ignore_errors=True)
