"""Risk modes reach the till over the real stack and are shown and enforced there (FR-701).

Head office (the hub API, as its tenant owner) turns `risk_enforcement` on and sets WARN,
then BLOCK, then READ_ONLY for the tenant; the cashier, by keyboard alone in real Chromium,
sees the banner with the reason, still sells under WARN, and is refused with the stable
reason code under BLOCK and READ_ONLY. The stack is shared: the mode is lifted at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.demo import Stack
from scripts.demo_smoke import login_of
from tests.e2e.conftest import cashier

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


class Office:
    """The hub API as a logged-in tenant owner, with its CSRF token."""

    def __init__(self, port: int, user: dict[str, Any]) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.http = requests.Session()
        resp = self.http.post(
            self.base + "/auth/login",
            json={"username": user["username"], "password": user["password"]},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        self.http.headers["X-CSRF-Token"] = resp.json()["csrf_token"]

    def enforcement(self, on: bool) -> None:
        """Flip the tenant flag `risk_enforcement`."""
        resp = self.http.put(
            self.base + "/flags/risk_enforcement",
            json={"enabled": on, "reason": "e2e risk modes"},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text

    def mode(self, mode: str, reason: str) -> None:
        """Set the tenant-wide risk mode."""
        body = {"scope": "tenant", "mode": mode, "reason": reason}
        resp = self.http.post(self.base + "/risk/modes", json=body, timeout=10)
        assert resp.status_code == 201, resp.text


@pytest.fixture
def office(stack: tuple[Stack, dict[str, Any]]) -> Iterator[Office]:
    """Head office with enforcement on; NORMAL and enforcement off again afterwards."""
    running, seed = stack
    hub = Office(running.hub_port, login_of(seed, "TENANT_OWNER"))
    hub.enforcement(True)
    yield hub
    hub.mode("NORMAL", "e2e done")
    hub.enforcement(False)


def _scan(page: Any, code: str) -> None:
    page.keyboard.type(code)
    page.keyboard.press("Enter")


@pytest.mark.req("FR-701", "NFR-007")
def test_till_shows_and_enforces_the_risk_modes_by_keyboard(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path, office: Office
) -> None:
    running, seed = stack
    codes = cashier(running, seed).first_barcodes(1)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"http://127.0.0.1:{running.box_port}/")
    page.wait_for_selector("body[data-ready='1']")
    page.keyboard.type(login_of(seed, "CASHIER")["pin"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#till:not([hidden])")

    office.mode("WARN", "voids far above the branch average")
    page.wait_for_selector("#risk[data-mode='WARN']:not([hidden])", timeout=30_000)
    banner = page.inner_text("#risk")
    assert "voids far above the branch average" in banner
    assert "RISK_WARN" in banner
    _scan(page, codes[0])  # WARN still sells, by keyboard
    page.wait_for_function("document.querySelectorAll('#lines tr').length === 1")
    page.screenshot(path=str(shots / "cashier-risk-warn.png"))
    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    page.keyboard.type("100.00")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done[open]")
    page.keyboard.press("Enter")  # new sale
    page.wait_for_selector("#done", state="hidden")

    office.mode("BLOCK", "suspected skimming: till under review")
    page.wait_for_selector("#risk[data-mode='BLOCK']:not([hidden])", timeout=30_000)
    _scan(page, codes[0])
    page.wait_for_selector("#error:not([hidden])")
    assert "RISK_BLOCKED" in page.inner_text("#error")
    assert "Sales are blocked" in page.inner_text("#error")
    assert page.locator("#lines tr").count() == 0
    page.screenshot(path=str(shots / "cashier-risk-blocked.png"))

    office.mode("READ_ONLY", "audit of the branch in progress")
    page.wait_for_selector("#risk[data-mode='READ_ONLY']:not([hidden])", timeout=30_000)
    _scan(page, codes[0])
    page.wait_for_function("document.getElementById('error').innerText.includes('RISK_READ_ONLY')")
    assert "close the shift" in page.inner_text("#error")
    page.screenshot(path=str(shots / "cashier-risk-read-only.png"))
    page.close()
