"""coursekit's student-facing helpers: messages that say what is wrong, gradients, data."""

import gzip
import struct

import numpy as np
import pytest

from coursekit import data, gradcheck, testing


# -- testing --------------------------------------------------------------------
def test_assert_close_reports_shape_mismatch():
    with pytest.raises(AssertionError, match=r"wrong shape: expected \(2, 3\), got \(3, 2\)"):
        testing.assert_close(np.zeros((3, 2)), np.zeros((2, 3)), name="im2col(x)")


def test_assert_close_reports_worst_error_with_index_values_and_hint():
    expected = np.zeros((2, 3))
    actual = expected.copy()
    actual[1, 2] = 0.5
    actual[0, 0] = 0.1
    with pytest.raises(AssertionError) as info:
        testing.assert_close(actual, expected, name="conv2d_forward", hint="check the bias")
    message = str(info.value)
    assert "conv2d_forward" in message
    assert "max abs error 0.5 at index (1, 2)" in message
    assert "expected 0, got 0.5" in message
    assert "2 of 6 entries differ" in message
    assert "hint: check the bias" in message


def test_assert_close_accepts_within_tolerance_and_rejects_non_arrays():
    testing.assert_close(np.array([1.0 + 1e-9]), np.array([1.0]))
    with pytest.raises(AssertionError, match="expected an array"):
        testing.assert_close(None, np.zeros(2))
    with pytest.raises(AssertionError, match="non-finite"):
        testing.assert_close(np.array([np.nan]), np.array([1.0]))


def test_assert_equal_and_shape():
    testing.assert_equal(3, 3)
    with pytest.raises(AssertionError, match="expected 3, got 4"):
        testing.assert_equal(4, 3, name="conv_output_size")
    with pytest.raises(AssertionError, match="expected True, got 1"):
        testing.assert_equal(1, True)
    with pytest.raises(AssertionError, match=r"expected \(2,\), got \(3,\)"):
        testing.assert_shape(np.zeros(3), (2,))


def test_assert_raises_checks_type_and_message():
    def bad(pad):
        raise ValueError(f"pad must be >= 0, got {pad}")

    testing.assert_raises(ValueError, bad, -1, match="pad")
    with pytest.raises(AssertionError, match="should name 'stride'"):
        testing.assert_raises(ValueError, bad, -1, match="stride")
    with pytest.raises(AssertionError, match="nothing was raised"):
        testing.assert_raises(ValueError, lambda: None)
    with pytest.raises(AssertionError, match="expected ValueError, got TypeError"):
        testing.assert_raises(ValueError, lambda: 1 + "a")
    with pytest.raises(NotImplementedError):  # stubs stay visible as stubs
        testing.assert_raises(ValueError, _stub)


def _stub(*args):
    raise NotImplementedError()


def test_assert_inputs_unchanged_catches_in_place_writes():
    def scale_in_place(x):
        x *= 2
        return x

    with pytest.raises(AssertionError, match="argument 0 was modified in place"):
        testing.assert_inputs_unchanged(scale_in_place, np.ones(3))
    params = {"w": np.ones(2)}

    def update(p):
        p["w"] -= 1
        return p

    with pytest.raises(AssertionError, match="modified in place"):
        testing.assert_inputs_unchanged(update, params)
    out = testing.assert_inputs_unchanged(lambda x: x * 2, np.ones(3))
    assert np.array_equal(out, np.full(3, 2.0))


def test_assert_no_delegation_sees_reference_and_scipy():
    import scipy.signal
    from coursekit import nn

    def own(x, k):
        return np.sum(x * k)

    def via_scipy(x, k):
        return scipy.signal.correlate2d(x, k, mode="valid")

    def via_reference(x, w, b):
        return nn.conv2d_forward(x, w, b)

    testing.assert_no_delegation(own)
    with pytest.raises(AssertionError, match="scipy.signal"):
        testing.assert_no_delegation(via_scipy)
    with pytest.raises(AssertionError, match="coursekit.nn"):
        testing.assert_no_delegation(via_reference)


