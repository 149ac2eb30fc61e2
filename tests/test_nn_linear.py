"""coursekit.nn.linear against PyTorch (recorded in golden/linear.npz) and hand-derived numbers."""

import math

import numpy as np
import pytest

from conftest import golden_cases
from coursekit import nn
from coursekit.gradcheck import check_gradient

TIGHT = dict(rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def cases(golden):
    return golden_cases(golden("linear"))


def assert_all_close(got, case, keys, name):
    for value, key in zip(got, keys):
        assert np.shape(value) == case[key].shape, f"{name}/{key}"
        np.testing.assert_allclose(value, case[key], **TIGHT, err_msg=f"{name}/{key}")


def test_golden_file_has_the_cases_the_tests_expect(cases):
    expected = {"linear", "linear_batch1", "relu", "sigmoid", "sigmoid_extreme", "tanh", "ce", "ce_batch1",
                "ce_large", "mse", "mse_4d", "mlp2", "mlp2_batch1"}
    assert expected <= set(cases)
    assert np.abs(cases["ce_large"]["logits"]).max() > 1e4 / 2
    assert np.any(cases["relu"]["x"] == 0)


# -- linear -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["linear", "linear_batch1"])
def test_linear_matches_torch(cases, name):
    case = cases[name]
    assert_all_close([nn.linear_forward(case["x"], case["w"], case["b"])], case, ["out"], name)
    grads = nn.linear_backward(case["dout"], case["x"], case["w"], case["b"])
    assert_all_close(grads, case, ["dx", "dw", "db"], name)


def test_linear_by_hand():
    x = np.array([[1.0, 2.0]])
    w = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    b = np.array([0.5, 0.0, 1.0])
    np.testing.assert_allclose(nn.linear_forward(x, w, b), [[1.5, 2.0, 1.0]])
    dx, dw, db = nn.linear_backward(np.array([[1.0, 0.0, 1.0]]), x, w, b)
    np.testing.assert_allclose(dx, [[3.0, -1.0]])                # dout @ w.T
    np.testing.assert_allclose(dw, [[1.0, 0.0, 1.0], [2.0, 0.0, 2.0]])   # x.T @ dout
    np.testing.assert_allclose(db, [1.0, 0.0, 1.0])


def test_linear_float32_input_gives_float64(cases):
    case = cases["linear"]
    x32, w32, b32 = (case[k].astype(np.float32) for k in ("x", "w", "b"))
    out = nn.linear_forward(x32, w32, b32)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, case["out"], rtol=1e-5, atol=1e-5)
    assert all(g.dtype == np.float64 for g in nn.linear_backward(case["dout"].astype(np.float32), x32, w32, b32))


@pytest.mark.parametrize("args, argument", [
    ((np.ones(3), np.ones((3, 2)), np.ones(2)), "x"),
    ((np.ones((4, 3)), np.ones((2, 2)), np.ones(2)), "w"),
    ((np.ones((4, 3)), np.ones((3, 2)), np.ones(3)), "b"),
])
def test_linear_rejects_bad_shapes_naming_the_argument(args, argument):
    with pytest.raises(ValueError, match=rf"^{argument} "):
        nn.linear_forward(*args)


def test_linear_backward_rejects_wrong_dout():
    with pytest.raises(ValueError, match=r"^dout "):
        nn.linear_backward(np.ones((4, 3)), np.ones((4, 3)), np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"^dout "):
        nn.linear_backward(np.ones((3, 2)), np.ones((4, 3)), np.ones((3, 2)), np.ones(2))


@pytest.mark.parametrize("args, argument", [
    ((np.ones(3), np.ones((3, 2)), np.ones(2)), "x"),
    ((np.ones((4, 3)), np.ones((2, 2)), np.ones(2)), "w"),       # x.shape[1] != w.shape[0]: the later argument
    ((np.ones((4, 3)), np.ones((3, 2)), np.ones(3)), "b"),
])
def test_linear_backward_checks_x_w_b_before_dout(args, argument):
    # dout fits none of these, yet the message names the bad forward input: x, w, b come first.
    with pytest.raises(ValueError, match=rf"^{argument} "):
        nn.linear_backward(np.ones((7, 7)), *args)


# -- activations ------------------------------------------------------------------

