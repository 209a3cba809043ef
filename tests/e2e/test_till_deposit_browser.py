"""A bank deposit at the till, by keyboard in real Chromium, up to head office (REP-T-05;
FR-300 cash handling, FR-303 sync, FR-600): Shift+F12 opens the deposit dialog, a missing slip
number is refused inside it with its reason, the manager's PIN approves, the X report expects
that much less cash in the drawer, and the hub's end-of-day reconciliation shows the deposit."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from scripts.demo import Stack
from scripts.demo_smoke import login_of
from tests.e2e.conftest import hub_as
from tests.e2e.test_day_close_reconciles import wait_drained
from tests.e2e.test_reports_till_events import rows
from tests.e2e.test_till_exchange_browser import tab_to
from tests.e2e.till_screen import check_view, dialog_error, open_till, ready_till

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


def back_to(page: Any, element_id: str, most: int = 12) -> None:
    """Press Shift+Tab until `element_id` has the focus."""
    for _ in range(most):
        if page.evaluate("document.activeElement.id") == element_id:
            return
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"Shift+Tab never reached #{element_id}")


def submitted(page: Any) -> None:
    """Enter, then wait until the dialog closed or shows an error."""
    page.keyboard.press("Enter")
    page.wait_for_function(
        "!document.getElementById('op').open || !document.querySelector('#op .dlg-error').hidden"
    )


@pytest.mark.req("FR-300", "FR-303", "FR-600")
def test_a_bank_deposit_by_keyboard_reaches_rep_t_05(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = ready_till(running, seed)
    code = box.first_barcodes(1)[0]
    box.call("POST", "/basket/lines", json={"barcode": code})
    box.call("POST", "/basket/pay", json={"tendered": "50.00", "idempotency_key": uuid.uuid4().hex})
    before = Decimal(box.call("GET", "/shifts/current/x")["cash"]["expected"])
    assert before >= Decimal("1.25")
    slip = f"BAG-{uuid.uuid4().hex[:6].upper()}"
    page = open_till(browser, running, seed)

    page.keyboard.press("Shift+F12")
    page.wait_for_selector("#op[open]")
    page.wait_for_function("document.activeElement.id === 'deposit-amount'")
    page.keyboard.type("1.25")
    tab_to(page, "op-pin")  # no slip number yet
    page.keyboard.type(login_of(seed, "BRANCH_MANAGER")["pin"])
    submitted(page)
    assert "DEPOSIT_SLIP_REQUIRED" in dialog_error(page, "op")
    back_to(page, "deposit-slip")
    page.keyboard.type(slip)
    page.keyboard.press("Tab")
    page.keyboard.type("Sparkasse, night safe")
    assert page.input_value("#op-reason") == "BANK_DEPOSIT"
    check_view(page, shots, "till-deposit")
    tab_to(page, "op-pin")
    submitted(page)
    page.wait_for_selector("#info[open]")
    assert slip in page.inner_text("#info")
    page.keyboard.press("Enter")
    page.wait_for_selector("#info", state="hidden")

    x = box.call("GET", "/shifts/current/x")
    assert Decimal(x["cash"]["deposits"]) >= Decimal("1.25")
    assert Decimal(x["cash"]["expected"]) == before - Decimal("1.25")
    wait_drained(box)
    owner = hub_as(running, seed, "TENANT_OWNER")
    deadline = time.monotonic() + 30
    found: list[dict[str, Any]] = []
    while not found and time.monotonic() < deadline:
        found = [r for r in rows(owner, "REP-T-05") if r["deposits"] and Decimal(r["deposits"])]
        time.sleep(0.3) if not found else None
    assert found, "REP-T-05 shows no deposit"
    assert sum(Decimal(r["deposits"]) for r in found) >= Decimal("1.25")
    for row in found:  # deposits over/short follows the catalog's formula
        to_bank = Decimal(row["cash_tenders"]) - Decimal(row["paid_outs"])
        to_bank += Decimal(row["over_short"] or "0")
        assert Decimal(row["deposit_over_short"]) == Decimal(row["deposits"]) - to_bank
