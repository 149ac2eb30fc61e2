"""Grade on an existing Dask distributed cluster: ``grade SUBMISSIONS --scheduler tcp://HOST:PORT``.

``on_cluster(address)`` connects to the scheduler and gives a callable with ``grade.run_job``'s
contract, ``job(request, workdir, timeout) -> result``, that ``grade.grade`` uses instead of
the local ``run_job``; everything else of the run (discovery, cache, reports, gradebook) stays
on the instructor's machine, so results, CSVs and feedback are those of a local run.

Workers do not share the instructor's file system: a task carries the submission's bytes and
the request; on the worker, ``grade_on_worker`` writes them into a temporary folder, builds
(once per worker process and assignment) its own grading template, runs ``grade.run_job``
there, exactly as a local run does (own process, namespace, limits, course copy), and sends
back the result, the feedback page and the autograded notebook as bytes, which the client
writes where the local run would. A worker whose course differs from the client's
(``grade.course_digest``) refuses the task: the run stops with that message. A worker process keeps
its templates and job folders in one temporary folder of its own (``home``), which the next worker
process on the machine removes, at its first task, if the first was killed outright.

A worker that dies mid-job costs that job a retry on another worker (the scheduler reschedules
the task; ``RETRIES`` more for an exception in the task). Stopping the run (Ctrl-C,
autograder/stopping.py) cancels the tasks and kills the jobs they started on the workers.

Needs the optional extra ``cluster`` (dask, distributed): a local run imports neither.
"""

import atexit
import fcntl
import os
import secrets
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from . import course, exercises, grade, stopping, warm
from .job import INTERNAL_ERROR, failed_result

INSTALL = "pip install -e '.[cluster]'"
CONNECT_SECONDS = 10  # an unreachable scheduler is an error after this long, before anything is written
POLL_SECONDS = 0.2  # how often a waiting job looks whether the run is being stopped
RETRIES = 1  # reruns of a task that raised (a worker's death is rescheduled by the scheduler itself)
# Jobs in flight: twice the cluster's worker threads, and never fewer than this. A cluster may still be
# starting when the run begins (SLURM jobs waiting in the queue, an adaptive cluster): its scheduler holds
# the tasks and gives them to workers as they join.
MIN_IN_FLIGHT = 64
PREFIX = "cfs-dask-"  # a worker process's temporary folder, with its templates and its jobs' folders
LOCK = ".owner"  # in that folder, locked while its worker process lives


def connect(address, timeout=CONNECT_SECONDS):
    """A ``distributed.Client`` of the scheduler at ``address``; ``ValueError`` with a plain reason if none."""
    try:
        import distributed
    except ImportError:
        raise ValueError(f"--scheduler needs Dask distributed, which is not installed: {INSTALL}") from None
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ValueError(f"cannot reach the Dask scheduler at {address}: {error}") from None


