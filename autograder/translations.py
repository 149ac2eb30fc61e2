"""Translation catalogs of the source notebooks: extract, check, and apply them.

The English source notebooks are the only source. Each notebook has one gettext
catalog per language, ``notebooks/<assignment>/locale/<lang>.po``, whose entries
are its markdown cells: the ``msgid`` is the English cell exactly as it stands,
the ``msgstr`` its translation. A changed English cell no longer matches its
entry, so its translation becomes stale (reported, and English shown) instead
of silently wrong. ``update`` brings a catalog in step with its notebook the way
``msgmerge`` does: new cells get an entry, a changed cell keeps its old
translation marked fuzzy (with the old English as ``#| msgid``), and entries of
removed cells become obsolete.
"""

import copy
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import polib

from . import exercises
from . import notebook as nbtools

SIMILAR_ENOUGH = 0.6  # a changed cell whose old English is this close keeps its old translation, as fuzzy
# What a translation keeps exactly as the English has it: code blocks, display and inline formulas,
# inline code, link targets, HTML tags and nbgrader's markers.
PROTECTED = re.compile(r"```.*?```|\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]+`|\]\([^)\s]+\)|<[^>\n]+>|^#+ (?:BEGIN|END) SOLUTION$",
                       re.DOTALL | re.MULTILINE)


ENGLISH = "en"
LANGUAGES = (ENGLISH, "ko")


def finished(entry):
    """Whether a catalog entry holds a translation that is current (not empty, not fuzzy, not obsolete)."""
    return bool(entry.msgstr) and not entry.fuzzy and not entry.obsolete


def translations(path):
    """``{English text: translation}`` of the finished entries of the catalog at ``path``."""
    return {entry.msgid: entry.msgstr for entry in polib.pofile(str(path)) if finished(entry)}


def catalog_path(notebook_path, lang):
    return Path(notebook_path).parent / "locale" / f"{lang}.po"


def markdown_cells(nb):
    """``[(cell number from 1, English text)]`` of the notebook's markdown cells that hold text."""
    return [(index + 1, cell.source) for index, cell in enumerate(nb.cells)
            if cell.cell_type == "markdown" and cell.source.strip()]


@dataclass
class Coverage:
    """How far a catalog covers its notebook: cells without a current translation, entries without a cell."""
    missing: list = field(default_factory=list)   # cell numbers whose English has no finished translation
    stale: list = field(default_factory=list)     # English texts translated in the catalog but in no cell now
    total: int = 0

    @property
    def complete(self):
        return not self.missing and not self.stale

    def describe(self, name):
        if self.complete:
            return f"{name}: {self.total} of {self.total} cells translated"
        parts = []
        if self.missing:
            parts.append(f"cells {', '.join(map(str, self.missing))} not translated or changed since")
        if self.stale:
            parts.append(f"{len(self.stale)} entr{'y' if len(self.stale) == 1 else 'ies'} of no current cell "
                         f"(first: {self.stale[0][:60]!r})")
        return f"{name}: {self.total - len(self.missing)} of {self.total} cells translated; " + "; ".join(parts)


def _cells_and_entries(notebook_path, lang):
    """The notebook's markdown cells and its catalog's live (not obsolete) entries, read once."""
    path = catalog_path(notebook_path, lang)
    entries = [e for e in polib.pofile(str(path)) if not e.obsolete] if path.exists() else []
    return markdown_cells(nbtools.read(notebook_path)), entries


def coverage(notebook_path, lang, read=None):
    """The ``Coverage`` of ``notebook_path``'s catalog for ``lang`` (everything missing if there is none)."""
    cells, entries = read or _cells_and_entries(notebook_path, lang)
    done = {e.msgid for e in entries if finished(e)}
    english = {text for _, text in cells}
    return Coverage(missing=[number for number, text in cells if text not in done],
                    stale=[e.msgid for e in entries if e.msgid not in english],
                    total=len(cells))


def protected_parts(text):
    """The formulas, code, link targets and markers of ``text``, sorted (a translation must keep them all)."""
    return sorted(PROTECTED.findall(text))


def changed_parts(english, translation):
    """``(lost, added)``: protected parts of ``english`` missing from ``translation``, and parts it added."""
    ours, theirs = protected_parts(english), protected_parts(translation)
    lost, added = list(ours), []
    for part in theirs:
        if part in lost:
            lost.remove(part)
        else:
            added.append(part)
    return lost, added


