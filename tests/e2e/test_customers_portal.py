"""Customers and staff in the hub portal, driven by keyboard in real Chromium (FR-400, FR-401,
FR-102): a sale rung on the till for a demo customer shows in their history with its points;
a manager deactivates a cashier from the staff page.
Screenshots go to docs/screenshots with CFPOS_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts.demo import Stack
from scripts.demo_smoke import login_of
from scripts.testkit.waiting import wait_until
from tests.e2e.conftest import cashier

pytestmark = [pytest.mark.pg, pytest.mark.slow]
ANNA = "c-demo-0001"  # seeded by hub/demo/customer_seed.py


def _portal_login(page: Any, stack: Stack, seed: dict[str, Any], role: str) -> None:
    user = login_of(seed, role)
    page.goto(f"http://127.0.0.1:{stack.hub_port}/login")
    page.focus("#username")
    page.keyboard.type(user["username"])
    page.keyboard.press("Tab")
    page.keyboard.type(user["password"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/")


@pytest.mark.req("FR-400", "FR-401")
def test_customer_search_history_and_points_by_keyboard(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = cashier(running, seed)
    codes = box.first_barcodes(2)
    box.call("POST", "/basket/lines", json={"barcode": codes[0], "qty": 1})
    box.call("POST", "/basket/customer", json={"customer_id": ANNA, "name": "Anna K."})
    sale = box.sell(codes[1:], "50.00")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _portal_login(page, running, seed, "TENANT_OWNER")
    page.goto(f"http://127.0.0.1:{running.hub_port}/customers")
    page.keyboard.type("karlsson")  # the search box has the focus
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Anna K.")
    page.screenshot(path=str(shots / "hub-customers.png"), full_page=True)
    page.focus("a:has-text('Anna K.')")
    page.keyboard.press("Enter")
    page.wait_for_selector("#balance")

    def sale_listed() -> bool:
        page.reload()
        return sale["receipt_no"] is not None and page.locator("td", has_text="sale").count() > 0

    wait_until(sale_listed, 30, "the sale in the customer's history")
    before = int(page.inner_text("#balance"))
    assert before > 500  # the welcome bonus plus the sale's points
    page.screenshot(path=str(shots / "hub-customer-detail.png"), full_page=True)
    page.focus("#points")
    page.keyboard.type("-3")
    page.keyboard.press("Enter")  # submits the adjustment with the first reason code
    page.wait_for_function(f"document.querySelector('#balance').innerText == '{before - 3}'")
    page.close()


@pytest.mark.req("FR-102")
def test_manager_deactivates_a_cashier_from_the_staff_page(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _portal_login(page, running, seed, "BRANCH_MANAGER")
    page.goto(f"http://127.0.0.1:{running.hub_port}/staff/new")
    page.focus("#username")
    page.keyboard.type("temp.cashier")
    page.keyboard.press("Tab")
    page.keyboard.type("Tess Temp")
    page.check("input[name=branch_ids][value=b-downtown]")
    page.focus("#save-staff")
    page.keyboard.press("Enter")
    page.wait_for_selector("#toggle-active")
    page.focus("#reset-pin")
    page.keyboard.press("Enter")
    page.wait_for_selector("#new-pin")
    page.screenshot(path=str(shots / "hub-staff-edit.png"), full_page=True)
    page.focus("#toggle-active")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=inactive")
    page.goto(f"http://127.0.0.1:{running.hub_port}/staff")
    page.screenshot(path=str(shots / "hub-staff.png"), full_page=True)
    assert page.locator("tr", has_text="Tess Temp").locator("text=inactive").count() == 1
    page.close()
