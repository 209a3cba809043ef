"""Text hygiene shared by both apps: which characters no input string may carry.

NUL cannot be stored in PostgreSQL text or JSONB at all, and the other C0 control
characters (and DEL) have no business in names, ids, notes or CSV cells; tab, newline
and carriage return stay allowed because text areas and CSV files need them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

ALLOWED_CONTROLS = "\t\n\r"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control(text: str, *, allow_whitespace: bool = True) -> bool:
    """True if `text` holds a refused control character (tab/newline/CR allowed by default)."""
    pattern = _CONTROL if allow_whitespace else _ANY_CONTROL
    return pattern.search(text) is not None


def printable(text: str) -> str:
    """`text` with every control character written as an escape (safe for logs and JSONB)."""
    return _ANY_CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def printable_json(value: Any) -> Any:
    """A JSON-like value with every string (keys too) made printable."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(k)): printable_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_json(v) for v in value]
    return value


# in `json.dumps` output (ensure_ascii) every control character of a key or string (DEL
# too) is one of these escapes; a text without any of them has no control character
_DUMPED_CONTROL = re.compile(r"\\[bfnrt]|\\u00[01]|\\u007f|[\x00-\x1f\x7f]")


def printable_dumped(dumped: str) -> Any:
    """`printable_json(json.loads(dumped))` for the text of `json.dumps` (ensure_ascii, the
    default), without walking every string when the text shows no control character (a
    catalog import's audit details hold 100 000 products)."""
    value = json.loads(dumped)
    return printable_json(value) if _DUMPED_CONTROL.search(dumped) else value


def control_paths(value: Any, path: str = "") -> Iterator[str]:
    """Dotted paths of the strings (keys and values) in a JSON value that hold a control char."""
    if isinstance(value, str):
        if has_control(value):
            yield path or "$"
    elif isinstance(value, dict):
        for key, item in value.items():
            # the path is shown to the caller and logged: printable all the way down
            where = printable(f"{path}.{key}" if path else str(key))
            if has_control(str(key)):
                yield where
            yield from control_paths(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from control_paths(item, f"{path}.{i}" if path else str(i))
