"""coursekit.nn.conv against PyTorch (recorded in golden/conv.npz), scipy.signal and hand-derived numbers."""

import math
import re

import numpy as np
import pytest
import scipy.signal

from conftest import golden_cases
from coursekit import nn


@pytest.fixture(scope="module")
def cases(golden):
    return golden_cases(golden("conv"))


def conv2d_cases(cases):
    return {name: case for name, case in cases.items() if name.startswith("conv2d_")}


def transpose_cases(cases):
    return {name: case for name, case in cases.items() if name.startswith("transpose_")}


def test_golden_file_has_the_cases_the_tests_expect(cases):
    assert len(conv2d_cases(cases)) >= 6
    assert len(transpose_cases(cases)) >= 4
    strides = {int(case["stride"]) for case in conv2d_cases(cases).values()}
    pads = {int(case["pad"]) for case in conv2d_cases(cases).values()}
    assert strides >= {1, 2, 3} and pads >= {0, 1, 2}


# -- conv2d forward and backward vs torch -------------------------------------

def test_conv2d_forward_matches_torch(cases):
    for name, case in conv2d_cases(cases).items():
        out = nn.conv2d_forward(case["x"], case["w"], case["b"], int(case["stride"]), int(case["pad"]))
        assert out.shape == case["out"].shape, name
        np.testing.assert_allclose(out, case["out"], rtol=1e-10, atol=1e-12, err_msg=name)


def test_conv2d_backward_matches_torch_autograd(cases):
    for name, case in conv2d_cases(cases).items():
        dx, dw, db = nn.conv2d_backward(case["dout"], case["x"], case["w"], case["b"], int(case["stride"]), int(case["pad"]))
        for got, key in ((dx, "dx"), (dw, "dw"), (db, "db")):
            assert got.shape == case[key].shape, f"{name}/{key}"
            np.testing.assert_allclose(got, case[key], rtol=1e-10, atol=1e-12, err_msg=f"{name}/{key}")


def test_conv2d_forward_accepts_float32_and_returns_float64(cases):
    case = cases["conv2d_s2_p1"]
    x32, w32, b32 = (case[k].astype(np.float32) for k in ("x", "w", "b"))
    out = nn.conv2d_forward(x32, w32, b32, 2, 1)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, case["out"], rtol=1e-5, atol=1e-5)


def test_conv2d_forward_does_not_modify_inputs(cases):
    case = cases["conv2d_s3_p2_batch1_c1"]
    x, w, b = (case[k].copy() for k in ("x", "w", "b"))
    nn.conv2d_forward(x, w, b, 3, 2)
    nn.conv2d_backward(case["dout"].copy(), x, w, b, 3, 2)
    for key, value in (("x", x), ("w", w), ("b", b)):
        np.testing.assert_array_equal(value, case[key])


def test_conv_transpose2d_matches_torch(cases):
    for name, case in transpose_cases(cases).items():
        out = nn.conv_transpose2d(case["x"], case["w"], int(case["stride"]), int(case["pad"]))
        assert out.shape == case["out"].shape, name
        np.testing.assert_allclose(out, case["out"], rtol=1e-10, atol=1e-12, err_msg=name)


# -- output size ---------------------------------------------------------------

def pytorch_formula(n, k, stride, pad, dilation):
    return math.floor((n + 2 * pad - dilation * (k - 1) - 1) / stride) + 1


def test_conv_output_size_matches_the_formula():
    checked = 0
    for n in range(1, 30):
        for k in range(1, 8):
            for stride in range(1, 5):
                for pad in range(0, 4):
                    for dilation in range(1, 4):
                        expected = pytorch_formula(n, k, stride, pad, dilation)
                        if expected >= 1 and dilation * (k - 1) + 1 <= n + 2 * pad:
                            assert nn.conv_output_size(n, k, stride, pad, dilation) == expected
                            checked += 1
                        else:
                            with pytest.raises(ValueError):
                                nn.conv_output_size(n, k, stride, pad, dilation)
    assert checked > 5000


