"""Argument checks shared by the reference layers: each error names the argument and its value."""

import numbers

import numpy as np


def check_int(value, name, minimum):
    """``value`` must be an integer (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_float_array(x, name, ndim):
    """``x`` as a float64 array with exactly ``ndim`` dimensions."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {x.shape}")
    return x
