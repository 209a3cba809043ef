"""Cashier screen with the device service in real Chromium: offline badge, SSE scans, hardware.

The demo stack runs `python -m appliance devices` with fake devices; its fake scanner
scans every line appended to var/scanner-feed.txt, which is how this test "scans".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.demo import Stack, scanner_feed
from scripts.demo_smoke import login_of
from tests.e2e.conftest import cashier

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


@pytest.fixture
def till(stack: tuple[Stack, dict[str, Any]], browser: Any) -> Iterator[Any]:
    """A till page logged in as the demo cashier, listening for scans."""
    running, seed = stack
    cashier(running, seed)  # waits for staff/catalog to reach the box
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"http://127.0.0.1:{running.box_port}/")
    page.wait_for_selector("body[data-ready='1']")
    page.keyboard.type(login_of(seed, "CASHIER")["pin"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#till:not([hidden])")
    page.wait_for_selector("body[data-scans='1']")
    yield page
    page.close()


def scan(stack: Stack, code: str) -> None:
    """Scan with the box's attached (fake) scanner."""
    with scanner_feed(stack).open("a", encoding="utf-8") as feed:
        feed.write(code + "\n")


@pytest.mark.req("FR-300", "FR-500", "FR-304")
def test_attached_scanner_scans_land_in_the_basket_and_devices_show(
    stack: tuple[Stack, dict[str, Any]], till: Any, shots: Path
) -> None:
    running, seed = stack
    codes = cashier(running, seed).first_barcodes(2)
    till.wait_for_selector("#dev-printer[data-state='online']", timeout=15000)
    till.wait_for_selector("#dev-drawer[data-state='online']")
    for code in codes:
        scan(running, code)
    till.wait_for_function("document.querySelectorAll('#lines tr').length === 2", timeout=10000)
    till.keyboard.press("F9")
    till.wait_for_selector("#pay[open]")
    till.keyboard.type("100.00")
    till.keyboard.press("Enter")
    till.wait_for_selector("#done[open]")
    till.wait_for_timeout(2000)  # the receipt prints and the drawer opened: no warnings
    assert till.locator("#device-warnings").is_hidden()
    till.screenshot(path=str(shots / "cashier-devices.png"))


@pytest.mark.req("FR-303", "FR-500")
def test_offline_indicator_counts_queued_sales_and_recovers(
    stack: tuple[Stack, dict[str, Any]], till: Any, browser: Any, shots: Path
) -> None:
    running, seed = stack
    code = cashier(running, seed).first_barcodes(1)[0]
    till.wait_for_selector("#sync.online", timeout=20000)
    running.kill("box-sync")
    try:
        scan(running, code)
        till.wait_for_function("document.querySelectorAll('#lines tr').length === 1")
        till.keyboard.press("F9")
        till.wait_for_selector("#pay[open]")
        till.keyboard.type("50.00")
        till.keyboard.press("Enter")
        till.wait_for_selector("#done[open]")
        till.keyboard.press("Enter")
        # the agent's last heartbeat goes stale within 20 s; the page polls every 2 s
        till.wait_for_selector("#sync.offline", timeout=30000)
        text = till.inner_text("#sync")
        assert text.startswith("Offline · ")
        assert int(text.split("·")[1].split()[0]) >= 1
        assert "waiting to sync" in text, "the backlog is named as what it is: sales"
        till.screenshot(path=str(shots / "cashier-offline.png"))
    finally:
        running.restart("box-sync")
    till.wait_for_selector("#sync.online", timeout=30000)
    hardware = browser.new_page(viewport={"width": 1280, "height": 800})
    hardware.context.add_cookies(till.context.cookies())
    hardware.goto(f"http://127.0.0.1:{running.box_port}/hardware")
    hardware.wait_for_selector("#devices tr[data-name='printer'][data-state='online']")
    hardware.close()