def test_conv_output_size_matches_torch_output_lengths(golden):
    data = golden("conv")
    for n, k, stride, pad, dilation, out in data["sizes/valid"]:
        assert nn.conv_output_size(int(n), int(k), int(stride), int(pad), int(dilation)) == out
    for n, k, stride, pad, dilation in data["sizes/invalid"]:
        with pytest.raises(ValueError):
            nn.conv_output_size(int(n), int(k), int(stride), int(pad), int(dilation))


def test_conv_output_size_matches_recorded_conv2d_shapes(cases):
    for name, case in conv2d_cases(cases).items():
        _, _, h, w = case["x"].shape
        _, _, kh, kw = case["w"].shape
        stride, pad = int(case["stride"]), int(case["pad"])
        assert case["out"].shape[2:] == (nn.conv_output_size(h, kh, stride, pad), nn.conv_output_size(w, kw, stride, pad)), name


def test_conv_output_size_returns_a_python_int():
    assert type(nn.conv_output_size(np.int64(7), 3, 2, 1)) is int


@pytest.mark.parametrize("kwargs, argument", [
    (dict(n=0, k=1), "n"),
    (dict(n=5, k=0), "k"),
    (dict(n=5, k=3, stride=0), "stride"),
    (dict(n=5, k=3, pad=-1), "pad"),
    (dict(n=5, k=3, dilation=0), "dilation"),
    (dict(n=5, k=3, dilation=3), "k"),           # the dilated kernel does not fit: named k
    (dict(n=5, k=8, pad=1), "k"),
    (dict(n=5.0, k=3), "n"),
    (dict(n=5, k=True), "k"),
    (dict(n=5, k=3, stride=2.0), "stride"),
    (dict(n=5, k=3, pad=False), "pad"),
])
def test_conv_output_size_errors_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError) as error:
        nn.conv_output_size(**kwargs)
    assert names(str(error.value), argument), f"{error.value!r} does not name {argument!r}"


# -- 2-D correlation, unfold, im2col ------------------------------------------

SEED_000_X = np.array([
    [-0.21556299, -0.11002319, -0.3499612, 1.49290769, -0.50435978],
    [0.06348409, 0.66873375, 0.14251138, -1.6414004, -0.91561852],
    [-2.52451962, -1.97544675, -0.24609529, -1.11489934, -1.44793437],
    [1.26260575, -0.62047366, 0.12274525, 0.25200227, -0.83925847],
    [-1.54336488, -0.05100702, 0.36608208, 0.51712927, -0.97133877],
    [-1.54336488, -0.05100702, 0.36608208, 0.51712927, -0.97133877],
])
SEED_000_K = np.array([[1, 2, 3], [4, 5, 6], [-1, -2, -3]], dtype=np.float32)


def random_2d_pairs(count=20, seed=3):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        h, w = rng.integers(1, 9, size=2)
        kh, kw = rng.integers(1, h + 1), rng.integers(1, w + 1)
        yield rng.standard_normal((h, w)), rng.standard_normal((kh, kw))


