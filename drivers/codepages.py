"""Printable text for a receipt printer's code page: kept, transliterated, never dropped.

python-escpos writes '?' for a character its code page lacks, and its automatic code-page
switching (no code page set) turned German umlauts into multi-byte garbage on our printers.
So a receipt picks one code page from the printer profile (`options.codepage`, CP858 by
default: Latin-1 letters and the euro sign) and every text is fitted to it first:

* a character the code page holds is printed as is;
* else a known transliteration (quotes, dashes, the euro sign, ligatures, ...), else its
  letters without accents (NFKD: 'ő' -> 'o', 'Ł' -> 'L' from the table);
* else it is shown as `<U+4E2D>`, visibly, so nobody reads a receipt with a silent gap.
"""

from __future__ import annotations

import unicodedata
from functools import cache

DEFAULT_CODEPAGE = "CP858"
# ESC t n numbers of the code pages we print in (python-escpos' default profile agrees)
CODEPAGE_NUMBERS = {"CP437": 0, "CP850": 2, "CP858": 19, "CP1252": 16, "CP852": 18, "CP866": 17}
_TABLE = {
    "\u20ac": "EUR", "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201c": '"',
    "\u201d": '"', "\u201e": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...",
    "\u2022": "*", "\u2122": "TM", "\u0152": "OE", "\u0153": "oe", "\u0141": "L",
    "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i", "\u00df": "ss",
    "\u00d8": "O", "\u00f8": "o", "\u00c6": "AE", "\u00e6": "ae", "\u00a0": " ",
    "\u202f": " ",
}  # fmt: skip


@cache
def _fits(char: str, codepage: str) -> bool:
    try:
        char.encode(codepage)
    except UnicodeEncodeError:
        return False
    return True


def _fallback(char: str, codepage: str) -> str:
    known = _TABLE.get(char)
    if known is not None and all(_fits(c, codepage) for c in known):
        return known
    folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if folded and folded != char and all(_fits(c, codepage) for c in folded):
        return folded
    return f"<U+{ord(char):04X}>"


def fit_text(text: str, codepage: str = DEFAULT_CODEPAGE) -> str:
    """`text` with every character the code page lacks transliterated visibly."""
    return "".join(c if _fits(c, codepage) else _fallback(c, codepage) for c in text)


def check_codepage(codepage: str) -> str:
    """The code page name if we can print in it (ValueError otherwise)."""
    if codepage not in CODEPAGE_NUMBERS:
        raise ValueError(f"unsupported printer code page {codepage!r}")
    return codepage
