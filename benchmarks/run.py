"""Time the course's reference layers against PyTorch, side by side in one run.

    python benchmarks/run.py                  # the full table (a few minutes on 2 cores)
    python benchmarks/run.py --quick          # tiny shapes, 1 repetition: a smoke test for CI
    python benchmarks/run.py --threads 2      # BLAS and torch threads (default 1)

Every time is the best of ``--repeat`` runs, and the candidates of a row take turns
in each repetition, so a busy machine slows them alike. Each turn times a cold call
(the CPU caches flushed just before) and then a warm one (the same call at once).
PyTorch is optional: without it the torch columns are left empty. See
benchmarks/README.md for what each column means.
"""

import argparse
import os
import sys
import time
import tracemalloc
from dataclasses import dataclass

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes and 1 repetition (for CI)")
    parser.add_argument("--threads", type=int, default=1, help="threads for NumPy's BLAS and for torch (default 1)")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions per timing, best kept (default 15, quick 1)")
    parser.add_argument("--dtypes", default="float32,float64", help="comma-separated, from float32,float64")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 15
    return args


# The thread counts must be set before NumPy (and its BLAS) is imported.
ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402

from coursekit import nn  # noqa: E402
from coursekit.nn import conv as conv_module  # noqa: E402


@dataclass(frozen=True)
class ConvShape:
    n: int
    c: int
    h: int
    w: int
    f: int
    k: int
    stride: int = 1
    pad: int = 0

    def __str__(self):
        text = f"N{self.n} C{self.c} {self.h}x{self.w} F{self.f} k{self.k}"
        return text + (f" s{self.stride}" if self.stride != 1 else "") + (f" p{self.pad}" if self.pad else "")

    @property
    def out_hw(self):
        return (nn.conv_output_size(self.h, self.k, self.stride, self.pad),
                nn.conv_output_size(self.w, self.k, self.stride, self.pad))

    @property
    def unfolded_bytes_per_item(self):
        """Entries of the whole batch's unfolded matrix (multiply by the item size for bytes)."""
        oh, ow = self.out_hw
        return self.n * self.c * self.k * self.k * oh * ow


SHAPES = [ConvShape(64, 16, 28, 28, 32, 3, pad=1),
          ConvShape(32, 64, 32, 32, 64, 3, pad=1),
          ConvShape(16, 3, 64, 64, 32, 5, stride=2)]
QUICK_SHAPES = [ConvShape(2, 3, 8, 8, 4, 3, pad=1),
                ConvShape(2, 2, 9, 9, 3, 3, stride=2)]


# -- the naive baseline: the definition, one output value at a time -------------

def conv_forward_loops(x, w, b, stride, pad):
    """out[n, f, p, q] = b[f] + sum(window(n, p, q) * w[f]), with Python loops over n, f, p, q."""
    n, f = x.shape[0], w.shape[0]
    kh, kw = w.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (x_pad.shape[2] - kh) // stride + 1, (x_pad.shape[3] - kw) // stride + 1
    out = np.empty((n, f, oh, ow), dtype=x.dtype)
    for i in range(n):
        for j in range(f):
            for p in range(oh):
                for q in range(ow):
                    window = x_pad[i, :, p * stride:p * stride + kh, q * stride:q * stride + kw]
                    out[i, j, p, q] = np.sum(window * w[j]) + b[j]
    return out


def conv_backward_loops(dout, x, w, stride, pad):
    """Every output value sends its gradient back to its window and to its filter."""
    n, f, oh, ow = dout.shape
    kh, kw = w.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for i in range(n):
        for j in range(f):
            for p in range(oh):
                for q in range(ow):
                    rows, cols = slice(p * stride, p * stride + kh), slice(q * stride, q * stride + kw)
                    dx_pad[i, :, rows, cols] += w[j] * dout[i, j, p, q]
                    dw[j] += x_pad[i, :, rows, cols] * dout[i, j, p, q]
    h, wd = x.shape[2:]
    return dx_pad[:, :, pad:pad + h, pad:pad + wd], dw, dout.sum(axis=(0, 2, 3))


# -- timing ---------------------------------------------------------------------