def test_correlations_match_scipy_on_the_seed_example_and_random_shapes():
    pairs = [(SEED_000_X, SEED_000_K)] + list(random_2d_pairs())
    for x, k in pairs:
        expected = scipy.signal.correlate2d(x, k, mode="valid")
        np.testing.assert_allclose(nn.correlate2d_loops(x, k), expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(nn.correlate2d_matmul(x, k), expected, rtol=1e-12, atol=1e-12)
        unfolded = nn.unfold_matrix(x, *k.shape)
        assert unfolded.shape == (expected.size, k.size)
        np.testing.assert_allclose(unfolded @ k.ravel(), expected.ravel(), rtol=1e-12, atol=1e-12)


def test_unfold_matrix_rows_are_windows_in_row_major_order():
    x = np.arange(12.0).reshape(3, 4)
    expected = np.array([
        [0, 1, 4, 5], [1, 2, 5, 6], [2, 3, 6, 7],
        [4, 5, 8, 9], [5, 6, 9, 10], [6, 7, 10, 11],
    ], dtype=np.float64)
    np.testing.assert_array_equal(nn.unfold_matrix(x, 2, 2), expected)


def test_im2col_rows_and_columns_are_ordered_n_oh_ow_and_c_i_j():
    x = np.arange(2 * 2 * 3 * 3, dtype=np.float64).reshape(2, 2, 3, 3)   # x[n, c, h, w] = 18n + 9c + 3h + w
    cols = nn.im2col(x, 2, 2)
    assert cols.shape == (2 * 2 * 2, 2 * 2 * 2)
    # Row 5 = (n=1, oh=0, ow=1); column 6 = (c=1, i=1, j=0)  ->  x[1, 1, 0 + 1, 1 + 0] = 18 + 9 + 3 + 1
    assert cols[5, 6] == 31.0
    # Row 0 = (n=0, oh=0, ow=0): the 2x2 window of channel 0, then of channel 1.
    np.testing.assert_array_equal(cols[0], [0, 1, 3, 4, 9, 10, 12, 13])


def test_im2col_with_stride_and_padding_matches_a_direct_definition():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 5))
    kh, kw, stride, pad = 3, 2, 2, 1
    cols = nn.im2col(x, kh, kw, stride, pad)
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (6 + 2 - 3) // 2 + 1, (5 + 2 - 2) // 2 + 1
    row = 0
    for n in range(2):
        for p in range(oh):
            for q in range(ow):
                window = x_pad[n, :, p * stride:p * stride + kh, q * stride:q * stride + kw]
                np.testing.assert_array_equal(cols[row], window.ravel())
                row += 1
    assert row == cols.shape[0]


@pytest.mark.parametrize("seed", range(8))
def test_col2im_is_the_adjoint_of_im2col(seed):
    rng = np.random.default_rng(seed)
    n, c = rng.integers(1, 4, size=2)
    h, w = rng.integers(3, 9, size=2)
    kh, kw = rng.integers(1, 4, size=2)
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    x = rng.standard_normal((n, c, h, w))
    cols = nn.im2col(x, kh, kw, stride, pad)
    y = rng.standard_normal(cols.shape)
    back = nn.col2im(y, x.shape, kh, kw, stride, pad)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * y), np.sum(x * back), rtol=1e-10)


def test_col2im_sums_overlaps():
    # Every pixel of a 3x3 input is counted once per 2x2 window that covers it.
    ones = np.ones((4, 4))
    counts = nn.col2im(ones, (1, 1, 3, 3), 2, 2)
    np.testing.assert_array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# -- gradients of the single-channel correlation vs scipy -------------------

def test_kernel_grad_single_is_correlation_of_input_with_dout():
    for x, k in random_2d_pairs(seed=11):
        dout = np.random.default_rng(x.size).standard_normal((x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1))
        np.testing.assert_allclose(nn.kernel_grad_single(x, dout), scipy.signal.correlate2d(x, dout, mode="valid"), rtol=1e-12, atol=1e-12)


def test_input_grad_single_is_full_convolution_with_the_kernel():
    for x, k in random_2d_pairs(seed=12):
        dout = np.random.default_rng(x.size).standard_normal((x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1))
        dx = nn.input_grad_single(dout, k)
        assert dx.shape == x.shape
        np.testing.assert_allclose(dx, scipy.signal.convolve2d(dout, k, mode="full"), rtol=1e-12, atol=1e-12)


# -- parameter and MAC counts (hand-derived) --------------------------------

@pytest.mark.parametrize("args, expected", [
    ((3, 96, 11, 11), 34_944),        # AlexNet conv1: 96 * (3*11*11 + 1)
    ((96, 256, 5, 5), 614_656),       # AlexNet conv2 (without groups): 256 * (96*25 + 1)
    ((3, 64, 3, 3), 1_792),           # VGG-16 conv1_1
    ((3, 10, 5, 5), 760),             # 10 filters of 3x5x5 on an RGB image
    ((64, 32, 1, 1), 2_080),          # a 1x1 conv: 32 * (64 + 1)
    ((1, 6, 5, 5), 156),              # LeNet-5 C1
])
def test_conv_param_count(args, expected):
    assert nn.conv_param_count(*args) == expected
    assert nn.conv_param_count(*args, bias=False) == expected - args[1]


