"""Every till page in real Chromium reads well and is easy to hit (NFR-007, ui_guidelines.md):
text contrast by computed colours (WCAG AA 4.5:1), touch targets >= 44 px, promotions by
name, screenshots for docs/ui.md (written there with CFPOS_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts.demo import Stack
from tests.e2e.languages import assert_language
from tests.e2e.till_screen import (
    VIEWPORT,
    check_view,
    lines,
    open_till,
    ready_till,
    scan,
)

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]

PASSATA = "8005000123454"  # "3 for 2.00"
CHOCOLATE = "7612345678900"  # SNACKS: "10 % off"
WEIGHED_LABEL = "2800004012348"  # GS1 prefix 28: 1.234 kg of bananas


def _colour(page: Any, selector: str, prop: str) -> str:
    return str(page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).{prop}"))


@pytest.mark.req("NFR-007", "FR-301")
def test_login_till_and_hardware_pages_read_well_and_name_the_promotions(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    ready_till(running, seed)
    login = browser.new_page(viewport=VIEWPORT)
    login.goto(f"http://127.0.0.1:{running.box_port}/")
    login.wait_for_selector("body[data-ready='1']")
    check_view(login, shots, "cashier-login")
    assert_language(login, "en", "login")  # NFR-007: nothing German on an English till
    login.close()

    page = open_till(browser, running, seed)
    for code in (PASSATA, PASSATA, PASSATA, CHOCOLATE, WEIGHED_LABEL):
        scan(page, code)
    lines(page, 5)
    basket = page.inner_text("#lines")
    assert "Promotion 3 for 2.00" in basket
    assert "Promotion 10 % off" in basket
    assert "demo-passata-3for2" not in basket
    assert "demo-snacks-10pct" not in basket
    assert "1.234" in basket
    check_view(page, shots, "cashier-weighed-multibuy")
    assert_language(page, "en", "till")
    link = "#hardware-link"
    assert _colour(page, link, "color") != _colour(page, link, "backgroundColor")

    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    page.keyboard.type("50.00")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done[open]")
    receipt_href = page.get_attribute("#show-receipt", "href")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", state="hidden")

    receipt = browser.new_page(viewport=VIEWPORT)
    receipt.context.add_cookies(page.context.cookies())
    receipt.goto(f"http://127.0.0.1:{running.box_port}{receipt_href}")
    text = receipt.inner_text("body")
    assert "Discount: 3 for 2.00" in text
    assert "Discount: 10 % off" in text
    assert "demo-passata-3for2" not in text
    check_view(receipt, shots, "till-receipt")
    assert_language(receipt, "en", "receipt")
    receipt.close()

    hardware = browser.new_page(viewport=VIEWPORT)
    hardware.context.add_cookies(page.context.cookies())
    hardware.goto(f"http://127.0.0.1:{running.box_port}/hardware")
    hardware.wait_for_selector("#devices tr[data-name='printer']")
    back = ".bar a.linkbtn"
    assert _colour(hardware, back, "color") != _colour(hardware, back, "backgroundColor")
    check_view(hardware, shots, "hardware")
    assert_language(hardware, "en", "hardware")
    hardware.close()
    page.close()


@pytest.mark.req("FR-300", "NFR-007")
def test_the_z_report_page_is_labelled_and_reads_well(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = ready_till(running, seed)
    box.sell(box.first_barcodes(1), "20.00")
    z_no = box.call("POST", "/shifts/current/close", json={"counted": {"cash": "100.00"}})["z_no"]
    box.ensure_shift()
    page = open_till(browser, running, seed, "BRANCH_MANAGER")
    page.goto(f"http://127.0.0.1:{running.box_port}/reports/z/{z_no}")
    text = page.inner_text("body")
    assert f"Z report #{z_no}" in text
    for label in ("Expected in the drawer", "Counted", "Difference", "Cash sales",
                  "Tax by rate", "Post-voids", "Running grand total"):  # fmt: skip
        assert label in text, label
    assert "_" not in page.inner_text("table"), "no raw keys"
    check_view(page, shots, "till-z-report")
    assert_language(page, "en", "Z report page")
    page.close()
