"""Linux input keycodes to characters for the keyboard layouts HID scanners emulate.

A HID scanner types its code as key presses; what the host keymap makes of them
depends on the layout (a US-programmed scanner on a German box turns 'Y' into 'Z').
We never trust the host keymap: the box config names the scanner's layout and
these tables decode the raw keycodes (see linux/input-event-codes.h).
"""

from __future__ import annotations

from dataclasses import dataclass

KEY_ENTER, KEY_TAB, KEY_KPENTER = 28, 15, 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK, KEY_RIGHTALT = 42, 54, 58, 100
TERMINATORS = frozenset({KEY_ENTER, KEY_KPENTER, KEY_TAB})
SHIFTS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
# Keys that carry no character and are ignored: ctrl, alt, meta.
IGNORED = frozenset({29, 97, 56, 125, 126})

_ROW_CODES = {
    "digits": range(2, 12),
    "top": range(16, 26),
    "home": range(30, 39),
    "bottom": range(44, 51),
}
_KEYPAD = {
    71: "7", 72: "8", 73: "9", 74: "-", 75: "4", 76: "5", 77: "6", 78: "+",
    79: "1", 80: "2", 81: "3", 82: "0", 83: ".", 55: "*", 98: "/",
}  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """Per-keycode characters: plain, with shift, and with AltGr."""

    name: str
    plain: dict[int, str]
    shifted: dict[int, str]
    altgr: dict[int, str]

    def char(self, keycode: int, *, shift: bool, altgr: bool, caps: bool) -> str | None:
        """The character for a key press, or None if the layout has none."""
        if altgr:
            return self.altgr.get(keycode)
        ch = self.plain.get(keycode)
        if ch is None:
            return None
        if ch.isalpha() and len(ch) == 1 and caps:
            shift = not shift
        return self.shifted.get(keycode, ch) if shift else ch


def _rows(digits: str, top: str, home: str, bottom: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for row, chars in zip(_ROW_CODES.values(), (digits, top, home, bottom), strict=True):
        out.update(zip(row, chars, strict=True))
    return out


def _layout(
    name: str,
    plain: tuple[str, ...],
    shifted: tuple[str, ...],
    extra: dict[int, tuple[str, str]],
    altgr: dict[int, str],
) -> Layout:
    p, s = _rows(*plain), _rows(*shifted)
    for code, (lo, hi) in extra.items():
        p[code], s[code] = lo, hi
    p[57] = s[57] = " "
    p.update(_KEYPAD)
    s.update(_KEYPAD)
    return Layout(name, p, s, altgr)


US = _layout(
    "us",
    ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"),
    ("!@#$%^&*()", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"),
    {12: ("-", "_"), 13: ("=", "+"), 26: ("[", "{"), 27: ("]", "}"), 39: (";", ":"),
     40: ("'", '"'), 41: ("`", "~"), 43: ("\\", "|"), 51: (",", "<"), 52: (".", ">"),
     53: ("/", "?")},
    {},
)  # fmt: skip

DE = _layout(
    "de",
    ("1234567890", "qwertzuiop", "asdfghjkl", "yxcvbnm"),
    ('!"§$%&/()=', "QWERTZUIOP", "ASDFGHJKL", "YXCVBNM"),
    {12: ("ß", "?"), 13: ("\u00b4", "`"), 26: ("ü", "Ü"), 27: ("+", "*"), 39: ("ö", "Ö"),
     40: ("ä", "Ä"), 41: ("^", "°"), 43: ("#", "'"), 51: (",", ";"), 52: (".", ":"),
     53: ("-", "_"), 86: ("<", ">")},
    {16: "@", 18: "€", 8: "{", 9: "[", 10: "]", 11: "}", 12: "\\", 27: "~", 86: "|",
     3: "²", 4: "³"},
)  # fmt: skip

LAYOUTS: dict[str, Layout] = {"us": US, "de": DE}


def get_layout(name: str) -> Layout:
    """A layout by name ('us', 'de'); ValueError for an unknown one."""
    try:
        return LAYOUTS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown keyboard layout {name!r}; known: {sorted(LAYOUTS)}") from None
