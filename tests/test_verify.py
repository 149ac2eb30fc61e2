"""The out-of-kernel verifier: tampering in the student's process cannot turn a failing test into a pass."""

import base64
import io
import pickle

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import codec, scan, verify

ASSIGNMENT = "01_conv_as_matmul"
SETUP = "import numpy as np\nfrom coursekit.testing import assert_close, assert_equal, assert_raises, assert_inputs_unchanged"
SOLUTION = '''def conv_param_count(c_in, c_out, kh, kw, bias=True):
    return c_out * c_in * kh * kw + (c_out if bias else 0)'''
TESTS = {
    "test_conv_param_count": "assert_equal(conv_param_count(3, 64, 11, 11), 23296)\nassert_equal(conv_param_count(3, 64, 11, 11, bias=False), 23232)",
    "test_correlate2d_loops": (
        "x = np.arange(20.0).reshape(4, 5)\nk = np.array([[1.0, 0.0], [0.0, -1.0]])\n"
        "assert_close(assert_inputs_unchanged(correlate2d_loops, x, k), np.full((3, 4), -6.0))"
    ),
}
LOOPS = '''def correlate2d_loops(x, k):
    out = np.zeros((x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i:i + k.shape[0], j:j + k.shape[1]] * k)
    return out'''


def meta(**fields):
    base = {"schema_version": 3, "grade": False, "solution": False, "locked": False}
    base.update(fields)
    return {"nbgrader": base}


def make_notebook(answers):
    cells = [new_code_cell(SETUP, metadata={**meta(locked=True, grade_id="setup"), "tags": ["setup"]})]
    for name, source in answers.items():
        cells.append(new_code_cell(source, metadata=meta(solution=True, grade_id=name)))
        test = "test_" + name
        cells.append(new_code_cell(TESTS[test], metadata=meta(grade=True, locked=True, grade_id=test, points=1)))
    return new_notebook(cells=cells)


SOURCE = make_notebook({"conv_param_count": SOLUTION, "correlate2d_loops": LOOPS})
FAST = verify.Limits(call_seconds=3, memory_mb=1024)


def run(answers):
    return verify.verify(SOURCE, make_notebook(answers), ASSIGNMENT, FAST, total_seconds=60)


def test_correct_answers_pass_and_wrong_ones_fail():
    results = run({"conv_param_count": SOLUTION, "correlate2d_loops": LOOPS})
    assert all(r["passed"] for r in results.values()), results
    wrong = run({"conv_param_count": SOLUTION.replace("(c_out if bias else 0)", "c_in"), "correlate2d_loops": LOOPS})
    assert not wrong["test_conv_param_count"]["passed"]
    assert "expected 23296, got" in wrong["test_conv_param_count"]["message"]
    assert wrong["test_correlate2d_loops"]["passed"]


@pytest.mark.parametrize("attack", [
    "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True\nnumpy.abs = lambda x: 0 * x",
    "import coursekit.testing as t\nt.assert_equal = lambda *a, **k: None\nassert_equal = lambda *a, **k: None",
    "import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})",
    "import sys\nsys.excepthook = lambda *a: None",
])
def test_tampering_in_the_answer_cell_changes_nothing(attack):
    wrong = SOLUTION.replace("(c_out if bias else 0)", "0")
    results = run({"conv_param_count": attack + "\n" + wrong, "correlate2d_loops": LOOPS})
    assert not results["test_conv_param_count"]["passed"]
    assert results["test_correlate2d_loops"]["passed"]


def test_in_place_modification_is_seen_by_the_test():
    sneaky = LOOPS.replace("    return out", "    x[0, 0] = 99.0\n    return out")
    results = run({"conv_param_count": SOLUTION, "correlate2d_loops": sneaky})
    assert not results["test_correlate2d_loops"]["passed"]
    assert "modified in place" in results["test_correlate2d_loops"]["message"]


def test_delegating_to_the_reference_or_scipy_scores_zero_with_a_reason():
    via_reference = "from coursekit.nn import conv_param_count as ref\ndef conv_param_count(*a, **k):\n    return ref(*a, **k)"
    via_scipy = "def correlate2d_loops(x, k):\n    import scipy.signal\n    return scipy.signal.correlate2d(x, k, mode='valid')"
    results = run({"conv_param_count": via_reference, "correlate2d_loops": via_scipy})
    assert not results["test_conv_param_count"]["passed"]
    assert "coursekit.nn.conv_param_count" in results["test_conv_param_count"]["message"]
    assert not results["test_correlate2d_loops"]["passed"]
    assert "scipy.signal" in results["test_correlate2d_loops"]["message"]


def test_other_reference_layers_stay_usable():
    # conv2d_backward is assignment 03's exercise: an answer of assignment 01 may use it.
    uses_other = "from coursekit.nn import conv2d_backward\n\n" + SOLUTION
    assert run({"conv_param_count": uses_other, "correlate2d_loops": LOOPS})["test_conv_param_count"]["passed"]


def test_infinite_loop_times_out_and_the_next_exercise_still_runs():
    looping = "def conv_param_count(*args, **kwargs):\n    while True:\n        pass"
    results = run({"conv_param_count": looping, "correlate2d_loops": LOOPS})
    assert not results["test_conv_param_count"]["passed"]
    assert "timed out" in results["test_conv_param_count"]["message"]
    assert results["test_correlate2d_loops"]["passed"]


