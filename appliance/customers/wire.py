"""Card-directory and till-search bodies as the hub sends them (docs/CONTRACT.md), parsed once
at the edge (unknown fields ignored, a mismatch is 400 MALFORMED_MESSAGE)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from appliance.catalog.wire import MessageBody

MAX_POINTS = 10**9


class CardEntry(MessageBody):
    """One customer in the directory: only what the till needs (no e-mail, no phone)."""

    customer_id: str = Field(min_length=1, max_length=64)
    card: str | None = Field(default=None, max_length=20)
    display_name: str = Field(min_length=1, max_length=120)
    tier: str | None = Field(default=None, max_length=24)
    balance: int = Field(default=0, ge=-MAX_POINTS, le=MAX_POINTS)
    active: bool = True
    version: int = Field(default=0, ge=0)


class CardsHead(MessageBody):
    """The retained `down/cards` head: the tenant's current directory version."""

    head: Literal[True]
    version: int = Field(ge=0)


class CardsChunk(MessageBody):
    """One catch-up chunk: customers stamped in (from_version, to_version]."""

    head: Literal[False]
    from_version: int = Field(ge=0)
    to_version: int = Field(ge=0)
    cards: list[CardEntry] = Field(max_length=5000)
    last: bool


class SearchBody(MessageBody):
    """Body of a `customer_search` BoxReply: at most 10 directory entries."""

    query: str | None = None
    total: int = Field(default=0, ge=0)
    items: list[CardEntry] = Field(default_factory=list, max_length=50)


def entry_json(entry: CardEntry) -> dict[str, Any]:
    """The API form of an entry (what the till screen shows)."""
    return entry.model_dump()
