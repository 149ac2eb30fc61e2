"""Decide pass or fail outside the student's kernel.

The source notebook's test cells run here, in the grader's own process, with
each graded function replaced by a proxy. A proxy sends its arguments to a
separate student process (``worker``) that ran only the submission's answer
cells, and receives plain data back. Whatever a submission does to numpy,
coursekit or IPython inside its own process, it cannot change how these tests
compare results.
"""

import builtins
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from coursekit.testing import describe_call

from . import codec
from . import exercises
from . import notebook as nbtools

# Modules no submission may import: delegating to them scores 0.
BLOCKED_MODULES = ("torch", "scipy.signal", "scipy.ndimage", "tensorflow", "jax")
# Course modules that compute an assignment's answers other than through its coursekit.nn references
# (those are stubbed for every assignment): blocked for that assignment's answers.
BLOCKED_FOR = {
    "08_architectures": ("coursekit.architectures", "coursekit.model", "coursekit.widgets"),
}

# Exceptions re-raised with their own type in the grader, so tests such as
# assert_raises(ValueError, ...) see what the student's code raised.
PASSED_THROUGH = {
    name: getattr(builtins, name)
    for name in ("ValueError", "TypeError", "IndexError", "KeyError", "ZeroDivisionError",
                 "NotImplementedError", "AttributeError", "NameError", "RuntimeError",
                 "OverflowError", "FloatingPointError", "ArithmeticError", "LookupError")
}


class StudentCodeError(Exception):
    """An exception raised by the student's code that the tests do not expect by type."""


class StudentProcessFailure(Exception):
    """The student's process timed out, crashed or sent something unreadable."""


class Limits:
    """Resource limits of one student process."""

    def __init__(self, call_seconds=20.0, memory_mb=3072, cpu_seconds=300, file_mb=64, max_restarts=5):
        self.call_seconds = call_seconds
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.file_mb = file_mb
        self.max_restarts = max_restarts

    def apply(self):
        """Runs in the child between fork and exec."""
        os.setsid()
        mb = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (self.memory_mb * mb, self.memory_mb * mb))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_mb * mb, self.file_mb * mb))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class StudentProcess:
    """One sandboxed process running a submission's answer cells; restarted after a crash or timeout."""

    def __init__(self, setup, answers, reference_names, limits, blocked=BLOCKED_MODULES):
        self.init = {
            "setup": setup,
            "answers": answers,
            "blocked_modules": list(blocked),
            "reference_names": reference_names,
        }
        self.limits = limits
        self.process = None
        self.restarts = 0
        self.delegations = []
        self.scratch = None
        self.failed = None  # set when the answer cells themselves hang or crash: no restart helps then
        self.last_call = None  # the last call a test made, as a failure message shows it

    # -- life cycle -------------------------------------------------------
    def _start(self):
        if self.restarts > self.limits.max_restarts:
            raise StudentProcessFailure("the submission's process crashed or timed out too many times; not restarted")
        self.restarts += 1
        self.scratch = tempfile.mkdtemp(prefix="cfs-student-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": self.scratch,
            "TMPDIR": self.scratch,
            "MPLBACKEND": "Agg",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0",
            "CFS_JOB": os.environ.get("CFS_JOB", ""),          # the grader's sweep finds it by this
            "CFS_NOTEBOOKS": os.environ.get("CFS_NOTEBOOKS", ""),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.worker", str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w),
            cwd=self.scratch,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.scratch, "stderr.txt"), "wb"),  # capped by RLIMIT_FSIZE
            preexec_fn=self.limits.apply,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.to_child = to_child_w
        self.from_child = from_child_r
        try:
            self._send(self.init)
            ready = self._receive(2 * self.limits.call_seconds)
        except StudentProcessFailure as failure:
            self.failed = f"while running your answer cells: {failure}"
            raise StudentProcessFailure(self.failed) from None
        self.delegations.extend(ready.get("delegations", []))

    def stop(self):
        if self.process is not None:
            if self.process.returncode is None:
                # Not reaped yet, so its pid is still its process group: kill the group.
                # (Once reaped, the number may belong to someone else; the grader's sweep of
                # this job's processes catches what the student's process left behind.)
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                self.process.wait()
            for fd in (self.to_child, self.from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.process = None
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    # -- messages -----------------------------------------------------------
    def _send(self, message):
        data = codec.dumps(message)
        payload = len(data).to_bytes(8, "big") + data
        try:
            while payload:
                payload = payload[os.write(self.to_child, payload):]
        except (BrokenPipeError, OSError):
            raise self._died() from None

    def _read(self, n, deadline):
        chunks, remaining = [], n
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._timed_out()
            ready, _, _ = select.select([self.from_child], [], [], left)
            if not ready:
                raise self._timed_out()
            chunk = os.read(self.from_child, min(remaining, 1 << 20))
            if not chunk:
                raise self._died()
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _receive(self, seconds):
        deadline = time.monotonic() + seconds
        size = int.from_bytes(self._read(8, deadline), "big")
        if size > codec.MAX_MESSAGE_BYTES:
            self.stop()
            raise StudentProcessFailure("the submission's process sent a reply that is too large")
        try:
            return codec.loads(self._read(size, deadline))
        except (ValueError, UnicodeDecodeError) as error:
            self.stop()
            raise StudentProcessFailure(f"unreadable reply from the submission's process: {error}") from None

    def _timed_out(self):
        self.stop()
        return StudentProcessFailure(f"timed out: no answer within {self.limits.call_seconds:g} s (an infinite loop?)")

    def _died(self):
        try:
            code = self.process.wait(timeout=5) if self.process else None
        except subprocess.TimeoutExpired:  # it closed its end of the pipe but lives on
            code = None
        last_words = self._stderr_tail()
        self.stop()
        detail = f"exit code {code}" if code is not None and code >= 0 else f"signal {-code}" if code else "no exit code"
        said = f"; it last printed: {last_words}" if last_words else ""
        return StudentProcessFailure(f"the submission's process died ({detail}): os._exit, a crash or the memory limit{said}")

    def _stderr_tail(self, limit=300):
        try:
            with open(os.path.join(self.scratch, "stderr.txt"), "rb") as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - limit))
                return " / ".join(f.read().decode(errors="replace").strip().splitlines()[-3:])
        except (OSError, TypeError):
            return ""

    # -- calls --------------------------------------------------------------
    def call(self, function, args, kwargs):
        self.last_call = describe_call(function, args, kwargs)
        if self.failed:
            raise StudentProcessFailure(self.failed)
        if self.process is None:
            self._start()
        try:
            request = {"function": function, "args": codec.encode(args), "kwargs": codec.encode(kwargs)}
        except codec.CodecError as error:
            raise StudentProcessFailure(f"test arguments cannot be sent: {error}") from None
        self._send(request)
        reply = self._receive(self.limits.call_seconds)
        self.delegations.extend(reply.get("delegations", []))
        try:
            if "mutated" in reply:
                codec.apply_in_place(args, codec.decode(reply["mutated"]["args"]))
                codec.apply_in_place(kwargs, codec.decode(reply["mutated"]["kwargs"]))
            if "error" in reply:
                error = reply["error"]
                kind = PASSED_THROUGH.get(error.get("type"), None)
                message = str(error.get("message", ""))
                if kind is None:
                    raise StudentCodeError(f"{error.get('type')}: {message}")
                raise kind(message)
            return codec.decode(reply["result"])
        except codec.CodecError as error:
            raise StudentProcessFailure(f"the submission returned something that is not plain data: {error}") from None

    def proxy(self, function):
        def proxy(*args, **kwargs):
            return self.call(function, list(args), kwargs)
        proxy.__name__ = proxy.__qualname__ = function
        return proxy


