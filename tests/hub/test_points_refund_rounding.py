"""Hub ingest of the refunds of a sale paid partly with points under 0.05 cash rounding
(FR-303, FR-401): the documents a real box made (captured from the box test that checks their
figures) are accepted as they are, their rounding stored, and the points come back in full."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.core.db import tenant_tx
from hub.sales.models import BoxRefund
from tests.hub.conftest import enrol_box
from tests.hub.loyalty_helpers import _envelope, enable_loyalty, new_customer, rows, send

pytestmark = [pytest.mark.pg, pytest.mark.req("FR-303", "FR-401")]
T, B = "t-greenbasket", "b-downtown"
CAPTURED = Path(__file__).parent / "captured" / "points_refunds_rounding.json"


def _documents(customer_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The captured sale and refunds, for a hub customer and timed now."""
    doc = json.loads(CAPTURED.read_text(encoding="utf-8"))
    now = datetime.now(UTC).isoformat()
    sale, refunds = doc["sale"], doc["refunds"]
    sale["completed_at"] = now
    sale["customer"]["customer_id"] = sale["loyalty"]["customer_id"] = customer_id
    for refund in refunds:
        refund["completed_at"] = now
        refund["loyalty"]["customer_id"] = customer_id
    return sale, refunds


def test_refunds_rounding_only_their_cash_part_are_accepted(app: Any) -> None:
    enable_loyalty()
    box = enrol_box(T, B)
    cid = new_customer()
    sale, refunds = _documents(cid)
    events = [_envelope(box, 1, "sale.completed", sale)] + [
        _envelope(box, n, "refund.completed", r) for n, r in enumerate(refunds, start=2)
    ]
    ack = send(box, events)
    assert (len(ack.accepted), ack.rejected) == (5, [])
    with tenant_tx(T):
        stored = BoxRefund.select().where(BoxRefund.box_id == box).order_by(BoxRefund.receipt_no)
        assert [(r.total_minor, r.cash_rounding_minor) for r in stored] == [
            (-199, -1),
            (-199, -1),
            (-250, 3),
            (-199, -2),
        ]
    booked = rows(cid)
    returned = sum(p for kind, _n, p in booked if kind == "redeem_reversal")
    redeemed = -sum(p for kind, _n, p in booked if kind == "redeem")
    assert returned == redeemed == 213
