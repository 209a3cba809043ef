"""Issue 12 items 1-2 with real data flowing box -> broker -> hub: the till's X report, a line
void, a supervised no-sale and an age-checked sale reach REP-T-03, REP-T-13 and REP-T-16."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from scripts.demo_smoke import HubClient, login_of
from tests.e2e.conftest import cashier, hub_as
from tests.e2e.test_day_close_reconciles import wait_drained

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]
AGE_CHECKED = "Lager 6x330ml"  # 18+ in the demo catalog


def rows(hub: HubClient, rid: str, **args: Any) -> list[dict[str, Any]]:
    """Every row of a hub report (today in the branch, one big page)."""
    resp = hub.http.get(f"{hub.base}/reports/{rid}", params={"page_size": 200, **args}, timeout=10)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


@pytest.mark.req("FR-600", "FR-303")
def test_x_line_void_no_sale_and_age_check_reach_the_hub_reports(stack) -> None:
    running, seed = stack
    box = cashier(running, seed)
    codes = box.first_barcodes(2)
    box.call("POST", "/basket/lines", json={"barcode": codes[0]})
    basket = box.call("POST", "/basket/lines", json={"barcode": codes[1]})
    line_no = max(ln["line_no"] for ln in basket["lines"] if ln["sku"])
    taken = [ln for ln in basket["lines"] if ln["line_no"] >= line_no]  # with its deposit
    box.call("DELETE", f"/basket/lines/{line_no}")
    found = box.call("GET", "/products", params={"q": "Lager"})
    items = found.get("products", found) if isinstance(found, dict) else found
    (lager,) = [p for p in items if p["name"] == AGE_CHECKED]
    box.call("POST", "/basket/lines", json={"barcode": lager["barcodes"][0], "age_confirmed": True})
    box.call("POST", "/basket/pay", json={"tendered": "50.00", "idempotency_key": uuid.uuid4().hex})
    pin = login_of(seed, "BRANCH_MANAGER")["pin"]
    override = {"action": "no_sale", "reason_code": "CHANGE_REQUEST", "pin": pin}
    token = box.call("POST", "/overrides", json=override)["token"]
    box.call("POST", "/drawer/no-sale", json={"override_token": token})
    x = box.call("GET", "/shifts/current/x")
    wait_drained(box)

    owner = hub_as(running, seed, "TENANT_OWNER")
    (snap,) = [r for r in rows(owner, "REP-T-03") if r["shift_id"] == x["shift_id"]]
    assert (snap["sales"], snap["no_sale_opens"]) == (x["sales"]["count"], x["no_sale_opens"])
    assert Decimal(snap["net_total"]) == Decimal(x["net_total"])
    assert snap["cash_expected"] == x["tenders"][0]["expected"]
    exceptions = rows(owner, "REP-T-13")
    voids = [r for r in exceptions if r["kind"] == "line void" and taken[0]["sku"] in r["detail"]]
    assert voids, exceptions
    assert Decimal(voids[-1]["value"]) == sum(Decimal(ln["line_total"]) for ln in taken)
    no_sales = [r for r in exceptions if r["kind"] == "no-sale"]
    assert any(r["reason_code"] == "CHANGE_REQUEST" and r["approver_id"] for r in no_sales)
    checked = [r for r in rows(owner, "REP-T-16") if r["product"] == AGE_CHECKED]
    assert checked
    assert all(r["verified_by"] for r in checked)  # the cashier who confirmed the check