def run_test(source, grade_id, namespace):
    """``(passed, message)`` of one test cell's code run in a copy of the grader's namespace."""
    try:
        exec(compile(source, f"<test {grade_id}>", "exec"), dict(namespace))
        return True, ""
    except BaseException as error:  # noqa: BLE001 - any failure of the test cell
        return False, f"{type(error).__name__}: {error}"


def verify(source_nb, submission_nb, assignment, limits=None, total_seconds=300.0):
    """Run the source's test cells against the submission's answers, outside its kernel.

    Returns ``{grade_id: {"passed": bool, "visible_passed": bool, "message": str, "delegations": [...]}}``
    for every test cell. (An answer cell that fails to run shows in the kernel's own outputs.)
    """
    limits = limits or Limits()
    functions = exercises.functions(assignment)
    answers = [(gid, src) for gid, src in nbtools.answer_sources(submission_nb).items() if gid in functions]
    blocked = BLOCKED_MODULES + BLOCKED_FOR.get(assignment, ())
    student = StudentProcess(nbtools.setup_sources(source_nb), answers, functions, limits, blocked)
    namespace = {"__name__": "__grader__"}
    for source in nbtools.setup_sources(source_nb):
        exec(compile(source, "<setup>", "exec"), namespace)
    for function in functions:
        namespace[function] = student.proxy(function)

    results, deadline = {}, time.monotonic() + total_seconds
    try:
        for grade_id, _points, source in nbtools.test_cells(source_nb):
            if time.monotonic() > deadline:
                results[grade_id] = {"passed": False, "visible_passed": False, "delegations": [],
                                     "message": f"not run: the {total_seconds:g} s grading budget was used up"}
                continue
            seen = len(student.delegations)
            student.last_call = None
            passed, message = run_test(source, grade_id, namespace)
            if not passed and student.last_call and student.last_call not in message:
                message += f"\n  the last call to your code: {student.last_call}"
            visible_passed = passed
            if not passed and nbtools.HIDDEN_BEGIN in source:
                visible_passed, _ = run_test(nbtools.without_hidden_tests(source), grade_id, namespace)
            delegations = sorted(set(student.delegations[seen:]))
            if delegations:
                passed = visible_passed = False
                message = f"delegates to {', '.join(delegations)}: this exercise asks you to write it yourself"
            results[grade_id] = {"passed": passed, "visible_passed": visible_passed, "message": message[:3000],
                                 "delegations": delegations}
    finally:
        student.stop()
    return results
