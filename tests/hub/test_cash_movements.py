"""Drops and paid-outs on the hub (FR-303 ingest, FR-600 REP-T-05, FR-100 tenant isolation):
the till's `drawer.cash_movement` events are checked at ingest, stored once, refused with a
stable reason (quarantined, never acked as held) when forged or nonsense, and REP-T-05 takes
the day's paid-outs from them — during the day, before any Z — counting a shift's paid-outs
once whether its Z arrives or not, and a Z's own figure only for a box that sent no events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.core.db import tenant_tx
from hub.sales.models import CashMovement
from hub.sync.models import Quarantine
from scripts.testkit.crafted import T
from tests.hub.conftest import enrol_box, login
from tests.hub.ingest_helpers import acked_ids, envelope, rejected, send
from tests.hub.report_helpers import at_local, item, new_products, priced_sale, zoned_branch
from tests.hub.test_bank_deposits import ZONE, at_day, z_closed

pytestmark = [pytest.mark.pg]
TYPE = "drawer.cash_movement"


def movement(at: datetime, amount: str = "12.40", **over: Any) -> dict[str, Any]:
    """A drawer.cash_movement payload as the till writes it (a paid-out by default)."""
    body = {
        "movement_id": str(uuid.uuid4()),
        "kind": "paid_out",
        "amount": amount,
        "currency": "EUR",
        "exponent": 2,
        "reason_code": "SUPPLIER_PAYMENT",
        "shift_id": "sh-1",
        "cashier_id": "u-rep-cashier",
        "business_day": at_day(at),
        "note": "milkman",
        "moved_at": at.isoformat(),
    }
    body.update(over)
    return body


def stored(box: str) -> list[CashMovement]:
    with tenant_tx(T):
        return list(CashMovement.select().where(CashMovement.box_id == box))


@pytest.mark.req("FR-303", "FR-100", "FR-600")
def test_movements_are_checked_stored_once_and_forgeries_refused(app):
    branch = zoned_branch(ZONE)
    box = enrol_box(T, branch)
    now = datetime.now(UTC) - timedelta(minutes=5)
    good = envelope(box, 1, movement(now), TYPE, branch_id=branch)
    drop = envelope(box, 2, movement(now, "50.00", kind="drop", reason_code=None), TYPE,
                    branch_id=branch)  # fmt: skip
    ack = send(box, [good, drop])
    assert rejected(ack) == {}
    assert {good["event_id"], drop["event_id"]} <= acked_ids(ack)
    rows = sorted(stored(box), key=lambda r: r.kind)
    assert [(r.kind, r.amount_minor, r.reason_code, r.branch_id) for r in rows] == [
        ("drop", 5000, None, branch),
        ("paid_out", 1240, "SUPPLIER_PAYMENT", branch),
    ]
    again = send(box, [good])  # a retry after a lost ack: a duplicate, still one row
    assert good["event_id"] in {str(e) for e in again.duplicates}
    assert len(stored(box)) == 2
    bad_payloads = {
        3: (movement(now, "0.00"), "INVALID_MONEY"),
        4: (movement(now, "-12.00"), "INVALID_MONEY"),
        5: (movement(now, "1.005"), "INVALID_MONEY"),
        6: (movement(now, "NaN"), "INVALID_MONEY"),
        7: (movement(now, "99999999999999.00"), "INVALID_MONEY"),
        8: (movement(now, currency="USD"), "CURRENCY_MISMATCH"),
        9: (movement(now, reason_code=None), "REASON_REQUIRED"),
        10: (movement(now, business_day="2020-01-01"), "DEPOSIT_DAY_OUT_OF_RANGE"),
        11: (movement(now, kind="refund"), "MALFORMED_MESSAGE"),
        12: (movement(now, amount=12.5), "MALFORMED_MESSAGE"),  # a float is not money
        13: (movement(now, shift_id=None), "MALFORMED_MESSAGE"),
        14: (movement(now, moved_at="2001-01-01T00:00:00+00:00", business_day="2001-01-01"),
             "TIMESTAMP_OUT_OF_RANGE"),
        15: ({**movement(now), "movement_id": good["payload"]["movement_id"]},
             "DOCUMENT_ID_CONFLICT"),  # a new event naming a movement the hub holds
    }  # fmt: skip
    events = [
        envelope(box, seq, body, TYPE, branch_id=branch) for seq, (body, _) in bad_payloads.items()
    ]
    forged_tenant = envelope(box, 16, movement(now), TYPE, tenant_id="t-harborfoods",
                             branch_id=branch)  # fmt: skip
    forged_branch = envelope(box, 17, movement(now), TYPE, branch_id="b-other")
    ack = send(box, [*events, forged_tenant, forged_branch])
    want = {seq: reason for seq, (_, reason) in bad_payloads.items()}
    assert rejected(ack) == {**want, 16: "TENANT_MISMATCH", 17: "BRANCH_MISMATCH"}
    refused_ids = {e["event_id"] for e in [*events, forged_tenant, forged_branch]}
    assert not refused_ids & acked_ids(ack)  # never acked as delivered
    assert len(stored(box)) == 2
    with tenant_tx(T):
        held = Quarantine.select().where(Quarantine.box_id == box).count()
    assert held == len(refused_ids)


def _rep_t_05(client: Any, branch: str, day: str, **extra: str) -> dict[str, Any]:
    f = {"branches": branch, "date_from": day, "date_to": day, **extra}
    resp = client.get("/api/v1/reports/REP-T-05", query_string=f)
    assert resp.status_code == 200, resp.get_json()
    return dict(resp.get_json())


@pytest.mark.req("FR-600", "FR-303")
def test_rep_t_05_takes_paid_outs_from_the_events_once(app, client):
    branch = zoned_branch(ZONE)
    box = enrol_box(T, branch)
    prods = new_products()
    day = "2026-06-23"
    at = at_local(ZONE, f"{day}T09:00:00")
    shift = str(uuid.uuid4())
    sale = priced_sale(1, [item(prods[0], 3)], at, cash=True)
    events = [
        envelope(box, 1, sale, branch_id=branch),
        envelope(box, 2, movement(at + timedelta(hours=1), "3.00", shift_id=shift), TYPE,
                 branch_id=branch),
        envelope(box, 3, movement(at + timedelta(hours=2), "1.50", shift_id=shift,
                                  reason_code="PETTY_CASH"), TYPE, branch_id=branch),
        envelope(box, 4, movement(at + timedelta(hours=3), "40.00", shift_id=shift, kind="drop",
                                  reason_code=None), TYPE, branch_id=branch),
    ]  # fmt: skip
    assert rejected(send(box, events)) == {}
    login(client, "owner")
    # during the day, before the Z: the paid-outs are there already; the drop is not one
    (row,) = _rep_t_05(client, branch, day)["items"]
    assert row["paid_outs"] == "4.50"
    cash_in = row["cash_tenders"]
    # the Z of that shift names the same paid-outs: still counted once
    close = at_local(ZONE, f"{day}T20:00:00")
    z = envelope(box, 5, z_closed(shift, close, "0.00", "4.50"), "shift.closed", branch_id=branch)
    assert rejected(send(box, [z])) == {}
    body = _rep_t_05(client, branch, day)
    (row,) = body["items"]
    assert (row["paid_outs"], row["cash_tenders"]) == ("4.50", cash_in)
    assert body["totals"]["paid_outs"] == "4.50"
    # another box of the branch on an older release: its Z's paid-outs, no events
    old_box = enrol_box(T, branch)
    old_z = envelope(old_box, 1, z_closed(str(uuid.uuid4()), close, "0.00", "2.00"),
                     "shift.closed", branch_id=branch)  # fmt: skip
    assert rejected(send(old_box, [old_z])) == {}
    (row,) = _rep_t_05(client, branch, day)["items"]
    assert row["paid_outs"] == "6.50"
    # REP-T-04 lists each box's Z on its own with the box filter
    f = {"branches": branch, "date_from": day, "date_to": day, "box_id": old_box}
    zs = client.get("/api/v1/reports/REP-T-04", query_string=f).get_json()["items"]
    assert [z["shift_id"] for z in zs] == [old_z["payload"]["shift_id"]]
    # a day with a paid-out and no sale still gets its row
    lone = movement(at + timedelta(days=1), "2.25", shift_id=str(uuid.uuid4()))
    assert rejected(send(box, [envelope(box, 6, lone, TYPE, branch_id=branch)])) == {}
    (only,) = _rep_t_05(client, branch, "2026-06-24")["items"]
    assert (only["paid_outs"], only["deposits"]) == ("2.25", "0.00")
    # no cash taken in, 2.25 paid out of the float: the day has -2.25 to bank, 0 banked
    assert only["deposit_over_short"] == "2.25"
