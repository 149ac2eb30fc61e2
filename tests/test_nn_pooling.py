"""coursekit.nn.pooling against PyTorch (recorded in golden/pooling.npz) and hand-derived numbers.

Max pooling with ties: the course sends each window's gradient to its FIRST
maximum in row-major order. PyTorch's golden cases are tie-free; ties are
checked against hand-worked examples here (and, for the record, against what
PyTorch 2.13's CPU kernel did on the recorded ``ties`` case: the same rule).
"""

import numpy as np
import pytest

from conftest import golden_cases
from coursekit import nn
from coursekit.gradcheck import check_gradient

TIGHT = dict(rtol=1e-10, atol=1e-12)
POOLS = {"max": (nn.maxpool_forward, nn.maxpool_backward), "avg": (nn.avgpool_forward, nn.avgpool_backward)}


@pytest.fixture(scope="module")
def cases(golden):
    return golden_cases(golden("pooling"))


def pool_cases(cases, kind):
    return {name: case for name, case in cases.items() if name.startswith(kind + "_")}


def test_golden_file_has_the_cases_the_tests_expect(cases):
    for kind in POOLS:
        settings = {(int(c["pool"]), int(c["stride"])) for c in pool_cases(cases, kind).values()}
        assert {(2, 2), (3, 2), (2, 1), (2, 3)} <= settings
    assert len(pool_cases(cases, "gap")) >= 2 and "ties" in cases


# -- against torch -----------------------------------------------------------------

@pytest.mark.parametrize("kind", POOLS)
def test_pooling_matches_torch(cases, kind):
    forward, backward = POOLS[kind]
    for name, case in pool_cases(cases, kind).items():
        pool, stride = int(case["pool"]), int(case["stride"])
        out = forward(case["x"], pool, stride)
        assert out.shape == case["out"].shape, name
        np.testing.assert_allclose(out, case["out"], **TIGHT, err_msg=name)
        dx = backward(case["dout"], case["x"], pool, stride)
        np.testing.assert_allclose(dx, case["dx"], **TIGHT, err_msg=name)


def test_global_avgpool_matches_torch(cases):
    for name, case in pool_cases(cases, "gap").items():
        np.testing.assert_allclose(nn.global_avgpool_forward(case["x"]), case["out"], **TIGHT, err_msg=name)
        np.testing.assert_allclose(nn.global_avgpool_backward(case["dout"], case["x"]), case["dx"], **TIGHT, err_msg=name)


@pytest.mark.parametrize("kind", POOLS)
def test_pooling_backward_agrees_with_numerical_gradient(cases, kind):
    forward, backward = POOLS[kind]
    case = cases[f"{kind}_k3s2_2x2x7x9"]
    x, dout = case["x"][:1, :1], case["dout"][:1, :1]
    check_gradient(backward(dout, x, 3, 2), lambda t: forward(t, 3, 2), x, dout)


# -- by hand -------------------------------------------------------------------------

def as_image(rows):
    return np.array(rows, dtype=np.float64)[None, None]


def test_output_size_is_floored():
    x = np.zeros((1, 1, 7, 8))
    assert nn.maxpool_forward(x, 2, 2).shape == (1, 1, 3, 4)      # (7-2)//2+1, (8-2)//2+1
    assert nn.avgpool_forward(x, 3, 2).shape == (1, 1, 3, 3)
    assert nn.maxpool_forward(x, 2, 3).shape == (1, 1, 2, 3)


def test_maxpool_by_hand():
    x = as_image([[1, 2, 5, 0],
                  [3, 4, 1, 1],
                  [0, 0, 2, 2],
                  [9, 0, 2, 7]])
    np.testing.assert_array_equal(nn.maxpool_forward(x), as_image([[4, 5], [9, 7]]))
    dx = nn.maxpool_backward(as_image([[10, 20], [30, 40]]), x)
    np.testing.assert_array_equal(dx, as_image([[0, 0, 20, 0],
                                                [0, 10, 0, 0],
                                                [0, 0, 0, 0],
                                                [30, 0, 0, 40]]))


@pytest.mark.parametrize("window, expected", [
    ([[1, 1], [1, 1]], [[1, 0], [0, 0]]),
    ([[0, 3], [3, 3]], [[0, 1], [0, 0]]),
    ([[2, 0], [5, 5]], [[0, 0], [1, 0]]),
])
def test_maxpool_ties_go_to_the_first_maximum_in_row_major_order(window, expected):
    np.testing.assert_array_equal(nn.maxpool_backward(as_image([[1.0]]), as_image(window)), as_image(expected))