def test_assert_no_delegation_writes_nothing_to_stderr_for_correct_code():
    """np.str looked up with hasattr() made NumPy print a FutureWarning, which nbgrader scores as a failure."""
    import warnings

    def calculate_gain(nonlinearity):
        if not isinstance(nonlinearity, str):
            raise ValueError("nonlinearity")
        return float(np.sqrt(2.0))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        testing.assert_no_delegation(calculate_gain)


def test_assert_no_delegation_forbids_single_reference_functions_and_allows_the_others():
    from coursekit import nn
    from coursekit.nn import im2col

    def uses_earlier_layer(x):
        return im2col(x, 3, 3)

    def uses_this_exercise(dout, x, w, b):
        return nn.conv2d_backward(dout, x, w, b)

    def imports_it(dout, x, w, b):
        from coursekit.nn import conv2d_backward as backward
        return backward(dout, x, w, b)

    forbidden = ("scipy.signal", "coursekit.nn.conv2d_backward")
    testing.assert_no_delegation(uses_earlier_layer, forbidden)
    for func in (uses_this_exercise, imports_it):
        with pytest.raises(AssertionError, match="conv2d_backward"):
            testing.assert_no_delegation(func, forbidden)
    with pytest.raises(AssertionError, match="coursekit.nn"):
        testing.assert_no_delegation(uses_earlier_layer)  # the default forbids the whole reference


def test_assert_raises_names_the_call_and_matches_whole_argument_names():
    def no_checks(x, k, stride=1):
        return x

    with pytest.raises(AssertionError, match=r"no_checks\(<array \(3, 3\) float64>, <array \(5, 5\) float64>, stride=2\): "
                                             r"expected ValueError naming 'k', but nothing was raised"):
        testing.assert_raises(ValueError, no_checks, np.zeros((3, 3)), np.zeros((5, 5)), stride=2, match="k")

    def names_kernel(x, k):
        raise ValueError("kernel larger than the input")

    with pytest.raises(AssertionError, match="should name 'k'"):
        testing.assert_raises(ValueError, names_kernel, 1, 2, match="k")

    def names_k(x, k):
        raise ValueError("k (5, 5) is larger than x (3, 3)")

    testing.assert_raises(ValueError, names_k, 1, 2, match="k")
    testing.assert_raises(ValueError, names_k, 1, 2, match="x")


@pytest.mark.parametrize("value, integer, real", [
    (3, True, True), (np.int64(3), True, True), (True, False, False), (3.0, False, True),
    (np.float64(0.5), False, True), (np.float32(0.5), False, True), (np.array(3), False, False), ("3", False, False),
])
def test_one_rule_for_scalar_returns(value, integer, real):
    for check, accepted in ((testing.assert_int, integer), (testing.assert_float, real)):
        if accepted:
            check(value)
        else:
            with pytest.raises(AssertionError, match="expected"):
                check(value)


# -- gradcheck --------------------------------------------------------------------
def test_numerical_gradient_matches_calculus():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    # d/dx sum(x**3 * dout) = 3 x**2 * dout
    dout = np.array([[1.0, 2.0], [-1.0, 0.5]])
    grad = gradcheck.numerical_gradient(lambda v: v ** 3, x, dout)
    assert np.allclose(grad, 3 * x ** 2 * dout, rtol=1e-8, atol=1e-8)
    # a scalar function: d/dx sum(sin(x)) = cos(x)
    assert np.allclose(gradcheck.numerical_gradient(lambda v: np.sin(v).sum(), x), np.cos(x), atol=1e-9)


def test_numerical_gradient_does_not_modify_input():
    x = np.arange(4.0)
    gradcheck.numerical_gradient(lambda v: v * v, x)
    assert np.array_equal(x, np.arange(4.0))


def test_relative_error_reports_worst_element():
    error, index = gradcheck.relative_error(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 1.0]))
    assert index == (2,)
    assert error == pytest.approx(2.0 / 4.0)


