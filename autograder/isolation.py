"""Keep a grading job's kernels away from everything but their own course copy (Linux mount namespaces).

``enter()`` moves the calling process, and everything it starts afterwards,
into a private view of the file system where

- the temporary folder is a fresh, empty tmpfs with only the job's own course copy bound back in,
- the source notebooks, the git history, the submissions and the output folder are covered by empty tmpfs,
- the course code and the Python installation are read-only,

so a student's kernel cannot read solutions or other students' work, write
grades or results, or change the code the grader imports. Needs root or
unprivileged user namespaces; elsewhere ``enter()`` returns a warning and
grading goes on without it.
"""

import ctypes
import os
import sys
import sysconfig
import tempfile

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]


def _call(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None):
    encode = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _call(_libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)), f"mount {target}")


def _new_namespace():
    if os.getuid() == 0:
        _call(_libc.unshare(CLONE_NEWNS), "unshare")
    else:
        uid, gid = os.getuid(), os.getgid()
        _call(_libc.unshare(CLONE_NEWNS | CLONE_NEWUSER), "unshare")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    _mount("none", "/", None, MS_REC | MS_PRIVATE)


def cover(path):
    """Hide ``path`` under an empty, read-only tmpfs."""
    _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=755")


def make_read_only(path):
    _mount(path, path, None, MS_BIND | MS_REC)
    _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY)


def code_locations():
    """Where the course code and the Python installation live (made read-only), outermost only."""
    places = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    places.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout or site-packages
    places = sorted(os.path.realpath(p) for p in places if os.path.isdir(p))
    return [p for p in places if not any(p.startswith(q + os.sep) for q in places if q != p)]


def enter(keep, hide):
    """Enter the private view: ``keep`` (a folder under the temp dir) stays writable; ``hide`` disappears.

    Returns None on success, else a sentence saying why isolation is off.
    """
    keep = os.path.realpath(keep)
    temp_root = os.path.realpath(tempfile.gettempdir())
    if not keep.startswith(temp_root + os.sep):
        return f"isolation off: {keep} is not under the temporary folder {temp_root}"
    if not sys.platform.startswith("linux"):
        return "isolation off: it needs Linux mount namespaces"
    try:
        _new_namespace()
    except OSError as error:
        return f"isolation off: this machine does not allow private mount namespaces ({error.strerror})"
    # Folders to bring back into the fresh temporary folder: the job's own course copy, and the
    # code (a checkout or virtualenv may itself live under /tmp, as in CI). Held open across the mount.
    inside_temp = [p for p in code_locations() if p.startswith(temp_root + os.sep)]
    handles = {path: os.open(path, os.O_RDONLY | os.O_DIRECTORY) for path in [keep, *inside_temp]}
    try:
        for path in code_locations():
            if path not in inside_temp:
                make_read_only(path)
        _mount("tmpfs", temp_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
        for path in sorted(handles, key=len):   # parents before children
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{handles[path]}", path, None, MS_BIND)
            if path != keep:
                _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
        # Last, so that nothing brought back above shows what must stay hidden.
        for path in sorted(set(os.path.realpath(p) for p in hide if p and os.path.isdir(p))):
            if not keep.startswith(path + os.sep) and path != keep:
                cover(path)
    finally:
        for handle in handles.values():
            os.close(handle)
    return None
