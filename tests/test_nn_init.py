"""coursekit.nn.init against PyTorch (golden/init.npz), the variance formulas, and sample-size-derived bounds.

Statistical checks use fixed seeds (so they are not flaky) and a bound of
Z = 6 standard errors of the estimate, derived from the sample size:
the sample mean of n draws of variance s^2 has standard error s / sqrt(n), and the
mean of w^2 has standard error sqrt(Var(w^2) / n), where Var(w^2) = 2 s^4 for a
normal and 4 a^4 / 45 for U[-a, a].
"""

import math

import numpy as np
import pytest

from conftest import golden_cases
from coursekit import nn

Z = 6.0


@pytest.fixture(scope="module")
def data(golden):
    return golden("init")


def initializer_cases(data):
    return {name: case for name, case in golden_cases(data).items() if name not in ("gain", "fans")}


# -- gains and fans vs torch ------------------------------------------------------

def test_calculate_gain_matches_torch(data):
    for name, param, value in zip(data["gain/names"], data["gain/params"], data["gain/values"]):
        param = None if np.isnan(param) else float(param)
        assert nn.calculate_gain(str(name), param) == pytest.approx(value, rel=1e-15), (name, param)


def test_calculate_gain_table_by_hand():
    assert nn.calculate_gain("relu") == math.sqrt(2)
    assert nn.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.calculate_gain("leaky_relu", 1.0) == pytest.approx(1.0)
    assert isinstance(nn.calculate_gain("sigmoid"), float)


def test_compute_fans_matches_torch(data):
    for padded, expected in zip(data["fans/shapes"], data["fans/values"]):
        shape = tuple(int(d) for d in padded if d > 0)
        assert nn.compute_fans(shape) == tuple(int(v) for v in expected), shape


def test_compute_fans_accepts_numpy_integers_and_lists():
    assert nn.compute_fans([np.int64(4), 3, 2, 5]) == (30, 40)


# -- initializers: statistics -----------------------------------------------------

def target_std(kind, shape, mode="fan_in", nonlinearity="relu", gain=1.0):
    """The standard deviation each rule asks for, written out from the papers' formulas."""
    if len(shape) == 2:
        fan_in, fan_out = shape
    else:
        fan_in, fan_out = shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3]
    if kind.startswith("xavier"):
        return gain * math.sqrt(2 / (fan_in + fan_out))
    gains = {"relu": math.sqrt(2), "tanh": 5 / 3, "linear": 1.0, "sigmoid": 1.0}
    return gains[nonlinearity] / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def draw(kind, shape, rng, mode, nonlinearity, gain):
    if kind.startswith("xavier"):
        return getattr(nn, kind)(shape, rng, gain=gain)
    return getattr(nn, kind)(shape, rng, mode=mode, nonlinearity=nonlinearity)


def assert_distribution(w, kind, std):
    n = w.size
    uniform = kind.endswith("uniform")
    fourth_moment_var = 4 * (math.sqrt(3) * std) ** 4 / 45 if uniform else 2 * std**4
    assert abs(w.mean()) <= Z * std / math.sqrt(n)
    assert abs(np.mean(w**2) - std**2) <= Z * math.sqrt(fourth_moment_var / n)
    if uniform:
        bound = math.sqrt(3) * std
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() >= bound * (1 - 20 / n)     # P(max < a(1 - 20/n)) ~ e^-20
    else:
        assert np.mean(np.abs(w) > 2 * std) == pytest.approx(0.0455, abs=Z * math.sqrt(0.0455 * 0.9545 / n))


def test_initializers_agree_with_torch_statistics(data):
    rng = np.random.default_rng(0)
    for name, case in initializer_cases(data).items():
        kind = name.split("_linear")[0].split("_conv")[0]
        shape = tuple(int(d) for d in case["shape"])
        w = draw(kind, shape, rng, str(case["mode"]), str(case["nonlinearity"]), float(case["gain"]))
        assert w.shape == shape and w.dtype == np.float64, name
        # Two independent estimates of the same variance: difference within Z combined standard errors.
        var_torch, n = float(case["var"]), int(case["n"])
        se = math.sqrt(2) * var_torch * math.sqrt(2 / n)
        assert abs(w.var() - var_torch) <= Z * se, name
        if kind.endswith("uniform"):
            assert np.abs(w).max() == pytest.approx(float(case["max_abs"]), rel=1e-3), name