def test_check_gradient_passes_right_and_fails_wrong():
    x = np.random.default_rng(0).normal(size=(3, 4))
    w = np.random.default_rng(1).normal(size=(4, 2))
    dout = np.random.default_rng(2).normal(size=(3, 2))
    # d(sum((x @ w) * dout))/dx = dout @ w.T (matrix calculus)
    assert gradcheck.check_gradient(dout @ w.T, lambda v: v @ w, x, dout) < 1e-8
    with pytest.raises(AssertionError, match="relative error"):
        gradcheck.check_gradient(dout @ w.T * 1.01, lambda v: v @ w, x, dout)


# -- data -------------------------------------------------------------------------------
def test_load_digits_is_the_uci_test_set():
    images, labels = data.load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float64
    assert labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    # class counts of the UCI optdigits test set
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_train_test_split_is_seeded_and_disjoint():
    x = np.arange(100).reshape(100, 1)
    y = np.arange(100)
    a = data.train_test_split(x, y, 0.25, seed=3)
    b = data.train_test_split(x, y, 0.25, seed=3)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    x_train, y_train, x_test, y_test = a
    assert len(x_test) == 25 and len(x_train) == 75
    assert set(y_train).isdisjoint(set(y_test)) and set(y_train) | set(y_test) == set(range(100))


def _mnist_like_bytes(images):
    # Written byte by byte from the IDX specification, independently of write_idx.
    n, h, w = images.shape
    return b"\x00\x00\x08\x03" + struct.pack(">III", n, h, w) + images.astype(np.uint8).tobytes()


def test_read_idx_reads_a_hand_written_mnist_file(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(3, 4, 5))
    (tmp_path / "images.idx3-ubyte").write_bytes(_mnist_like_bytes(images))
    with gzip.open(tmp_path / "images.idx3-ubyte.gz", "wb") as f:
        f.write(_mnist_like_bytes(images))
    labels = b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes([7, 0, 9])
    (tmp_path / "labels.idx1-ubyte").write_bytes(labels)
    assert np.array_equal(data.read_idx(tmp_path / "images.idx3-ubyte"), images)
    assert np.array_equal(data.read_idx(tmp_path / "images.idx3-ubyte.gz"), images)
    assert data.read_idx(tmp_path / "labels.idx1-ubyte").tolist() == [7, 0, 9]


def test_idx_round_trip_of_other_types(tmp_path):
    for dtype in (np.int32, np.float32, np.float64, np.int16, np.int8):
        array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
        data.write_idx(tmp_path / "a.idx", array)
        back = data.read_idx(tmp_path / "a.idx")
        assert back.dtype == np.dtype(dtype) and np.array_equal(back, array)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 10) + b"\x01\x02")
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(tmp_path / "short")


def test_assert_no_delegation_sees_imports_inside_the_function():
    def imports_inside(x, k):
        from scipy.signal import correlate2d
        return correlate2d(x, k, mode="valid")

    with pytest.raises(AssertionError, match="scipy.signal"):
        testing.assert_no_delegation(imports_inside)


def test_relative_error_judges_tiny_entries_against_the_largest():
    # An entry 1e5 times smaller than the largest, off by 1e-10 (central-difference noise): fine.
    analytic = np.array([2.0, 2.33333e-05])
    numeric = np.array([2.0, 2.33333e-05 + 1e-10])
    assert gradcheck.relative_error(analytic, numeric)[0] < 1e-7
    # A wrong large entry is still caught at full strength.
    assert gradcheck.relative_error(np.array([2.0, 1e-5]), np.array([2.2, 1e-5]))[0] == pytest.approx(0.2 / 4.2)


def test_warnings_in_a_notebook_go_to_stdout_where_nbgrader_does_not_count_them(tmp_path):
    """nbgrader scores any stderr output of a test cell as a failure (Validate and autograde alike)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import warnings\nimport numpy as np\nimport coursekit\nnp.exp(np.array([1000.0]))\nwarnings.warn('careful')")])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    streams = [(o.name, o.text) for o in nb.cells[0].outputs if o.output_type == "stream"]
    assert streams and all(name == "stdout" for name, _ in streams), streams
    text = "".join(t for _, t in streams)
    assert "RuntimeWarning: overflow" in text and "UserWarning: careful" in text
