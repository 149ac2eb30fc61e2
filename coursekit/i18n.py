"""Translations of the course's student-facing text: gettext ``.po`` catalogs read with polib.

A catalog maps English text (the ``msgid``) to its translation (the ``msgstr``). Only
finished translations count: an empty or fuzzy (changed since translated) entry is
left out, so the English text shows instead of a stale translation.

The release reads one catalog per notebook (``notebooks/<assignment>/locale/<lang>.po``).
"""

import polib

ENGLISH = "en"
LANGUAGES = (ENGLISH, "ko")


def finished(entry):
    """Whether a catalog entry holds a translation that is current (not empty, not fuzzy, not obsolete)."""
    return bool(entry.msgstr) and not entry.fuzzy and not entry.obsolete


def translations(path):
    """``{English text: translation}`` of the finished entries of the catalog at ``path``."""
    return {entry.msgid: entry.msgstr for entry in polib.pofile(str(path)) if finished(entry)}

