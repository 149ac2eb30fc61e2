"""coursekit.nn.arch against PyTorch autograd (golden data), gradient checks and hand counts."""

import numpy as np
import pytest

from conftest import golden_cases
from coursekit import nn
from coursekit.gradcheck import check_gradient
from coursekit.testing import assert_inputs_unchanged

NAMES = ("x", "w1", "b1", "w2", "b2")


@pytest.mark.parametrize("name", ["basic", "single_image", "wide_hidden"])
def test_residual_block_matches_torch(golden, name):
    case = golden_cases(golden("arch"))[name]
    args = [case[k] for k in NAMES]
    np.testing.assert_allclose(nn.residual_block_forward(*args), case["out"], rtol=1e-12, atol=1e-12)
    grads = nn.residual_block_backward(case["dout"], *args)
    for key, grad in zip(NAMES, grads):
        np.testing.assert_allclose(grad, case[f"d{key}"], rtol=1e-11, atol=1e-11, err_msg=f"d{key}")


def test_residual_block_backward_gradcheck():
    rng = np.random.default_rng(5)
    args = [rng.normal(size=(2, 2, 4, 3)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3),
            rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)]
    dout = rng.normal(size=(2, 2, 4, 3))
    grads = nn.residual_block_backward(dout, *args)
    for i, grad in enumerate(grads):
        def f(value, i=i):
            changed = list(args)
            changed[i] = value
            return nn.residual_block_forward(*changed)
        check_gradient(grad, f, args[i], dout, name=f"d{NAMES[i]}", tolerance=1e-6)


def test_identity_path_passes_the_gradient_through():
    # With the second conv switched off the block is relu(x): out = relu(x), dx = dout * (x > 0).
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1, 2, 4, 4))
    w1, b1 = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    w2, b2 = np.zeros((2, 3, 3, 3)), np.zeros(2)
    dout = rng.normal(size=x.shape)
    np.testing.assert_array_equal(nn.residual_block_forward(x, w1, b1, w2, b2), np.maximum(x, 0))
    dx, dw1, db1, dw2, db2 = nn.residual_block_backward(dout, x, w1, b1, w2, b2)
    np.testing.assert_array_equal(dx, dout * (x > 0))
    np.testing.assert_array_equal(dw1, 0.0)
    np.testing.assert_array_equal(db1, 0.0)
    np.testing.assert_allclose(db2, (dout * (x > 0)).sum(axis=(0, 2, 3)))


