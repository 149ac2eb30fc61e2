"""The student's process: runs the submission's answer cells and answers calls from the verifier.

Started by ``verify.StudentProcess`` as ``python -I -m autograder.worker IN OUT``
with resource limits, a scratch working directory and a minimal environment.
Everything here is untrusted once the first answer cell has run: the verifier
only ever reads plain data back (see ``codec``).
"""

import importlib
import os
import sys
import traceback

from . import codec

DELEGATIONS = []


class DelegationError(Exception):
    """Raised when a submission calls the reference it was asked to write."""


class ImportBlocker:
    """A meta-path finder that refuses modules a submission may not use (torch, scipy.signal, ...)."""

    def __init__(self, blocked):
        self.blocked = tuple(blocked)

    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in self.blocked):
            DELEGATIONS.append(name)
            raise ImportError(f"{name} is not available to submissions: the exercise asks you to write the code yourself")
        return None


def block_modules(blocked):
    for name in list(sys.modules):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            del sys.modules[name]
    sys.meta_path.insert(0, ImportBlocker(blocked))


def stub_references(package, names):
    """Replace the reference implementations ``names`` in ``package`` and its submodules by stubs."""
    importlib.import_module(package)
    for module_name, module in list(sys.modules.items()):
        if module is None or not (module_name == package or module_name.startswith(package + ".")):
            continue
        for name in names:
            if hasattr(module, name):
                setattr(module, name, _stub(f"{package}.{name}"))


def _stub(qualified):
    def reference_stub(*args, **kwargs):
        DELEGATIONS.append(qualified)
        raise DelegationError(f"calls {qualified}, the course's reference solution: write it yourself")
    return reference_stub


def _error(exc):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    # Keep the frames of the submission's own code only.
    kept = [line for line in lines if "<answer" in line or not line.startswith("  File ")]
    return {"type": type(exc).__name__, "message": str(exc)[:2000], "traceback": "".join(kept)[-4000:]}


def serve(read, write):
    init = codec.loads(codec.read_exact(read, int.from_bytes(codec.read_exact(read, 8), "big")))
    block_modules(init["blocked_modules"])
    stub_references("coursekit.nn", init["reference_names"])
    namespace = {"__name__": "__submission__"}
    cells = [(f"setup {i}", source) for i, source in enumerate(init["setup"])]
    cells += [(f"answer {grade_id}", source) for grade_id, source in init["answers"]]
    for label, source in cells:
        try:
            exec(compile(source, f"<{label}>", "exec"), namespace)
        except BaseException:  # noqa: BLE001 - a broken cell only breaks what it defines
            pass  # the kernel's run shows the error to the student; the tests will fail
    _send(write, {"ready": True, "delegations": list(DELEGATIONS)})

    while True:
        try:
            size = int.from_bytes(codec.read_exact(read, 8), "big")
        except EOFError:
            return
        request = codec.loads(codec.read_exact(read, size))
        _send(write, _call(namespace, request))


def _call(namespace, request):
    name = request["function"]
    before = len(DELEGATIONS)
    function = namespace.get(name)
    if not callable(function):
        return {"error": {"type": "NameError", "message": f"{name} is not defined by your submission", "traceback": ""}}
    args = codec.decode(request["args"])
    kwargs = codec.decode(request["kwargs"])
    try:
        result = function(*args, **kwargs)
        reply = {"result": codec.encode(result)}
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
        reply = {"error": _error(exc)}
    try:
        after = {"args": codec.encode(args), "kwargs": codec.encode(kwargs)}
        if after["args"] != request["args"] or after["kwargs"] != request["kwargs"]:
            reply["mutated"] = after
    except codec.CodecError:
        pass
    reply["delegations"] = DELEGATIONS[before:]
    return reply


def _send(write, message):
    data = codec.dumps(message)
    write(len(data).to_bytes(8, "big") + data)


def main():
    fd_in, fd_out = int(sys.argv[1]), int(sys.argv[2])
    reader = os.fdopen(fd_in, "rb", buffering=0)
    writer = os.fdopen(fd_out, "wb", buffering=0)

    def write(data):
        view = memoryview(data)
        while view:
            view = view[writer.write(view):]

    serve(reader.read, write)


if __name__ == "__main__":
    main()
