"""Headless tests of the explorers in coursekit.widgets: move controls in Python, check what they compute.

They test the course logic behind each explorer, not what a browser shows
(tests/test_browser.py does that for the convolution explorer). Expected
values come from the formulas and hand-worked examples, not from the code
under test; where coursekit.nn has a reference, the explorer must agree with it.
"""

import numpy as np
import pytest

from coursekit.nn import groupnorm_forward, layer_variances, spatial_batchnorm_forward
from coursekit.widgets import (START, conv_arithmetic_explorer, im2col_explorer, init_experiment, init_explorer,
                               least_squares, loss_and_grad, norm_axes, norm_axes_explorer, optimizer_explorer,
                               optimizer_paths, pooling_explorer, receptive_field_explorer, regression_data)


def set_controls(explorer, **values):
    for name, value in values.items():
        explorer.controls[name].value = value
    return explorer


# -- 1. convolution arithmetic --------------------------------------------------------

@pytest.mark.parametrize("n, k, stride, pad, dilation", [
    (7, 3, 1, 0, 1), (7, 3, 2, 1, 1), (12, 5, 3, 2, 1), (8, 3, 1, 0, 2), (5, 7, 1, 1, 1), (10, 4, 4, 3, 3),
])
def test_conv_output_size_shown_is_the_formula(n, k, stride, pad, dilation):
    explorer = set_controls(conv_arithmetic_explorer(), n=n, k=k, stride=stride, pad=pad, dilation=dilation)
    expected = (n + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    assert explorer.error is None
    assert explorer.state.output_size == expected
    assert f"output size: {expected}" in explorer.summary.value
    assert f"= {expected}</code>" in explorer.summary.value          # the formula ends with the result
    assert explorer.controls["position"].max == expected * expected - 1


def test_conv_invalid_combination_shows_the_error_not_a_traceback():
    explorer = set_controls(conv_arithmetic_explorer(), n=3, k=5, pad=0)
    assert explorer.state is None
    assert "invalid settings" in explorer.summary.value
    assert "larger than the padded input" in explorer.summary.value   # conv_output_size's message
    assert explorer.picture.layout.display == "none"
    explorer.controls["pad"].value = 1                                # 3 + 2 = 5: valid again
    assert explorer.error is None and "output size: 1" in explorer.summary.value
    assert explorer.picture.layout.display is None


def test_conv_window_at_an_output_position():
    # 5x5 input, pad 1 -> 7x7; k=3, stride 2 -> 3x3 output; position 4 = output (1, 1) starts at padded (2, 2).
    explorer = set_controls(conv_arithmetic_explorer(), n=5, k=3, stride=2, pad=1, position=4)
    assert explorer.state.output_cell == (1, 1)
    assert sorted(explorer.state.taps) == [(i, j) for i in (2, 3, 4) for j in (2, 3, 4)]
    # Dilation 2 spreads the taps: output (0, 0) reads every other cell of a 5x5 span.
    set_controls(explorer, stride=1, dilation=2, position=0)
    assert sorted(explorer.state.taps) == [(i, j) for i in (0, 2, 4) for j in (0, 2, 4)]


def test_conv_position_slider_is_clamped_when_the_output_shrinks():
    explorer = set_controls(conv_arithmetic_explorer(), n=7, k=3, position=24)     # 5x5 output, last cell
    explorer.controls["stride"].value = 2                                          # now 3x3
    assert explorer.controls["position"].max == 8
    assert explorer.state.position == 8 and explorer.state.output_cell == (2, 2)


# -- 2. im2col ----------------------------------------------------------------------------

@pytest.mark.parametrize("n, k, stride, pad", [(5, 3, 1, 0), (6, 2, 2, 1), (7, 4, 3, 2), (4, 1, 1, 1)])
def test_im2col_row_is_the_window(n, k, stride, pad):
    explorer = set_controls(im2col_explorer(), n=n, k=k, stride=stride, pad=pad)
    out = (n + 2 * pad - k) // stride + 1
    x_padded = np.zeros((n + 2 * pad, n + 2 * pad))
    x_padded[pad:pad + n, pad:pad + n] = np.arange(1, n * n + 1).reshape(n, n)
    for row in range(out * out):
        explorer.controls["row"].value = row
        state = explorer.state
        p, q = divmod(row, out)
        window = x_padded[p * stride:p * stride + k, q * stride:q * stride + k]
        assert state.cols.shape == (out * out, k * k)
        np.testing.assert_array_equal(state.cols[row], window.ravel())
        assert f"Row {row} is the window of output ({p}, {q})" in explorer.summary.value


# -- 3. receptive field -------------------------------------------------------------------

def test_receptive_field_of_a_known_stack():
    explorer = receptive_field_explorer()          # "3,1; 3,1; 2,2" on 16 inputs: 16 -> 14 -> 12 -> 6
    state = explorer.state
    assert state.sizes == [16, 14, 12, 6]
    # Unit 0 of layer 3 sees units 0..1 of layer 2, 0..3 of layer 1, inputs 0..5.
    assert state.seen == [(0, 5), (0, 3), (0, 1), (0, 0)]
    assert state.size == 6 and "receptive field: 6 input pixels" in explorer.summary.value
    explorer.controls["unit"].value = 2            # units 4..5 -> 4..7 -> inputs 4..9
    assert explorer.state.seen == [(4, 9), (4, 7), (4, 5), (2, 2)]
    explorer.controls["layer"].value = 2           # unit 2 of layer 2: inputs 2..6
    assert explorer.state.seen == [(2, 6), (2, 4), (2, 2)] and explorer.state.size == 5


def test_receptive_field_follows_the_edited_stack():
    explorer = receptive_field_explorer()
    explorer.controls["layers"].value = "3,2; 3,2; 3,2"       # 1 + 2*1 + 2*2 + 2*4 = 15
    assert explorer.controls["layer"].max == 3 and explorer.state.layer == 3
    assert explorer.state.size == 15
    assert "= 15</code>" in explorer.summary.value
    explorer.controls["layers"].value = "3,x"
    assert "invalid settings" in explorer.summary.value and "3,x" in explorer.summary.value
    explorer.controls["layers"].value = "5,1; 5,1; 5,1; 5,1"  # 16 -> 12 -> 8 -> 4 -> kernel 5 > 4
    assert "layer 4" in explorer.error


# -- 4. pooling ---------------------------------------------------------------------------

def test_max_pool_gradient_goes_to_the_first_maximum():
    # Default input; window (1, 1) = [[9, 1], [5, 9]] holds two 9s: the first in row-major order is x[2, 2].
    explorer = set_controls(pooling_explorer(), position=3)
    expected = np.zeros((4, 4))
    expected[2, 2] = 1.0
    np.testing.assert_array_equal(explorer.state.dx, expected)
    np.testing.assert_array_equal(explorer.state.out, [[6, 4], [7, 9]])
    assert "at input (2, 2)" in explorer.summary.value
    explorer.controls["x"].value = "2 2\n2 2"                   # all tied: the top-left one wins
    assert explorer.controls["position"].max == 0
    np.testing.assert_array_equal(explorer.state.dx, [[1, 0], [0, 0]])


def test_pooling_gradients_of_overlapping_windows_add_up():
    explorer = set_controls(pooling_explorer(), x="1 2 3; 4 9 5; 6 7 8", stride=1, every_output=True)
    np.testing.assert_array_equal(explorer.state.dx, [[0, 0, 0], [0, 4, 0], [0, 0, 0]])   # 9 wins all 4 windows
    explorer.controls["mode"].value = "average"
    np.testing.assert_allclose(explorer.state.dx, np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4)
    assert "1/4" in explorer.summary.value


def test_pooling_bad_input_shows_an_error():
    explorer = set_controls(pooling_explorer(), x="1 2 3\n4 5")
    assert "same number of values" in explorer.summary.value


# -- 5. normalization axes ----------------------------------------------------------------

def expected_mask(shape, cells):
    mask = np.zeros(shape, dtype=bool)
    mask[cells] = True
    return mask


@pytest.mark.parametrize("kind, groups, sample, channel, cells, statistics", [
    ("batch", 1, 1, 1, np.s_[:, 1, :], 4),          # channel 1 of every sample
    ("layer", 1, 1, 2, np.s_[1, :, :], 2),          # everything of sample 1
    ("instance", 1, 1, 2, np.s_[1, 2, :], 8),       # sample 1, channel 2
    ("group", 2, 0, 3, np.s_[0, 2:4, :], 4),        # sample 0, channels 2..3 (the second group of two)
    ("group", 4, 1, 3, np.s_[1, 3, :], 8),          # groups = C is instance norm
    ("group", 1, 0, 0, np.s_[0, :, :], 2),          # groups = 1 is layer norm
])
def test_norm_axes_mask_on_a_known_shape(kind, groups, sample, channel, cells, statistics):
    explorer = set_controls(norm_axes_explorer(), n=2, c=4, hw=3)
    set_controls(explorer, kind=kind, groups=groups, sample=sample, channel=channel)
    np.testing.assert_array_equal(explorer.state.mask, expected_mask((2, 4, 3), cells))
    assert explorer.state.statistics == statistics
    assert f"<b>{statistics}</b> means" in explorer.summary.value


def test_groups_slider_offers_the_divisors_of_c():
    explorer = set_controls(norm_axes_explorer(), c=8)
    assert list(explorer.controls["groups"].options) == [1, 2, 4, 8]
    explorer.controls["c"].value = 7
    assert list(explorer.controls["groups"].options) == [1, 7]


@pytest.mark.parametrize("kind, groups", [("batch", 1), ("layer", 1), ("instance", 1), ("group", 3)])
def test_norm_blocks_are_what_the_reference_normalizes(kind, groups):
    """Every block of the explorer has mean 0 and variance 1 after the reference normalization."""
    n, c, hw = 3, 6, 5
    x = np.random.default_rng(5).normal(2.0, 3.0, (n, c, hw, 1))
    ones, zeros = np.ones(c), np.zeros(c)
    if kind == "batch":
        out = spatial_batchnorm_forward(x, ones, zeros, zeros, ones)[0]
    else:
        out = groupnorm_forward(x, ones, zeros, {"layer": 1, "instance": c, "group": groups}[kind])
    ids = norm_axes(kind, n, c, hw, groups).ids
    out = out.reshape(n, c, hw)
    for block in np.unique(ids):
        np.testing.assert_allclose(out[ids == block].mean(), 0.0, atol=1e-9)
        np.testing.assert_allclose(out[ids == block].var(), 1.0, rtol=1e-3)


# -- 6. initialization ----------------------------------------------------------------------

def test_he_relu_keeps_the_variance_and_small_normal_shrinks_it():
    explorer = init_explorer()                          # defaults: He, ReLU, depth 10, width 128
    variances = np.array(explorer.state.variances)
    assert len(variances) == 10
    # Var(y_1) = fan_in * (2 / fan_in) * E[x^2] = 2, and He keeps it there.
    assert np.all((variances > 1.0) & (variances < 4.0)), variances
    explorer.controls["scheme"].value = "small"         # per layer: 128 * 0.01^2 * 1/2 = 0.0064
    small = np.array(explorer.state.variances)
    assert np.all(np.diff(np.log(small)) < np.log(0.02)), small
    assert "ratio" in explorer.summary.value


def test_zero_and_large_init():
    explorer = set_controls(init_explorer(), scheme="zero")
    assert explorer.state.variances == [0.0] * 10
    assert "Var(y) = 0" in explorer.summary.value
    explorer.controls["scheme"].value = "large"         # per layer: 128 * 1 * 1/2 = 64
    large = np.array(explorer.state.variances)
    assert np.all(np.diff(np.log(large)) > np.log(20)), large


@pytest.mark.parametrize("activation, scheme, bias", [("relu", "he", False), ("tanh", "xavier", True),
                                                      ("sigmoid", "small", True), ("linear", "large", False)])
def test_init_variances_agree_with_the_reference(activation, scheme, bias):
    experiment = init_experiment(depth=6, width=32, activation=activation, scheme=scheme, bias=bias, seed=3)
    expected = layer_variances(experiment.x, experiment.weights, activation, experiment.biases)
    np.testing.assert_allclose(experiment.variances, expected, rtol=1e-12)


def test_init_is_seeded():
    first, again = init_experiment(seed=4), init_experiment(seed=4)
    other = init_experiment(seed=5)
    assert first.variances == again.variances
    assert first.variances != other.variances


def test_init_picture_changes_with_the_controls():
    explorer = init_explorer()
    before = explorer.picture.value
    explorer.controls["activation"].value = "tanh"
    assert explorer.picture.value[:8] == b"\x89PNG\r\n\x1a\n" and explorer.picture.value != before


# -- 7. optimizers ----------------------------------------------------------------------------

def full_loss(path):
    x, y = regression_data()
    return np.array([loss_and_grad(p, x, y)[0] for p in path])


def test_paths_start_at_the_start_and_decrease_the_loss():
    explorer = optimizer_explorer()
    for method, path in explorer.state.paths.items():
        np.testing.assert_array_equal(path[0], START)
        assert len(path) == 61, method
        losses = full_loss(path)
        np.testing.assert_allclose(explorer.state.losses[method], losses)
        assert losses[-1] < 0.2 * losses[0], (method, losses[[0, -1]])
    # Full-batch GD with a learning rate below 2 / (largest curvature) never goes up.
    assert np.all(np.diff(explorer.state.losses["GD"]) <= 1e-12)


def test_long_gd_run_reaches_the_least_squares_minimum():
    result = optimizer_paths(lr=0.4, steps=200)
    np.testing.assert_allclose(result.paths["GD"][-1], least_squares(), atol=1e-3)


def test_sgd_with_the_whole_data_set_is_gd():
    result = optimizer_paths(lr=0.05, batch_size=64, steps=30)
    np.testing.assert_allclose(result.paths["SGD"], result.paths["GD"], atol=1e-12)


def test_batch_size_and_seed_change_the_stochastic_paths_only():
    explorer = optimizer_explorer()
    before = {method: path.copy() for method, path in explorer.state.paths.items()}
    explorer.controls["seed"].value = 1
    np.testing.assert_array_equal(explorer.state.paths["GD"], before["GD"])
    assert not np.allclose(explorer.state.paths["SGD"], before["SGD"])
    explorer.controls["seed"].value = 0
    np.testing.assert_array_equal(explorer.state.paths["Adam"], before["Adam"])    # seeded


def test_too_large_learning_rate_diverges_and_says_so():
    explorer = set_controls(optimizer_explorer(), lr=1.0)
    assert explorer.state.diverged("GD") and len(explorer.state.paths["GD"]) < 61
    assert "GD diverged" in explorer.summary.value


# -- all -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("make_explorer", [conv_arithmetic_explorer, im2col_explorer, receptive_field_explorer,
                                           pooling_explorer, norm_axes_explorer, init_explorer, optimizer_explorer])
def test_every_explorer_draws_something(make_explorer):
    explorer = make_explorer()
    assert explorer.error is None
    assert explorer.summary.value and explorer.picture.value
    assert "coursekit-explorer" in explorer._dom_classes
