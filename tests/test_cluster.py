"""``grade --scheduler``: the submissions graded on a Dask distributed cluster give what a local run gives.

The test starts a real cluster on 127.0.0.1 (``dask scheduler`` and two ``dask worker`` processes,
one thread each, their temporary folder one the test owns), bounded by timeouts and stopped at the
end. Four submissions (reference and blank of 00_tour and 04_pooling) are graded once locally and
then through the CLI from a scratch folder with a relative ``--out``: the CSVs and feedback pages
must be byte-identical to the local run's, though one worker is killed, with its job, mid-run (a
retry on the other worker, not the run). Also: an interrupted run (SIGINT) stops the jobs on the
workers, a resumed run grades only what is not cached, an unreachable scheduler is exit 2 and writes
nothing, and a worker that joins during a run gets work. (One cluster run of the four submissions, for
the test's time: ~3 min on an idle 2-core machine.)
"""

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder import demo, exercises, samples, stopping
from browser_kit import free_port
from process_kit import wait_for
from autograder import notebook as nbtools

distributed = pytest.importorskip("distributed")  # the extra "cluster" (in the test extra)

ASSIGNMENTS = ["00_tour", "04_pooling"]
STUDENTS = ["blank", "reference"]
COMPARED = ["grades.csv", "exercises.csv", "flags.csv"]
BIN = Path(sys.executable).parent  # the `dask` command of this environment
START_SECONDS = 120  # for the scheduler and the workers to come up on a busy machine
RUN_SECONDS = 900  # a whole grading run, bounded
PROMPT = 20  # seconds from SIGINT to the exit
pytestmark = pytest.mark.skipif(not all(exercises.source_notebook(a).exists() for a in ASSIGNMENTS),
                                reason="the course's 00_tour and 04_pooling are not here")


def stop(process):
    """Stop a process group we started: SIGTERM, then SIGKILL after a bound."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def job_processes(tmp):
    """``{pid: CFS_JOB token}`` of live grading jobs (and what they started) whose TMPDIR is ``tmp``'s."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        tokens = [v[len(b"CFS_JOB="):].decode() for v in environment if v.startswith(b"CFS_JOB=")]
        if tokens and any(str(tmp).encode() in v for v in environment):
            found[int(entry.name)] = tokens[0]
    return found


def parents(pid):
    """``pid``'s ancestors, nearest first."""
    chain = []
    while pid > 1:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            break
        pid = int(fields[1])
        chain.append(pid)
    return chain


def grade(cwd, out, *extra, check=True):
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "submissions", "--out", out, "--quiet", *extra],
                         cwd=cwd, capture_output=True, text=True, timeout=RUN_SECONDS)
    if check:
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run