@pytest.mark.parametrize("kind, shape, mode, nonlinearity, gain", [
    ("xavier_uniform", (64, 256), "fan_in", "relu", 1.0),
    ("xavier_uniform", (16, 8, 3, 3), "fan_in", "relu", 5 / 3),
    ("xavier_normal", (100, 300), "fan_in", "relu", 1.0),
    ("xavier_normal", (8, 4, 5, 5), "fan_in", "relu", 2.0),
    ("kaiming_normal", (100, 300), "fan_in", "relu", 1.0),
    ("kaiming_normal", (16, 8, 3, 3), "fan_out", "relu", 1.0),
    ("kaiming_uniform", (300, 100), "fan_in", "tanh", 1.0),
    ("kaiming_uniform", (16, 8, 3, 3), "fan_out", "linear", 1.0),
])
def test_initializer_moments_within_six_standard_errors(kind, shape, mode, nonlinearity, gain):
    w = draw(kind, shape, np.random.default_rng(1), mode, nonlinearity, gain)
    assert w.shape == shape and w.dtype == np.float64
    assert_distribution(w, kind, target_std(kind, shape, mode, nonlinearity, gain))


def test_initializers_use_only_the_given_generator():
    for kind in ("xavier_uniform", "xavier_normal", "kaiming_normal", "kaiming_uniform"):
        f = getattr(nn, kind)
        a = f((20, 30), np.random.default_rng(5))
        b = f((20, 30), np.random.default_rng(5))
        np.testing.assert_array_equal(a, b)
        rng = np.random.default_rng(5)
        assert not np.array_equal(f((20, 30), rng), f((20, 30), rng))


# -- layer_variances --------------------------------------------------------------

def test_layer_variances_by_hand():
    x = np.array([[1.0, -1.0], [2.0, 0.0]])
    w1 = np.array([[1.0], [1.0]])                      # y1 = [0, 2]
    w2 = np.array([[3.0]])                             # relu: a1 = [0, 2] -> y2 = [0, 6]
    assert nn.layer_variances(x, [w1, w2], "relu") == [1.0, 9.0]
    assert nn.layer_variances(x, [w1, w2], "linear", biases=[np.array([1.0]), np.array([-4.0])]) == [1.0, 9.0]
    tanh = nn.layer_variances(x, [w1, w2], "tanh")
    assert tanh[1] == pytest.approx(np.var(3 * np.tanh([0.0, 2.0])))
    sigmoid = nn.layer_variances(x, [w1, w2], "sigmoid")
    assert sigmoid[1] == pytest.approx(np.var(3 / (1 + np.exp(-np.array([0.0, 2.0])))))
    assert all(type(v) is float for v in tanh)


def test_layer_variances_sigmoid_is_stable_for_large_inputs():
    with np.errstate(over="raise"):
        out = nn.layer_variances(np.array([[1e3], [-1e3]]), [np.ones((1, 1)), np.ones((1, 1))], "sigmoid")
    assert out[1] == pytest.approx(0.25)


def test_he_relu_experiment_of_the_seed():
    """Seed 000: a fresh He-initialized network per trial keeps Var(y) ~ 2 E[x^2] in every layer."""
    rng = np.random.default_rng(0)
    trials = 20000
    x = 3 * rng.random((trials, 1, 5))
    widths = [(5, 10) if layer % 2 == 0 else (10, 5) for layer in range(10)]
    weights = [rng.normal(0, math.sqrt(2 / m), (trials, m, n)) for m, n in widths]
    variances = nn.layer_variances(x, weights, "relu")
    assert len(variances) == 10
    # E[x^2] = 9 E[U^2] = 3. The deep layers' estimates are heavy-tailed (products of
    # ten random scales), hence the loose 15 %; the mean over layers is much tighter.
    np.testing.assert_allclose(variances, 2 * 3.0, rtol=0.15)
    assert np.mean(variances) == pytest.approx(6.0, rel=0.08)


