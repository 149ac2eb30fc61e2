"""benchmarks/run.py and grading.py work (quick mode), and the memory-bounded convolution equals the unbounded one."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coursekit import nn
from coursekit.nn import conv

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
GRADING_BENCHMARK = BENCHMARK.with_name("grading.py")


def load_benchmark_module():
    spec = importlib.util.spec_from_file_location("benchmark_run", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_prints_the_table():
    result = subprocess.run([sys.executable, str(BENCHMARK), "--quick"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "threads: 1" in out
    header = next(line for line in out.splitlines() if line.startswith("shape"))
    for column in ("ours ms", "torch ms", "ours/torch", "warm o/t", "gemm ms", "loops ms"):
        assert column in header
    for dtype in ("float32", "float64"):
        for op in ("conv forward", "conv backward", "maxpool forward", "maxpool backward",
                   "batchnorm forward", "batchnorm backward"):
            assert any(dtype in line and op in line for line in out.splitlines()), (dtype, op)
    assert "peak forward" in out
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "torch not installed" in out


def test_quick_grading_benchmark_prints_the_side_by_side_table(tmp_path):
    # The user's command, in a scratch folder: plain nbgrader's CLI and the autograder's, every grading
    # checked by the script (references full from both graders, blanks 0), figures printed, not asserted.
    result = subprocess.run([sys.executable, str(GRADING_BENCHMARK), "--quick"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("machine: ") and " cores usable " in lines[0] and "load average" in lines[0]
    rows = {line.split("  ")[0]: line.split() for line in lines if line.split() and line.split()[-1].count("/") == 2}
    for what, count in (("plain nbgrader: autograde + generate_feedback", "2"),
                        ("python -m autograder grade, 1 worker", "2"), ("python -m autograder grade, 2 workers", "2"),
                        ("class: 2 students x 2 assignments, ", "4")):
        row = next(v for k, v in rows.items() if k.startswith(what))
        seconds, per_submission = float(row[-3]), float(row[-2])
        assert row[-4] == count and seconds > 0 and abs(per_submission * int(count) - seconds) < 0.1, row  # both printed rounded
    out = result.stdout
    assert "throughput, autograder with 2 workers / plain nbgrader, same 2 submissions: " in out
    assert "01_conv_as_matmul reference, 1 worker: median " in out and "per phase, median s" in out
    assert "submissions per core-minute" in out and "200 students x 9 assignments (1800 submissions)" in out
    assert lines[-1] == "scores checked: OK"


def random_conv_cases(count, seed):
    """Random small convolutions: rectangular kernels, strides 1-4 (also larger than the kernel), pads 0-3."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        kh, kw, stride, pad = int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
        h = int(rng.integers(max(1, kh - 2 * pad), 12))
        w = int(rng.integers(max(1, kw - 2 * pad), 12))
        n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
        yield (rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, kh, kw)), rng.standard_normal(f),
               stride, pad, rng)


@pytest.mark.parametrize("max_weights", [0, 2**40], ids=["product per image", "product per output row"])
def test_loop_baselines_and_batched_layers_compute_the_same_convolution(monkeypatch, max_weights):
    # The loops are the definition, one output value at a time; the batched layers unfold
    # through flattened, phase-split planes. 80 random shapes, each also as float32, with
    # either way of multiplying in the forward pass.
    monkeypatch.setattr(conv, "ROW_PRODUCT_MAX_WEIGHTS", max_weights)
    bench = load_benchmark_module()
    for x, w, b, stride, pad, rng in random_conv_cases(80, seed=0):
        out = bench.conv_forward_loops(x, w, b, stride, pad)
        shape = (x.shape, w.shape, stride, pad)
        np.testing.assert_allclose(nn.conv2d_forward(x, w, b, stride, pad), out, rtol=1e-12, atol=1e-12, err_msg=str(shape))
        dout = rng.standard_normal(out.shape)
        for got, expected in zip(nn.conv2d_backward(dout, x, w, b, stride, pad), bench.conv_backward_loops(dout, x, w, stride, pad)):
            assert got.shape == expected.shape, shape
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=str(shape))
        x32, w32, b32, dout32 = (a.astype(np.float32) for a in (x, w, b, dout))
        np.testing.assert_allclose(nn.conv2d_forward_keep_dtype(x32, w32, b32, stride, pad), out, rtol=1e-4, atol=1e-4)
        for got, expected in zip(nn.conv2d_backward_keep_dtype(dout32, x32, w32, b32, stride, pad),
                                 bench.conv_backward_loops(dout, x, w, stride, pad)):
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4, err_msg=str(shape))


