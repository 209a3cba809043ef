"""Canonical JSON encoding: the one byte form that hashes and signatures are computed over."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not canonically encodable: {type(value).__name__}")


def canonical_text(value: Any) -> str:
    """The canonical JSON as text (before UTF-8): a JSON object's text is its members' texts
    in key order, so a part's text can be spliced into its whole's."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, Decimal and datetime as strings."""
    return canonical_text(value).encode("utf-8")
