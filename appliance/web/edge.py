"""Input bounds at the box's edge, checked once before any view (issue 10 items 4 and 5).

Path, query (names and values) and JSON bodies (recursively, keys too) may not carry NUL or
another C0 control character (posdomain/text.py: tab, newline and carriage return
excepted): 400 INVALID_TEXT naming where. An `<int:...>` path parameter above
posdomain.openapi.MAX_PATH_INT (SQLite's integers stop at 2**63 - 1, and no Z report or
parked basket gets near 2**31) is 400 OUT_OF_RANGE. Money, quantities and weights are
bounded by the body models and posdomain.money.parse_money.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Request

from posdomain.errors import Reason, ValidationError
from posdomain.openapi import MAX_PATH_INT
from posdomain.text import control_paths, has_control, printable


def _query(request: Request) -> str | None:
    for key, value in request.args.items(multi=True):
        if has_control(key):
            return f"query argument name {printable(key)!r}"
        if has_control(value):
            return f"query argument {printable(key)!r}"
    return None


def _json_body(request: Request) -> str | None:
    raw = request.get_data(cache=True)
    try:
        data: Any = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None  # json_body answers MALFORMED_JSON
    where = next(control_paths(data), None)
    return None if where is None else f"JSON field {where}"


def control_text_location(request: Request) -> str | None:
    """Where the request carries a refused control character, or None if it is clean."""
    if has_control(request.path):
        return "path"
    found = _query(request)
    if found is None:  # every box body is JSON (json_body ignores the content type)
        return _json_body(request)
    return found


def check_request(request: Request) -> None:
    """400 INVALID_TEXT for a control character anywhere, OUT_OF_RANGE for a huge path int."""
    where = control_text_location(request)
    if where is not None:
        raise ValidationError(
            f"control characters are not allowed ({where})",
            Reason.INVALID_TEXT,
            {"where": where},
        )
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and not 0 <= value <= MAX_PATH_INT:
            raise ValidationError(
                f"{name} must be between 0 and {MAX_PATH_INT}",
                Reason.OUT_OF_RANGE,
                {"field": name},
            )
