"""A cashier rings a sale in real headless Chromium with the keyboard alone (ui_guidelines.md)."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from scripts.demo import Stack
from scripts.demo_smoke import login_of
from tests.e2e.conftest import cashier, hub_as

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


@pytest.mark.req("FR-300", "FR-001", "NFR-007")
def test_keyboard_only_sale_in_the_browser_reaches_the_hub(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    codes = cashier(running, seed).first_barcodes(3)
    hub = hub_as(running, seed, "TENANT_OWNER")
    before = {s["sale_id"] for s in hub.sales()}
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"http://127.0.0.1:{running.box_port}/")
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.activeElement.id") == "pin", "the PIN field must have focus"

    page.keyboard.type(login_of(seed, "CASHIER")["pin"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#till:not([hidden])")
    for code in codes:
        page.keyboard.type(code)
        page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#lines tr').length === 3")

    page.keyboard.type("0000000000017")  # valid GTIN, not in the catalog
    page.keyboard.press("Enter")
    page.wait_for_selector("#error:not([hidden])")
    assert "UNKNOWN_BARCODE" in page.inner_text("#error")
    assert page.locator("#lines tr").count() == 3, "a failed scan must not add a line"
    page.screenshot(path=str(shots / "cashier-basket.png"))

    total = Decimal(page.inner_text("#total").split()[0])
    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    page.keyboard.type("100.00")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done[open]")
    change = Decimal(page.inner_text("#change").split()[0].replace(",", "."))
    assert change == Decimal("100.00") - total

    deadline = time.monotonic() + 30
    new: list[dict[str, Any]] = []
    while not new and time.monotonic() < deadline:
        new = [s for s in hub.sales() if s["sale_id"] not in before]
        time.sleep(0.3)
    assert len(new) == 1, "the browser sale must reach the hub exactly once"
    assert Decimal(str(new[0]["total"])) == total
    page.close()