@pytest.mark.parametrize("args, expected", [
    ((3, 96, 11, 11, 55, 55), 105_415_200),   # AlexNet conv1: 96*55*55 outputs, 3*11*11 each
    ((3, 10, 5, 5, 32, 32), 768_000),         # 10*32*32 outputs, 75 each
    ((64, 32, 1, 1, 56, 56), 6_422_528),      # 1x1 conv: 32*56*56 outputs, 64 each
    ((1, 6, 5, 5, 28, 28), 117_600),          # LeNet-5 C1
])
def test_conv_macs(args, expected):
    assert nn.conv_macs(*args) == expected


def test_conv_macs_counts_the_multiplications_of_conv2d():
    # Count the nonzero products of a conv on an all-ones input with no padding.
    x, w = np.ones((1, 2, 6, 5)), np.ones((3, 2, 3, 2))
    out = nn.conv2d_forward(x, w, np.zeros(3))
    assert out.sum() == nn.conv_macs(2, 3, 3, 2, 4, 4)


# -- argument errors name the argument ------------------------------------------
#
# The course's rule: the message names the offending argument as a whole word (as
# coursekit.testing.assert_raises checks it); a kernel too large for the input is named
# ``k`` (correlations, conv_output_size), ``kh`` or ``kw`` (whichever does not fit:
# unfold_matrix, im2col, col2im) or ``w`` (conv2d_forward/backward); a shape checked
# against the other arguments names the later argument, and ``dout`` in backward passes.

def names(message, word):
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", message) is not None


ONES_X = np.ones((1, 1, 4, 4))
ONES_W = np.ones((3, 1, 2, 2))
DOUT = np.ones((1, 3, 3, 3))     # the output of ONES_X and ONES_W, stride 1, no padding


