"""Issue 4 as a store would try it: a shift with a full basket, a refund under a supervisor
override, the network pulled while selling, then restored: the hub's totals equal the box's
Z report to the cent."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import psycopg2
import pytest

from scripts.demo import Stack
from scripts.demo_smoke import BoxClient, login_of
from tests.e2e.conftest import cashier, hub_as

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]

WEIGHED_BANANAS = "2800004012348"  # GS1 prefix 28: 1.234 kg of the demo's bananas
PASSATA = "8005000123454"  # the demo's "3 for 2.00" multi-buy


def hub_rows(stack: Stack, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows from the hub database (as its owner, for checking only)."""
    conn = psycopg2.connect(stack.env["CFPOS_HUB_ADMIN_DATABASE_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


def wait_drained(box: BoxClient, timeout: float = 60) -> None:
    """Until the box's outbox is empty (every event acked by the hub)."""
    deadline = time.monotonic() + timeout
    while box.call("GET", "/status")["queued"] and time.monotonic() < deadline:
        time.sleep(0.3)
    assert box.call("GET", "/status")["queued"] == 0


@pytest.mark.req("FR-300", "FR-303", "FR-304", "NFR-003")
def test_z_report_equals_hub_totals_after_refund_override_and_outage(stack) -> None:
    running, seed = stack
    box = cashier(running, seed)
    box.new_shift("100.00")  # this test's own shift: its Z holds exactly these sales

    basket = [*box.first_barcodes(6), WEIGHED_BANANAS, PASSATA, PASSATA, PASSATA]
    first = box.sell(basket, "200.00")
    assert Decimal(first["discount_total"]) > 0, "the multi-buy applied"
    token = box.call(
        "POST",
        "/overrides",
        json={
            "action": "refund",
            "reason_code": "DEFECTIVE",
            "pin": login_of(seed, "BRANCH_MANAGER")["pin"],
        },
    )["token"]
    refund = box.call(
        "POST",
        "/refunds",
        json={
            "receipt": str(first["receipt_no"]),
            "lines": [{"line_no": 1, "qty": "1"}],
            "override_token": token,
            "reason_code": "DEFECTIVE",
            "idempotency_key": uuid.uuid4().hex,
        },
    )

    running.kill("box-sync")  # the store's internet link goes down
    offline = [box.sell(box.first_barcodes(3), "50.00") for _ in range(4)]
    voided = box.sell(box.first_barcodes(2), "50.00")  # rung by mistake, post-voided offline
    void_token = box.call(
        "POST",
        "/overrides",
        json={
            "action": "post_void",
            "reason_code": "CASHIER_ERROR",
            "pin": login_of(seed, "BRANCH_MANAGER")["pin"],
        },
    )["token"]
    box.call(
        "POST",
        f"/sales/{voided['sale_id']}/void",
        json={"override_token": void_token, "reason_code": "CASHIER_ERROR"},
    )
    assert box.call("GET", "/status")["queued"] > 0
    running.restart("box-sync")
    wait_drained(box)

    expected = box.call("GET", "/shifts/current/x")["tenders"][0]["expected"]
    z_no = box.call("POST", "/shifts/current/close", json={"counted": {"cash": expected}})["z_no"]
    manager = BoxClient(running.box_port)
    manager.login(login_of(seed, "BRANCH_MANAGER")["pin"])
    z = manager.call("GET", f"/reports/z/{z_no}")
    z = z.get("report", z)
    wait_drained(box)

    sales = [first, *offline]
    ids = [s["sale_id"] for s in sales]
    hub_total = hub_rows(
        running,
        "SELECT count(*), coalesce(sum(total_minor), 0) FROM sales WHERE id = ANY(%s)",
        ids,
    )[0]
    assert hub_total[0] == len(sales), "every sale reached the hub exactly once"
    z_sales = Decimal(z["sales"]["total"])
    assert Decimal(hub_total[1]) / 100 == z_sales == sum(Decimal(s["total"]) for s in sales)
    hub_refund = hub_rows(
        running,
        "SELECT abs(total_minor) FROM box_refunds WHERE receipt_no = %s AND box_id = %s",
        refund["receipt_no"],
        seed["box_id"],
    )
    assert [Decimal(r[0]) / 100 for r in hub_refund] == [Decimal(z["refunds"]["total"])]
    hub_z = hub_rows(
        running,
        "SELECT net_total_minor FROM shift_reports WHERE box_id = %s AND z_no = %s",
        seed["box_id"],
        z_no,
    )
    assert [Decimal(r[0]) / 100 for r in hub_z] == [Decimal(z["net_total"])]
    assert Decimal(z["net_total"]) == z_sales - Decimal(z["refunds"]["total"])
    assert Decimal(z["tenders"][0]["difference"]) == 0
    assert z["voids"]["count"] == 1

    # finding 5: the hub marks the post-void and counts it out, and subtracts the refund,
    # exactly as the Z report does (report catalog: total = net + tax = Z net total)
    owner = hub_as(running, seed, "TENANT_OWNER")
    seen = {
        sid: owner.http.get(f"{owner.base}/sales/{sid}", timeout=10).json()
        for sid in [*ids, voided["sale_id"]]
    }
    assert seen[voided["sale_id"]]["voided"] is True
    kept = [s for s in seen.values() if not s["voided"]]
    assert len(kept) == z["sales"]["count"]
    hub_net_total = sum(Decimal(s["total"]) - Decimal(s["refunded"]) for s in kept)
    assert hub_net_total == Decimal(z["net_total"])
    assert [r["total"] for r in seen[first["sale_id"]]["refunds"]] == [refund["total"]]
