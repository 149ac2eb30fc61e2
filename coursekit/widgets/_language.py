"""The explorers' language: English unless the notebook is a Korean one (or you say otherwise).

Every text a student sees in an explorer is written in English in the code, wrapped in
``tr`` (text shown as HTML or on a control) or ``fig_tr`` (text drawn in a matplotlib
figure); ``mark`` only marks a string kept in a table for a later ``tr``. The translations
are plain data, ``coursekit/locale/<lang>/widgets.json`` ({English: translation}), written
from the gettext catalog ``coursekit/locale/<lang>/widgets.po`` by ``python -m autograder
translate`` (which also reports missing and stale entries): the student package reads
JSON only and needs no gettext library.

The language, first found of:

1. ``set_language("ko")`` (``set_language(None)`` goes back to automatic),
2. the environment variable ``COURSEKIT_LANGUAGE``,
3. the notebook's own metadata ``coursekit.language``: JupyterLab's kernel gets the notebook's
   path in ``JPY_SESSION_NAME`` and runs in the notebook's folder,
4. a settings file ``.coursekit.json`` (``{"language": "ko"}``) in the kernel's working folder:
   ``release --lang ko`` puts one beside every Korean notebook. It is what works everywhere the
   kernel runs in the notebook's folder: JupyterLab, Voila, ``jupyter nbconvert --execute``,
   nbgrader's kernel (none of the last three tells the kernel which notebook it runs),
5. English.

An unknown language anywhere means English: an explorer never fails over its language.
Figures are drawn in Korean only where a font with Hangul is installed (``hangul_font``);
elsewhere their labels stay English, since a missing glyph makes matplotlib warn on
stderr, and nbgrader scores 0 a test cell that wrote to stderr.
"""

import json
import os
import warnings
from functools import lru_cache
from pathlib import Path

__all__ = ["LANGUAGES", "set_language", "language"]

LANGUAGES = ("en", "ko")
ENVIRONMENT = "COURSEKIT_LANGUAGE"
SETTINGS_FILE = ".coursekit.json"
LOCALE = Path(__file__).resolve().parent.parent / "locale"
# Fonts with Hangul, most likely first: Debian's fonts-nanum and fonts-noto-cjk, Windows, macOS.
HANGUL_FONTS = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic", "Apple SD Gothic Neo",
                "AppleGothic", "UnDotum", "Baekmuk Gulim")
HANGUL_PROBE = "합성곱"

_chosen = None


def set_language(lang):
    """Show the explorers built from now on in ``lang`` ("en" or "ko"); ``None``: decide automatically."""
    global _chosen
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)} (or None for automatic), got {lang!r}")
    _chosen = lang


def language():
    """The explorers' language now: "en" or "ko" (see the module's docstring for the order)."""
    if _chosen is not None:
        return _chosen
    from_environment = os.environ.get(ENVIRONMENT)
    if from_environment:
        return from_environment if from_environment in LANGUAGES else "en"
    return _automatic(os.environ.get("JPY_SESSION_NAME", ""), os.getcwd())


@lru_cache(maxsize=8)
def _automatic(session, cwd):
    """The language the notebook (by its session name) or the settings file in ``cwd`` gives, else "en"."""
    found = _from_notebook(session, cwd) or _read_language(Path(cwd) / SETTINGS_FILE)
    return found if found in LANGUAGES else "en"


def _from_notebook(session, cwd):
    if not session.endswith(".ipynb"):
        return None
    path = Path(session)                          # the server's path: absolute, or relative to its root
    if not path.is_absolute() or not path.exists():
        path = Path(cwd) / path.name              # the kernel runs in the notebook's folder
    try:
        return json.loads(path.read_text(encoding="utf-8"))["metadata"]["coursekit"]["language"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_language(path):
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("language")
    except (OSError, ValueError, AttributeError):
        return None


@lru_cache(maxsize=None)
def catalog(lang):
    """``{English: translation}`` for ``lang`` ({} for English, or when the data file is missing or broken)."""
    if lang == "en":
        return {}
    try:
        data = json.loads((LOCALE / lang / "widgets.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def mark(text):
    """``text`` unchanged: marks a string that ``tr`` translates later (a label kept in a table)."""
    return text


def tr(text):
    """``text`` in the explorers' language (English where the catalog has no entry)."""
    return catalog(language()).get(text, text)


def fig_tr(text):
    """``text`` for a matplotlib figure: translated only if a font can draw it (see ``figure_fonts``)."""
    return tr(text) if figure_fonts() else text


def figure_fonts():
    """The ``font.family`` list figures need in the current language: ``None`` if the defaults do.

    DejaVu Sans (matplotlib's own font) first: it has the formulas' symbols; matplotlib takes
    the glyphs it lacks (Hangul) from the next font.
    """
    if language() != "ko":
        return None
    font = hangul_font()
    return ["DejaVu Sans", font] if font else None


@lru_cache(maxsize=1)
def hangul_font():
    """The family name of an installed font that draws Hangul, or ``None`` (checked once, silently)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _find_hangul_font()
        except Exception:          # noqa: BLE001 -- no font is no error: the figures stay English
            return None


def _find_hangul_font():
    from matplotlib import font_manager, ft2font

    def draws_hangul(path):
        font = ft2font.FT2Font(str(path))
        return all(font.get_char_index(ord(char)) for char in HANGUL_PROBE)

    known = {entry.name: entry.fname for entry in font_manager.fontManager.ttflist}
    for name in HANGUL_FONTS:
        if name in known and draws_hangul(known[name]):
            return name
    # matplotlib's font list is cached from its first run: a font installed later is not in it.
    for path in sorted(font_manager.findSystemFonts()):
        try:
            family = ft2font.FT2Font(str(path)).family_name
        except (OSError, RuntimeError, ValueError):
            continue
        if family in HANGUL_FONTS and draws_hangul(path):
            font_manager.fontManager.addfont(str(path))
            return family
    return None
