"""Argument checks: each raises ``ValueError`` naming the offending argument and its value.

Used by the reference layers (``coursekit.nn``), the explorers, and answer
cells that want the same messages::

    x = as_float_array(x, "x", 4)        # "x must have 4 dimensions, got shape (3, 5)"

Like ``np.asarray``, the three ``as_*`` checkers return their input **itself**
(not a copy) when it is already a float64 ndarray of the right shape, and a new
float64 array otherwise (a list, float32, ints). So never write into what they
return (``x -= mean``, ``x[...] = 0``): that would change the caller's array.
Compute new arrays (``x - mean``), or ``.copy()`` first; and return
``running_mean.copy()``, not ``running_mean``, when the caller must get a new array.
"""

import numbers

import numpy as np

__all__ = ["check_int", "as_float_array", "as_vector", "as_float_like"]


def check_int(value, name, minimum):
    """``value`` must be an integer (not a bool) >= ``minimum``; returns it as an ``int``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_float_array(x, name, ndim):
    """``x`` as a float64 array with exactly ``ndim`` dimensions; else ValueError naming ``name``.

    Returns ``x`` itself when it already is a float64 ndarray (no copy, like ``np.asarray``).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {x.shape}")
    return x


def as_vector(v, name, size):
    """``v`` as a float64 vector of shape ``(size,)``; else ValueError naming ``name``.

    Returns ``v`` itself when it already is a float64 ndarray of that shape (no copy).
    """
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {v.shape}")
    return v


def as_float_like(dout, name, x):
    """``dout`` as float64 with exactly the shape of ``x`` (an upstream gradient, say); else ValueError naming ``name``.

    Returns ``dout`` itself when it already is a float64 ndarray of that shape (no copy).
    """
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != x.shape:
        raise ValueError(f"{name} must have the shape of x {x.shape}, got {dout.shape}")
    return dout