def test_layer_variances_does_not_modify_inputs():
    rng = np.random.default_rng(2)
    x, weights, biases = rng.standard_normal((4, 3)), [rng.standard_normal((3, 2))], [rng.standard_normal(2)]
    copies = (x.copy(), weights[0].copy(), biases[0].copy())
    nn.layer_variances(x, weights, "relu", biases)
    for before, after in zip(copies, (x, weights[0], biases[0])):
        np.testing.assert_array_equal(before, after)


# -- errors -----------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: nn.calculate_gain("gelu"), "nonlinearity"),
    (lambda: nn.calculate_gain("leaky_relu", "0.1"), "param"),
    (lambda: nn.calculate_gain("leaky_relu", True), "param"),
    (lambda: nn.compute_fans((5,)), "shape"),
    (lambda: nn.compute_fans((5, 0)), "shape"),
    (lambda: nn.compute_fans((5, 2.5)), "shape"),
    (lambda: nn.kaiming_normal((4, 4), np.random.default_rng(0), mode="fan_avg"), "mode"),
    (lambda: nn.kaiming_uniform((4, 4), np.random.default_rng(0), nonlinearity="swish"), "nonlinearity"),
    (lambda: nn.xavier_normal((4, 4), 0), "rng"),
    (lambda: nn.xavier_uniform((4, 4), np.random.default_rng(0), gain=-1.0), "gain"),
    (lambda: nn.layer_variances(np.ones((2, 3)), [np.ones((3, 2))], "softplus"), "activation"),
    (lambda: nn.layer_variances(np.ones((2, 3)), [np.ones((3, 2)), np.ones((3, 2))], "relu"), "weights"),
    (lambda: nn.layer_variances(np.ones((2, 3)), [np.ones((3, 2))], "relu", biases=[np.ones(3)]), "biases"),
    (lambda: nn.layer_variances(np.ones((2, 3)), [np.ones((3, 2))], "relu", biases=[]), "biases"),
    (lambda: nn.layer_variances(np.ones(3), [np.ones((3, 2))], "relu"), "x"),
])
def test_invalid_arguments_raise_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- rules notebook 06 states -------------------------------------------------------------------

def test_compute_fans_of_1d_and_3d_conv_shapes():
    assert nn.compute_fans((6, 2, 5)) == (10, 30)                 # (F, C, K)
    assert nn.compute_fans((8, 2, 3, 3, 3)) == (54, 216)          # (F, C, KD, KH, KW)
    for shape in ((4, True), (4, 3.0), (0, 3)):
        with pytest.raises(ValueError, match="shape"):
            nn.compute_fans(shape)


def test_layer_variances_biases_before_a_relu_and_per_stacked_network():
    x = np.array([[1.0, -1.0], [2.0, 0.0]])
    w1, w2 = np.array([[1.0], [1.0]]), np.array([[3.0]])
    # y1 = [0, 2] - 1 = [-1, 1]; relu [0, 1]; y2 = [0, 3] + 0.5 = [0.5, 3.5]
    assert nn.layer_variances(x, [w1, w2], "relu", [np.array([-1.0]), np.array([0.5])]) == [1.0, 2.25]
    stacked_x = np.array([[[1.0, -1.0]], [[2.0, 0.0]]])
    stacked_w = [np.array([[[1.0], [1.0]], [[2.0], [0.0]]]), np.array([[[3.0]], [[1.0]]])]
    stacked_b = [np.array([[[-1.0]], [[1.0]]]), np.zeros((2, 1, 1))]    # (T, 1, D): one bias per network
    assert nn.layer_variances(stacked_x, stacked_w, "relu", stacked_b) == [9.0, 6.25]


@pytest.mark.parametrize("weights, biases, match", [
    ([], None, "weights"),
    ([np.ones(3)], None, "weights"),
    ([np.ones((3, 2))], [np.float64(1.0)], "biases"),
    ([np.ones((3, 2))], [np.ones((2, 1))], "biases"),
])
def test_layer_variances_rejects_empty_weights_and_misshaped_biases(weights, biases, match):
    from coursekit.testing import assert_raises

    assert_raises(ValueError, nn.layer_variances, np.ones((2, 3)), weights, "relu", biases, match=match)