@pytest.mark.parametrize("call, argument", [
    (lambda: nn.correlate2d_loops(np.ones((2, 3, 4)), np.ones((2, 2))), "x"),
    (lambda: nn.correlate2d_loops(np.ones((0, 4)), np.ones((1, 1))), "x"),
    (lambda: nn.correlate2d_loops(np.ones((4, 4)), np.ones(2)), "k"),
    (lambda: nn.correlate2d_loops(np.ones((4, 4)), np.ones((2, 0))), "k"),
    (lambda: nn.correlate2d_loops(np.ones((4, 4)), np.ones((5, 2))), "k"),
    (lambda: nn.correlate2d_loops(np.ones((4, 4)), np.ones((2, 5))), "k"),
    (lambda: nn.correlate2d_matmul(np.ones((4, 4)), np.ones(3)), "k"),
    (lambda: nn.correlate2d_matmul(np.ones((4, 4)), np.ones((2, 5))), "k"),
    (lambda: nn.correlate2d_matmul(np.ones((4, 4, 1)), np.ones((2, 2))), "x"),
    (lambda: nn.unfold_matrix(np.ones((4, 4)), 2, 5), "kw"),
    (lambda: nn.unfold_matrix(np.ones((4, 4)), 5, 2), "kh"),
    (lambda: nn.unfold_matrix(np.ones((4, 4)), 0, 2), "kh"),
    (lambda: nn.unfold_matrix(np.ones((4, 4)), 2.0, 2), "kh"),
    (lambda: nn.unfold_matrix(np.ones((4, 4)), 2, True), "kw"),
    (lambda: nn.unfold_matrix(np.ones((4, 0)), 1, 1), "x"),
    (lambda: nn.im2col(np.ones((1, 4, 4)), 2, 2), "x"),
    (lambda: nn.im2col(np.ones((0, 1, 4, 4)), 2, 2), "x"),
    (lambda: nn.im2col(ONES_X, 2, 2, pad=-1), "pad"),
    (lambda: nn.im2col(ONES_X, 2, 2, pad=True), "pad"),
    (lambda: nn.im2col(ONES_X, 2, 2, stride=0), "stride"),
    (lambda: nn.im2col(ONES_X, 2, 2, stride=2.0), "stride"),
    (lambda: nn.im2col(ONES_X, 7, 2, pad=1), "kh"),
    (lambda: nn.im2col(ONES_X, 2, 7, pad=1), "kw"),
    (lambda: nn.col2im(np.ones((4, 4)), (1, 1, 3), 2, 2), "x_shape"),
    (lambda: nn.col2im(np.ones((4, 4)), (1, 1, 3, 3.0), 2, 2), "x_shape"),
    (lambda: nn.col2im(np.ones((5, 4)), (1, 1, 3, 3), 2, 2), "cols"),
    (lambda: nn.col2im(np.ones((4, 4)), (1, 1, 3, 3), 4, 2), "kh"),
    (lambda: nn.col2im(np.ones((4, 4)), (1, 1, 3, 3), 2, 2, stride=0), "stride"),
    (lambda: nn.conv2d_forward(np.ones((1, 4, 4)), ONES_W, np.zeros(3)), "x"),
    (lambda: nn.conv2d_forward(np.ones((0, 1, 4, 4)), ONES_W, np.zeros(3)), "x"),
    (lambda: nn.conv2d_forward(ONES_X, np.ones((3, 1, 2)), np.zeros(3)), "w"),
    (lambda: nn.conv2d_forward(ONES_X, np.ones((0, 1, 2, 2)), np.zeros(0)), "w"),
    (lambda: nn.conv2d_forward(np.ones((1, 2, 4, 4)), ONES_W, np.zeros(3)), "w"),
    (lambda: nn.conv2d_forward(np.ones((1, 2, 4, 4)), ONES_W, np.zeros(3)), "channels"),
    (lambda: nn.conv2d_forward(ONES_X, ONES_W, np.zeros(2)), "b"),
    (lambda: nn.conv2d_forward(ONES_X, ONES_W, np.zeros(3), pad=-2), "pad"),
    (lambda: nn.conv2d_forward(ONES_X, ONES_W, np.zeros(3), stride=0), "stride"),
    (lambda: nn.conv2d_forward(ONES_X, ONES_W, np.zeros(3), stride=1.0), "stride"),
    (lambda: nn.conv2d_forward(ONES_X, np.ones((3, 1, 5, 2)), np.zeros(3)), "w"),
    (lambda: nn.conv2d_forward(ONES_X, np.ones((3, 1, 2, 7)), np.zeros(3), pad=1), "w"),
    (lambda: nn.conv2d_backward(DOUT, np.ones((1, 4, 4)), ONES_W, np.zeros(3)), "x"),
    (lambda: nn.conv2d_backward(DOUT, ONES_X, np.ones((3, 2, 2, 2)), np.zeros(3)), "w"),
    (lambda: nn.conv2d_backward(DOUT, ONES_X, ONES_W, np.zeros(2)), "b"),
    (lambda: nn.conv2d_backward(DOUT, ONES_X, ONES_W, np.zeros(3), pad=-1), "pad"),
    (lambda: nn.conv2d_backward(DOUT, ONES_X, ONES_W, np.zeros(3), stride=True), "stride"),
    (lambda: nn.conv2d_backward(DOUT, ONES_X, np.ones((3, 1, 5, 5)), np.zeros(3)), "w"),
    (lambda: nn.conv2d_backward(DOUT[:, :2], ONES_X, ONES_W, np.zeros(3)), "dout"),
    (lambda: nn.conv2d_backward(DOUT[0], ONES_X, ONES_W, np.zeros(3)), "dout"),
    (lambda: nn.conv2d_backward(DOUT, ONES_X, ONES_W, np.zeros(3), stride=2), "dout"),    # stride 2: 2x2 outputs
    (lambda: nn.kernel_grad_single(np.ones(5), np.ones((2, 2))), "x"),
    (lambda: nn.kernel_grad_single(np.ones((0, 3)), np.ones((1, 1))), "x"),
    (lambda: nn.kernel_grad_single(np.ones((3, 3)), np.ones((4, 2))), "dout"),
    (lambda: nn.kernel_grad_single(np.ones((3, 3)), np.ones((2, 2, 1))), "dout"),
    (lambda: nn.kernel_grad_single(np.ones((3, 3)), np.ones((0, 2))), "dout"),
    (lambda: nn.input_grad_single(np.ones((2, 2, 1)), np.ones((2, 2))), "dout"),
    (lambda: nn.input_grad_single(np.ones((0, 2)), np.ones((2, 2))), "dout"),
    (lambda: nn.input_grad_single(np.ones((2, 2)), np.ones(3)), "k"),
    (lambda: nn.input_grad_single(np.ones((2, 2)), np.ones((2, 0))), "k"),
    (lambda: nn.conv_transpose2d(np.ones((1, 4, 4)), np.ones((1, 2, 3, 3))), "x"),
    (lambda: nn.conv_transpose2d(np.ones((1, 0, 4, 4)), np.ones((0, 2, 3, 3))), "x"),
    (lambda: nn.conv_transpose2d(ONES_X, np.ones((2, 2, 3, 3))), "w"),
    (lambda: nn.conv_transpose2d(ONES_X, np.ones((1, 2, 3))), "w"),
    (lambda: nn.conv_transpose2d(ONES_X, np.ones((1, 2, 3, 3)), stride=0), "stride"),
    (lambda: nn.conv_transpose2d(ONES_X, np.ones((1, 2, 3, 3)), stride=2.0), "stride"),
    (lambda: nn.conv_transpose2d(ONES_X, np.ones((1, 2, 3, 3)), pad=-1), "pad"),
    (lambda: nn.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), 1, 2), "pad"),
    (lambda: nn.conv_param_count(0, 3, 3, 3), "c_in"),
    (lambda: nn.conv_param_count(3, 3, 3.0, 3), "kh"),
    (lambda: nn.conv_param_count(3, 3, 3, True), "kw"),
    (lambda: nn.conv_macs(3, 3, 3, 3, 0, 4), "oh"),
    (lambda: nn.conv_macs(3, 3, 3, 3, 4, 4.0), "ow"),
])
def test_errors_name_the_argument(call, argument):
    with pytest.raises(ValueError) as error:
        call()
    assert names(str(error.value), argument), f"{error.value!r} does not name {argument!r}"


