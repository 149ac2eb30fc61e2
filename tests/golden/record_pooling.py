"""Record PyTorch's pooling layers into pooling.npz (run with a PyTorch venv).

    /tmp/torchenv/bin/python tests/golden/record_pooling.py

Cases ``max_*``, ``avg_*``: ``F.max_pool2d`` / ``F.avg_pool2d`` (kernel ``pool``,
``stride``, no padding, floor mode) forward and autograd backward for ``dout``.
Cases ``gap*``: ``F.adaptive_avg_pool2d(x, 1)`` reshaped to (N, C).

The max-pool inputs are continuous random numbers, so no window has a tie and
the comparison does not depend on which maximum PyTorch picks. Ties are tested
against hand-derived expectations in tests/test_nn_pooling.py. For the record,
the case ``ties`` stores what PyTorch's CPU kernel does on integer inputs full
of ties: it sends the gradient to the first maximum of each window in row-major
order (the course's rule); the script checks that and prints it. PyTorch does
not document this, and its CUDA kernel may pick a different maximum.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).with_name("pooling.npz")


def numpy(t):
    return t.detach().numpy().copy()


def record(cases, name, function, x, dout_shape, rng, **args):
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = function(tx)
    dout = rng.normal(size=dout_shape)
    out.backward(torch.tensor(dout).reshape(out.shape))
    cases[name] = dict(x=x, dout=dout, out=numpy(out).reshape(dout_shape), dx=numpy(tx.grad))
    cases[name].update({key: np.array(value) for key, value in args.items()})


def record_pool(cases, rng, kind, shape, pool, stride):
    torch_pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    x = rng.normal(size=shape)
    out_hw = tuple((n - pool) // stride + 1 for n in shape[2:])
    record(cases, f"{kind}_k{pool}s{stride}_{'x'.join(map(str, shape))}",
           lambda t: torch_pool(t, pool, stride), x, shape[:2] + out_hw, rng, pool=pool, stride=stride)


def first_max_expectation(x, dout, pool, stride):
    """dx by the course's rule, with plain loops over windows (independent of coursekit)."""
    dx = np.zeros_like(x)
    n, c, oh, ow = dout.shape
    for b, ch, p, q in np.ndindex(n, c, oh, ow):
        window = x[b, ch, p * stride:p * stride + pool, q * stride:q * stride + pool]
        i, j = np.unravel_index(np.argmax(window), window.shape)   # argmax: first in row-major order
        dx[b, ch, p * stride + i, q * stride + j] += dout[b, ch, p, q]
    return dx


def main():
    rng = np.random.default_rng(404)
    cases = {}
    for kind in ("max", "avg"):
        record_pool(cases, rng, kind, (2, 3, 6, 8), 2, 2)       # windows tile the image
        record_pool(cases, rng, kind, (2, 2, 7, 9), 3, 2)       # overlapping windows (AlexNet)
        record_pool(cases, rng, kind, (1, 2, 5, 6), 2, 1)       # stride 1, batch of 1
        record_pool(cases, rng, kind, (3, 1, 8, 7), 2, 3)       # stride > pool: gaps, unused border
    for shape in ((2, 3, 4, 5), (1, 4, 1, 1)):
        record(cases, f"gap_{'x'.join(map(str, shape))}", lambda t: F.adaptive_avg_pool2d(t, 1),
               rng.normal(size=shape), shape[:2], rng)

    # Integer inputs full of ties: what does PyTorch's CPU kernel do?
    x = rng.integers(0, 3, size=(2, 2, 7, 7)).astype(np.float64)
    record(cases, "ties", lambda t: F.max_pool2d(t, 3, 2), x, (2, 2, 3, 3), rng, pool=3, stride=2)
    first = np.allclose(cases["ties"]["dx"], first_max_expectation(x, cases["ties"]["dout"], 3, 2))
    print(f"torch {torch.__version__} CPU max_pool2d with ties routes to the first maximum (row-major): {first}")

    arrays = {f"{case}/{key}": np.asarray(value) for case, values in cases.items() for key, value in values.items()}
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(arrays)} arrays ({len(cases)} cases) to {OUT}")


if __name__ == "__main__":
    main()