def outputs(out):
    """``{relative path: bytes}`` of the CSVs compared and every feedback page."""
    out = Path(out)
    files = {name: (out / name).read_bytes() for name in COMPARED}
    files.update({str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "feedback").rglob("*.html"))})
    return files


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A folder with submissions/ (4 notebooks) and local/, their local run (which imported no Dask)."""
    folder = tmp_path_factory.mktemp("cluster")
    subprocess.run([sys.executable, "-m", "autograder", "release", "--out", "release", *ASSIGNMENTS], cwd=folder,
                   check=True, capture_output=True, timeout=600)
    for assignment in ASSIGNMENTS:
        notebook = exercises.notebook_name(assignment)
        release = nbtools.read(folder / "release" / assignment / notebook)
        source = nbtools.read(exercises.source_notebook(assignment))
        demo.write(samples.reference(release, source, assignment), folder / "submissions", "reference", assignment)
        demo.write(release, folder / "submissions", "blank", assignment)
    # -X importtime lists every module the run imports (on stderr): the local run needs no Dask.
    local = subprocess.run([sys.executable, "-X", "importtime", "-m", "autograder", "grade", "submissions",
                            "--out", "local", "--workers", "2", "--quiet"],
                           cwd=folder, capture_output=True, text=True, timeout=RUN_SECONDS)
    assert local.returncode == 0, local.stderr[-3000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in local.stderr.splitlines()
                if line.startswith("import time:")}
    assert "numpy" in imported and "autograder" in imported  # (the listing is there to be read)
    assert not imported & {"dask", "distributed"}, "a local run imported Dask"
    return folder


def start(processes, name, command, tmp):
    """Start ``command`` as ``processes[name]`` in its own session, in ``tmp`` (also its TMPDIR), output to ``tmp/name.log``."""
    with open(tmp / f"{name}.log", "wb") as log:  # (the process keeps its own copy of the descriptor)
        processes[name] = subprocess.Popen(command, cwd=tmp, env=dict(os.environ, TMPDIR=str(tmp)),
                                           stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
    return processes[name]


def start_worker(processes, name, address, tmp):
    return start(processes, name, [str(BIN / "dask"), "worker", address, "--name", name, "--nworkers", "1",
                                   "--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp / name),
                                   "--death-timeout", "60"], tmp)


@pytest.fixture(scope="module")
def cluster(scratch):
    """``(address, temp folder of the workers, {name: worker process})`` of a running cluster on 127.0.0.1."""
    # Short: kernels' IPC sockets live under the workers' temporary folder (at most 107 bytes a path).
    tmp = Path(tempfile.mkdtemp(prefix="cfs-t", dir="/tmp"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = {}
    try:
        start(processes, "scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                       "--no-dashboard", "--no-show"], tmp)
        for name in ("w1", "w2"):
            start_worker(processes, name, address, tmp)
        with distributed.Client(address, timeout=START_SECONDS) as client:
            client.wait_for_workers(2, timeout=START_SECONDS)
        yield address, tmp, processes
    finally:
        for name in sorted(processes, key=lambda name: name == "scheduler"):  # the workers first (w3: a late one)
            stop(processes[name])
        for token in set(job_processes(tmp).values()):  # a killed worker's orphaned job
            stopping.sweep(token)
        shutil.rmtree(tmp, ignore_errors=True)


def test_sigint_stops_the_jobs_on_the_workers(scratch, cluster):
    """First in this module: a run stopped before the cluster has graded anything."""
    address, tmp, _ = cluster
    run = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "submissions", "--out", "stopped", "--quiet",
                            "--scheduler", address], cwd=scratch, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
    try:
        wait_for(lambda: run.poll() is None and job_processes(tmp), RUN_SECONDS, "a job running on a worker")
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=PROMPT)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"interrupted: \d of 4 graded; run the same command again to resume", last), stderr
    cached = list((scratch / "stopped" / ".cache").glob("*.json")) if (scratch / "stopped" / ".cache").exists() else []
    assert len(cached) == int(last.split()[1])  # a job stopped on a worker left no result
    wait_for(lambda: not job_processes(tmp), PROMPT, "the workers' jobs to be killed")


@pytest.fixture(scope="module")
def on_cluster(scratch, cluster):
    """The submissions graded through the cluster with a relative --out; one of the two workers is
    killed (with its job) while it grades: that job is retried on the other, the run completes."""
    address, tmp, processes = cluster
    run = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "submissions", "--out", "graded", "--quiet",
                            "--scheduler", address], cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        workers = {p.pid: name for name, p in processes.items() if name != "scheduler"}

        def running_worker():
            for pid in job_processes(tmp):
                owner = next((workers[p] for p in parents(pid) if p in workers), None)
                if owner:
                    return owner
            return None

        wait_for(lambda: run.poll() is None and running_worker(), RUN_SECONDS, "a job running on a worker")
        victim = processes[running_worker()]
        orphans = {token for pid, token in job_processes(tmp).items() if victim.pid in parents(pid)}
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its nanny: a node gone ...
        victim.wait(timeout=20)
        for token in orphans:  # ... with the job it ran (in its own session, it outlived them)
            stopping.sweep(token)
        stdout, stderr = run.communicate(timeout=RUN_SECONDS)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert orphans, "the killed worker was running no job"
    assert run.returncode == 0, stdout[-2000:] + stderr[-3000:]
    return run


def test_a_cluster_run_with_a_worker_killed_gives_the_local_runs_csvs_and_feedback_byte_for_byte(scratch, on_cluster):
    local, remote = outputs(scratch / "local"), outputs(scratch / "graded")
    assert len(local) == len(COMPARED) + len(ASSIGNMENTS) * len(STUDENTS)
    assert sorted(remote) == sorted(local)
    assert [name for name in local if remote[name] != local[name]] == []
    grades = (scratch / "graded" / "grades.csv").read_text()
    assert "reference,04_pooling" in grades and "blank,00_tour" in grades


def test_a_resumed_cluster_run_grades_only_what_is_not_cached(scratch, cluster, on_cluster):
    graded = scratch / "graded"
    cache = {p.name: p.stat().st_mtime_ns for p in (graded / ".cache").iterdir()}
    assert len(cache) == len(ASSIGNMENTS) * len(STUDENTS)
    redo = "reference--04_pooling.json"
    (graded / ".cache" / redo).unlink()
    (graded / "feedback" / "reference" / "04_pooling" / "pooling.html").unlink()
    grade(scratch, "graded", "--scheduler", cluster[0])
    again = {p.name: p.stat().st_mtime_ns for p in (graded / ".cache").iterdir()}
    assert sorted(again) == sorted(cache)
    assert {name for name in cache if again[name] != cache[name]} == {redo}  # the others were not graded again
    assert outputs(graded) == outputs(scratch / "local")


def abandoned(tmp):
    """The workers' temporary folders (cfs-dask-*) in ``tmp`` whose ``.owner`` no live process holds open."""
    held = set()
    for descriptor in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            held.add(os.readlink(descriptor))
        except OSError:
            continue
    return sorted(folder.name for folder in tmp.glob("cfs-dask-*") if str(folder / ".owner") not in held)


