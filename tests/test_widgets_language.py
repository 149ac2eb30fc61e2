"""The explorers in Korean: every text a student sees is Korean (or a formula, a number, an identifier),
figures draw it without a warning, English stays the default, the language comes from a setting (not
from the notebook's code), and the explorers' catalog is complete and goes stale when an English text changes.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import ipywidgets as widgets
import pytest
from matplotlib.text import Text

import coursekit.widgets as explorers
from coursekit.widgets import _explorer, _language

REPO = Path(__file__).resolve().parent.parent
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# What may stay in Latin letters in a Korean explorer: code values and names of methods and
# functions, the input syntax of the layers box; formulas are in <code> and left out.
IDENTIFIERS = re.compile(r"\b(?:relu|tanh|sigmoid|linear|Var|GD|SGD|Adam|Xavier|He|fan_in|fan_out|im2col|"
                         r"kernel,stride)\b")
GLOSS = re.compile(r"(?<=[\uac00-\ud7a3])\([a-z]+\)")   # "팽창(dilation)": the glossary's English in parentheses
WORD = re.compile(r"[A-Za-z]{2,}")

# Settings that show every text of each explorer: each option of a choice, each branch of a description
# and picture, and the explorer's own error messages. (explorer, [control values, ...])
VISITS = [
    (explorers.conv_arithmetic_explorer, [{}, {"pad": 1, "dilation": 2}]),
    (explorers.im2col_explorer, [{}, {"pad": 1}]),
    (explorers.receptive_field_explorer, [{}, {"layers": "3,1; 2,2"}, {"layers": "3 x"}, {"layers": ""},
                                          {"layers": "5,1; 5,1; 5,1; 5,1", "n": 16}]),
    (explorers.pooling_explorer, [{}, {"mode": "average", "every_output": True}, {"x": "1 2; 3"}, {"x": "a b"},
                                  {"x": "  "}]),
    (explorers.norm_axes_explorer, [{"kind": kind} for kind in explorers.NORMS]),
    (explorers.init_explorer, [{}, {"scheme": "zero"}, {"activation": "tanh", "bias": True},
                               {"activation": "sigmoid"}, {"activation": "linear", "scheme": "large"}]),
    (explorers.optimizer_explorer, [{}, {"lr": 1.0}]),
]


@pytest.fixture
def figures(monkeypatch):
    """Every matplotlib figure the explorers draw from now on."""
    made = []

    class Recorded(_explorer.Figure):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(_explorer, "Figure", Recorded)
    return made


@pytest.fixture
def language():
    """Set the explorers' language for one test, then back to automatic."""
    yield explorers.set_language
    explorers.set_language(None)


def html_texts(markup):
    """The visible texts of an HTML fragment, without its <code> formulas."""
    markup = re.sub(r"<code>.*?</code>", " ", markup, flags=re.DOTALL)
    return [part.strip() for part in re.split(r"<[^>]+>|&nbsp;", markup) if part.strip()]


def control_texts(control):
    texts = [control.description]
    if isinstance(control, (widgets.ToggleButtons, widgets.Dropdown)):
        texts += [str(label) for label in control._options_labels]
    return texts


def figure_texts(figure):
    return [artist.get_text() for artist in figure.findobj(Text) if artist.get_text().strip()]


def everything_shown(explorer, figures):
    """Every text of the explorer's controls, summary and picture, and of the figure drawn last."""
    texts = [text for control in explorer.controls.values() for text in control_texts(control)]
    texts += html_texts(explorer.summary.value)
    if isinstance(explorer.picture, widgets.HTML):
        texts += html_texts(explorer.picture.value)
    elif figures and explorer.error is None:
        texts += figure_texts(figures[-1])
    return [text for text in texts if text]


def english_left(text):
    """The English words of ``text`` once identifiers and glossed terms are taken out."""
    return WORD.findall(IDENTIFIERS.sub(" ", GLOSS.sub(" ", text)))


def visit(make_explorer, settings):
    explorer = make_explorer()
    for name, value in settings.items():
        explorer.controls[name].value = value
    return explorer


@pytest.mark.parametrize("make_explorer, visits", VISITS, ids=[make.__name__ for make, _ in VISITS])
def test_a_korean_explorer_shows_korean_only_and_draws_without_warnings(make_explorer, visits, language, figures,
                                                                        capfd, caplog):
    if _language.hangul_font() is None:
        pytest.skip("no font with Hangul installed (apt-get install fonts-nanum): the figures stay English")
    language("ko")
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # a missing glyph is a warning: it fails the test
        for settings in visits:
            explorer = visit(make_explorer, settings)
            shown = everything_shown(explorer, figures)
            leftovers = {text: english_left(text) for text in shown if english_left(text)}
            assert not leftovers, f"{make_explorer.__name__} {settings}: English left in {leftovers}"
            assert any(HANGUL.search(text) for text in shown)
    assert capfd.readouterr().err == ""
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]


def test_an_error_from_the_course_library_keeps_its_message_under_a_korean_heading(language):
    language("ko")
    explorer = visit(explorers.conv_arithmetic_explorer, {"n": 3, "k": 5, "pad": 0})
    assert "잘못된 설정: " in explorer.summary.value
    assert "larger than the padded input" in explorer.summary.value   # conv_output_size's message: English
    assert not english_left(" ".join(html_texts(explorer.picture.value)))


