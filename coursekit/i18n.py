"""Translations of the course's student-facing text: gettext ``.po`` catalogs read with polib.

A catalog maps English text (the ``msgid``) to its translation (the ``msgstr``). Only
finished translations count: an empty or fuzzy (changed since translated) entry is
left out, so the English text shows instead of a stale translation.

The explorers read ``coursekit/locale/<lang>/widgets.po``; the release reads one catalog
per notebook (``notebooks/<assignment>/locale/<lang>.po``).
"""

import functools
import os
from pathlib import Path

import polib

ENGLISH = "en"
LANGUAGES = (ENGLISH, "ko")
LOCALE = Path(__file__).parent / "locale"


def finished(entry):
    """Whether a catalog entry holds a translation that is current (not empty, not fuzzy, not obsolete)."""
    return bool(entry.msgstr) and not entry.fuzzy and not entry.obsolete


def translations(path):
    """``{English text: translation}`` of the finished entries of the catalog at ``path``."""
    return {entry.msgid: entry.msgstr for entry in polib.pofile(str(path)) if finished(entry)}


def language(lang=None):
    """The language asked for: ``lang`` if given, else ``$COURSEKIT_LANG``, else English."""
    lang = lang or os.environ.get("COURSEKIT_LANG") or ENGLISH
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of the course's: {', '.join(LANGUAGES)}")
    return lang


@functools.lru_cache(maxsize=None)
def _widget_catalog(lang):
    path = LOCALE / lang / "widgets.po"
    return translations(path) if lang != ENGLISH and path.exists() else {}


def gettext(text, lang=None):
    """``text`` (an explorer's label, in English) in the language ``lang``; English if not translated."""
    return _widget_catalog(language(lang)).get(text, text)
