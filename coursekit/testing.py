"""Assertion helpers for the notebooks' tests.

Every helper raises ``AssertionError`` with a message that says what was
expected, what came back and, when given, a hint. Example::

    >>> assert_close(np.zeros(3), np.ones(3), name="relu_forward(x)")
    AssertionError: relu_forward(x): values differ.
      max abs error 1 at index (0,) (expected 1, got 0); 3 of 3 entries differ
"""

import copy
import numbers
import re

import numpy as np

__all__ = [
    "assert_close",
    "assert_equal",
    "assert_shape",
    "assert_raises",
    "assert_int",
    "assert_float",
    "describe_call",
    "assert_inputs_unchanged",
    "assert_no_delegation",
]

FORBIDDEN_MODULES = ("coursekit.nn", "scipy.signal", "scipy.ndimage", "torch", "tensorflow", "jax")  # as the grader blocks


def _fail(name, problem, hint=None):
    message = f"{name}: {problem}"
    if hint:
        message += f"\n  hint: {hint}"
    raise AssertionError(message)


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape}, dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"


def _short(value, limit=60):
    """A value as a failure message shows it: arrays by shape and dtype, long reprs cut."""
    if isinstance(value, np.ndarray):
        return f"<array {value.shape} {value.dtype}>"
    if isinstance(value, np.random.Generator):
        return "<rng>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_short(v, 30)}" for k, v in value.items()) + "}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_call(func, args=(), kwargs=None):
    """``name(arg, ..., key=arg)`` with arrays shown as ``<array shape dtype>``: the call a message is about."""
    name = func if isinstance(func, str) else getattr(func, "__name__", "function")
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def assert_close(actual, expected, name="result", rtol=1e-6, atol=1e-8, hint=None):
    """Check that ``actual`` is an array of the same shape as ``expected`` and close to it.

    Closeness is elementwise ``|actual - expected| <= atol + rtol * |expected|``.
    """
    expected = np.asarray(expected)
    if not isinstance(actual, (np.ndarray, np.generic, float, int)):
        _fail(name, f"expected an array like {_describe(expected)}, got {_describe(actual)}", hint)
    actual_array = np.asarray(actual)
    if actual_array.shape != expected.shape:
        _fail(name, f"wrong shape: expected {expected.shape}, got {actual_array.shape}", hint)
    if not np.issubdtype(actual_array.dtype, np.number) and actual_array.dtype != bool:
        _fail(name, f"expected numbers, got dtype {actual_array.dtype}", hint)
    actual_array = actual_array.astype(np.float64)
    expected = expected.astype(np.float64)
    if not np.all(np.isfinite(actual_array)) and np.all(np.isfinite(expected)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(actual_array))[0])
        _fail(name, f"got a non-finite value {actual_array[where]} at index {where}", hint)
    error = np.abs(actual_array - expected)
    bad = error > atol + rtol * np.abs(expected)
    if np.any(bad):
        where = np.unravel_index(int(np.argmax(np.where(bad, error, -1.0))), error.shape)
        where = tuple(int(i) for i in where)
        _fail(
            name,
            "values differ.\n"
            f"  max abs error {error[where]:.3g} at index {where} "
            f"(expected {expected[where]:.6g}, got {actual_array[where]:.6g}); "
            f"{int(bad.sum())} of {bad.size} entries differ",
            hint,
        )


def assert_equal(actual, expected, name="result", hint=None):
    """Check exact equality of plain values (ints, tuples, strings)."""
    if type(actual) is bool or type(expected) is bool:
        same = actual is expected
    else:
        same = actual == expected
    if isinstance(same, np.ndarray):
        same = same.shape != () and bool(same.all()) and np.shape(actual) == np.shape(expected)
    if not same:
        _fail(name, f"expected {expected!r}, got {actual!r}", hint)


def assert_shape(actual, shape, name="result", hint=None):
    """Check that ``actual`` is an ndarray of the given shape."""
    if not isinstance(actual, np.ndarray):
        _fail(name, f"expected an ndarray of shape {tuple(shape)}, got {_describe(actual)}", hint)
    if actual.shape != tuple(shape):
        _fail(name, f"wrong shape: expected {tuple(shape)}, got {actual.shape}", hint)