@pytest.mark.parametrize("make_explorer, visits", VISITS, ids=[make.__name__ for make, _ in VISITS])
def test_english_is_the_default_and_has_no_hangul(make_explorer, visits, figures, monkeypatch, tmp_path):
    monkeypatch.delenv(_language.ENVIRONMENT, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)                 # no settings file here
    assert explorers.language() == "en"
    for settings in visits:
        shown = everything_shown(visit(make_explorer, settings), figures)
        assert shown and not [text for text in shown if HANGUL.search(text)]


def test_english_texts_are_unchanged(language):
    language("en")
    explorer = explorers.conv_arithmetic_explorer()
    assert explorer.summary.value.startswith("<b>output size: 5</b> &nbsp; (5×5 outputs; showing output (0, 0))<br>")
    assert [c.description for c in explorer.controls.values()] == [
        "input size n", "kernel k", "stride", "padding", "dilation", "output position"]
    assert explorers.pooling_explorer().controls["mode"]._options_labels == ("max", "average")


def test_without_a_hangul_font_figures_stay_english_and_silent(language, figures, monkeypatch, capfd):
    monkeypatch.setattr(_language, "hangul_font", lambda: None)
    language("ko")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer = explorers.init_explorer()
    assert HANGUL.search(explorer.summary.value)                       # HTML: the browser's fonts draw it
    drawn = figure_texts(figures[-1])
    assert "per layer (log scale)" in drawn and not [t for t in drawn if HANGUL.search(t)]
    assert capfd.readouterr().err == ""


def test_the_language_comes_from_a_setting(monkeypatch, tmp_path, language):
    monkeypatch.delenv(_language.ENVIRONMENT, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    folder = tmp_path / "04_pooling"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert explorers.language() == "en"
    (folder / ".coursekit.json").write_text('{"language": "ko"}')            # what release --lang ko writes
    _language._automatic.cache_clear()       # read once per kernel: a kernel's folder does not change language
    assert explorers.language() == "ko"
    (folder / ".coursekit.json").write_text('{"language": "xx"')              # broken: English, no error
    _language._automatic.cache_clear()
    assert explorers.language() == "en"
    # JupyterLab names the notebook: its metadata decides, wherever the notebook was moved.
    (folder / "pooling.ipynb").write_text(json.dumps({"cells": [], "metadata": {"coursekit": {"language": "ko"}}}))
    monkeypatch.setenv("JPY_SESSION_NAME", "course/04_pooling/pooling.ipynb")
    assert explorers.language() == "ko"
    monkeypatch.setenv(_language.ENVIRONMENT, "en")                           # the environment wins
    assert explorers.language() == "en"
    language("ko")                                                            # and set_language over all
    assert explorers.language() == "ko"
    with pytest.raises(ValueError, match="language must be one of en, ko"):
        explorers.set_language("korean")


def autograder(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **(env or {})})


def test_the_explorers_catalog_is_complete_and_its_data_current(tmp_path):
    done = autograder("translate", "--check", "04_pooling", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    texts = re.search(r"coursekit\.widgets \S+: (\d+) of (\d+) texts translated\n", done.stdout)
    assert texts and texts.group(1) == texts.group(2) and int(texts.group(1)) >= 90


def copy_of_coursekit(tmp_path):
    """A copy of the package's explorers and catalog (for CFS_COURSEKIT)."""
    package = tmp_path / "coursekit"
    shutil.copytree(REPO / "coursekit" / "widgets", package / "widgets", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "coursekit" / "locale", package / "locale")
    return package


def test_a_changed_english_text_of_an_explorer_fails_the_check(tmp_path):
    package = copy_of_coursekit(tmp_path)
    source = package / "widgets" / "optimizers.py"
    source.write_text(source.read_text().replace('"loss on all the data"', '"loss on the whole data set"'))
    env = {"CFS_COURSEKIT": str(package)}
    done = autograder("translate", "--check", "04_pooling", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "not translated or changed since: 'loss on the whole data set'" in done.stdout
    assert "1 entry of no current text" in done.stdout
    # Updating the catalog (translate) still leaves it incomplete; the data coursekit reads drops the old text.
    assert autograder("translate", "04_pooling", cwd=tmp_path, env=env).returncode == 1
    shipped = json.loads((package / "locale" / "ko" / "widgets.json").read_text())
    assert "loss on all the data" not in shipped and "loss on the whole data set" not in shipped


def test_stale_data_and_a_lost_placeholder_are_reported(tmp_path):
    package = copy_of_coursekit(tmp_path)
    shipped = package / "locale" / "ko" / "widgets.json"
    data = json.loads(shipped.read_text())
    data["seed"] = "씨앗"
    shipped.write_text(json.dumps(data))
    env = {"CFS_COURSEKIT": str(package)}
    done = autograder("translate", "--check", "04_pooling", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "widgets.json is not what the catalog gives" in done.stdout

    catalog = package / "locale" / "ko" / "widgets.po"
    text = catalog.read_text().replace('msgstr "출력 {size}×{size}"', 'msgstr "출력 {size}×"', 1)
    catalog.write_text(text)
    done = autograder("translate", "--check", "04_pooling", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "its {placeholders} differ from the English" in done.stdout
