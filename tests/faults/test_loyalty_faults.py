"""Loyalty exact under the sync faults we test sales with (FR-401, FR-303): a real box selling
to a carded customer through a SIGKILLed sync agent and a broker restart, and two boxes that
redeem the same balance while offline, publishing at once and each batch twice, through the
real ingest worker on the PRIVATE broker. Each ends with an exact balance check: the running
balance, the ledger sum and the points expected from the box's own sales are equal."""

from __future__ import annotations

import json
import sqlite3
import threading
from decimal import Decimal
from typing import Any

import pytest
import requests

from posdomain.loyalty import EarnLine, earn, parse_rules
from scripts.demo_smoke import login_of
from scripts.sync_harness import FaultStack, hub_rows, reconcile_box
from scripts.testkit.crafted import CraftedBox, Item, sale_payload
from scripts.testkit.waiting import wait_until

pytestmark = [pytest.mark.pg, pytest.mark.slow, pytest.mark.req("FR-401", "FR-303")]


class Hub:
    """The stack's hub API as the tenant owner."""

    def __init__(self, fs: FaultStack) -> None:
        self.base = f"http://127.0.0.1:{fs.stack.hub_port}/api/v1"
        self.http = requests.Session()
        owner = login_of(fs.seed, "TENANT_OWNER")
        self.http.post(
            f"{self.base}/auth/login",
            json={"username": owner["username"], "password": owner["password"]},
            timeout=10,
        ).raise_for_status()

    def call(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.http.request(method, self.base + path, timeout=10, **kw)
        assert resp.status_code < 400, resp.text
        return resp.json()


def _exact_balance(fs: FaultStack, customer_id: str, expected: int) -> None:
    running = hub_rows(
        fs.admin_dsn, "SELECT points FROM loyalty_balances WHERE customer_id = %s", (customer_id,)
    )
    summed = hub_rows(
        fs.admin_dsn,
        "SELECT COALESCE(SUM(points), 0) FROM loyalty_ledger WHERE customer_id = %s",
        (customer_id,),
    )
    assert (running[0][0] if running else 0, int(summed[0][0])) == (expected, expected)


def _expected_points(fs: FaultStack, customer_id: str, rules_body: dict[str, Any]) -> int:
    """Points the box's own sales to the customer earn (read from the box's SQLite file)."""
    conn = sqlite3.connect(f"file:{fs.box_db}?mode=ro", uri=True, timeout=10)
    try:
        payloads = [json.loads(r[0]) for r in conn.execute("SELECT payload FROM sales")]
    finally:
        conn.close()
    categories = dict(hub_rows(fs.admin_dsn, "SELECT id, category FROM products", ()))
    rules = parse_rules(rules_body)
    total = 0
    for p in payloads:
        if (p.get("customer") or {}).get("customer_id") != customer_id:
            continue
        lines = [
            EarnLine(
                ln["line_no"],
                Decimal(ln["line_total"]),
                Decimal(ln["tax"]),
                ln["tax_class"],
                categories.get(ln["product_id"]),
                ln.get("deposit_for_line") is not None,
            )
            for ln in p["lines"]
        ]
        total += earn(lines, rules).total
    return total


def _sell_to(box: Any, barcodes: list[str], customer_id: str) -> None:
    box.call("POST", "/basket/lines", json={"barcode": barcodes[0], "qty": 1})
    box.call("POST", "/basket/customer", json={"customer_id": customer_id, "name": "Fault F."})
    box.sell(barcodes[1:], "100.00")


def test_real_box_points_exact_through_agent_sigkill_and_broker_restart(fault_stack: FaultStack):
    fs = fault_stack
    hub = Hub(fs)
    rules_body = hub.call("GET", "/config/loyalty")["body"]
    cid = hub.call("POST", "/customers", json={"display_name": "Fault F.", "new_card": True})["id"]
    box = fs.cashier()
    codes = box.first_barcodes(3)
    for _ in range(6):
        _sell_to(box, codes, cid)
    fs.stack.kill("box-sync")  # mid-publish of the first sales
    for _ in range(4):
        _sell_to(box, codes, cid)
    fs.stack.restart("box-sync")
    fs.broker.stop()
    for _ in range(4):
        _sell_to(box, codes, cid)
    fs.broker.start()
    for _ in range(2):
        _sell_to(box, codes, cid)
    figures = reconcile_box(fs, timeout=90)
    assert figures["sales"] >= 16
    expected = _expected_points(fs, cid, rules_body)
    assert expected > 0
    wait_until(
        lambda: (
            hub_rows(
                fs.admin_dsn, "SELECT count(*) FROM loyalty_ledger WHERE customer_id = %s", (cid,)
            )[0][0]
            >= 16
        ),
        30,
        "the points",
    )
    _exact_balance(fs, cid, expected)


def _redeeming_sale(box: CraftedBox, seq: int, customer_id: str, version: int) -> dict[str, Any]:
    """4 x 1.00 at a zero rate, paid 3.00 cash (1.00 change) and 2.00 in points (200)."""
    ev = box.event(seq)
    p = sale_payload(seq, items=[Item(qty="4", unit_price="1.00", rate="0.00")])
    p.update(
        completed_at=ev["payload"]["completed_at"],
        change="1.00",
        tenders=[
            {"kind": "cash", "amount": "3.00"},
            {"kind": "points", "amount": "2.00", "points": 200},
        ],
    )
    ev["payload"] = p
    p["customer"] = {"customer_id": customer_id, "customer_name": "Twin T."}
    p["loyalty"] = {
        "customer_id": customer_id,
        "rules_version": version,
        "balance_before": 300,
        "earned": 8,
        "redeemed": 200,
        "redeemed_value": "2.00",
        "offline": True,
    }
    return ev


def test_two_boxes_redeem_the_same_balance_offline_flagged_once_and_resolved(fault_stack):
    fs = fault_stack
    hub = Hub(fs)
    version = hub.call("GET", "/config/loyalty")["version"]
    cid = hub.call("POST", "/customers", json={"display_name": "Twin T.", "new_card": True})["id"]
    hub.call(
        "POST",
        f"/customers/{cid}/points/adjustments",
        json={"points": 300, "reason_code": "GOODWILL", "note": "fault test"},
    )
    box_a, box_b = CraftedBox(fs), CraftedBox(fs)
    try:
        # both tills were offline and redeemed 200 of the 300 they both knew
        sales = {
            box_a: _redeeming_sale(box_a, 1, cid, version),
            box_b: _redeeming_sale(box_b, 1, cid, version),
        }
        acks: dict[str, list[Any]] = {}

        def publish(box: CraftedBox) -> None:  # the link comes back: each box sends twice
            acks[box.box_id] = [box.send([sales[box]]), box.send([sales[box]])]

        threads = [threading.Thread(target=publish, args=(b,)) for b in (box_a, box_b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for box in (box_a, box_b):
            first, second = acks[box.box_id]
            got = (len(first.accepted), first.rejected, len(second.duplicates))
            assert got == (1, [], 1), first.rejected
        _exact_balance(fs, cid, 300 - 200 - 200 + 8 + 8)
        items = hub.call(
            "GET", "/reconciliation", params={"kind": "LOYALTY_OVER_REDEMPTION", "state": "open"}
        )
        mine = [i for i in items["items"] if i["details"]["customer_id"] == cid]
        assert len(mine) == 1
        assert {r["box_id"] for r in mine[0]["details"]["redemptions"]} == {
            box_a.box_id,
            box_b.box_id,
        }
        resolved = hub.call(
            "POST",
            f"/reconciliation/{mine[0]['id']}/resolve",
            json={"note": "customer told; debt stands"},
        )
        assert resolved["state"] == "resolved"
        again = hub.http.post(
            f"{hub.base}/reconciliation/{mine[0]['id']}/resolve", json={"note": "x"}, timeout=10
        )
        assert again.status_code == 409
        audit = hub.call("GET", "/audit")["items"]
        assert any(
            e["action"] == "reconciliation.resolve"
            and e["target"] == f"reconciliation:{mine[0]['id']}"
            for e in audit
        )
    finally:
        box_a.close()
        box_b.close()
