"""Every sale-side dialog of the cashier screen, driven by keyboard in real Chromium, with what
the cashier sees on its error path (FR-300, NFR-007, ui_guidelines.md): the shift a sale needs,
pay with too little tender, the change shown, the weight of a weighed item, park and resume.
Errors appear inside the dialog that raised them; Escape closes every dialog."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from scripts.demo import Stack, scale_platter
from tests.e2e.till_screen import (
    BANANAS,
    cashier_api,
    check_view,
    close_shift,
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


@pytest.mark.req("FR-300", "NFR-007")
def test_no_sale_without_a_shift_then_the_shift_opens_and_closes_by_keyboard(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = cashier_api(running, seed)
    empty_basket(box)
    close_shift(box)
    code = box.first_barcodes(1)[0]
    page = open_till(browser, running, seed)
    page.wait_for_selector("#notice:not([hidden])")
    assert "No shift is open" in page.inner_text("#notice")
    scan(page, code)
    lines(page, 1)
    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    page.keyboard.press("Enter")
    assert "[SHIFT_NOT_OPEN]" in dialog_error(page, "pay")
    assert "Open a shift (F10)" in page.inner_text("#pay .dlg-error")
    check_view(page, shots, "till-shift-required", "#pay")
    closed_by_escape(page, "pay")

    page.keyboard.press("F10")
    page.wait_for_selector("#op[open] #shift-float")
    type_over(page, "ten euros")
    page.keyboard.press("Enter")
    assert "[INVALID_MONEY]" in dialog_error(page, "op")
    type_over(page, "50.00")
    page.keyboard.press("Enter")
    page.wait_for_selector("#op", state="hidden")
    page.wait_for_selector("#notice", state="hidden")

    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    page.keyboard.type("20.00")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done[open]")
    assert page.inner_text("#change").endswith("EUR")
    check_view(page, shots, "cashier-change", "#done")
    closed_by_escape(page, "done")  # the change dialog closes by Escape too

    page.keyboard.press("F10")
    page.wait_for_selector("#op[open] #count-cash")
    page.keyboard.type("-5")
    page.keyboard.press("Enter")
    assert "[INVALID_MONEY]" in dialog_error(page, "op")
    check_view(page, shots, "till-shift-close", "#op")
    type_over(page, "70.00")
    page.keyboard.press("Enter")
    page.wait_for_selector("#info[open]")
    assert "Shift closed. Z report #" in page.inner_text("#info-text")
    page.keyboard.press("Enter")
    page.wait_for_selector("#info", state="hidden")
    page.wait_for_selector("#notice:not([hidden])")
    page.close()
    box.ensure_shift()


@pytest.mark.req("FR-300", "NFR-007")
def test_too_little_cash_or_too_much_card_is_said_inside_the_pay_dialog(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = ready_till(running, seed)
    code = box.first_barcodes(1)[0]
    page = open_till(browser, running, seed)
    scan(page, code)
    lines(page, 1)
    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    page.keyboard.type("0.01")
    page.keyboard.press("Enter")
    assert "[INSUFFICIENT_TENDER]" in dialog_error(page, "pay")
    assert "Not enough cash" in page.inner_text("#pay .dlg-error")
    check_view(page, shots, "till-pay-insufficient", "#pay")
    closed_by_escape(page, "pay")
    page.keyboard.press("F4")
    page.wait_for_selector("#pay[open] #split:not([hidden])")
    page.keyboard.press("Tab")  # cash tendered -> card amount
    page.keyboard.type("999.00")
    page.keyboard.press("Tab")
    page.keyboard.type("TID-1-AUTH")
    page.keyboard.press("Enter")
    assert "[CARD_EXCEEDS_REMAINING]" in dialog_error(page, "pay")
    closed_by_escape(page, "pay")
    assert page.locator("#lines tr").count() == 1, "a refused payment keeps the basket"
    page.close()
    empty_basket(box)


@pytest.mark.req("FR-200", "FR-300", "NFR-007")
def test_a_weighed_item_asks_for_its_weight_or_reads_the_scale(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    platter = scale_platter(running)
    box = ready_till(running, seed)
    platter.write_text("0.000")
    page = open_till(browser, running, seed)
    scan(page, BANANAS)
    page.wait_for_selector("#weigh[open]")
    page.wait_for_function("document.activeElement.id === 'weight'")
    assert "Bananas" in page.inner_text("#weigh-title")
    assert "[SCALE_EMPTY]" in page.inner_text("#weigh-scale")
    page.keyboard.type("0")
    page.keyboard.press("Enter")
    assert "[INVALID_QUANTITY]" in dialog_error(page, "weigh")
    check_view(page, shots, "till-weight", "#weigh")
    type_over(page, "0.500")
    page.keyboard.press("Enter")
    page.wait_for_selector("#weigh", state="hidden")
    lines(page, 1)
    assert "0.500" in page.inner_text("#lines tr:nth-child(1)")

    platter.write_text("0.750")  # goods on the scale: the stable reading is sold, no dialog
    scan(page, BANANAS)
    lines(page, 2)
    assert "0.750" in page.inner_text("#lines tr:nth-child(2)")
    assert page.locator("#weigh").is_hidden()

    platter.write_text("motion")
    scan(page, BANANAS)
    page.wait_for_selector("#weigh[open]")
    assert "[SCALE_MOTION]" in page.inner_text("#weigh-scale")
    platter.write_text("0.420")
    page.keyboard.press("Enter")  # nothing typed: read the scale again
    page.wait_for_selector("#weigh", state="hidden")
    lines(page, 3)
    platter.write_text("motion")
    scan(page, BANANAS)
    page.wait_for_selector("#weigh[open]")
    closed_by_escape(page, "weigh")
    assert page.locator("#lines tr").count() == 3, "a cancelled weighing adds nothing"
    page.close()
    platter.write_text("0.000")
    empty_basket(box)


def _tab_to(page: Any, label: str) -> None:
    """Tab until the focused element's text holds `label` (the keyboard way to a button)."""
    for _ in range(30):
        if label in page.evaluate("document.activeElement.textContent || ''"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"no focusable element with {label!r}")