@pytest.mark.parametrize("name, forward, backward", [
    ("relu", nn.relu_forward, nn.relu_backward),
    ("sigmoid", nn.sigmoid_forward, nn.sigmoid_backward),
    ("sigmoid_extreme", nn.sigmoid_forward, nn.sigmoid_backward),
    ("tanh", np.tanh, nn.tanh_backward),
])
def test_activations_match_torch(cases, name, forward, backward):
    case = cases[name]
    assert_all_close([forward(case["x"]), backward(case["dout"], case["x"])], case, ["out", "dx"], name)


def test_relu_gradient_is_zero_at_zero():
    np.testing.assert_array_equal(nn.relu_backward(np.ones(3), np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])


def test_sigmoid_is_stable_and_symmetric():
    x = np.array([-1e3, -40.0, -1.0, 0.0, 1.0, 40.0, 1e3])
    with np.errstate(over="raise", invalid="raise"):     # no overflow warning allowed
        s = nn.sigmoid_forward(x)
        ds = nn.sigmoid_backward(np.ones_like(x), x)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    np.testing.assert_allclose(s + s[::-1], 1.0, rtol=0, atol=1e-15)          # sigma(-x) = 1 - sigma(x)
    np.testing.assert_allclose(s[4], 1 / (1 + math.exp(-1.0)), rtol=1e-15)
    assert ds[3] == 0.25 and ds[0] == 0.0 and ds[-1] == 0.0


def test_tanh_backward_by_hand():
    np.testing.assert_allclose(nn.tanh_backward(np.array([2.0, 1.0]), np.array([0.0, math.atanh(0.5)])), [2.0, 0.75])


def test_activation_backward_agrees_with_numerical_gradient():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4)) * 2
    dout = rng.normal(size=(3, 4))
    check_gradient(nn.relu_backward(dout, x), nn.relu_forward, x, dout)
    check_gradient(nn.sigmoid_backward(dout, x), nn.sigmoid_forward, x, dout)
    check_gradient(nn.tanh_backward(dout, x), np.tanh, x, dout)


def test_activation_backward_rejects_wrong_dout():
    for backward in (nn.relu_backward, nn.sigmoid_backward, nn.tanh_backward):
        with pytest.raises(ValueError, match="dout"):
            backward(np.ones(3), np.ones(4))


# -- losses -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ce", "ce_batch1", "ce_large"])
def test_cross_entropy_matches_torch(cases, name):
    case = cases[name]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dlogits = nn.softmax_cross_entropy(case["logits"], case["y"])
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, case["loss"], **TIGHT)
    np.testing.assert_allclose(dlogits, case["dlogits"], **TIGHT)


def test_cross_entropy_by_hand():
    loss, dlogits = nn.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    assert loss == pytest.approx(math.log(4))                       # uniform over 4 classes
    np.testing.assert_allclose(dlogits, [[-0.375, 0.125, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]])
    loss, dlogits = nn.softmax_cross_entropy(np.array([[1e4, 0.0, -1e4]]), np.array([1]))
    assert loss == pytest.approx(1e4)                                # -log softmax = 1e4 - 0
    np.testing.assert_allclose(dlogits, [[1.0, -1.0, 0.0]], atol=1e-300)


def test_cross_entropy_ignores_a_constant_added_to_a_row():
    rng = np.random.default_rng(1)
    logits, y = rng.normal(size=(3, 5)), np.array([4, 0, 2])
    loss, dlogits = nn.softmax_cross_entropy(logits, y)
    shifted_loss, shifted_dlogits = nn.softmax_cross_entropy(logits + np.array([[1e3], [-50.0], [7.0]]), y)
    assert shifted_loss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(shifted_dlogits, dlogits, atol=1e-12)
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-15)


@pytest.mark.parametrize("y, message", [
    (np.array([0.0, 1.0]), "y must hold integer"),
    (np.array([True, False]), "y must hold integer"),        # bool labels are not class ids
    (np.array([0, 1, 2]), "y must have shape"),
    (np.array([[0], [1]]), "y must have shape"),             # a column (N, 1) is not flattened
    (np.array([0, 5]), "y must be in"),
    (np.array([-1, 0]), "y must be in"),
])
def test_cross_entropy_rejects_bad_labels(y, message):
    with pytest.raises(ValueError, match=message):
        nn.softmax_cross_entropy(np.zeros((2, 3)), y)


