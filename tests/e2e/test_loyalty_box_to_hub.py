"""Loyalty from the till to the hub, every process real (FR-400, FR-401, FR-303): with the sync
agent gone the cashier enrols a customer (box-made id) and rings a sale that earns points,
redeems points of a carded customer on the next sale, refunds one line of the first sale;
the agent comes back, the real broker and hub ingest take the backlog, and the hub's balances
are what the till said: balance == ledger sum, the box's earned figure is the hub's, the
refunded line's points are reversed, no loyalty conflict is queued."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from hub.demo.customer_seed import demo_card
from posdomain.customer_fields import new_card
from scripts.demo import Stack
from scripts.demo_smoke import BoxClient, HubClient, login_of
from scripts.testkit.waiting import wait_until
from tests.e2e.conftest import hub_as
from tests.e2e.till_screen import empty_basket, ready_till

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]
ANNA = demo_card("290000000001")


def points(hub: HubClient, customer_id: str) -> tuple[int, list[dict[str, Any]]]:
    """(balance, every ledger row) of a customer on the hub."""
    url = f"{hub.base}/customers/{customer_id}/points"
    first = hub.http.get(url, params={"page_size": 100}, timeout=10)
    assert first.status_code == 200, first.text
    body = first.json()
    return int(body["balance"]), list(body["items"])


def hub_customer(hub: HubClient, customer_id: str) -> dict[str, Any] | None:
    resp = hub.http.get(f"{hub.base}/customers/{customer_id}", timeout=10)
    return dict(resp.json()) if resp.status_code == 200 else None


def synced(box: BoxClient) -> bool:
    status = box.call("GET", "/status")
    return bool(status["online"] and status["queued"] == 0)


def ring(box: BoxClient, codes: list[str], tendered: str = "100.00") -> dict[str, Any]:
    for code in codes:
        box.call("POST", "/basket/lines", json={"barcode": code})
    return dict(
        box.call(
            "POST",
            "/basket/pay",
            json={"tendered": tendered, "idempotency_key": uuid.uuid4().hex},
        )
    )


@pytest.mark.req("FR-400", "FR-401", "FR-303")
def test_offline_enrol_earn_redeem_refund_then_the_hub_balances_match(
    stack: tuple[Stack, dict[str, Any]],
) -> None:
    running, seed = stack
    box = ready_till(running, seed)
    hub = hub_as(running, seed, "TENANT_OWNER")
    codes = box.first_barcodes(3)
    wait_until(lambda: synced(box), 60, "the till synced before the test")
    box.call("POST", "/basket/lines", json={"barcode": codes[0]})
    attached = box.call("POST", "/basket/customer/card", json={"card": ANNA})
    anna_id = attached["customer"]["customer_id"]
    box.call("DELETE", "/basket/customer")
    empty_basket(box)
    anna_before, _rows = points(hub, anna_id)

    running.kill("box-sync")
    try:
        wait_until(lambda: not box.call("GET", "/status")["online"], 30, "the till offline")
        card = new_card()
        box.call("POST", "/basket/lines", json={"barcode": codes[0]})
        made = box.call("POST", "/customers", json={"card": card, "display_name": "Nora N."})
        nora = made["customer"]["customer_id"]
        first = ring(box, codes[1:3])  # three lines, one customer, earning
        assert first["customer"]["customer_id"] == nora
        earned_first = first["loyalty"]["earned"]
        assert earned_first > 0
        assert first["loyalty"]["offline"] is True

        box.call("POST", "/basket/lines", json={"barcode": codes[0]})
        box.call("POST", "/basket/lines", json={"barcode": codes[0]})
        box.call("POST", "/basket/customer/card", json={"card": ANNA})
        panel = box.call("POST", "/basket/redeem", json={"points": 200})
        assert panel["redeem_points"] == 200
        second = ring(box, [])
        assert second["loyalty"]["redeemed"] == 200
        assert second["tenders"][0] == {"kind": "points", "amount": "2.00", "points": 200}

        manager = login_of(seed, "BRANCH_MANAGER")["pin"]
        token = box.call(
            "POST",
            "/overrides",
            json={"action": "refund", "reason_code": "DEFECTIVE", "pin": manager},
        )["token"]
        refunded = first["lines"][-1]
        refund = box.call(
            "POST",
            "/refunds",
            json={
                "receipt": str(first["receipt_no"]),
                "lines": [{"line_no": refunded["line_no"], "qty": refunded["qty"]}],
                "tender": "cash",
                "override_token": token,
                "reason_code": "DEFECTIVE",
                "idempotency_key": uuid.uuid4().hex,
            },
        )
        assert refund["sale_id"] == first["sale_id"]
        assert hub_customer(hub, nora) is None  # the hub has heard nothing yet
    finally:
        running.restart("box-sync")
    wait_until(lambda: synced(box), 60, "the backlog acked by the hub")

    customer = wait_until(lambda: hub_customer(hub, nora), 10, "the enrolled customer")
    assert (customer["card"], customer["display_name"]) == (card, "Nora N.")
    balance, rows = points(hub, nora)
    assert balance == sum(r["points"] for r in rows)  # balance == ledger sum
    earn = {r["line_no"]: r["points"] for r in rows if r["kind"] == "earn"}
    assert sum(earn.values()) == earned_first  # the hub computed what the till showed
    reversal = [r["points"] for r in rows if r["kind"] == "earn_reversal"]
    assert earn[refunded["line_no"]] > 0  # the refunded line had earned points
    assert reversal == [-earn[refunded["line_no"]]]  # returns reverse the points (whole line)
    assert balance == earned_first - earn[refunded["line_no"]]

    anna_after, anna_rows = points(hub, anna_id)
    assert anna_after == sum(r["points"] for r in anna_rows)
    assert anna_after == anna_before - 200 + second["loyalty"]["earned"]
    queued = hub.http.get(f"{hub.base}/reconciliation", timeout=10).json()["items"]
    mine = {first["sale_id"], second["sale_id"]}
    assert [i for i in queued if i.get("sale_id") in mine and i["kind"].startswith("LOYALTY")] == []