@pytest.mark.parametrize("max_weights", [0, 2**40], ids=["product per image", "product per output row"])
@pytest.mark.parametrize("pad", [0, 1])
def test_batched_layers_read_views_by_their_strides(monkeypatch, max_weights, pad):
    # The unfoldings are strided views of their input: a transposed, sliced x must give what its copy gives.
    monkeypatch.setattr(conv, "ROW_PRODUCT_MAX_WEIGHTS", max_weights)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 9, 11)).transpose(0, 1, 3, 2)[:, ::2]      # (3, 3, 11, 9), not contiguous
    w, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    bench = load_benchmark_module()
    for stride in (1, 2):
        out = bench.conv_forward_loops(np.ascontiguousarray(x), w, b, stride, pad)
        np.testing.assert_allclose(nn.conv2d_forward(x, w, b, stride, pad), out, rtol=1e-12, atol=1e-12)
        dout = rng.standard_normal(out.shape)[..., ::-1]                        # not contiguous either
        for got, expected in zip(nn.conv2d_backward(dout, x, w, b, stride, pad),
                                 bench.conv_backward_loops(np.ascontiguousarray(dout), np.ascontiguousarray(x), w, stride, pad)):
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# -- chunking: the unfold budget changes memory, not results ---------------------

CASES = [((7, 3, 9, 8), (5, 3, 3, 3), 1, 1),
         ((5, 2, 11, 11), (4, 2, 5, 5), 2, 0),
         ((4, 3, 8, 10), (2, 3, 2, 3), 3, 2)]


def record_chunk_sizes(monkeypatch, generator_name, source):
    """Replace ``conv.<generator_name>`` by a copy that also appends to the returned list the images
    of each chunk it makes of ``source`` (the backward pass also runs it on other arrays)."""
    sizes = []
    original = getattr(conv, generator_name)

    def recording(array, *args):
        for batch, chunk in original(array, *args):
            if array is source:
                sizes.append(len(chunk))
            yield batch, chunk

    monkeypatch.setattr(conv, generator_name, recording)
    return sizes


# The two unfoldings: the forward pass of small weight matrices unfolds row bands, that of
# large ones flattened planes. The backward pass unfolds flattened planes for dw; for dx it
# runs a forward pass (stride 1) or folds back onto flattened planes.
LAYOUTS = {"row bands": (2**40, "_row_bands", "_band_image_bytes"),
           "flattened planes": (0, "_unfolded_chunks", "_unfolded_image_bytes")}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CASES)