def altered(notebook_path, lang, read=None):
    """``[(cell number, lost, added)]`` of translated cells whose formulas, code or markers differ from the English."""
    cells, entries = read or _cells_and_entries(notebook_path, lang)
    done = {e.msgid: e.msgstr for e in entries if finished(e)}
    found = []
    for number, text in cells:
        if text in done:
            lost, added = changed_parts(text, done[text])
            if lost or added:
                found.append((number, lost, added))
    return found


def _closest(entries, text):
    """The first of ``entries`` whose English is most like ``text``, if it is at least SIMILAR_ENOUGH alike."""
    ratios = [difflib.SequenceMatcher(None, e.msgid, text).ratio() for e in entries]
    best = max(range(len(entries)), key=ratios.__getitem__, default=None)
    return entries[best] if best is not None and ratios[best] >= SIMILAR_ENOUGH else None


def fresh_catalog(path, project, lang):
    """``(old, new)``: the catalog at ``path`` as it is (empty if none), and an empty one with its metadata
    (or new metadata for ``project`` and ``lang``), to be filled in step with the English."""
    old = polib.pofile(str(path)) if path.exists() else polib.POFile()
    catalog = polib.POFile(wrapwidth=0)
    catalog.metadata = old.metadata or {
        "Project-Id-Version": project, "Language": lang,
        "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit",
    }
    return old, catalog


def update(notebook_path, lang):
    """Bring the catalog of ``notebook_path`` for ``lang`` in step with the notebook; returns its path."""
    cells = markdown_cells(nbtools.read(notebook_path))
    path = catalog_path(notebook_path, lang)
    old, catalog = fresh_catalog(path, "convnets-from-scratch", lang)
    by_msgid = {e.msgid: e for e in old}
    english = {text for _, text in cells}
    unmatched = [e for e in old if e.msgid not in english and e.msgstr]
    for number, text in cells:
        entry = copy.copy(by_msgid[text]) if text in by_msgid else polib.POEntry(msgid=text, msgstr="")
        entry.obsolete = False
        entry.occurrences = [(Path(notebook_path).name, str(number))]
        closest = None if entry.msgstr else _closest(unmatched, text)
        if closest:
            entry.msgstr, entry.previous_msgid = closest.msgstr, closest.msgid
            entry.flags = sorted(set(entry.flags) | {"fuzzy"})
            unmatched.remove(closest)
        catalog.append(entry)
    for entry in unmatched:
        entry.obsolete = True
        catalog.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.save(str(path))
    return path


def translated(nb, lang, catalog):
    """A copy of notebook ``nb`` in ``lang``: markdown cells translated where ``catalog`` (``{English: text}``)
    has them; code, formulas, cell ids and nbgrader metadata unchanged."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source in catalog:
            cell.source = catalog[cell.source]
    nb.metadata["coursekit"] = {"language": lang}
    return nb


def source_in(assignment, lang):
    """The source notebook of ``assignment`` with its prose in ``lang`` (English where no finished translation)."""
    path = exercises.source_notebook(assignment)
    nb = nbtools.read(path)
    catalog_file = catalog_path(path, lang)
    if lang == ENGLISH or not catalog_file.exists():
        return nb
    return translated(nb, lang, translations(catalog_file))


def cli(assignments, lang, check_only):
    """``python -m autograder translate``: update (unless ``check_only``) and report every catalog (the notebooks',
    then the explorers'); 1 if any is incomplete."""
    incomplete = 0
    for assignment in assignments:
        path = exercises.source_notebook(assignment)
        if not check_only:
            update(path, lang)
        read = _cells_and_entries(path, lang)
        report, changed = coverage(path, lang, read), altered(path, lang, read)
        incomplete += not report.complete or bool(changed)
        print(report.describe(f"{assignment} ({catalog_path(path, lang).relative_to(exercises.NOTEBOOKS)})"))
        for number, lost, added in changed:
            print(f"  cell {number}: the translation must keep the English formulas and code: "
                  f"missing {lost[:3]}, not in the English {added[:3]}")
    from . import widget_translations
    incomplete += not widget_translations.check(lang, update_first=not check_only)
    print("OK" if not incomplete else f"{incomplete} catalog(s) incomplete")
    return 1 if incomplete else 0