def test_maxpool_overlapping_windows_accumulate():
    # pool 3, stride 2 on a 3x5 image: two windows share column 2, whose 8 is the max of both.
    x = as_image([[0, 1, 8, 1, 0],
                  [2, 0, 0, 0, 3],
                  [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(nn.maxpool_forward(x, 3, 2), as_image([[8, 8]]))
    dx = nn.maxpool_backward(as_image([[1.5, 2.0]]), x, 3, 2)
    np.testing.assert_array_equal(dx, as_image([[0, 0, 3.5, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]))


def test_maxpool_ties_with_overlap_by_hand():
    # All equal: window (0,0) picks (0,0), window (0,1) picks (0,2), both shared row 0.
    x = np.ones((1, 1, 3, 5))
    dx = nn.maxpool_backward(as_image([[1.0, 2.0]]), x, 3, 2)
    np.testing.assert_array_equal(dx, as_image([[1, 0, 2, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]))


def test_recorded_torch_ties_follow_the_same_rule(cases):
    case = cases["ties"]
    dx = nn.maxpool_backward(case["dout"], case["x"], int(case["pool"]), int(case["stride"]))
    np.testing.assert_allclose(dx, case["dx"], **TIGHT)


def test_avgpool_by_hand():
    x = as_image([[1, 2, 3, 4, 5],
                  [6, 7, 8, 9, 10],
                  [11, 12, 13, 14, 15]])
    np.testing.assert_allclose(nn.avgpool_forward(x, 3, 2), as_image([[7, 9]]))
    dx = nn.avgpool_backward(as_image([[9.0, 18.0]]), x, 3, 2)
    np.testing.assert_allclose(dx, as_image([[1, 1, 3, 2, 2]] * 3))     # column 2 in both windows


def test_global_avgpool_by_hand():
    x = np.arange(12.0).reshape(1, 2, 2, 3)
    np.testing.assert_allclose(nn.global_avgpool_forward(x), [[2.5, 8.5]])
    np.testing.assert_allclose(nn.global_avgpool_backward(np.array([[6.0, 12.0]]), x),
                               np.concatenate([np.ones((1, 1, 2, 3)), 2 * np.ones((1, 1, 2, 3))], axis=1))


# -- dtypes, immutability, errors ----------------------------------------------------------

def test_float32_input_gives_float64_and_inputs_are_not_modified(cases):
    case = cases["max_k3s2_2x2x7x9"]
    x32 = case["x"].astype(np.float32)
    for forward, backward in POOLS.values():
        assert forward(x32, 3, 2).dtype == np.float64
        assert backward(case["dout"].astype(np.float32), x32, 3, 2).dtype == np.float64
    x, dout = case["x"].copy(), case["dout"].copy()
    nn.maxpool_backward(dout, x, 3, 2)
    nn.avgpool_backward(dout, x, 3, 2)
    np.testing.assert_array_equal(x, case["x"])
    np.testing.assert_array_equal(dout, case["dout"])


@pytest.mark.parametrize("args, argument", [
    ((np.ones((2, 4, 4)), 2, 2), "x"),
    ((np.ones((1, 1, 4, 4)), 0, 1), "pool"),
    ((np.ones((1, 1, 4, 4)), 5, 1), "pool"),
    ((np.ones((1, 1, 4, 4)), 2.0, 2), "pool"),
    ((np.ones((1, 1, 4, 4)), True, 2), "pool"),
    ((np.ones((1, 1, 4, 4)), 2, 0), "stride"),
    ((np.ones((1, 1, 4, 4)), 2, 1.0), "stride"),
    ((np.ones((1, 1, 4, 4)), 2, True), "stride"),
])
def test_pooling_rejects_bad_arguments_naming_them(args, argument):
    for forward, backward in POOLS.values():
        with pytest.raises(ValueError, match=rf"^{argument}[ =]"):
            forward(*args)
        # the backward checks x, pool and stride before dout (this dout fits nothing)
        with pytest.raises(ValueError, match=rf"^{argument}[ =]"):
            backward(np.ones((9, 9, 9, 9)), *args)


def test_pooling_sizes_may_be_numpy_integers():
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    for forward, backward in POOLS.values():
        np.testing.assert_array_equal(forward(x, np.int64(2), np.int32(1)), forward(x, 2, 1))
        dout = np.ones((1, 2, 3, 3))
        np.testing.assert_array_equal(backward(dout, x, np.int64(2), np.int32(1)), backward(dout, x, 2, 1))


def test_backward_rejects_wrong_dout():
    x = np.ones((1, 2, 4, 4))
    for _, backward in POOLS.values():
        with pytest.raises(ValueError, match=r"^dout "):
            backward(np.ones((1, 2, 3, 3)), x, 2, 2)        # the output of pool 2, stride 2 is (1, 2, 2, 2)
        with pytest.raises(ValueError, match=r"^dout "):
            backward(np.ones((1, 2, 2, 2)), x, 2, 1)        # ... and of pool 2, stride 1 is (1, 2, 3, 3)
    with pytest.raises(ValueError, match=r"^dout "):
        nn.global_avgpool_backward(np.ones((1, 3)), x)
    with pytest.raises(ValueError, match=r"^dout "):
        nn.global_avgpool_backward(np.ones((1, 2, 1, 1)), x)
    with pytest.raises(ValueError, match=r"^x "):
        nn.global_avgpool_forward(np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"^x "):
        nn.global_avgpool_backward(np.ones((9, 9)), np.ones((4, 4)))      # x is checked before dout
