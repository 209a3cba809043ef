"""Forecasts and compliance in the portal, in real Chromium, keyboard only (FR-P7-1005..1008,
FR-P7-1014..1018): the forecast views with their server-side sorting; a retention change on
the compliance page; a legal hold on a customer placed from their privacy page, shown on the
customer's record, refusing the erasure with its reason; released, the customer's data
exported and erased, and the erasure record shown. Screenshots via the `shots` fixture
(docs/screenshots with CFPOS_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.demo_smoke import login_of
from tests.e2e.conftest import cashier, hub_as
from tests.e2e.test_ops_portal_browser import _follow, _login, _submit, _tab_to

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


def _customer(base: str, seed: dict[str, Any]) -> str:
    owner = login_of(seed, "TENANT_OWNER")
    http = requests.Session()
    http.post(
        f"{base}/api/v1/auth/login",
        timeout=10,
        json={"username": owner["username"], "password": owner["password"]},
    )
    made = http.post(
        f"{base}/api/v1/customers",
        timeout=10,
        json={
            "display_name": "Priya Privacy",
            "email": "priya@example.test",
            "phone": "+3225550101",
            "new_card": True,
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _press_enter_on(page: Any, selector: str) -> None:
    _tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.req("FR-P7-1005", "FR-P7-1006", "FR-P7-1007", "FR-P7-1008")
def test_forecast_pages_by_keyboard(stack, browser, shots):
    running, seed = stack
    base = f"http://127.0.0.1:{running.hub_port}"
    box = cashier(running, seed)
    sale = box.sell(box.first_barcodes(2), "50.00")
    hub_as(running, seed, "TENANT_OWNER").wait_for_sale(sale["sale_id"])
    page: Any = browser.new_page(viewport={"width": 1280, "height": 1000})
    _login(page, base)
    _follow(page, base, "/forecasts")
    assert "Estimate:" in page.inner_text("#forecast-label")
    assert page.locator("tbody tr").count() >= 1
    _press_enter_on(page, "th a[href*='sort=-name']")  # sort by product name, on the server
    assert page.get_attribute("th[aria-sort]", "aria-sort") == "descending"
    assert "sort=-name" in page.url
    page.screenshot(path=str(shots / "hub-forecast-stock-out.png"), full_page=True)
    _follow(page, base, "/forecasts/sales-by-hour")
    assert page.locator("tbody tr").count() >= 1  # the rest of today
    _press_enter_on(page, "a[rel='next']")
    assert page.locator("tbody tr").count() >= 23  # a whole local day: 23, 24 or 25 hours
    assert "Europe/Brussels" in page.inner_text("#day-label")
    page.screenshot(path=str(shots / "hub-forecast-sales-by-hour.png"), full_page=True)
    _follow(page, base, "/forecasts/anomalies")
    _follow(page, base, "/forecasts/reorder")
    _tab_to(page, "#lead_time_days")
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    _submit(page)
    assert "lead_time_days=5" in page.url
    page.screenshot(path=str(shots / "hub-forecast-reorder.png"), full_page=True)
    page.close()


@pytest.mark.req("FR-P7-1014", "FR-P7-1015", "FR-P7-1016", "FR-P7-1017", "FR-P7-1018")
def test_holds_export_and_erasure_by_keyboard(stack, browser, shots):
    running, seed = stack
    base = f"http://127.0.0.1:{running.hub_port}"
    customer_id = _customer(base, seed)
    page: Any = browser.new_page(viewport={"width": 1280, "height": 1000})
    _login(page, base)
    _follow(page, base, "/compliance")
    _tab_to(page, "#keep-webhook_deliveries")
    page.keyboard.press("Control+A")
    page.keyboard.type("120")
    page.keyboard.press("Tab")
    page.keyboard.type("receiver contract: 4 months")
    _submit(page)
    assert "receiver contract" in page.content()
    page.screenshot(path=str(shots / "hub-compliance.png"), full_page=True)
    page.goto(f"{base}/customers/{customer_id}")
    _press_enter_on(page, f"a[href='/customers/{customer_id}/privacy']")
    _press_enter_on(page, f"a[href='/legal-holds?customer_id={customer_id}']")
    assert page.is_checked("#scope-customer")
    _tab_to(page, "#hold-reason")
    page.keyboard.type("court order 2026/117")
    _submit(page)
    assert page.locator("td", has_text="customer Priya Privacy").count() == 1
    page.screenshot(path=str(shots / "hub-legal-holds.png"), full_page=True)
    page.goto(f"{base}/customers/{customer_id}")
    assert "court order 2026/117" in page.inner_text("#legal-holds")  # shown on the record
    page.goto(f"{base}/customers/{customer_id}/privacy")
    _tab_to(page, "#erase-reason")
    page.keyboard.type("customer asked by e-mail")
    _tab_to(page, "#erase-confirm")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    refusal = page.inner_text("#form-error")
    assert "LEGAL_HOLD" in refusal
    assert "court order 2026/117" in refusal
    page.screenshot(path=str(shots / "hub-customer-erasure-refused.png"), full_page=True)
    page.goto(f"{base}/legal-holds?live=true")
    _press_enter_on(page, "button[aria-label^='Release the hold on customer Priya']")
    page.goto(f"{base}/customers/{customer_id}/privacy")
    _tab_to(page, "#pii-export")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert "priya@example.test" in Path(download.value.path()).read_text()
    _tab_to(page, "#erase-reason")
    page.keyboard.type("customer asked by e-mail")
    _tab_to(page, "#erase-confirm")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Personal data erased" in page.inner_text("#erasure-record")
    assert "priya@example.test" not in page.content()
    page.screenshot(path=str(shots / "hub-customer-erasure-record.png"), full_page=True)
    page.close()
