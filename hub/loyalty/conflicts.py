"""Loyalty disagreements found at ingest, queued as reconciliation items (FR-303, FR-401).

The sale is always kept and its facts booked as they happened at the till (a redemption the
customer already got is deducted even if it takes the balance below zero); each disagreement
becomes one `reconciliation_items` row in the batch's transaction, unique per (event, kind):

* `LOYALTY_OVER_REDEMPTION` — after a redemption the balance is below zero: several boxes
  redeemed the same balance offline (details: balance after, this and the other recent
  redemptions with their boxes). A manager resolves it (audited), usually with an
  `OVER_REDEMPTION` manual adjustment or a note that the debt stands.
* `LOYALTY_REDEMPTION_RULES` — the redemption breaks the rules version the box named
  (minimum balance, more than the balance the box knew, maximum share, value not whole, or a
  value that does not match the points).
* `LOYALTY_EARN_MISMATCH` — the points the box printed differ from the hub's computation;
  the hub's figure is booked.
* `LOYALTY_FACTS_INVALID` — the sale's `loyalty` block is malformed (e.g. fractional points);
  nothing is booked for it.
* `LOYALTY_CUSTOMER_UNKNOWN` — loyalty facts for a customer the tenant does not have.
* `LOYALTY_RULES_UNKNOWN` — the box named a rules version the hub does not hold; the current
  rules are used.
* `CUSTOMER_CARD_CONFLICT` — a card enrolled at a till is already another customer's; the
  new customer is kept without the card.
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.core.bulk import insert_rows
from hub.core.models import utcnow
from hub.identity.models import Box
from hub.sync.models import ReconciliationItem

KINDS = (
    "LOYALTY_OVER_REDEMPTION",
    "LOYALTY_REDEMPTION_RULES",
    "LOYALTY_EARN_MISMATCH",
    "LOYALTY_FACTS_INVALID",
    "LOYALTY_CUSTOMER_UNKNOWN",
    "LOYALTY_RULES_UNKNOWN",
    "CUSTOMER_CARD_CONFLICT",
)


def raise_item(
    box: Box, event_id: str, sale_id: str | None, kind: str, details: dict[str, Any]
) -> None:
    """Queue one conflict (caller's transaction; a redelivered event never doubles it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown loyalty conflict {kind}")
    row = {
        "id": str(uuid.uuid4()),
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "box_id": box.box_id,
        "event_id": event_id,
        "sale_id": sale_id,
        "kind": kind,
        "details": details,
        "state": "open",
        "created_at": utcnow(),
    }
    insert_rows(ReconciliationItem, [row], suffix="ON CONFLICT (event_id, kind) DO NOTHING")