def _mentions(message, word):
    """True if ``word`` stands in ``message`` as a whole name: "x" is in "x must be 4-D", not in "max"."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", message) is not None


def assert_raises(exception, func, *args, match=None, hint=None, **kwargs):
    """Check that ``func(*args, **kwargs)`` raises ``exception``.

    ``match`` is an argument name (or phrase) the error message must contain as a
    whole word: ``match="k"`` accepts "k must be 2-D" but not "kernel too big".
    """
    call = describe_call(func, args, kwargs)
    try:
        func(*args, **kwargs)
    except exception as error:
        if match is not None and not _mentions(str(error), match):
            _fail(call, f"raised {exception.__name__}({str(error)!r}), but the message should name {match!r}", hint)
        return
    except NotImplementedError:
        raise
    except Exception as error:
        _fail(call, f"expected {exception.__name__}, got {type(error).__name__}: {error}", hint)
    _fail(call, f"expected {exception.__name__}" + (f" naming {match!r}" if match else "") + ", but nothing was raised", hint)


def assert_int(value, name="result", hint=None):
    """Check that ``value`` is an integer: a Python ``int`` or a NumPy integer, not a ``bool`` or a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(name, f"expected an integer (int or a NumPy integer), got {_describe(value)}", hint or "return int(...)")


def assert_float(value, name="result", hint=None):
    """Check that ``value`` is a real number: a Python ``float`` or a NumPy floating scalar (``np.float64`` is one).

    An ``int`` is accepted too; a ``bool``, an array or anything else is not.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(name, f"expected a float, got {_describe(value)}", hint or "return float(...) of a scalar, not an array")


def _snapshot(value):
    return copy.deepcopy(value)


def _same(before, after):
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and before.shape == after.shape and np.array_equal(before, after, equal_nan=True)
    if isinstance(before, dict):
        return isinstance(after, dict) and before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
    if isinstance(before, (list, tuple)):
        return type(before) is type(after) and len(before) == len(after) and all(_same(a, b) for a, b in zip(before, after))
    return True


def assert_inputs_unchanged(func, *args, **kwargs):
    """Call ``func(*args, **kwargs)``, check that no argument was modified in place, return the result."""
    name = describe_call(func, args, kwargs)
    before_args, before_kwargs = _snapshot(args), _snapshot(kwargs)
    result = func(*args, **kwargs)
    for position, (before, after) in enumerate(zip(before_args, args)):
        if not _same(before, after):
            _fail(name, f"argument {position} was modified in place", "work on a copy (x.copy(), np.pad) instead of writing into an input")
    for key in kwargs:
        if not _same(before_kwargs[key], kwargs[key]):
            _fail(name, f"argument {key!r} was modified in place", "work on a copy instead of writing into an input")
    return result


def _referenced_objects(func):
    """The global objects ``func``'s code (and the code nested in it) refers to, with attribute names."""
    code_objects, names = [func.__code__], set()
    while code_objects:
        code = code_objects.pop()
        names.update(code.co_names)
        code_objects.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    found = [func.__globals__[name] for name in names if name in func.__globals__]
    found += [cell.cell_contents for cell in (func.__closure__ or ()) if _cell_is_set(cell)]
    return found, names


def _cell_is_set(cell):
    try:
        cell.cell_contents
    except ValueError:  # an empty closure cell
        return False
    return True


def _module_name(obj):
    if isinstance(obj, type(np)):
        return obj.__name__
    return getattr(obj, "__module__", None) or ""


def _is_forbidden(candidate, bad):
    """``candidate`` (a dotted name) is ``bad``, inside it, or the function ``bad`` names, from any submodule:
    "coursekit.nn.conv.im2col" is forbidden by "coursekit.nn", by "coursekit.nn.im2col" and by itself."""
    if candidate == bad or candidate.startswith(bad + "."):
        return True
    package, _, name = bad.rpartition(".")
    module, _, candidate_name = candidate.rpartition(".")
    return bool(package) and candidate_name == name and (module == package or module.startswith(package + "."))


def assert_no_delegation(func, forbidden=FORBIDDEN_MODULES):
    """Check that ``func`` does not call into the course's reference code, scipy.signal or torch.

    ``forbidden`` holds modules ("scipy.signal") or single functions ("coursekit.nn.im2col").
    A best-effort look at the names the function uses; the grader enforces the
    rule for real when it re-runs your code.
    """
    objects, names = _referenced_objects(func)
    imported_here = [name for name in names if "." in name or name in forbidden]  # import statements inside func
    for obj in objects + imported_here:
        module = obj if isinstance(obj, str) else _module_name(obj)
        candidates = [module]
        if isinstance(obj, (str, type(np))):
            # Names only, no hasattr(): looking up a deprecated attribute (np.str) makes NumPy warn,
            # and a lazily loaded submodule (scipy.signal) is not an attribute until first used.
            candidates += [f"{module}.{name}" for name in names]
        elif getattr(obj, "__name__", None):
            candidates.append(f"{module}.{obj.__name__}")
        for candidate in candidates:
            if any(_is_forbidden(candidate, bad) for bad in forbidden):
                _fail(
                    func.__name__,
                    f"uses {candidate}, which this exercise asks you to write yourself",
                    "implement it with NumPy; the grader gives 0 to code that delegates",
                )
