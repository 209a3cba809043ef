"""The portal's message catalogs (NFR-007): extract the English msgids from the hub's
templates and code, merge them into every language's `.po`, and check that every msgid has
a reviewed translation.

    python -m scripts.i18n_catalog update   # after adding or changing portal strings
    python -m scripts.i18n_catalog check    # exit 1 listing untranslated / stale msgids

What is extracted: `_()` in templates; `tr()`, `N_()`, `gettext()` in Python; from the
report definitions (hub/reports) the label (2nd argument) of every `Column(...)`, the title
(2nd argument) and `note=` of every `ReportDef(...)` -- read with `ast`, because Babel's
extractor does not see a call nested in another's arguments. New msgids arrive with an
empty msgstr; translate them in hub/i18n/translations/<lang>/LC_MESSAGES/messages.po
(docs/ui.md "Languages").
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from hub.i18n.catalog import DEFAULT, SUPPORTED, po_path

ROOT = Path(__file__).resolve().parents[1]
METHODS = [
    ("**/templates/**.html", "jinja2"),
    ("**.py", "python"),
]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "tr": None,
}
DEFINITIONS = {"Column": 1, "ReportDef": 1}  # call name -> index of its msgid argument


def _definition_messages(path: Path) -> list[tuple[int, str]]:
    """(line, msgid) of the report definitions in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        index = DEFINITIONS.get(node.func.id)
        if index is None:
            continue
        args = [a for a in node.args[index : index + 1] if isinstance(a, ast.Constant)]
        args += [
            k.value for k in node.keywords if k.arg == "note" and isinstance(k.value, ast.Constant)
        ]
        found += [(node.lineno, a.value) for a in args if isinstance(a.value, str) and a.value]
    return found


def extract() -> Catalog:
    """Every msgid of the portal, with where it is used."""
    template = Catalog(project="cfpos-portal", domain="messages")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT / "hub"), METHODS, OPTIONS, keywords=KEYWORDS
    ):
        if message:
            template.add(message, None, [(f"hub/{filename}", lineno)], auto_comments=comments,
                         context=context)  # fmt: skip
    for path in sorted((ROOT / "hub" / "reports").glob("*.py")):
        for lineno, message in _definition_messages(path):
            template.add(message, None, [(str(path.relative_to(ROOT)), lineno)])
    return template


def load(locale: str) -> Catalog:
    """A language's catalog as it is on disk (an empty one before its first update)."""
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, domain="messages")
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def save(catalog: Catalog, locale: str) -> None:
    """Write a catalog sorted by msgid, without line numbers (small diffs)."""
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, no_location=True, sort_output=True, omit_header=True,
                 ignore_obsolete=True, include_previous=False)  # fmt: skip


def update() -> None:
    """Merge the sources' msgids into every language (new: empty msgstr; gone: dropped)."""
    template = extract()
    for locale in SUPPORTED:
        if locale == DEFAULT:
            continue
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        save(catalog, locale)


def problems(locale: str) -> dict[str, list[str]]:
    """Untranslated (or fuzzy) msgids and stale ones of a language, by kind."""
    wanted = {m.id for m in extract() if m.id}
    catalog = load(locale)
    have = {m.id: m for m in catalog if m.id}

    def done(msg: Any) -> bool:
        forms = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        return all(forms) and not msg.fuzzy

    missing = sorted(str(i) for i in wanted if i not in have or not done(have[i]))
    stale = sorted(str(i) for i in have if i not in wanted)
    return {"untranslated": missing, "stale": stale}


def main() -> int:
    """Entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("command", choices=("update", "check"))
    args = ap.parse_args()
    if args.command == "update":
        update()
    bad = 0
    for locale in SUPPORTED:
        if locale == DEFAULT:
            continue
        for kind, ids in problems(locale).items():
            for msgid in ids:
                print(f"{locale}: {kind}: {msgid!r}")
            bad += len(ids) if args.command == "check" else 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