@pytest.mark.req("FR-300", "NFR-007")
def test_park_and_resume_by_keyboard_with_their_error_paths(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = ready_till(running, seed)
    codes = box.first_barcodes(2)
    label = f"Coat {uuid.uuid4().hex[:6]}"
    page = open_till(browser, running, seed)
    page.keyboard.press("F7")
    page.wait_for_selector("#op[open] #park-label")
    page.keyboard.type(label)
    page.keyboard.press("Enter")
    assert "[EMPTY_BASKET]" in dialog_error(page, "op")
    closed_by_escape(page, "op")

    for code in codes:
        scan(page, code)
    lines(page, 2)
    page.keyboard.press("F7")
    page.wait_for_selector("#op[open] #park-label")
    page.keyboard.type(label)
    check_view(page, shots, "till-park", "#op")
    page.keyboard.press("Enter")
    page.wait_for_selector("#op", state="hidden")
    lines(page, 0)

    scan(page, codes[0])
    lines(page, 1)
    page.keyboard.press("F8")
    page.wait_for_selector("#op[open] #op-body button")
    _tab_to(page, label)
    page.keyboard.press("Enter")
    assert "[BASKET_NOT_EMPTY]" in dialog_error(page, "op")
    assert "Finish or park the open sale first" in page.inner_text("#op .dlg-error")
    check_view(page, shots, "till-resume", "#op")
    closed_by_escape(page, "op")
    empty_basket(box)
    page.keyboard.press("F8")
    page.wait_for_selector("#op[open] #op-body button")
    _tab_to(page, label)
    page.keyboard.press("Enter")
    page.wait_for_selector("#op", state="hidden")
    lines(page, 2)
    page.close()
    empty_basket(box)
