"""coursekit.nn.optim against torch.optim (golden data) and against closed forms."""

import numpy as np
import pytest

from conftest import golden_cases
from coursekit import nn
from coursekit.testing import assert_inputs_unchanged

KEYS = ("w", "b")


def run_golden(case, step):
    """Feed a recorded case's gradients through ``step(params, grads, state) -> (params, state)``."""
    params = {k: case[k] for k in KEYS}
    history = []
    for t in range(case["grad_w"].shape[0]):
        grads = {k: case[f"grad_{k}"][t] for k in KEYS}
        params, state = step(params, grads, t + 1)
        history.append((params, state))
    return history


def test_sgd_matches_torch(golden):
    case = golden_cases(golden("optim"))["sgd"]
    history = run_golden(case, lambda p, g, t: (nn.sgd_step(p, g, float(case["lr"])), None))
    for t, (params, _) in enumerate(history):
        for k in KEYS:
            np.testing.assert_allclose(params[k], case[f"after_{k}"][t], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", ["momentum", "momentum_half"])
def test_momentum_matches_torch(golden, name):
    case = golden_cases(golden("optim"))[name]
    velocity = {k: np.zeros_like(case[k]) for k in KEYS}

    def step(params, grads, t):
        nonlocal velocity
        params, velocity = nn.momentum_step(params, grads, velocity, float(case["lr"]), float(case["momentum"]))
        return params, velocity

    for t, (params, state) in enumerate(run_golden(case, step)):
        for k in KEYS:
            np.testing.assert_allclose(params[k], case[f"after_{k}"][t], rtol=1e-13, atol=1e-14)
            np.testing.assert_allclose(state[k], case[f"state1_{k}"][t], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", ["adam", "adam_custom"])
def test_adam_matches_torch(golden, name):
    case = golden_cases(golden("optim"))[name]
    hyper = {k: float(case[k]) for k in ("lr", "beta1", "beta2", "eps")}
    m = {k: np.zeros_like(case[k]) for k in KEYS}
    v = {k: np.zeros_like(case[k]) for k in KEYS}

    def step(params, grads, t):
        nonlocal m, v
        params, m, v = nn.adam_step(params, grads, m, v, t, **hyper)
        return params, (m, v)

    for t, (params, (m_t, v_t)) in enumerate(run_golden(case, step)):
        for k in KEYS:
            np.testing.assert_allclose(params[k], case[f"after_{k}"][t], rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(m_t[k], case[f"state1_{k}"][t], rtol=1e-12, atol=1e-16)
            np.testing.assert_allclose(v_t[k], case[f"state2_{k}"][t], rtol=1e-12, atol=1e-20)


def test_momentum_constant_gradient_closed_form():
    # With a constant gradient g: v_t = g (1 - mu^t) / (1 - mu), p_t = p_0 - lr * sum_{s<=t} v_s.
    g, lr, mu = np.array([2.0, -1.0]), 0.1, 0.9
    params, velocity = {"p": np.zeros(2)}, {"p": np.zeros(2)}
    total = 0.0
    for t in range(1, 8):
        params, velocity = nn.momentum_step(params, {"p": g}, velocity, lr, mu)
        v_expected = g * (1 - mu ** t) / (1 - mu)
        total = total + v_expected
        np.testing.assert_allclose(velocity["p"], v_expected, rtol=1e-14)
        np.testing.assert_allclose(params["p"], -lr * total, rtol=1e-14)


def test_adam_steps_are_lr_times_sign_for_a_constant_gradient():
    # Bias correction makes m_hat = g and v_hat = g^2 exactly when g is constant.
    g = np.array([3.0, -1e-3, 0.5])
    params = {"p": np.ones(3)}
    m, v = {"p": np.zeros(3)}, {"p": np.zeros(3)}
    for t in range(1, 5):
        before = params["p"]
        params, m, v = nn.adam_step(params, {"p": g}, m, v, t, lr=0.01)
        np.testing.assert_allclose(before - params["p"], 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_steps_return_new_float64_dicts_and_leave_inputs_alone():
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(2, 3)).astype(np.float32), "b": np.zeros(3, dtype=np.float32)}
    grads = {k: np.ones_like(v) for k, v in params.items()}
    zeros = {k: np.zeros_like(v) for k, v in params.items()}
    new = assert_inputs_unchanged(nn.sgd_step, params, grads, 0.1)
    assert new is not params and all(new[k].dtype == np.float64 for k in new)
    new, velocity = assert_inputs_unchanged(nn.momentum_step, params, grads, zeros, 0.1)
    assert velocity is not zeros and velocity["w"].dtype == np.float64
    new, m, v = assert_inputs_unchanged(nn.adam_step, params, grads, zeros, zeros, 1)
    assert m is not zeros and v is not zeros
    # The returned arrays are not the inputs themselves (lr = 0 must still copy).
    same = nn.sgd_step({"w": np.ones(2)}, {"w": np.ones(2)}, 0.0)
    assert same["w"] is not params["w"]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nn.sgd_step({"w": np.ones(2)}, {"w": np.ones(2)}, -0.1), "lr"),
        (lambda: nn.sgd_step({"w": np.ones(2)}, {"v": np.ones(2)}, 0.1), "grads"),
        (lambda: nn.sgd_step({"w": np.ones(2)}, {"w": np.ones(3)}, 0.1), "grads"),
        (lambda: nn.momentum_step({"w": np.ones(2)}, {"w": np.ones(2)}, {}, 0.1), "velocity"),
        (lambda: nn.momentum_step({"w": np.ones(2)}, {"w": np.ones(2)}, {"w": np.zeros(2)}, 0.1, -0.5), "momentum"),
        (lambda: nn.adam_step({"w": np.ones(2)}, {"w": np.ones(2)}, {"w": np.zeros(2)}, {"w": np.zeros(2)}, 0), "t"),
        (lambda: nn.adam_step({"w": np.ones(2)}, {"w": np.ones(2)}, {"w": np.zeros(2)}, {"w": np.zeros(2)}, 1, beta1=1.0), "beta1"),
        (lambda: nn.adam_step({"w": np.ones(2)}, {"w": np.ones(2)}, {"w": np.zeros(2)}, {"w": np.zeros(2)}, 1, beta2=-0.1), "beta2"),
        (lambda: nn.adam_step({"w": np.ones(2)}, {"w": np.ones(2)}, {"w": np.zeros(2)}, {"w": np.zeros(3)}, 1), "v"),
        (lambda: nn.adam_step({"w": np.ones(2)}, {"w": np.ones(2)}, {"w": np.zeros(2)}, {"w": np.zeros(2)}, 1, eps=-1.0), "eps"),
    ],
)
def test_step_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- iterate_minibatches ------------------------------------------------------------