def test_killing_the_process_fails_only_that_call():
    dying = "import os\ndef conv_param_count(*args, **kwargs):\n    os._exit(0)"
    results = run({"conv_param_count": dying, "correlate2d_loops": LOOPS})
    assert "died" in results["test_conv_param_count"]["message"]
    assert results["test_correlate2d_loops"]["passed"]


def test_memory_blow_up_is_stopped():
    hungry = "def conv_param_count(*args, **kwargs):\n    return len(bytearray(4 * 1024**3))"
    results = run({"conv_param_count": hungry, "correlate2d_loops": LOOPS})
    assert not results["test_conv_param_count"]["passed"]
    assert results["test_correlate2d_loops"]["passed"]


def test_answer_cell_that_hangs_at_import_fails_everything_fast():
    results = run({"conv_param_count": "while True:\n    pass\n" + SOLUTION, "correlate2d_loops": LOOPS})
    assert not any(r["passed"] for r in results.values())
    assert all("answer cells" in r["message"] for r in results.values())


def test_returning_code_instead_of_data_fails():
    results = run({"conv_param_count": "def conv_param_count(*a, **k):\n    return lambda: 1", "correlate2d_loops": LOOPS})
    assert not results["test_conv_param_count"]["passed"]


# -- codec --------------------------------------------------------------------------------
def test_codec_round_trip_keeps_types():
    rng = np.random.default_rng(5)
    value = {"a": (np.arange(6.0).reshape(2, 3), np.float32(2.5), 3, None, "s"), "b": [True, 1.5], "rng": rng}
    back = codec.decode(codec.loads(codec.dumps(codec.encode(value))))
    assert np.array_equal(back["a"][0], value["a"][0]) and isinstance(back["a"], tuple)
    assert isinstance(back["a"][1], np.float32) and back["b"] == [True, 1.5]
    assert back["rng"].random() == np.random.default_rng(5).random()


def test_codec_never_unpickles():
    evil = io.BytesIO()
    np.save(evil, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(codec.CodecError):
        codec.decode({"__nd__": base64.b64encode(evil.getvalue()).decode()})
    with pytest.raises(codec.CodecError):
        codec.encode(np.array([1, "a"], dtype=object))
    with pytest.raises(codec.CodecError):
        codec.decode({"__pickle__": base64.b64encode(pickle.dumps(1)).decode()})


# -- scan --------------------------------------------------------------------------------------
def test_scan_names_the_tampering_and_leaves_honest_code_alone():
    protected = scan.defined_names([SETUP])
    assert {"np", "assert_close", "assert_equal"} <= set(protected)
    assert scan.scan([("answer f", SOLUTION), ("answer g", LOOPS)], protected) == []
    findings = scan.scan([("answer f", "import numpy\nnumpy.allclose = lambda *a: True\nassert_close = print\n"
                                        "get_ipython().set_custom_exc((Exception,), None)\nimport os\nos._exit(1)\n%time 1")], protected)
    texts = " | ".join(text for _, _, text in findings)
    for expected in ("assigns to numpy.allclose", "rebinds assert_close", "set_custom_exc", "os._exit", "IPython syntax"):
        assert expected in texts


def test_scan_lets_an_answer_import_again_what_the_setup_imports():
    """An answer cell that needs numpy says `import numpy as np` itself: that rebinds np to numpy, as before."""
    protected = scan.defined_names([SETUP])
    honest = "import numpy as np\nfrom coursekit.testing import assert_close\n\ndef f(x):\n    return np.abs(x)\n"
    assert scan.scan([("answer f", honest)], protected) == []
    for rebinding in ("import math as np\n", "from coursekit.testing import assert_equal as assert_close\n",
                      "import scipy as np\n"):
        texts = [text for _, _, text in scan.scan([("answer f", rebinding)], protected)]
        assert any("rebinds" in t for t in texts), rebinding


def test_course_modules_that_compute_an_assignments_answers_are_blocked_for_it():
    """coursekit.architectures counts parameters: notebook 08's answers may not hand the counting to it."""
    test = "assert_equal(linear_param_count(4096, 1000), 4097000)"
    source = new_notebook(cells=[
        new_code_cell(SETUP, metadata={**meta(locked=True, grade_id="setup"), "tags": ["setup"]}),
        new_code_cell("", metadata=meta(solution=True, grade_id="linear_param_count")),
        new_code_cell(test, metadata=meta(grade=True, locked=True, grade_id="test_linear_param_count", points=1)),
    ])
    own = "def linear_param_count(d_in, d_out, bias=True):\n    return d_in * d_out + (d_out if bias else 0)"
    via_arch = ("from coursekit import architectures as arch\n\ndef linear_param_count(d_in, d_out, bias=True):\n"
                "    return arch.Conv(d_out, 1, bias=bias).params((d_in, 1, 1))")

    def verdict(answer):
        nb = nbformat.from_dict(source)
        nb.cells[1].source = answer
        return verify.verify(source, nb, "08_architectures", FAST, total_seconds=60)["test_linear_param_count"]

    assert verdict(own)["passed"]
    blocked = verdict(via_arch)
    assert not blocked["passed"] and "coursekit.architectures" in blocked["message"], blocked