def test_residual_block_inputs_float32_and_errors():
    rng = np.random.default_rng(7)
    args = [rng.normal(size=(1, 2, 3, 3)).astype(np.float32), rng.normal(size=(2, 2, 3, 3)), np.zeros(2),
            rng.normal(size=(2, 2, 3, 3)), np.zeros(2)]
    out = assert_inputs_unchanged(nn.residual_block_forward, *args)
    assert out.dtype == np.float64
    assert_inputs_unchanged(nn.residual_block_backward, np.ones((1, 2, 3, 3)), *args)
    with pytest.raises(ValueError, match="w2"):
        nn.residual_block_forward(args[0], args[1], args[2], np.zeros((3, 2, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="w1"):
        nn.residual_block_forward(args[0], np.zeros((2, 2, 5, 5)), args[2], args[3], args[4])
    with pytest.raises(ValueError, match="x"):
        nn.residual_block_forward(args[0][0], *args[1:])
    with pytest.raises(ValueError, match="dout"):
        nn.residual_block_backward(np.ones((1, 2, 3, 4)), *args)


def test_receptive_field_by_hand():
    assert nn.receptive_field([]) == 1
    assert nn.receptive_field([(3, 1), (3, 1)]) == 5           # two 3x3 see a 5x5 window
    assert nn.receptive_field([(3, 1)] * 3) == 7
    assert nn.receptive_field([(2, 2), (2, 2), (2, 2)]) == 8   # non-overlapping 2x2 pooling tiles
    assert nn.receptive_field([(11, 4), (3, 2)]) == 19         # AlexNet conv1 + pool1: 11 + 2 * 4
    # VGG-16's 13 convs and 5 pools: 212 pixels (Araujo et al., Distill 2019, Table).
    vgg = [(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 2 + [(2, 2)] + ([(3, 1)] * 3 + [(2, 2)]) * 3
    assert nn.receptive_field(vgg) == 212
    for bad in ([(0, 1)], [(3, 0)], [(3,)], [(3, 1.5)], "33"):
        with pytest.raises(ValueError, match="layers"):
            nn.receptive_field(bad)


def test_parameter_counts_by_hand():
    # LeNet-5's C5 and F6 as counted in LeCun et al. (1998): 48,120 and 10,164.
    assert nn.linear_param_count(400, 120) == 48_120
    assert nn.linear_param_count(120, 84) == 10_164
    assert nn.linear_param_count(120, 84, bias=False) == 10_080
    assert nn.vgg_stack_params(64, 2) == (2 * (9 * 64 * 64 + 64), 25 * 64 * 64 + 64)
    assert nn.vgg_stack_params(1, 3) == (30, 50)
    with pytest.raises(ValueError, match="d_in"):
        nn.linear_param_count(0, 3)
    with pytest.raises(ValueError, match="n_convs"):
        nn.vgg_stack_params(3, 0)


def test_densenet_channels():
    # DenseNet-121 (Huang et al. 2017; torchvision): 64 channels in, growth 32, 6 layers -> 256.
    assert nn.densenet_channels(64, 32, 6) == 256
    assert nn.densenet_channels(128, 32, 12) == 512
    assert nn.densenet_channels(5, 3, 0) == 5
    with pytest.raises(ValueError, match="growth"):
        nn.densenet_channels(64, 0, 6)
    with pytest.raises(ValueError, match="n_layers"):
        nn.densenet_channels(64, 32, -1)


def test_counts_are_integers_and_sizes_must_be_integers():
    # The course's scalar rule: counts come back as integers; sizes are ints or NumPy integers, never bools or floats.
    for value in (nn.linear_param_count(120, 84), nn.receptive_field([(3, 1), (2, 2)]),
                  *nn.vgg_stack_params(64, 2), nn.densenet_channels(64, 32, 6)):
        assert isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    assert nn.linear_param_count(np.int64(120), np.int32(84)) == 10_164
    assert nn.receptive_field([(np.int64(3), np.int64(2)), (3, 1)]) == 7
    assert nn.vgg_stack_params(np.int64(1), np.int64(3)) == (30, 50)
    assert nn.densenet_channels(np.int64(64), np.int64(32), np.int64(6)) == 256
    for call, name in [
        (lambda: nn.linear_param_count(120.0, 84), "d_in"), (lambda: nn.linear_param_count(120, True), "d_out"),
        (lambda: nn.vgg_stack_params(64.0, 2), "channels"), (lambda: nn.vgg_stack_params(64, True), "n_convs"),
        (lambda: nn.densenet_channels(64, 32.0, 6), "growth"), (lambda: nn.densenet_channels(True, 32, 6), "c0"),
        (lambda: nn.densenet_channels(64, 32, np.float64(6)), "n_layers"),
        (lambda: nn.receptive_field([(3, 2.0)]), "layers"), (lambda: nn.receptive_field([(True, 1)]), "layers"),
        (lambda: nn.receptive_field([3]), "layers"),
    ]:
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            call()


def test_residual_block_errors_name_the_argument_that_does_not_fit():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 3, 5, 4))
    w1, b1 = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    w2, b2 = rng.normal(size=(3, 4, 3, 3)), rng.normal(size=3)
    for args, name in [((x[0], w1, b1, w2, b2), "x"), ((x, np.zeros((4, 2, 3, 3)), b1, w2, b2), "w1"),
                       ((x, w1, np.zeros(3), w2, b2), "b1"), ((x, w1, b1, np.zeros((4, 4, 3, 3)), b2), "w2"),
                       ((x, w1, b1, w2, np.zeros(4)), "b2")]:
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            nn.residual_block_forward(*args)
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            nn.residual_block_backward(np.ones_like(x), *args)
    grads = nn.residual_block_backward(np.ones_like(x), *(a.astype(np.float32) for a in (x, w1, b1, w2, b2)))
    assert isinstance(grads, tuple) and len(grads) == 5
    assert all(g.dtype == np.float64 for g in grads)