class on_cluster:  # noqa: N801 - used like a function: ``with on_cluster(address) as job``
    """``job(request, workdir, timeout) -> result`` run on the cluster's workers (``grade.run_job``'s contract)."""

    def __init__(self, address, timeout=CONNECT_SECONDS):
        self.address = address
        self.client = connect(address, timeout)
        self.parallel = max(MIN_IN_FLIGHT, 2 * sum(self.client.nthreads().values()))  # the queue never runs dry
        self.run = secrets.token_hex(6)  # names this run on the workers: a stop kills its jobs there
        self.futures = set()  # the tasks not yet answered: cancelled if the run is stopped
        self.lock = threading.Lock()
        self.halt_sent = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()

    def __call__(self, request, workdir, timeout):
        submission = Path(request["submission"]).read_bytes() if request.get("submission") else None
        parcel = {"request": request, "submission": submission, "autograded": bool(request.get("autograded")),
                  "digest": grade.course_digest(request["assignment"]), "run": self.run}
        token = secrets.token_hex(8)
        with stopping.starting(token):  # a run being stopped sends no further task
            future = self.client.submit(grade_on_worker, parcel, timeout, pure=False, retries=RETRIES,
                                        key=f"cfs-grade-{request['student']}-{request['assignment']}-{token}")
            with self.lock:
                self.futures.add(future)
        try:
            reply = self.wait(future)
        finally:
            with self.lock:
                self.futures.discard(future)
            stopping.finished(token)  # stopped: Cancelled, nothing of this job is kept
        if "refused" in reply:
            raise ValueError(reply["refused"])
        if "failed" in reply:  # the page is written by grade(), as for a local job that left none
            return failed_result(request["student"], request["assignment"], reply["failed"])
        if reply["feedback"] is not None:
            target = Path(request["feedback"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(reply["feedback"])
        if request.get("autograded") and reply["autograded"] is not None:  # a course root: formgrader needs it
            Path(request["autograded"]).parent.mkdir(parents=True, exist_ok=True)
            Path(request["autograded"]).write_bytes(reply["autograded"])
        return reply["result"]

    def wait(self, future):
        """The task's reply; an empty one if the run is being stopped (the task cancelled, its job killed);
        ``{"failed": reason}`` if the cluster could not run it (e.g. the workers running it kept dying)."""
        while True:
            try:
                return future.result(timeout=POLL_SECONDS)
            except TimeoutError:
                if stopping.requested():
                    self.halt()
                    return {}
            except ImportError as error:  # unpickling the task: a worker without the course
                raise ValueError(f"a Dask worker cannot grade: {error}; install the course on every worker") from None
            except Exception as error:  # noqa: BLE001 - the cluster failed the task (e.g. its workers kept dying)
                return {"failed": f"{INTERNAL_ERROR}: the Dask cluster could not run this job "
                                  f"({type(error).__name__}: {error})"}

    def halt(self):
        """Once per run: cancel every task not answered, and kill this run's jobs on every worker."""
        with self.lock:
            if self.halt_sent:
                return
            self.halt_sent = True
            futures = list(self.futures)
        try:
            self.client.cancel(futures)
            self.client.run(halt, self.run, wait=True)
        except Exception:  # noqa: BLE001 - a worker gone already has no job left to stop
            pass


# ----- on a worker -----

_templates = {}
_templates_lock = threading.Lock()
_home = None  # this worker process's temporary folder
_halted = set()  # runs stopped: a task of theirs that reaches this worker late starts no job
_in_flight = {}  # run -> tokens of the warm workers (autograder/warm.py) running its jobs here
_in_flight_lock = threading.Lock()


def home():
    """This worker process's temporary folder (``cfs-dask-*``), made on first use; removed when the process exits.

    The process holds a lock on the folder's ``.owner`` file while it lives. A worker killed outright (by its
    nanny, the OOM killer, a node's end) leaves its folder, and the kernel releases its lock: the next worker
    process on the machine to make its own folder removes every one whose lock it can take.
    """
    global _home
    with _templates_lock:
        if _home is None:
            remove_abandoned()
            folder = Path(tempfile.mkdtemp(prefix=PREFIX))
            owner = os.open(folder / LOCK, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(owner, fcntl.LOCK_EX)  # held until this process ends (the descriptor stays open)
            atexit.register(shutil.rmtree, folder, True)
            _home = folder
        return _home


def remove_abandoned():
    """Remove the ``cfs-dask-*`` folders of worker processes that are gone (their ``.owner`` lock is free)."""
    for folder in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            owner = os.open(folder / LOCK, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue  # not a worker's folder, or one being made
        try:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its worker lives
        finally:
            os.close(owner)
        shutil.rmtree(folder, ignore_errors=True)


def template(assignment):
    """This worker process's grading template of ``assignment``, built once."""
    folder = home()
    with _templates_lock:
        if assignment not in _templates:
            root = Path(tempfile.mkdtemp(prefix="course-", dir=folder))
            _templates[assignment] = course.grading_template(course.build(root / "course", [assignment]))
        return _templates[assignment]


def hidden():
    """What a student's kernel must not see on this worker: solutions, history, the worker's own files."""
    places = [str(exercises.NOTEBOOKS), str(exercises.REPO / ".git")]
    try:
        import distributed

        places.append(str(distributed.get_worker().local_directory))
    except (ImportError, ValueError, AttributeError):
        pass
    return places


def grade_on_worker(parcel, timeout):
    """Run one submission as a local job on this worker; returns its result and files as bytes."""
    request = parcel["request"]
    ours = grade.course_digest(request["assignment"])
    if ours != parcel["digest"]:
        return {"refused": f"the Dask worker on {socket.gethostname()} has another version of the course "
                           f"({request['assignment']}: grader and notebook digest {ours[:12]}, the client's "
                           f"{parcel['digest'][:12]}): install the same commit on every worker"}
    with tempfile.TemporaryDirectory(prefix="job-", dir=home()) as tmp:
        tmp = Path(tmp)
        workdir = tmp / "job"
        workdir.mkdir()
        local = dict(request, template=str(template(request["assignment"])), hide=hidden(),
                     feedback=str(tmp / "feedback.html"),
                     autograded=str(tmp / "autograded.ipynb") if parcel["autograded"] else None)
        if parcel["submission"] is not None:
            local["submission"] = str(tmp / exercises.notebook_name(request["assignment"]))
            Path(local["submission"]).write_bytes(parcel["submission"])
        worker = grade.WORKERS.worker()  # this thread's warm worker: the one run_job sends the job to
        with _in_flight_lock:
            if parcel["run"] in _halted:
                return {}
            _in_flight.setdefault(parcel["run"], set()).add(worker.token)
        try:
            result = grade.run_job(local, workdir, timeout)
        finally:
            with _in_flight_lock:
                _in_flight[parcel["run"]].discard(worker.token)
        files = {name: (tmp / f"{name}.{ext}").read_bytes() if (tmp / f"{name}.{ext}").exists() else None
                 for name, ext in (("feedback", "html"), ("autograded", "ipynb"))}
    return {"result": result, **files}


def halt(run):
    """On a worker: kill the grading jobs of ``run`` and everything they started (the warm worker
    running each is killed with its job; ``grade.run_job`` then sweeps what the job started)."""
    with _in_flight_lock:
        _halted.add(run)
        workers = set(_in_flight.get(run, ()))
    for token in workers:
        stopping.kill_marked(token, warm.MARKER)