@pytest.mark.parametrize("call, argument, other", [
    (lambda: nn.unfold_matrix(np.ones((4, 4)), 5, 2), "kh", "kw"),
    (lambda: nn.unfold_matrix(np.ones((4, 4)), 2, 5), "kw", "kh"),
    (lambda: nn.im2col(ONES_X, 7, 2, pad=1), "kh", "kw"),
    (lambda: nn.im2col(ONES_X, 2, 7, pad=1), "kw", "kh"),
])
def test_a_kernel_too_large_names_only_the_size_that_does_not_fit(call, argument, other):
    with pytest.raises(ValueError) as error:
        call()
    assert names(str(error.value), argument) and not names(str(error.value), other), str(error.value)


def test_numpy_integer_sizes_are_accepted():
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 5))
    w = np.random.default_rng(1).standard_normal((3, 2, 3, 3))
    np.testing.assert_array_equal(nn.im2col(x, np.int64(3), np.int32(2), np.int64(2), np.int64(1)), nn.im2col(x, 3, 2, 2, 1))
    np.testing.assert_array_equal(nn.conv2d_forward(x, w, None, np.int64(2), np.int64(1)), nn.conv2d_forward(x, w, None, 2, 1))
    assert nn.conv_param_count(np.int64(3), 4, 5, 5) == 304


# -- b=None: a layer without bias -------------------------------------------------

def test_conv2d_without_bias_is_a_bias_of_zeros_and_has_no_bias_gradient():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    for stride, pad in ((1, 0), (1, 1), (2, 1)):
        out = nn.conv2d_forward(x, w, None, stride, pad)
        np.testing.assert_array_equal(out, nn.conv2d_forward(x, w, np.zeros(4), stride, pad))
        dout = rng.standard_normal(out.shape)
        dx, dw, db = nn.conv2d_backward(dout, x, w, None, stride, pad)
        dx0, dw0, _ = nn.conv2d_backward(dout, x, w, np.zeros(4), stride, pad)
        assert db is None                                  # no bias, no bias gradient (as PyTorch's autograd)
        np.testing.assert_array_equal(dx, dx0)
        np.testing.assert_array_equal(dw, dw0)
        assert nn.conv2d_backward_keep_dtype(dout, x, w, None, stride, pad)[2] is None
