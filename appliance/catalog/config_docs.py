"""Applied down-message bodies as stored in config_doc (a leaf: models and posdomain only)."""

from __future__ import annotations

import json
from typing import Any, cast

from appliance.catalog.models import ConfigDoc
from appliance.core.context import now_iso
from appliance.core.db import database
from posdomain.errors import Reason, ValidationError

# read on every till request: one constant statement (sqlite3 keeps it prepared), no ORM
_BODIES_SQL = "SELECT kind, body FROM config_doc WHERE kind IN ({})"


def body_texts(*kinds: str) -> dict[str, str]:
    """The stored (JSON) text of the applied bodies of these kinds, one query; a kind with
    no body yet is absent. The text is the cache key of whatever is parsed from it."""
    marks = ", ".join("?" * len(kinds))
    rows = cast(Any, database).execute_sql(_BODIES_SQL.format(marks), kinds).fetchall()
    return {str(kind): str(body) for kind, body in rows}


def config_body(kind: str) -> dict[str, Any] | None:
    """The applied body of a kind, if any (a fresh dict the caller may change)."""
    text = body_texts(kind).get(kind)
    return None if text is None else dict(json.loads(text))


def stored_version(kind: str) -> int:
    """The version of the body stored for a kind (0 before any): a constant statement, read
    several times per catalog chunk (peewee built this query in ~1 ms, issue 15 item 7)."""
    row = cast(Any, database).execute_sql(_VERSION_SQL, (kind,)).fetchone()
    return 0 if row is None else int(row[0])


_VERSION_SQL = "SELECT version FROM config_doc WHERE kind = ?"


def store_body(kind: str, version: int, body: dict[str, Any]) -> None:
    """Keep the latest applied body of a kind (inside the caller's write transaction)."""
    ConfigDoc.insert(
        kind=kind, version=version, body=json.dumps(body), applied_at=now_iso()
    ).on_conflict_replace().execute()


def exponent_of(body: dict[str, Any]) -> int:
    """The currency exponent of a config body (2 when the hub sends none)."""
    exponent = body.get("exponent")
    if exponent is None:
        return 2
    if not isinstance(exponent, int) or isinstance(exponent, bool) or not 0 <= exponent <= 4:
        raise ValidationError("config.exponent must be an integer 0..4", Reason.MALFORMED_MESSAGE)
    return exponent


def current_exponent() -> int:
    """Currency exponent from the applied config (2 until a config arrives)."""
    body = config_body("config")
    return 2 if body is None else exponent_of(body)
