"""Model base and field types every hub area's models use (the migrations own the DDL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from peewee import Field, Model

from hub.core.db import db


class JsonText(str):
    """A value already encoded as JSON text (e.g. an event's payload as the box sent it, in
    canonical form): a JsonField stores it as it is instead of encoding it again."""


class JsonField(Field):
    """JSON in a JSONB (PostgreSQL) or TEXT (SQLite) column."""

    field_type = "TEXT"

    def db_value(self, value: Any) -> Any:
        """Serialise for storage (a JsonText is JSON already)."""
        if type(value) is JsonText:
            return str(value)
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value: Any) -> Any:
        """psycopg2 already decodes JSONB; SQLite gives text."""
        return json.loads(value) if isinstance(value, str) else value


class UtcField(Field):
    """Timezone-aware UTC datetime in TIMESTAMPTZ (PostgreSQL) or ISO text (SQLite)."""

    field_type = "TEXT"

    def db_value(self, value: Any) -> Any:
        """Store as ISO-8601 UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()

    def python_value(self, value: Any) -> Any:
        """Always hand back an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


class BaseModel(Model):
    """Base of every hub model: bound to the shared database proxy."""

    class Meta:
        database = db
        legacy_table_names = False