def test_cross_entropy_accepts_any_integer_labels():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    loss = nn.softmax_cross_entropy(logits, np.array([1, 2]))[0]
    for y in ([1, 2], np.array([1, 2], dtype=np.int32), np.array([1, 2], dtype=np.uint8)):
        assert nn.softmax_cross_entropy(logits, y)[0] == loss


@pytest.mark.parametrize("logits, y", [
    (np.zeros(3), np.array([0])),
    (np.zeros((2, 3, 1)), np.array([0, 1])),
    (np.zeros((0, 3)), np.zeros(0, dtype=int)),               # N = 0: the mean over no examples is undefined
    (np.zeros((0, 3)), np.zeros(0)),                          # logits is checked before y
])
def test_cross_entropy_rejects_bad_logits_naming_logits(logits, y):
    with pytest.raises(ValueError, match=r"^logits "):
        nn.softmax_cross_entropy(logits, y)


def test_cross_entropy_lets_non_finite_logits_through_as_torch_does():
    # torch.nn.functional.cross_entropy gives nan for a nan or +inf logit, and treats -inf as probability 0.
    with np.errstate(invalid="ignore"):
        for bad in (np.nan, np.inf):
            loss, _ = nn.softmax_cross_entropy(np.array([[0.0, bad, 1.0], [1.0, 2.0, 3.0]]), np.array([0, 2]))
            assert np.isnan(loss)
    loss, dlogits = nn.softmax_cross_entropy(np.array([[0.0, -np.inf, 0.0]]), np.array([0]))
    assert loss == pytest.approx(math.log(2))
    np.testing.assert_allclose(dlogits, [[-0.5, 0.0, 0.5]])


@pytest.mark.parametrize("name", ["mse", "mse_4d"])
def test_mse_matches_torch_with_the_half_over_n_convention(cases, name):
    case = cases[name]
    loss, dpred = nn.mse_loss(case["pred"], case["target"])
    np.testing.assert_allclose(loss, case["loss"], **TIGHT)
    np.testing.assert_allclose(dpred, case["dpred"], **TIGHT)


def test_mse_by_hand():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    loss, dpred = nn.mse_loss(pred, np.zeros((2, 2)))
    assert loss == 7.5                                   # 0.5 * (1 + 4 + 9 + 16) / 2
    np.testing.assert_allclose(dpred, pred / 2)
    with pytest.raises(ValueError, match="target"):
        nn.mse_loss(pred, np.zeros((2, 3)))


# -- two-layer net -------------------------------------------------------------------

def mlp2_params(case):
    return {key: case[key] for key in ("w1", "b1", "w2", "b2")}


@pytest.mark.parametrize("name", ["mlp2", "mlp2_batch1"])
def test_mlp2_matches_torch(cases, name):
    case = cases[name]
    params = mlp2_params(case)
    before = {key: value.copy() for key, value in params.items()}
    loss, grads = nn.mlp2_loss_and_grads(params, case["x"], case["y"])
    np.testing.assert_allclose(loss, case["loss"], **TIGHT)
    assert set(grads) == set(params)
    for key in params:
        np.testing.assert_allclose(grads[key], case[f"d{key}"], **TIGHT, err_msg=f"{name}/d{key}")
        np.testing.assert_array_equal(params[key], before[key])


def test_mlp2_gradients_agree_with_numerical_gradient(cases):
    case = cases["mlp2"]
    params = mlp2_params(case)
    _, grads = nn.mlp2_loss_and_grads(params, case["x"], case["y"])
    for key in params:
        def loss_of(value, key=key):
            return nn.mlp2_loss_and_grads({**params, key: value}, case["x"], case["y"])[0]
        check_gradient(grads[key], loss_of, params[key], name=key)


def test_mlp2_rejects_missing_parameters(cases):
    params = mlp2_params(cases["mlp2"])
    del params["b2"]
    with pytest.raises(ValueError, match="params"):
        nn.mlp2_loss_and_grads(params, cases["mlp2"]["x"], cases["mlp2"]["y"])


def test_inputs_are_not_modified(cases):
    case = cases["ce"]
    logits = case["logits"].copy()
    nn.softmax_cross_entropy(logits, case["y"])
    np.testing.assert_array_equal(logits, case["logits"])
    case = cases["relu"]
    x, dout = case["x"].copy(), case["dout"].copy()
    nn.relu_backward(dout, x)
    np.testing.assert_array_equal(x, case["x"])
    np.testing.assert_array_equal(dout, case["dout"])
