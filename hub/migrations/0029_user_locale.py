"""Issue 11 item 8 / NFR-007: a portal user's language.

`users.locale`: the language the portal shows a signed-in user (set by the language switch);
NULL = not chosen, the browser's Accept-Language decides. Only supported languages are
stored (hub/i18n/catalog.py SUPPORTED); the check keeps the column to a short tag.
"""

from __future__ import annotations

from typing import Any

STATEMENTS = [
    "ALTER TABLE users ADD COLUMN locale TEXT"
    " CHECK (locale IS NULL OR length(locale) BETWEEN 2 AND 10)",
]


def up(ctx: Any) -> None:
    """Add the user's portal language."""
    for stmt in STATEMENTS:
        ctx.execute(stmt)
