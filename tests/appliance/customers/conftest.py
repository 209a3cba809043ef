"""Fixtures of the till's customer and loyalty tests: rules and flag on, a card directory."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from firmware_config.schema import BoxConfig
from posdomain.customer_fields import new_card
from tests.appliance.factories import config_body, down

RULES: dict[str, Any] = {
    "earn": {"points_per_unit": "10", "basis": "net", "category_multipliers": {"DAIRY": "2"}},
    "redeem": {
        "points_per_unit": "100",
        "min_balance": 100,
        "max_share": "0.5",
        "offline_cap_points": 300,
    },
    "tiers": {"levels": [{"name": "GOLD", "threshold": "100", "multiplier": "2"}]},
}
ANNA, BERT = "c-anna", "c-bert"
CARDS = {ANNA: new_card(), BERT: new_card()}


def entry(cid: str, version: int, balance: int = 0, **extra: Any) -> dict[str, Any]:
    """A card-directory entry as the hub sends it."""
    return {
        "customer_id": cid,
        "card": CARDS.get(cid),
        "display_name": {"c-anna": "Anna K.", "c-bert": "Bert L."}.get(cid, "Someone"),
        "tier": None,
        "balance": balance,
        "active": True,
        "version": version,
        **extra,
    }


def cards_chunk(frm: int, to: int, entries: list[dict[str, Any]], last: bool = True):
    """A `cards` catch-up chunk down message."""
    body = {"head": False, "from_version": frm, "to_version": to, "cards": entries, "last": last}
    return down("cards", max(to, 1), body)


def go_online(db: SqliteDatabase) -> None:
    """What the sync agent writes while the hub answers (agent alive, hub acked just now)."""
    now = datetime.now(UTC).isoformat()
    db.execute_sql("UPDATE box_state SET agent_seen_at = ?, last_ack_at = ?", (now, now))


@pytest.fixture
def loyal(box_config: BoxConfig, box_db: SqliteDatabase) -> BoxContext:
    """Loyalty rules (version 3) and flag on; Anna holds 500 points, Bert 50 (directory v2)."""
    ctx = BoxContext(box_config)
    body = config_body()
    body["loyalty"] = {"version": 3, "rules": RULES}
    assert down_messages.apply_down(ctx, down("config", 2, body))
    assert down_messages.apply_down(ctx, down("flags", 1, {"loyalty_rules": True}))
    chunk = cards_chunk(0, 2, [entry(ANNA, 1, 500), entry(BERT, 2, 50)])
    assert down_messages.apply_down(ctx, chunk)
    return ctx
