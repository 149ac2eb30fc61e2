"""The explorers' catalog: ``coursekit/locale/<lang>/widgets.po`` and the data coursekit reads from it.

The explorers (``coursekit/widgets/*.py``) write their texts in English, each inside a call
that translates it (``tr``, ``fig_tr``, ``mark``, or the label of ``int_slider`` /
``toggles``), the way ``xgettext`` finds ``_("...")``. The English literal is the ``msgid``;
a changed English string no longer matches its entry, so it is reported (and shown in
English) instead of silently mistranslated. The student package cannot import polib: the
finished entries are written to ``coursekit/locale/<lang>/widgets.json`` beside the catalog,
and ``translate --check`` reports that file as stale when it differs from the catalog.

``CFS_COURSEKIT`` points at another copy of the package (the tests change one of its strings).
"""

import ast
import copy
import json
import os
import re
from pathlib import Path

import polib

from . import exercises
from .translations import Coverage, changed_parts, finished, fresh_catalog

COURSEKIT = Path(os.environ.get("CFS_COURSEKIT", exercises.REPO / "coursekit")).resolve()
# The calls whose first argument is a text an explorer shows.
TRANSLATING_CALLS = {"tr", "fig_tr", "mark", "int_slider", "toggles"}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def widget_sources():
    return sorted((COURSEKIT / "widgets").glob("*.py"))


def catalog_path(lang):
    return COURSEKIT / "locale" / lang / "widgets.po"


def data_path(lang):
    return COURSEKIT / "locale" / lang / "widgets.json"


def english_texts():
    """``[(English text, "file:line")]`` of every text passed to a translating call, first occurrence of each."""
    found = {}
    for path in widget_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in TRANSLATING_CALLS
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                continue
            found.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return list(found.items())


def _entries(lang):
    path = catalog_path(lang)
    return [e for e in polib.pofile(str(path)) if not e.obsolete] if path.exists() else []


def coverage(lang, texts=None, entries=None):
    """The ``Coverage`` of the explorers' catalog: ``missing`` holds English texts (not cell numbers)."""
    texts = english_texts() if texts is None else texts
    entries = _entries(lang) if entries is None else entries
    done = {e.msgid for e in entries if finished(e)}
    english = {text for text, _ in texts}
    return Coverage(missing=[text for text, _ in texts if text not in done],
                    stale=[e.msgid for e in entries if e.msgid not in english], total=len(texts))


def altered(entries):
    """``[(English, problem)]`` of translations that lose or add a ``{placeholder}``, an HTML tag or a formula."""
    found = []
    for entry in entries:
        if not finished(entry):
            continue
        if sorted(PLACEHOLDER.findall(entry.msgid)) != sorted(PLACEHOLDER.findall(entry.msgstr)):
            found.append((entry.msgid, "its {placeholders} differ from the English"))
            continue
        lost, added = changed_parts(entry.msgid, entry.msgstr)
        if lost or added:
            found.append((entry.msgid, f"it must keep the English tags and formulas: missing {lost[:3]}, "
                                       f"not in the English {added[:3]}"))
    return found


def data(entries):
    """What coursekit reads: ``{English: translation}`` of the finished entries, in a stable order."""
    return {e.msgid: e.msgstr for e in sorted(entries, key=lambda e: e.msgid) if finished(e)}


def render_data(entries):
    return json.dumps(data(entries), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def update(lang, texts=None):
    """Bring the catalog in step with the explorers' texts (new: empty, gone: obsolete) and write the data file."""
    texts = english_texts() if texts is None else texts
    path = catalog_path(lang)
    old, catalog = fresh_catalog(path, "convnets-from-scratch coursekit.widgets", lang)
    by_msgid = {e.msgid: e for e in old}
    english = {text for text, _ in texts}
    for text, where in texts:
        entry = copy.copy(by_msgid[text]) if text in by_msgid else polib.POEntry(msgid=text, msgstr="")
        entry.obsolete = False
        entry.occurrences = [tuple(where.split(":"))]
        catalog.append(entry)
    for entry in old:
        if entry.msgid not in english and entry.msgstr:
            entry.obsolete = True
            catalog.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.save(str(path))
    live = [e for e in catalog if not e.obsolete]
    data_path(lang).write_text(render_data(live), encoding="utf-8")
    return path


def check(lang, update_first):
    """Report the explorers' catalog as ``translate`` does; returns True when it is complete and current."""
    texts = english_texts()
    if update_first:
        update(lang, texts)
    entries = _entries(lang)
    report, changed = coverage(lang, texts, entries), altered(entries)
    name = f"coursekit.widgets ({catalog_path(lang).relative_to(COURSEKIT.parent)})"
    summary = f"{name}: {report.total - len(report.missing)} of {report.total} texts translated"
    if report.stale:
        summary += f"; {len(report.stale)} entr{'y' if len(report.stale) == 1 else 'ies'} of no current text"
    print(summary)
    for text in report.missing[:5]:
        print(f"  not translated or changed since: {text[:70]!r}")
    for text, problem in changed:
        print(f"  {text[:60]!r}: {problem}")
    shipped = data_path(lang)
    current = shipped.exists() and shipped.read_text(encoding="utf-8") == render_data(entries)
    if not current:
        print(f"  {shipped.relative_to(COURSEKIT.parent)} is not what the catalog gives: "
              "run python -m autograder translate to rewrite it")
    return report.complete and not changed and current
