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
