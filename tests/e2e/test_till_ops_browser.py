"""Till operations on the cashier screen in headless Chromium, keyboard only (FR-300,
ui_guidelines.md): open a shift (F10), park (F7) and resume (F8) a sale, pay card + cash (F4),
X report (F11)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from scripts.demo import Stack
from scripts.demo_smoke import login_of
from tests.e2e.conftest import cashier

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


@pytest.mark.req("FR-300", "NFR-007")
def test_shift_park_resume_split_tender_and_x_report_by_keyboard(
    stack: tuple[Stack, dict[str, Any]],
    browser: Any,
) -> None:
    running, seed = stack
    codes = cashier(running, seed).first_barcodes(2)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda d: d.accept())
    page.goto(f"http://127.0.0.1:{running.box_port}/")
    page.wait_for_selector("body[data-ready='1']")
    page.keyboard.type(login_of(seed, "CASHIER")["pin"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#till:not([hidden])")
    assert "F6" in page.inner_text(".shortcuts")

    page.keyboard.press("F10")
    page.wait_for_selector("#op[open]")
    if page.locator("#shift-float").count():
        page.keyboard.press("Control+A")
        page.keyboard.type("100.00")
        page.keyboard.press("Enter")
        page.wait_for_selector("#op", state="hidden")
    else:  # a shift is already open on the demo till: leave it
        page.keyboard.press("Escape")
        page.wait_for_function("document.activeElement.id === 'scan'")

    for code in codes:
        page.keyboard.type(code)
        page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#lines tr').length === 2")
    page.keyboard.press("F7")
    page.wait_for_selector("#park-label")
    page.keyboard.type("Blue coat")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#lines tr').length === 0")
    page.keyboard.press("F8")
    page.wait_for_selector("#op-body button")
    page.click("#op-body button >> text=Blue coat")
    page.wait_for_function("document.querySelectorAll('#lines tr').length === 2")

    total = Decimal(page.inner_text("#total").split()[0])
    page.keyboard.press("F4")
    page.wait_for_selector("#pay[open]")
    page.fill("#card-amount", "1.00")
    page.fill("#card-ref", "TID-42-AUTH")
    page.fill("#tendered", "100.00")
    page.click("#pay-confirm")
    page.wait_for_selector("#done[open]")
    change = Decimal(page.inner_text("#change").split()[0].replace(",", "."))
    assert abs(change - (Decimal("101.00") - total)) <= Decimal("0.02")  # card paid 1.00
    page.keyboard.press("Enter")

    page.keyboard.press("F11")
    page.wait_for_selector("#op[open] #op-body table")
    assert "Expected in the drawer" in page.inner_text("#op-body")
    page.click("#op-cancel")
    page.close()
