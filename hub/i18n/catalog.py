"""The portal's message catalogs: English is the source text (the msgids), every other
language a gettext catalog read from its `.po` file with Babel at first use.

No compiled `.mo` files are kept: the `.po` is compiled in memory (fuzzy entries left out,
so an unreviewed translation shows the English text, never a wrong one).
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Iterable
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

SUPPORTED = ("en", "de")
DEFAULT = "en"
# each language names itself in the switch, so a reader finds their own
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
TRANSLATIONS = Path(__file__).with_name("translations")
DOMAIN = "messages"


def po_path(locale: str) -> Path:
    """Where a language's catalog lives."""
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> gettext_module.NullTranslations:
    """The gettext translations of a supported locale (English: the msgids themselves)."""
    if locale == DEFAULT or locale not in SUPPORTED:
        return gettext_module.NullTranslations()
    with po_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(locale: str, message: str) -> str:
    """`message` in `locale` (itself when untranslated)."""
    return translations(locale).gettext(message)


def ngettext(locale: str, singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for `n` in `locale`."""
    return translations(locale).ngettext(singular, plural, n)


def supported(tag: str | None) -> str | None:
    """The supported language of a tag ('de-AT' -> 'de'), or None."""
    if not tag:
        return None
    lang = tag.replace("_", "-").split("-")[0].strip().lower()
    return lang if lang in SUPPORTED else None


def negotiate(preferences: Iterable[str | None]) -> str:
    """The first supported language among `preferences` (best first), else English."""
    for tag in preferences:
        lang = supported(tag)
        if lang:
            return lang
    return DEFAULT


def N_(message: str) -> str:
    """Mark a message for extraction without translating it (translated where shown)."""
    return message
