# Independent answers to 00_tour, written from the released notebook only.
# %% practice_square
import numpy as np


def square(x):
    """Elementwise square. x: any shape -> same shape, float64 (x is not modified)."""
    values = np.array(x, dtype=np.float64, copy=True)   # a fresh float64 copy
    np.multiply(values, values, out=values)             # in place on the copy only
    return values