@pytest.mark.parametrize("n, batch_size", [(10, 3), (12, 4), (1, 5), (7, 1), (5, 5)])
def test_minibatches_cover_every_index_once(n, batch_size):
    batches = list(nn.iterate_minibatches(n, batch_size, np.random.default_rng(1)))
    assert sorted(np.concatenate(batches).tolist()) == list(range(n))
    assert [len(b) for b in batches] == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    assert all(np.issubdtype(b.dtype, np.integer) for b in batches)


def test_minibatches_drop_last_drops_only_the_short_batch():
    batches = list(nn.iterate_minibatches(10, 3, np.random.default_rng(2), drop_last=True))
    assert [len(b) for b in batches] == [3, 3, 3]
    assert len(set(np.concatenate(batches).tolist())) == 9
    assert list(nn.iterate_minibatches(4, 5, np.random.default_rng(2), drop_last=True)) == []
    assert len(list(nn.iterate_minibatches(9, 3, np.random.default_rng(2), drop_last=True))) == 3


def test_minibatches_without_shuffle_are_in_order_and_leave_rng_alone():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    batches = list(nn.iterate_minibatches(7, 3, rng, shuffle=False))
    assert [b.tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert rng.bit_generator.state == state


def test_minibatches_follow_the_rng():
    first = [b.tolist() for b in nn.iterate_minibatches(20, 6, np.random.default_rng(4))]
    again = [b.tolist() for b in nn.iterate_minibatches(20, 6, np.random.default_rng(4))]
    assert first == again
    assert np.concatenate(first).tolist() == np.random.default_rng(4).permutation(20).tolist()
    rng = np.random.default_rng(4)
    epoch1 = np.concatenate(list(nn.iterate_minibatches(20, 6, rng))).tolist()
    epoch2 = np.concatenate(list(nn.iterate_minibatches(20, 6, rng))).tolist()
    assert epoch1 != epoch2, "each call must draw a fresh order from the same rng"


@pytest.mark.parametrize(
    "args, kwargs, match",
    [((0, 2, None), {"shuffle": False}, "n"), ((5, 0, None), {"shuffle": False}, "batch_size"),
     ((5, 2, None), {}, "rng"), ((5, 2.5, None), {"shuffle": False}, "batch_size")],
)
def test_minibatch_errors_are_raised_at_call_time(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.iterate_minibatches(*args, **kwargs)


# -- accuracy -----------------------------------------------------------------------------

def test_accuracy_by_hand():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 5.0]])
    assert nn.accuracy(logits, np.array([0, 1, 1, 0])) == 0.5   # row 2 is a tie: argmax picks class 0
    assert nn.accuracy(logits.astype(np.float32), np.array([0, 1, 0, 2])) == 1.0
    assert isinstance(nn.accuracy(logits, np.zeros(4, dtype=int)), float)


