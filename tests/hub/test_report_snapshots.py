"""REP-T-03 on the hub (FR-600, FR-303): the box's X report snapshots (`shift.snapshot`) are
checked at ingest, the latest of each open shift is shown, one that does not add up is
refused with its reason and quarantined, and a shift leaves REP-T-03 when its Z arrives."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from hub.core.db import tenant_tx
from hub.sync.models import Quarantine
from scripts.testkit.crafted import T
from tests.hub.conftest import enrol_box, login
from tests.hub.ingest_helpers import envelope, rejected, send
from tests.hub.report_helpers import at_local, item, new_products, priced_sale, zoned_branch
from tests.posdomain.test_shift_checks import good, line_void

pytestmark = [pytest.mark.pg]
ZONE = "Europe/Berlin"


def x_of(shift_id: str, local: str, net: str = "11.93") -> dict[str, Any]:
    """A snapshot of `shift_id` taken at local time `local` (the good body's figures)."""
    body = good()
    at = at_local(ZONE, local)
    body.update(shift_id=shift_id, as_of=at.isoformat(), currency="EUR")
    body["opened_at"] = (at - timedelta(hours=3)).isoformat()
    return body


@pytest.mark.req("FR-600", "FR-303")
def test_the_latest_x_of_each_open_shift_is_rep_t_03(app, client):
    branch = zoned_branch(ZONE)
    box = enrol_box(T, branch)
    open_shift, closed_shift = str(uuid.uuid4()), str(uuid.uuid4())
    first = x_of(open_shift, "2026-06-12T11:00:00")
    later = x_of(open_shift, "2026-06-12T15:30:00")
    later["sales"]["count"] = 4
    broken = x_of(open_shift, "2026-06-12T16:00:00")
    broken["cash"]["expected"] = "99.99"  # does not follow from its own drawer lines
    events = [
        envelope(box, 1, first, "shift.snapshot", branch_id=branch),
        envelope(box, 2, later, "shift.snapshot", branch_id=branch),
        envelope(box, 3, broken, "shift.snapshot", branch_id=branch),
        envelope(box, 4, x_of(closed_shift, "2026-06-12T10:00:00"), "shift.snapshot",
                 branch_id=branch),
    ]  # fmt: skip
    ack = send(box, events)
    assert rejected(ack) == {3: "TOTALS_MISMATCH"}
    with tenant_tx(T):
        held = Quarantine.select().where(Quarantine.box_id == box).count()
    assert held == 1
    z = {
        "shift_id": closed_shift, "z_no": 1, "till": "Till 1", "cashier_id": "u-1",
        "opened_at": first["opened_at"], "as_of": first["as_of"], "net_total_minor": 1193,
    }  # fmt: skip
    ack = send(box, [envelope(box, 5, z, "shift.closed", branch_id=branch)])
    assert rejected(ack) == {}
    login(client, "owner")
    f = {"branches": branch, "date_from": "2026-06-12", "date_to": "2026-06-12"}
    body = client.get("/api/v1/reports/REP-T-03", query_string=f).get_json()
    (row,) = body["items"]  # the closed shift is on REP-T-04 now, not here
    # the later one, in the branch's local time
    assert (row["shift_id"], row["sales"], row["as_of"][:16]) == (open_shift, 4, "2026-06-12 15:30")
    assert (row["cash_expected"], row["card_expected"], row["net_total"]) == (
        "45.83", "4.00", "11.93",
    )  # fmt: skip
    assert row["box"]  # named, not an id
    other_day = {**f, "date_from": "2026-06-13", "date_to": "2026-06-13"}
    assert client.get("/api/v1/reports/REP-T-03", query_string=other_day).get_json()["items"] == []
    csv = client.get("/api/v1/reports/REP-T-03/csv", query_string=f)
    assert csv.status_code == 200
    assert open_shift in csv.get_data(as_text=True)


@pytest.mark.req("FR-600", "FR-303")
def test_line_voids_and_no_sales_are_rep_t_13_rows_and_age_checks_name_the_verifier(app, client):
    branch = zoned_branch(ZONE)
    box = enrol_box(T, branch)
    at = at_local(ZONE, "2026-06-15T09:30:00")
    void = line_void()
    void.update(voided_at=at.isoformat(), cashier_id="u-rep-cashier")
    no_sale = {"no_sale_id": "nosale:abc", "cashier_id": "u-rep-cashier",
               "approver_id": "u-manager", "reason_code": "CHANGE_REQUEST",
               "opened_at": (at + timedelta(minutes=5)).isoformat()}  # fmt: skip
    prods = new_products()
    sold = priced_sale(1, [item(prods[3], 1)], at + timedelta(minutes=9), cash=False)
    sold["lines"][0]["age_verified_by"] = "u-rep-cashier"
    bad = {**void, "line_void_id": "lv-2", "qty": "-1"}
    ack = send(
        box,
        [
            envelope(box, 1, void, "sale.line_voided", branch_id=branch),
            envelope(box, 2, no_sale, "drawer.no_sale", branch_id=branch),
            envelope(box, 3, bad, "sale.line_voided", branch_id=branch),
            envelope(box, 4, sold, branch_id=branch),
        ],
    )
    assert rejected(ack) == {3: "INVALID_QUANTITY"}
    login(client, "owner")
    f = {"branches": branch, "date_from": "2026-06-15", "date_to": "2026-06-15"}
    rows = client.get("/api/v1/reports/REP-T-13", query_string=f).get_json()["items"]
    got = sorted((r["kind"], r["value"], r["reason_code"], r["count"]) for r in rows)
    assert got == [("line void", "3.23", None, 1), ("no-sale", None, "CHANGE_REQUEST", 1)]
    assert len({r["who"] for r in rows}) == 1  # the same cashier, by name where known
    (age,) = client.get("/api/v1/reports/REP-T-16", query_string=f).get_json()["items"]
    assert age["verified_by"]
    assert (age["required_age"], age["value"]) == (18, sold["total"])
