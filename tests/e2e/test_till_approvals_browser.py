"""The back-office dialogs of the till, driven by keyboard in real Chromium, each with its error
path (FR-300, REP-T-03, NFR-007, ui_guidelines.md): refund by receipt, no-sale with a supervisor
override, the X report with every figure under its label."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scripts.demo import Stack
from scripts.demo_smoke import login_of
from tests.e2e.till_screen import (
    check_view,
    close_shift,
    closed_by_escape,
    dialog_error,
    open_till,
    ready_till,
    type_over,
)

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


def _tabs(page: Any, count: int, back: bool = False) -> None:
    for _ in range(count):
        page.keyboard.press("Shift+Tab" if back else "Tab")


@pytest.mark.req("FR-300", "NFR-007")
def test_refund_by_receipt_by_keyboard_unknown_receipt_too_much_then_done(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = ready_till(running, seed)
    sale = box.sell(box.first_barcodes(1), "50.00")
    manager_pin = login_of(seed, "BRANCH_MANAGER")["pin"]
    page = open_till(browser, running, seed)
    page.keyboard.press("F6")
    page.wait_for_selector("#op[open]")
    page.wait_for_function("document.activeElement.id === 'refund-code'")
    page.keyboard.type("999999")
    page.keyboard.press("Enter")
    assert "[NOT_FOUND]" in dialog_error(page, "op")

    type_over(page, str(sale["receipt_no"]))
    page.keyboard.press("Enter")  # the lookup answers 200: the lines show (no TypeError)
    page.wait_for_selector("#refund-lines table input")
    assert page.locator("#op .dlg-error").is_hidden()
    assert sale["lines"][0]["name"] in page.inner_text("#refund-lines")
    line_no = sale["lines"][0]["line_no"]  # basket line numbers run on after voids
    page.wait_for_function(f"document.activeElement.dataset.line === '{line_no}'")
    page.keyboard.type("5")  # one was sold
    _tabs(page, 4)  # product, tender, card reference, supervisor PIN
    page.keyboard.type(manager_pin)
    page.keyboard.press("Enter")
    assert "[REFUND_EXCEEDS_SALE]" in dialog_error(page, "op")
    check_view(page, shots, "till-refund", "#op")
    assert page.evaluate("document.getElementById('refund-tender').offsetHeight") >= 44

    _tabs(page, 4, back=True)
    type_over(page, "1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#info[open]")
    text = page.inner_text("#info-text")
    assert re.search(r"Refund #\d+: -\d+\.\d\d EUR paid out", text), text
    page.keyboard.press("Enter")
    page.wait_for_selector("#info", state="hidden")
    page.wait_for_function("document.activeElement.id === 'scan'")
    page.close()


@pytest.mark.req("FR-300", "NFR-007")
def test_no_sale_needs_a_supervisors_pin_and_a_wrong_one_keeps_the_cashier_in(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    ready_till(running, seed)
    page = open_till(browser, running, seed)
    page.keyboard.press("F12")
    page.wait_for_selector("#op[open] #op-approve:not([hidden])")
    page.wait_for_function("document.activeElement.id === 'op-pin'")
    page.keyboard.press("Enter")
    assert "[OVERRIDE_REQUIRED]" in dialog_error(page, "op")
    page.keyboard.type("0000")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('#op .dlg-error').textContent.includes('BAD_CREDENTIALS')"
    )
    assert page.locator("#till").is_visible(), "a supervisor's wrong PIN does not log out"
    check_view(page, shots, "till-no-sale", "#op")
    type_over(page, login_of(seed, "BRANCH_MANAGER")["pin"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#op", state="hidden")
    page.wait_for_function("document.activeElement.id === 'scan'")
    page.close()


@pytest.mark.req("FR-300", "NFR-007")
def test_x_report_shows_every_figure_under_its_label_and_needs_a_shift(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = ready_till(running, seed)
    box.sell(box.first_barcodes(2), "50.00")
    x = box.call("GET", "/shifts/current/x")
    page = open_till(browser, running, seed)
    page.keyboard.press("F11")
    page.wait_for_selector("#op[open] #x-report")
    text = page.inner_text("#x-report")
    for label in ("Opening float", "Cash sales", "Change given", "Expected in the drawer",
                  "Sales", "Refunds", "Post-voids", "No-sale drawer opens", "Tax by rate",
                  "Net total"):  # fmt: skip
        assert label in text, label
    assert "_" not in text, "no raw keys"
    assert "cash Expected" not in text
    sales_row = page.inner_text("#x-report tr:has(th:text-is('Sales'))")
    assert str(x["sales"]["count"]) in sales_row
    assert x["sales"]["total"] in sales_row
    for row in x["tax"]:
        assert row["tax"] in text
    check_view(page, shots, "till-x-report", "#op")
    closed_by_escape(page, "op")

    close_shift(box)
    page.keyboard.press("F11")
    page.wait_for_selector("#error:not([hidden])")
    assert "[SHIFT_NOT_OPEN]" in page.inner_text("#error")
    assert page.locator("#op").is_hidden()
    page.close()
    box.ensure_shift()