def test_chunked_convolution_equals_unchunked(monkeypatch, dtype, x_shape, w_shape, stride, pad, layout):
    max_weights, generator_name, image_bytes_name = LAYOUTS[layout]
    monkeypatch.setattr(conv, "ROW_PRODUCT_MAX_WEIGHTS", max_weights)
    rng = np.random.default_rng(sum(x_shape))
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    n = x_shape[0]
    forward_sizes = record_chunk_sizes(monkeypatch, generator_name, x)
    backward_sizes = record_chunk_sizes(monkeypatch, "_unfolded_chunks", x) if layout == "row bands" else forward_sizes

    monkeypatch.setattr(conv, "UNFOLD_BUDGET_BYTES", 2**40)          # the whole batch at once
    out = nn.conv2d_forward_keep_dtype(x, w, b, stride, pad)
    assert forward_sizes == [n]
    forward_sizes.clear()
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx, dw, db = nn.conv2d_backward_keep_dtype(dout, x, w, b, stride, pad)
    assert backward_sizes == [n]

    forward_image_bytes = getattr(conv, image_bytes_name)(x_shape, *w_shape[2:], stride, pad, x.itemsize)
    backward_image_bytes = conv._unfolded_image_bytes(x_shape, *w_shape[2:], stride, pad, x.itemsize)
    # A budget below one image still unfolds one at a time.
    for images, budget in ((1, lambda image_bytes: 1), (2, lambda image_bytes: 2 * image_bytes), (3, lambda image_bytes: 3 * image_bytes + 1)):
        chunks = [images] * (n // images) + ([n % images] if n % images else [])
        monkeypatch.setattr(conv, "UNFOLD_BUDGET_BYTES", budget(forward_image_bytes))
        forward_sizes.clear()
        np.testing.assert_array_equal(nn.conv2d_forward_keep_dtype(x, w, b, stride, pad), out)
        assert forward_sizes == chunks, images
        monkeypatch.setattr(conv, "UNFOLD_BUDGET_BYTES", budget(backward_image_bytes))
        backward_sizes.clear()
        chunked_dx, chunked_dw, chunked_db = nn.conv2d_backward_keep_dtype(dout, x, w, b, stride, pad)
        assert backward_sizes == chunks, images
        np.testing.assert_array_equal(chunked_dx, dx)
        np.testing.assert_array_equal(chunked_db, db)
        # dw sums over the batch, chunk by chunk: only the order of the additions differs.
        np.testing.assert_allclose(chunked_dw, dw, rtol=1e-12 if dtype == np.float64 else 1e-5)


# x (32, 4, 16, 16), w (4, 4, 5, 5), pad 2: the output is 16 x 16. Bytes of the whole batch
# unfolded in float64: 20 bands per image (16 + 2*2 rows) of 4*5 + 1 rows of 16, or
# 4*5*5 + 1 rows of OH*WQ = 16*20 (the plane is 16 + 2*2 wide).
WHOLE_BATCH_BYTES = {"row bands": 32 * 20 * 21 * 16 * 8, "flattened planes": 32 * 101 * 16 * 20 * 8}


@pytest.mark.parametrize("layout, backward", [("row bands", False), ("flattened planes", False), ("flattened planes", True)],
                         ids=["forward, row bands", "forward, flattened planes", "backward"])
def test_chunking_bounds_the_memory_of_the_unfolded_matrix(monkeypatch, layout, backward):
    monkeypatch.setattr(conv, "ROW_PRODUCT_MAX_WEIGHTS", LAYOUTS[layout][0])
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((32, 4, 16, 16)), rng.standard_normal((4, 4, 5, 5)), np.zeros(4)
    dout = np.ones((32, 4, 16, 16))
    whole_batch = WHOLE_BATCH_BYTES[layout]
    run = (lambda: nn.conv2d_backward(dout, x, w, b, 1, 2)) if backward else (lambda: nn.conv2d_forward(x, w, b, 1, 2))
    monkeypatch.setattr(conv, "UNFOLD_BUDGET_BYTES", 2**40)
    assert load_benchmark_module().traced_peak_bytes(run) >= whole_batch              # unbounded: the whole batch at once
    monkeypatch.setattr(conv, "UNFOLD_BUDGET_BYTES", whole_batch // 16)
    peak = load_benchmark_module().traced_peak_bytes(run)
    assert peak < whole_batch / 3, f"peak {peak} bytes, whole unfolded batch {whole_batch}"


# -- the dtype-preserving path ----------------------------------------------------

def test_keep_dtype_computes_in_float32_and_matches_the_graded_float64_functions():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((3, 2, 7, 7)), rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    dout = rng.standard_normal((3, 4, 4, 4))
    x32, w32, b32, dout32 = (a.astype(np.float32) for a in (x, w, b, dout))

    out32 = nn.conv2d_forward_keep_dtype(x32, w32, b32, 2, 1)
    grads32 = nn.conv2d_backward_keep_dtype(dout32, x32, w32, b32, 2, 1)
    assert out32.dtype == np.float32 and all(g.dtype == np.float32 for g in grads32)
    np.testing.assert_allclose(out32, nn.conv2d_forward(x, w, b, 2, 1), rtol=1e-5, atol=1e-5)
    for got, expected in zip(grads32, nn.conv2d_backward(dout, x, w, b, 2, 1)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)

    # The graded functions keep their contract: float64 out, even for float32 in.
    assert nn.conv2d_forward(x32, w32, b32, 2, 1).dtype == np.float64
    assert all(g.dtype == np.float64 for g in nn.conv2d_backward(dout32, x32, w32, b32, 2, 1))
    # Mixed or integer inputs are computed in float64.
    assert nn.conv2d_forward_keep_dtype(x32, w, b32, 2, 1).dtype == np.float64
    assert nn.conv2d_forward_keep_dtype(np.ones((1, 1, 3, 3), int), np.ones((1, 1, 2, 2), int), None).dtype == np.float64


@pytest.mark.parametrize("call, argument", [
    (lambda: nn.conv2d_forward_keep_dtype(np.ones((2, 4, 4), np.float32), np.ones((1, 2, 2, 2), np.float32), None), "x"),
    (lambda: nn.conv2d_forward_keep_dtype(np.ones((1, 2, 4, 4)), np.ones((1, 3, 2, 2)), None), "channels"),
    (lambda: nn.conv2d_backward_keep_dtype(np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), None), "dout"),
    (lambda: nn.conv2d_forward_keep_dtype(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), None, stride=0), "stride"),
])
def test_keep_dtype_errors_name_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


def test_fast_paths_return_new_writable_arrays():
    # The windows are a read-only view of x: every result must still be a fresh array.
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4)
    before = x.copy()
    results = [nn.im2col(x, 1, 1), nn.im2col(x[:1], 1, 1), nn.conv2d_forward(x, np.ones((2, 3, 1, 1)), None),
               nn.maxpool_forward(x, 1, 1), nn.maxpool_forward(x, 2, 2),
               *nn.conv2d_backward(np.ones((2, 2, 4, 4)), x, np.ones((2, 3, 1, 1)), np.zeros(2))]
    for result in results:
        assert result.flags.writeable and not np.shares_memory(result, x)
        result[...] = -1.0
    np.testing.assert_array_equal(x, before)
