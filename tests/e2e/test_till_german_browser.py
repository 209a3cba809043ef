"""A German till in real Chromium (NFR-007): amounts as German writes them (1,99; change
8,05 EUR), what the cashier types in that form accepted, the customer dialog in German, the
receipt's amounts and its local date by Babel."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from appliance.app import create_app
from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.core.db import open_database
from appliance.migrations import migrate
from appliance.sync.box_state import ensure_box_state
from scripts.demo import free_port
from tests.appliance.factories import PINS, config_body, down, make_config, seed_messages
from tests.e2e.languages import assert_language
from tests.e2e.till_screen import VIEWPORT, check_view, lines, scan, type_over

pytestmark = [pytest.mark.slow]
MILK = "4000000000013"  # 1.99 in the box test catalog


@pytest.fixture
def german_box(tmp_path: Path) -> Iterator[str]:
    """A seeded box in German with drawers not counted, served on a free port."""
    config = make_config(tmp_path, locale="de", timezone="Europe/Berlin")
    db = open_database(config.database_path)
    with db.connection_context():
        migrate(db)
        ensure_box_state(config)
        ctx = BoxContext(config)
        for msg in seed_messages():
            down_messages.apply_down(ctx, msg)
        body = config_body("de")
        body["till"] = {"drawer_counting": False}
        down_messages.apply_down(ctx, down("config", 2, body))
    db.close()
    port = free_port()
    server = make_server("127.0.0.1", port, create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


@pytest.mark.req("NFR-007")
def test_german_till_writes_amounts_and_dates_the_german_way(
    german_box: str, browser: Any, shots: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(german_box + "/")
    page.wait_for_selector("body[data-ready='1']")
    page.keyboard.type(PINS["cashier"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#till:not([hidden])")
    for _ in range(5):
        scan(page, MILK)
    lines(page, 5)
    assert page.inner_text("#total") == "9,95 EUR"
    assert "1,99" in page.inner_text("#lines")
    assert "Kunde (F2)" in page.inner_text(".tillops")
    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    assert page.input_value("#tendered") == "9,95"
    type_over(page, "18,00")  # typed as a German cashier types it
    page.keyboard.press("Enter")
    page.wait_for_selector("#done[open]")
    assert page.inner_text("#change") == "8,05 EUR"
    check_view(page, shots, "till-german-change", "#done")
    href = page.get_attribute("#show-receipt", "href")
    page.goto(german_box + str(href))
    receipt = page.inner_text("body")
    assert "9,95" in receipt
    assert "9.95" not in receipt
    assert "18,00" in receipt
    # the date as German writes it, in the branch's zone (01.12.2026, 14:30:10), not ISO UTC
    assert page.locator("time").inner_text().count(".") == 2
    assert "T" not in page.locator("time").inner_text()
    page.screenshot(path=str(shots / "receipt-german.png"), full_page=True)
    page.goto(german_box + "/")
    page.wait_for_selector("#till:not([hidden])")
    page.wait_for_function("document.activeElement.id === 'scan'")
    page.keyboard.press("F11")  # the X report: every amount the German way too
    page.wait_for_selector("#op[open] .x-report")
    report = page.inner_text("#op")
    assert "9,95" in report
    assert "9.95" not in report
    page.close()


def _dialog(page: Any, key: str, selector: str, where: str, lang: str = "de") -> None:
    """Open a till dialog by its key, check what it shows, close it by Escape."""
    page.wait_for_function("document.activeElement.id === 'scan'")
    page.keyboard.press(key)
    page.wait_for_selector(selector)
    assert_language(page, lang, where)
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('dialog[open]')")


@pytest.mark.req("NFR-007")
def test_every_till_page_and_dialog_of_a_german_till_is_german(
    german_box: str, browser: Any, shots: Path
) -> None:
    """One German browser session walks the login, the till with a basket, every dialog (pay,
    split, customer, redeem, refund with a receipt's lines, park, resume, shift, X report,
    no-sale), the change, the receipt, the Z report page and the hardware page: no English
    word, no raw constant outside its [CODE], no ISO time, no amount written 4.38."""
    context = browser.new_context(viewport=VIEWPORT, locale="de-DE")
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(german_box + "/")
    page.wait_for_selector("body[data-ready='1']")
    assert_language(page, "de", "login")
    page.keyboard.type(PINS["manager"])  # a manager sees every dialog and the Z report
    page.keyboard.press("Enter")
    page.wait_for_selector("#till:not([hidden])")
    assert_language(page, "de", "empty till")
    for _ in range(2):
        scan(page, MILK)
    lines(page, 2)
    assert_language(page, "de", "till with a basket")
    _dialog(page, "F9", "#pay[open]", "pay")
    _dialog(page, "F4", "#pay[open] #split:not([hidden])", "split pay")
    _dialog(page, "F2", "#cust[open]", "customer")
    _dialog(page, "F7", "#op[open]", "park")
    _dialog(page, "F10", "#op[open]", "shift")
    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    page.keyboard.press("Enter")  # the proposed amount
    page.wait_for_selector("#done[open]")
    assert_language(page, "de", "change")
    href = page.get_attribute("#show-receipt", "href")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", state="hidden")
    _dialog(page, "F11", "#op[open] .x-report", "X report")
    _dialog(page, "F12", "#op[open]", "no-sale drawer")
    _dialog(page, "F8", "dialog[open]", "resume")
    receipt = context.new_page()
    receipt.goto(german_box + str(href))
    assert_language(receipt, "de", "receipt")
    assert "Vielen Dank" in receipt.inner_text("footer"), "the footer in the box's language"
    code = receipt.inner_text("#receipt-code")
    receipt.goto(german_box + "/hardware")  # no device service here: it says so, in German
    receipt.wait_for_selector("#service")
    assert_language(receipt, "de", "hardware")
    page.wait_for_function("document.activeElement.id === 'scan'")
    page.keyboard.press("F6")
    page.wait_for_selector("#op[open] #refund-code")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector("#refund-lines input")
    assert_language(page, "de", "refund with the receipt's lines")
    check_view(page, shots, "till-german-refund", "#op")
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('dialog[open]')")
    page.wait_for_function("document.activeElement.id === 'scan'")
    page.keyboard.press("F3")  # redeem without a customer: the error says so, in German
    page.wait_for_timeout(300)
    assert_language(page, "de", "redeem without a customer")
    page.keyboard.press("Escape")
    z_no = _close_day(page)
    receipt.goto(german_box + f"/reports/z/{z_no}")
    assert_language(receipt, "de", "Z report page")
    receipt.screenshot(path=str(shots / "till-german-z-report.png"), full_page=True)
    context.close()


def _close_day(page: Any) -> int:
    """Close the shift over the page's own session (the till's API), return the Z number."""
    result = page.evaluate(
        """async () => {
          const csrf = document.querySelector('meta[name=csrf-token]');
          const headers = {'Content-Type': 'application/json'};
          if (csrf) headers['X-CSRF-Token'] = csrf.content;
          const r = await fetch('/api/v1/shifts/current/close',
            {method: 'POST', headers, body: JSON.stringify({counted: {}})});
          return [r.status, await r.json()];
        }"""
    )
    assert result[0] == 200, result
    return int(result[1]["z_no"])
