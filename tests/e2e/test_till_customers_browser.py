"""Customers and points on the cashier screen, by keyboard in real Chromium (FR-400, FR-401,
NFR-007, ui_guidelines.md): attach by typed card (an unknown card says so in the dialog),
search by name through the hub, enrol a new customer with the card handed out, redeem points
(too many is refused with its reason), pay the rest, the receipt with card tail and points;
with the sync agent gone the search says it needs the hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.demo.customer_seed import demo_card
from posdomain.customer_fields import new_card
from scripts.demo import Stack
from scripts.testkit.waiting import wait_until
from tests.e2e.till_screen import (
    check_view,
    closed_by_escape,
    dialog_error,
    empty_basket,
    lines,
    open_till,
    ready_till,
    scan,
    type_over,
)

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]
ANNA = demo_card("290000000001")


def directory_ready(box: Any, code: str) -> None:
    """Wait until the card directory (asked by the sync agent at start) holds Anna's card."""
    box.call("POST", "/basket/lines", json={"barcode": code})

    def known() -> bool:
        resp = box.http.post(box.base + "/basket/customer/card", json={"card": ANNA}, timeout=5)
        return resp.status_code == 200

    wait_until(known, 40, "the card directory on the box")
    box.call("DELETE", "/basket/customer")
    empty_basket(box)


def open_customer(page: Any) -> None:
    page.keyboard.press("F2")
    page.wait_for_selector("#cust[open]")
    page.wait_for_function("document.activeElement.id === 'cust-card'")


@pytest.mark.req("FR-400", "FR-401", "NFR-007")
def test_attach_search_enrol_and_redeem_by_keyboard(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = ready_till(running, seed)
    code = box.first_barcodes(1)[0]
    directory_ready(box, code)
    page = open_till(browser, running, seed)
    for _ in range(3):
        scan(page, code)
    lines(page, 3)

    open_customer(page)
    page.keyboard.type(new_card())
    page.keyboard.press("Enter")
    assert "[UNKNOWN_CARD]" in dialog_error(page, "cust")
    type_over(page, ANNA)
    page.keyboard.press("Enter")
    page.wait_for_selector("#cust", state="hidden")
    page.wait_for_selector("#loyalty:not([hidden])")
    strip = page.inner_text("#loyalty")
    assert "Anna K." in strip
    assert ANNA[-4:] in strip
    assert ANNA not in strip  # the card's tail only
    assert "Earns" in strip
    check_view(page, shots, "till-customer-attached")

    open_customer(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.wait_for_function("document.activeElement.id === 'cust-query'")
    page.keyboard.type("Karlsson")  # the full name is on the hub only: the hub answers
    page.keyboard.press("Enter")
    page.wait_for_selector("#cust-results button")
    assert "Anna K." in page.inner_text("#cust-results")
    assert "+3247" not in page.inner_text("#cust-results")
    check_view(page, shots, "till-customer-search", "#cust")
    page.keyboard.press("Enter")  # the first hit has the focus
    page.wait_for_selector("#cust", state="hidden")

    page.keyboard.press("F3")
    page.wait_for_selector("#redeem[open]")
    page.wait_for_function("document.activeElement.id === 'redeem-points'")
    type_over(page, "99999")
    page.keyboard.press("Enter")
    assert "[REDEMPTION_EXCEEDS_BALANCE]" in dialog_error(page, "redeem")
    check_view(page, shots, "till-redeem-points", "#redeem")
    type_over(page, "200")
    page.keyboard.press("Enter")
    page.wait_for_selector("#redeem", state="hidden")
    assert "200 pts (\u22122.00)" in page.inner_text("#loyalty")  # a minus sign
    basket = box.call("GET", "/basket")
    due = box.call("GET", "/basket/loyalty")["to_pay"]
    assert float(due) == pytest.approx(float(basket["total"]) - 2.0)

    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    assert page.inner_text("#pay-total") == due
    page.keyboard.press("Enter")
    page.wait_for_selector("#done[open]")
    receipt_href = page.get_attribute("#show-receipt", "href")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", state="hidden")
    root = f"http://127.0.0.1:{running.box_port}"
    page.goto(root + str(receipt_href))  # the cashier's session may see the receipt
    text = page.inner_text("body")
    assert f"…{ANNA[-4:]}" in text
    assert "Points redeemed: 200 (2.00)" in text
    assert "Points earned:" in text
    page.screenshot(path=str(shots / "receipt-loyalty.png"), full_page=True)
    page.goto(root + "/")  # a reload: the box still holds the session and the basket
    page.wait_for_selector("#till:not([hidden])")
    page.wait_for_function("document.activeElement.id === 'scan'")

    scan(page, code)
    lines(page, 1)
    card = new_card()
    open_customer(page)
    for _ in range(4):  # card, attach, search, search button
        page.keyboard.press("Tab")
    page.wait_for_function("document.activeElement.id === 'enrol-card'")
    page.keyboard.type(card)
    page.keyboard.press("Tab")
    page.keyboard.type("Nora N.")
    check_view(page, shots, "till-customer-enrol", "#cust")
    page.keyboard.press("Enter")
    page.wait_for_selector("#info[open]")
    assert card[-4:] in page.inner_text("#info")
    closed_by_escape(page, "info")
    assert "Nora N." in page.inner_text("#loyalty")
    scan(page, ANNA)  # a card scanned into the barcode field attaches its holder
    page.wait_for_function("document.getElementById('loy-name').textContent.includes('Anna')")
    assert page.locator("#error").is_hidden()
    lines(page, 1)
    page.close()


@pytest.mark.req("FR-400")
def test_search_says_it_needs_the_hub_while_offline(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = ready_till(running, seed)
    code = box.first_barcodes(1)[0]
    running.kill("box-sync")
    try:
        wait_until(lambda: not box.call("GET", "/status")["online"], 30, "the till offline")
        page = open_till(browser, running, seed)
        scan(page, code)
        lines(page, 1)
        open_customer(page)
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.type("Anna")
        page.keyboard.press("Enter")
        error = dialog_error(page, "cust")
        assert "[HUB_REQUIRED]" in error
        assert "Scan or type the customer's card instead" in error
        page.wait_for_function("document.activeElement.id === 'cust-card'")
        check_view(page, shots, "till-customer-search-offline", "#cust")
        page.keyboard.type(ANNA)  # the card still works offline
        page.keyboard.press("Enter")
        page.wait_for_selector("#loyalty:not([hidden])")
        page.close()
    finally:
        running.restart("box-sync")
        wait_until(lambda: box.call("GET", "/status")["online"], 40, "the till online again")
    empty_basket(box)
    box.call("DELETE", "/basket/customer")
