"""Numerical gradients by central differences, and relative errors.

For a function ``f`` with array output and an upstream gradient ``dout``, the
gradient of the scalar ``L = sum(f(x) * dout)`` with respect to ``x`` is

    dL/dx[i] ~ (L(x + h e_i) - L(x - h e_i)) / (2 h)

which is what ``numerical_gradient`` computes, one entry at a time.
"""

import numpy as np

__all__ = ["numerical_gradient", "relative_error", "check_gradient"]


def numerical_gradient(f, x, dout=None, h=1e-5):
    """Central-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    f:    a function of one array returning an array (or a scalar)
    x:    the point, float64 array of any shape (not modified)
    dout: upstream gradient of f's output shape (default: ones)
    Returns an array of x's shape.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = np.asarray(f(x.copy()), dtype=np.float64)
        x[index] = original - h
        minus = np.asarray(f(x.copy()), dtype=np.float64)
        x[index] = original
        weights = np.ones_like(plus) if dout is None else dout
        grad[index] = np.sum((plus - minus) * weights) / (2 * h)
    return grad


def relative_error(actual, expected):
    """The largest elementwise relative error ``|a - e| / (|a| + |e|)``, and where it is.

    Central differences cannot resolve entries far below the largest one (their
    rounding error is about ``1e-16 * |L| / h`` in absolute terms), so an entry
    under 1/1000 of the largest ``|a| + |e|`` is measured against that 1/1000.
    Returns ``(error, index)``.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(f"shapes differ: {actual.shape} vs {expected.shape}")
    if actual.size == 0:
        return 0.0, ()
    magnitude = np.abs(actual) + np.abs(expected)
    floor = max(1e-3 * float(magnitude.max()), 1e-8)
    errors = np.abs(actual - expected) / np.maximum(magnitude, floor)
    index = np.unravel_index(int(np.argmax(errors)), errors.shape)
    return float(errors[index]), tuple(int(i) for i in index)


def check_gradient(analytic, f, x, dout=None, name="gradient", tolerance=1e-6, h=1e-5):
    """Compare an analytic gradient with the numerical one; raise ``AssertionError`` if they differ.

    Returns the relative error, so a notebook can print it.
    """
    numeric = numerical_gradient(f, x, dout, h)
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise AssertionError(f"{name}: expected shape {numeric.shape}, got {analytic.shape}")
    error, index = relative_error(analytic, numeric)
    if error > tolerance:
        raise AssertionError(
            f"{name}: relative error {error:.2e} > {tolerance:.0e}, worst at index {index} "
            f"(analytic {analytic[index]:.6g}, numerical {numeric[index]:.6g})\n"
            "  hint: check each step of the chain rule on a tiny input by hand"
        )
    return error
