"""Text hygiene at the edge: every string a request carries is checked once, before any view.

Path, query (names and values), form fields, JSON bodies (recursively, keys too) and
uploaded or posted CSV text may not carry NUL or another C0 control character (tab, newline
and carriage return excepted: text areas and CSV need them). PostgreSQL cannot store NUL in
text or JSONB at all, so before this check one such byte anywhere answered 500.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Request

from posdomain.errors import Reason, ValidationError
from posdomain.text import control_paths, has_control, printable

CSV_TYPES = frozenset({"text/csv", "text/plain", "application/csv"})


def _multi(items: Any, where: str) -> str | None:
    for key, value in items(multi=True):
        if has_control(key):
            return f"{where} name {printable(key)!r}"
        if isinstance(value, str) and has_control(value):
            return f"{where} {printable(key)!r}"
    return None


def _json_body(request: Request) -> str | None:
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None  # parse_body answers MALFORMED_JSON
    where = next(control_paths(data), None)
    return None if where is None else f"JSON field {where}"


def _text_bytes(raw: bytes) -> bool:
    try:
        return has_control(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return False  # the CSV reader answers "must be UTF-8"


def _uploads(request: Request) -> str | None:
    for name, upload in request.files.items(multi=True):
        raw = upload.stream.read()
        upload.stream.seek(0)
        if _text_bytes(raw):
            return f"uploaded file {printable(name)!r}"
    return None


def control_text_location(request: Request) -> str | None:
    """Where the request carries a refused control character, or None if it is clean."""
    if has_control(request.path):
        return "path"
    found = _multi(request.args.items, "query argument")
    if found:
        return found
    if request.is_json:
        return _json_body(request)
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return _multi(request.form.items, "form field") or _uploads(request)
    if request.mimetype in CSV_TYPES and _text_bytes(request.get_data(cache=True)):
        return "CSV body"
    return None


def refuse_control_text(request: Request) -> None:
    """400 INVALID_TEXT naming where a NUL or other control character was found."""
    where = control_text_location(request)
    if where is not None:
        raise ValidationError(
            f"control characters are not allowed ({where})",
            Reason.INVALID_TEXT,
            {"where": where},
        )
