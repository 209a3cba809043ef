"""Till gaps on the cashier screen, by keyboard in real Chromium (FR-400, FR-300, FR-302;
issues 11 and 14): a loyalty card scanned before the first item attaches its holder; an
exchange (Shift+F6) brings an item of an earlier receipt back into the basket with a
manager's PIN, the cashier scans what the customer takes instead, and F9 pays the net, here
money back in cash (or, with F4, to a card); the HTML receipt shows both sides."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from scripts.demo import Stack
from scripts.demo_smoke import login_of
from tests.e2e.test_till_customers_browser import ANNA, directory_ready
from tests.e2e.till_screen import check_view, lines, open_till, ready_till, scan, type_over

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


def pay_by_keyboard(page: Any) -> str:
    """F9, Enter (the amount shown), wait for the done dialog; returns what it says."""
    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done[open]")
    return str(page.inner_text("#done"))


def tab_to(page: Any, element_id: str, most: int = 12) -> None:
    """Press Tab until `element_id` has the focus."""
    for _ in range(most):
        if page.evaluate("document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def sell_three(page: Any, code: str) -> str:
    """Three of `code`, paid by keyboard; the receipt number."""
    for _ in range(3):
        scan(page, code)
    lines(page, 3)
    done = pay_by_keyboard(page)
    receipt_no = page.inner_text("#receipt-no").split("#")[-1].strip()
    assert receipt_no.isdigit(), done
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", state="hidden")
    return str(receipt_no)


def bring_back_two(page: Any, receipt_no: str, pin: str) -> str:
    """Shift+F6, the receipt, one unit of each of its first two lines, the manager's PIN;
    the dialog's error text ("" when the items came back)."""
    page.keyboard.press("Shift+F6")
    page.wait_for_selector("#op[open]")
    page.wait_for_function("document.activeElement.id === 'exchange-code'")
    page.keyboard.type(receipt_no)
    page.keyboard.press("Enter")
    page.wait_for_selector("#exchange-lines input")
    type_over(page, "1")  # the first line's quantity has the focus (one scan, one line)
    page.keyboard.press("Tab")
    type_over(page, "1")  # and the second line's
    tab_to(page, "op-pin")
    page.keyboard.type(pin)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "!document.getElementById('op').open || !document.querySelector('#op .dlg-error').hidden"
    )
    error = page.locator("#op .dlg-error")
    return "" if error.is_hidden() else str(error.inner_text())


@pytest.mark.req("FR-400", "FR-401", "FR-300", "FR-302")
def test_card_first_then_an_exchange_giving_money_back_by_keyboard(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    """A sale with a loyalty card is not exchanged (its returned items would keep the points
    they earned): the dialog says to refund it (RETURN_BY_REFUND). A sale without a card is."""
    running, seed = stack
    box = ready_till(running, seed)
    code = box.first_barcodes(1)[0]
    directory_ready(box, code)
    page = open_till(browser, running, seed)
    pin = login_of(seed, "BRANCH_MANAGER")["pin"]

    scan(page, ANNA)  # the card before any item: the basket opens with the customer
    page.wait_for_selector("#loyalty:not([hidden])")
    assert "Anna K." in page.inner_text("#loyalty")
    assert page.locator("#error").is_hidden()
    with_card = sell_three(page, code)
    assert box.call("GET", "/basket/loyalty")["customer"] is None  # paid: the next basket is free
    page.wait_for_selector("#loyalty", state="hidden")
    refused = bring_back_two(page, with_card, pin)
    assert "loyalty card" in refused, refused
    assert "refund" in refused, refused
    page.keyboard.press("Escape")
    page.wait_for_selector("#op", state="hidden")
    assert [ln for ln in box.call("GET", "/basket")["lines"] if ln.get("return_of")] == []

    receipt_no = sell_three(page, code)  # no card this time
    assert bring_back_two(page, receipt_no, pin) == ""
    page.wait_for_selector("#lines tr.returned")
    scan(page, code)  # the customer keeps one of the three
    basket = box.call("GET", "/basket")
    returned = [ln for ln in basket["lines"] if ln.get("return_of")]
    assert [ln["qty"] for ln in returned] == ["-1", "-1"]
    net = Decimal(basket["total"])
    assert net < 0  # two back, one bought: money back
    assert "Returned" in page.inner_text("#lines")
    check_view(page, shots, "till-exchange")

    done = pay_by_keyboard(page)
    assert "Money back" in done
    sale_href = page.get_attribute("#show-receipt", "href")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", state="hidden")
    page.goto(f"http://127.0.0.1:{running.box_port}{sale_href}")
    text = page.inner_text("body")
    assert "Returned:" in text
    first = min(int(ln["return_of"]["line_no"]) for ln in returned)
    assert f"Return of receipt {receipt_no}, line {first}" in text, text
    page.screenshot(path=str(shots / "receipt-exchange.png"), full_page=True)
    page.close()


@pytest.mark.req("FR-300", "FR-302", "NFR-005")
def test_money_back_to_a_card_by_keyboard(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    """F4 on an exchange that gives money back: the tendered cash stays 0, the cashier types
    the amount back as the card amount and the terminal's refund reference; the sale pays out
    to the card (a negative card tender, no cash rounding, no drawer)."""
    running, seed = stack
    box = ready_till(running, seed)
    code = box.first_barcodes(1)[0]
    page = open_till(browser, running, seed)
    pin = login_of(seed, "BRANCH_MANAGER")["pin"]
    receipt_no = sell_three(page, code)
    assert bring_back_two(page, receipt_no, pin) == ""
    page.wait_for_selector("#lines tr.returned")
    back = -Decimal(box.call("GET", "/basket")["total"])
    assert back > 0
    page.keyboard.press("F4")
    page.wait_for_selector("#pay[open]")
    page.wait_for_function("document.activeElement.id === 'tendered'")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "card-amount"
    page.keyboard.type(f"{back:.2f}")
    page.keyboard.press("Tab")
    page.keyboard.type("RF-7781")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done[open]")
    assert "Money back" in page.inner_text("#done")
    sale_id = page.get_attribute("#show-receipt", "href").rsplit("/", 1)[-1]
    sale = box.call("GET", f"/sales/{sale_id}")
    assert sale["tenders"] == [{"kind": "card", "amount": f"{-back:.2f}", "reference": "RF-7781"}]
    assert sale["cash_rounding"] in ("0.00", "0")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", state="hidden")
    page.close()