def test_accuracy_errors():
    with pytest.raises(ValueError, match="y"):
        nn.accuracy(np.zeros((3, 2)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="logits"):
        nn.accuracy(np.zeros(3), np.zeros(3, dtype=int))


# -- the small CNN of notebook 07 (coursekit.model), trained by these optimizers --------------

def test_small_cnn_gradients_match_numerical_ones():
    from coursekit.gradcheck import check_gradient
    from coursekit.model import small_cnn

    model = small_cnn(channels=(2, 3))
    rng = np.random.default_rng(11)
    params = model.init(rng, (1, 8, 8))
    x, y = rng.normal(size=(3, 1, 8, 8)), np.array([0, 4, 9])
    _, grads = model.loss_and_grads(params, x, y)
    assert set(grads) == set(params)
    for key in ("conv1.w", "conv2.b", "fc.w"):
        def loss_of(value, key=key):
            return model.loss_and_grads(dict(params, **{key: value}), x, y)[0]
        check_gradient(grads[key], loss_of, params[key], name=key, tolerance=1e-5)


def test_small_cnn_learns_a_small_batch_with_adam():
    from coursekit.model import progress_bar, small_cnn

    model = small_cnn(channels=(4, 4))
    rng = np.random.default_rng(12)
    params = model.init(rng, (1, 8, 8))
    x, y = rng.normal(size=(16, 1, 8, 8)), rng.integers(0, 10, size=16)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    first = model.loss_and_grads(params, x, y)[0]
    for t in range(1, 61):
        loss, grads = model.loss_and_grads(params, x, y)
        params, m, v = nn.adam_step(params, grads, m, v, t, lr=1e-2)
    assert loss < 0.1 * first
    assert nn.accuracy(model.forward(params, x), y) == 1.0
    assert progress_bar(3, 10, width=10, loss=0.5) == "[###.......]  3/10  loss 0.5"


# -- argument rules the notebook states (whole-word matches, as the notebook's tests use) -------------

def test_minibatch_sizes_must_be_integers_not_bools_or_floats():
    from coursekit.testing import assert_raises

    rng = np.random.default_rng(0)
    assert_raises(ValueError, nn.iterate_minibatches, True, 2, rng, match="n")
    assert_raises(ValueError, nn.iterate_minibatches, 4.0, 2, None, shuffle=False, match="n")
    assert_raises(ValueError, nn.iterate_minibatches, 6, 2.0, rng, match="batch_size")
    assert_raises(ValueError, nn.iterate_minibatches, 6, False, rng, match="batch_size")
    batches = list(nn.iterate_minibatches(np.int64(5), np.int64(2), None, shuffle=False))
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]


def test_adam_step_number_must_be_an_integer_of_at_least_one():
    from coursekit.testing import assert_raises

    params, grads, zeros = {"w": np.ones(2)}, {"w": np.array([1.0, -2.0])}, {"w": np.zeros(2)}
    for t in (0, -1, 2.0, True):
        assert_raises(ValueError, nn.adam_step, params, grads, zeros, zeros, t, match="t")
    np.testing.assert_array_equal(nn.adam_step(params, grads, zeros, zeros, np.int64(3))[0]["w"],
                                  nn.adam_step(params, grads, zeros, zeros, 3)[0]["w"])
    assert_raises(ValueError, nn.adam_step, params, grads, {"w": np.zeros(3)}, zeros, 1, match="m")
    assert_raises(ValueError, nn.adam_step, params, grads, zeros, {"u": np.zeros(2)}, 1, match="v")


def test_state_dicts_may_hold_lists():
    new = nn.sgd_step({"w": [1.0, 2.0]}, {"w": [0.5, 0.5]}, 1.0)
    np.testing.assert_array_equal(new["w"], [0.5, 1.5])
    new, velocity = nn.momentum_step({"w": [[1.0]]}, {"w": [[2.0]]}, {"w": [[0.0]]}, 0.5)
    np.testing.assert_array_equal(velocity["w"], [[2.0]])
    np.testing.assert_array_equal(new["w"], [[0.0]])


def test_accuracy_rejects_an_empty_batch_and_a_label_column():
    from coursekit.testing import assert_raises

    assert_raises(ValueError, nn.accuracy, np.zeros((0, 3)), np.zeros(0, dtype=int), match="logits")
    assert_raises(ValueError, nn.accuracy, np.zeros((4, 3)), np.zeros((4, 1), dtype=int), match="y")
    assert_raises(ValueError, nn.accuracy, np.zeros((2, 4, 3)), np.zeros(2, dtype=int), match="logits")