# Reading this much memory evicts everything else from the CPU caches (this machine's
# last-level cache is 32 MiB or less), so a timed call that follows starts cold.
CACHE_FLUSH_BYTES = 64 * 2**20
_CACHE_FLUSH = None


def flush_caches():
    global _CACHE_FLUSH
    if _CACHE_FLUSH is None:
        _CACHE_FLUSH = np.ones(CACHE_FLUSH_BYTES // 8)
    _CACHE_FLUSH.sum()


def settle_allocator():
    """Put glibc's malloc in the state a long-running process reaches by itself.

    glibc hands out large blocks as fresh mmap'd pages (each first touch is a page
    fault, expensive on a virtual machine) until the first large block is freed; then
    it raises its threshold and serves later blocks from its heap. Freeing one 31 MiB
    block at the start makes that happen before any timing, for NumPy and torch alike,
    instead of in the middle of whichever row comes first.
    """
    block = np.ones(31 * 2**20 // 8)
    del block


@dataclass
class Times:
    cold: float                  # best of the calls that followed a cache flush
    warm: float                  # best of the calls that followed the same call


def best_times(candidates, repeat):
    """``Times`` of each callable; they take turns in every repetition, a cold then a warm call each."""
    for run in candidates.values():
        run()                                            # warm up: lazy imports, thread pools, allocator
    cold = {name: float("inf") for name in candidates}
    warm = dict(cold)
    for _ in range(repeat):
        for name, run in candidates.items():
            flush_caches()
            cold[name] = min(cold[name], time_once(run))
            warm[name] = min(warm[name], time_once(run))
    return {name: Times(cold[name], warm[name]) for name in candidates}


def time_once(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def traced_peak_bytes(run):
    """Peak bytes NumPy allocated while ``run()`` ran (NumPy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def relative_error(ours, reference):
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    return float(np.max(np.abs(ours - reference)) / max(np.max(np.abs(reference)), 1e-300))


# -- PyTorch, if it is there ------------------------------------------------------

def import_torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


@dataclass
class Row:
    shape: str
    dtype: str
    op: str
    ours: Times
    torch: Times = None
    gemm: Times = None
    loops: float = None
    error: float = None          # largest |ours - torch| / largest |torch|

    @property
    def ratio(self):
        return None if self.torch is None else self.ours.cold / self.torch.cold

    @property
    def warm_ratio(self):
        return None if self.torch is None else self.ours.warm / self.torch.warm


def conv_rows(shape, dtype, torch, repeat):
    """Forward and backward of the convolution: ours, torch, the matrix products alone, loops."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((shape.n, shape.c, shape.h, shape.w)).astype(dtype)
    w = (rng.standard_normal((shape.f, shape.c, shape.k, shape.k)) / np.sqrt(shape.c * shape.k ** 2)).astype(dtype)
    b = rng.standard_normal(shape.f).astype(dtype)
    s, p = shape.stride, shape.pad
    oh, ow = shape.out_hw
    dout = rng.standard_normal((shape.n, shape.f, oh, ow)).astype(dtype)

    forward = {"ours": lambda: nn.conv2d_forward_keep_dtype(x, w, b, s, p)}
    backward = {"ours": lambda: nn.conv2d_backward_keep_dtype(dout, x, w, b, s, p)}

    # The matrix products alone, on the textbook unfolded matrix of the whole batch, made beforehand.
    cols = conv_module._unfold(x, shape.k, shape.k, s, p)                 # (N, C*K*K, OH*OW)
    w_rows, d_rows = w.reshape(shape.f, -1), dout.reshape(shape.n, shape.f, -1)
    out_buffer = np.empty((shape.n, shape.f, oh * ow), dtype=dtype)
    forward["gemm"] = lambda: np.matmul(w_rows, cols, out=out_buffer)
    backward["gemm"] = lambda: (np.matmul(d_rows, cols.transpose(0, 2, 1)), np.matmul(w_rows.T, d_rows))

    if torch is not None:
        tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
        t_out = torch.nn.functional.conv2d(tx, tw, tb, s, p)
        t_dout = torch.from_numpy(dout)
        forward["torch"] = lambda: torch.nn.functional.conv2d(tx, tw, tb, s, p)
        backward["torch"] = lambda: torch.autograd.grad(t_out, (tx, tw, tb), t_dout, retain_graph=True)

    rows = []
    for op, candidates in (("conv forward", forward), ("conv backward", backward)):
        times = best_times(candidates, repeat)
        rows.append(Row(str(shape), np.dtype(dtype).name, op, times["ours"], times.get("torch"), times["gemm"]))

    # Loops are slow: time them on the first image only and scale by N.
    one = slice(0, 1)
    rows[0].loops = shape.n * time_once(lambda: conv_forward_loops(x[one], w, b, s, p))
    rows[1].loops = shape.n * time_once(lambda: conv_backward_loops(dout[one], x[one], w, s, p))

    if torch is not None:
        rows[0].error = relative_error(forward["ours"](), t_out.detach().numpy())
        ours_grads, torch_grads = backward["ours"](), backward["torch"]()
        rows[1].error = max(relative_error(g, t.numpy()) for g, t in zip(ours_grads, torch_grads))
    return rows


def pool_and_norm_rows(shape, dtype, torch, repeat):
    """2x2 max pooling and spatial batch norm on the convolution's output shape."""
    oh, ow = shape.out_hw
    rng = np.random.default_rng(1)
    x = rng.standard_normal((shape.n, shape.f, oh, ow)).astype(dtype)
    pooled_shape = (shape.n, shape.f, oh // 2, ow // 2)
    d_pool = rng.standard_normal(pooled_shape).astype(dtype)
    d_norm = rng.standard_normal(x.shape).astype(dtype)
    gamma, beta = np.ones(shape.f, dtype), np.zeros(shape.f, dtype)
    mean, var = np.zeros(shape.f, dtype), np.ones(shape.f, dtype)

    ops = {
        "maxpool forward": {"ours": lambda: nn.maxpool_forward(x, 2, 2)},
        "maxpool backward": {"ours": lambda: nn.maxpool_backward(d_pool, x, 2, 2)},
        "batchnorm forward": {"ours": lambda: nn.spatial_batchnorm_forward(x, gamma, beta, mean, var)[0]},
        "batchnorm backward": {"ours": lambda: nn.spatial_batchnorm_backward(d_norm, x, gamma, beta)},
    }
    if torch is not None:
        F = torch.nn.functional
        tx = torch.from_numpy(x).requires_grad_()
        tg, tb = torch.from_numpy(gamma).requires_grad_(), torch.from_numpy(beta).requires_grad_()
        t_pool = F.max_pool2d(tx, 2, 2)
        t_norm = F.batch_norm(tx, torch.from_numpy(mean.copy()), torch.from_numpy(var.copy()), tg, tb, training=True)
        td_pool, td_norm = torch.from_numpy(d_pool), torch.from_numpy(d_norm)
        ops["maxpool forward"]["torch"] = lambda: F.max_pool2d(tx, 2, 2)
        ops["maxpool backward"]["torch"] = lambda: torch.autograd.grad(t_pool, tx, td_pool, retain_graph=True)
        ops["batchnorm forward"]["torch"] = lambda: F.batch_norm(
            tx, torch.zeros(shape.f, dtype=tx.dtype), torch.ones(shape.f, dtype=tx.dtype), tg, tb, training=True)
        ops["batchnorm backward"]["torch"] = lambda: torch.autograd.grad(t_norm, (tx, tg, tb), td_norm, retain_graph=True)

    rows = []
    for op, candidates in ops.items():
        times = best_times(candidates, repeat)
        row = Row(f"{shape.n}x{shape.f}x{oh}x{ow}", np.dtype(dtype).name, op, times["ours"], times.get("torch"))
        if torch is not None:
            ours, theirs = as_tuple(candidates["ours"]()), as_tuple(candidates["torch"]())
            row.error = max(relative_error(o, t.detach().numpy()) for o, t in zip(ours, theirs))
        rows.append(row)
    return rows


def memory_lines(shapes, dtype):
    """Peak traced memory of one forward and one backward, beside the whole batch's unfolded matrix."""
    itemsize = np.dtype(dtype).itemsize
    lines = []
    for shape in shapes:
        rng = np.random.default_rng(2)
        x = rng.standard_normal((shape.n, shape.c, shape.h, shape.w)).astype(dtype)
        w = rng.standard_normal((shape.f, shape.c, shape.k, shape.k)).astype(dtype)
        b = np.zeros(shape.f, dtype)
        dout = np.ones((shape.n, shape.f) + shape.out_hw, dtype)
        forward = traced_peak_bytes(lambda: nn.conv2d_forward_keep_dtype(x, w, b, shape.stride, shape.pad))
        backward = traced_peak_bytes(lambda: nn.conv2d_backward_keep_dtype(dout, x, w, b, shape.stride, shape.pad))
        lines.append(f"  {str(shape):<28} {np.dtype(dtype).name:<8} whole unfolded batch {mb(shape.unfolded_bytes_per_item * itemsize):>7}"
                     f"   peak forward {mb(forward):>7}   peak backward {mb(backward):>7}")
    return lines


# -- printing ----------------------------------------------------------------------

def ms(seconds):
    if isinstance(seconds, Times):
        seconds = seconds.cold
    return "-" if seconds is None else f"{seconds * 1e3:.2f}"


def times_x(ratio):
    return "-" if ratio is None else f"{ratio:.2f}x"


def mb(count):
    return f"{count / 2**20:.1f} MB"


def table(rows):
    header = (f"{'shape':<28} {'dtype':<8} {'op':<19} {'ours ms':>9} {'torch ms':>9} {'ours/torch':>10} "
              f"{'warm o/t':>9} {'gemm ms':>8} {'loops ms':>10} {'err vs torch':>12}")
    lines = [header, "-" * len(header)]
    for r in rows:
        error = "-" if r.error is None else f"{r.error:.1e}"
        lines.append(f"{r.shape:<28} {r.dtype:<8} {r.op:<19} {ms(r.ours):>9} {ms(r.torch):>9} {times_x(r.ratio):>10} "
                     f"{times_x(r.warm_ratio):>9} {ms(r.gemm):>8} {ms(r.loops):>10} {error:>12}")
    return "\n".join(lines)


def blas_name():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - only a label
        return "unknown BLAS"


def main(args):
    torch = import_torch(args.threads)
    settle_allocator()
    shapes = QUICK_SHAPES if args.quick else SHAPES
    dtypes = [np.dtype(name).type for name in args.dtypes.split(",")]
    print(f"threads: {args.threads} (OMP/OPENBLAS/MKL_NUM_THREADS and torch.set_num_threads), "
          f"best of {args.repeat}, load average at start {os.getloadavg()[0]:.2f}")
    print(f"cold: each timed call follows a pass over {mb(CACHE_FLUSH_BYTES)} (caches flushed); "
          "warm: the same call again at once")
    print(f"numpy {np.__version__} ({blas_name()}), "
          + (f"torch {torch.__version__}" if torch else "torch not installed: torch columns skipped"))
    print(f"unfold budget {mb(conv_module.UNFOLD_BUDGET_BYTES)} (coursekit.nn.conv.UNFOLD_BUDGET_BYTES)\n")

    rows = []
    for dtype in dtypes:
        for shape in shapes:
            rows += conv_rows(shape, dtype, torch, args.repeat)
        for shape in shapes:
            rows += pool_and_norm_rows(shape, dtype, torch, args.repeat)
    print(table(rows))
    print("\nours, torch, ours/torch: cold calls; warm o/t: the ratio of the warm calls."
          "\nours: conv2d_*_keep_dtype (float32 stays float32); maxpool_*, spatial_batchnorm_* (graded functions:"
          " float64 inside).\ngemm: only the matrix products of the convolution, on the textbook unfolded matrix"
          " of the whole batch, made beforehand.\nloops: one Python loop per output value, timed on 1 image and"
          " multiplied by N.")
    print("\nmemory (tracemalloc):")
    for dtype in dtypes:
        print("\n".join(memory_lines(shapes, dtype)))
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main(ARGS))
