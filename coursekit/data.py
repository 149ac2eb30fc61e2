"""Data sets available offline: the bundled digits, and a reader for MNIST's IDX files."""

import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["load_digits", "train_test_split", "read_idx", "write_idx"]

DATASETS = Path(__file__).parent / "datasets"

# IDX type codes (third byte of the magic number) and their big-endian dtypes.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_digits():
    """The 1,797 handwritten digits bundled with the course (see ``datasets/README.md``).

    Returns ``(images, labels)``: images float64 ``(1797, 1, 8, 8)`` scaled to
    [0, 1], labels int64 ``(1797,)`` with values 0..9.
    """
    table = np.loadtxt(DATASETS / "digits.csv.gz", delimiter=",")
    images = table[:, :64].reshape(-1, 1, 8, 8) / 16.0
    labels = table[:, 64].astype(np.int64)
    return images, labels


def train_test_split(x, y, test_fraction=0.2, seed=0):
    """Shuffle with ``seed`` and split; returns ``x_train, y_train, x_test, y_test``."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def _open(path):
    path = os.fspath(path)
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def read_idx(path):
    """Read an IDX file (MNIST's format), optionally gzipped, into an ndarray.

    Layout: two zero bytes, a type code, the number of dimensions ``d``, then
    ``d`` big-endian uint32 sizes, then the data in C order.
    """
    with _open(path) as f:
        header = f.read(4)
        if len(header) < 4 or header[0] != 0 or header[1] != 0:
            raise ValueError(f"{path}: not an IDX file (magic {header!r})")
        type_code, ndim = header[2], header[3]
        if type_code not in IDX_DTYPES:
            raise ValueError(f"{path}: unknown IDX type code 0x{type_code:02x}")
        shape = tuple(int(n) for n in np.frombuffer(f.read(4 * ndim), dtype=">u4"))
        if len(shape) != ndim:
            raise ValueError(f"{path}: header truncated")
        dtype = np.dtype(IDX_DTYPES[type_code])
        count = int(np.prod(shape)) if shape else 1
        data = f.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ValueError(f"{path}: expected {count} values of {dtype}, file is truncated")
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write ``array`` as an IDX file (gzipped if ``path`` ends in .gz)."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_DTYPES.items()}
    if array.dtype not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    code = codes[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    body = array.astype(IDX_DTYPES[code]).tobytes()
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + body)