def test_a_worker_that_joins_during_the_run_gets_work(scratch, cluster, on_cluster):
    """A cluster that grows while the run goes (SLURM jobs leaving the queue, an adaptive cluster): every task waits
    at the scheduler from the start, not only twice the threads there were, and a worker started mid-run grades some.
    That worker also removes the temporary folder the worker killed by ``on_cluster`` left behind."""
    address, tmp, processes = cluster
    assert len(abandoned(tmp)) == 1, "the killed worker's folder should be there"
    crowd = scratch / "crowd"
    for i in range(4):  # 4 students x 2 assignments
        shutil.copytree(scratch / "submissions" / "reference", crowd / f"student{i}")
    with distributed.Client(address, timeout=START_SECONDS) as client:
        threads = sum(client.nthreads().values())  # 1: on_cluster killed the other worker
        assert 2 * threads < 8

        def tasks_at_the_scheduler():
            return client.run_on_scheduler(
                lambda dask_scheduler: sum(str(key).startswith("cfs-grade-") for key in dask_scheduler.tasks))

        run = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "crowd", "--out", "crowd-graded", "--quiet",
                                "--scheduler", address], cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        try:
            wait_for(lambda: run.poll() is not None or tasks_at_the_scheduler() == 8, RUN_SECONDS, "the tasks submitted")
            assert run.poll() is None, run.communicate()
            late = start_worker(processes, "w3", address, tmp)  # stopped with the others by the fixture
            late_jobs = set()
            while run.poll() is None:  # the jobs the late worker runs
                late_jobs.update(token for pid, token in job_processes(tmp).items() if late.pid in parents(pid))
                time.sleep(0.2)
            stdout, stderr = run.communicate(timeout=RUN_SECONDS)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    assert run.returncode == 0, stdout[-2000:] + stderr[-3000:]
    assert late_jobs, "the worker that joined during the run graded nothing"
    assert abandoned(tmp) == []
    with open(scratch / "crowd-graded" / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and all(r["score"] == r["max_score"] for r in rows), rows  # the reference: full marks
    assert all(float(r["score"]) > 0 for r in rows if r["assignment_id"] == "04_pooling"), rows  # (00_tour has no points)


def test_an_unreachable_scheduler_is_exit_2_and_writes_nothing(scratch):
    run = grade(scratch, "nowhere", "--scheduler", f"tcp://127.0.0.1:{free_port()}", check=False)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (scratch / "nowhere").exists()


def test_a_worker_with_another_course_version_refuses_the_task():
    """The digest a task carries is the client's; this worker's differs: it refuses, naming both, and grades nothing."""
    from autograder import cluster, grade as grading

    ours = grading.course_digest("04_pooling")
    theirs = "f" * 64 if ours[0] != "f" else "0" * 64
    request = {"student": "s", "assignment": "04_pooling", "submission": None, "problem": "never graded"}
    reply = cluster.grade_on_worker({"request": request, "submission": None, "autograded": False,
                                     "digest": theirs, "run": "test"}, timeout=1)
    assert set(reply) == {"refused"}
    assert "another version of the course" in reply["refused"]
    assert ours[:12] in reply["refused"] and theirs[:12] in reply["refused"]
