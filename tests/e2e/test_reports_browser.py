"""Head office runs the report catalog in real Chromium, keyboard only (FR-600..602): ring
sales and a refund on the till, read the overview's charts, the sales summary, the hourly grid
and the tax report, export the summary to CSV with the keyboard (totals equal the screen),
check the hub's figures for the shift against the box's own Z report, and run axe-core
(vendored, served from this folder, never a CDN) on every page for WCAG 2 A/AA problems."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import pytest

from scripts.demo import Stack
from scripts.demo_smoke import login_of
from tests.e2e.conftest import cashier, hub_as
from tests.e2e.test_portal_sales_browser import _refund_and_void, _wait_on_hub

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def axe_violations(page: Any) -> list[str]:
    """WCAG 2 A and AA violations axe-core finds on the page (id: first target)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))"
    )
    return list(found)


def tab_to(page: Any, text: str, limit: int = 250) -> None:
    """Press Tab until the focused element's text is `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == text:
            return
    raise AssertionError(f"{text!r} is not reachable with Tab")


def foot(page: Any) -> list[str]:
    """The totals row of the report table as shown."""
    return [c.strip() for c in page.locator("table tfoot td").all_inner_texts()]


@pytest.mark.req("FR-600", "FR-601", "FR-602")
def test_reports_by_keyboard_with_exports_and_the_z(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    box = cashier(running, seed)
    refunded, refund, voided = _refund_and_void(box, seed)
    hub = hub_as(running, seed, "TENANT_OWNER")
    _wait_on_hub(hub, voided["sale_id"], "voided", True)
    _wait_on_hub(hub, refunded["sale_id"], "refunded", refund["total"].lstrip("-"))

    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    base = f"http://127.0.0.1:{running.hub_port}"
    page.goto(f"{base}/login")
    owner = login_of(seed, "TENANT_OWNER")
    page.focus("#username")
    page.keyboard.type(owner["username"])
    page.keyboard.press("Tab")
    page.keyboard.type(owner["password"])
    page.keyboard.press("Enter")
    page.wait_for_selector("svg[role=img]")
    assert "Top products today" in page.inner_text("main")
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "hub-dashboard.png"), full_page=True)

    tab_to(page, "Reports")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Reports')")
    assert axe_violations(page) == []
    tab_to(page, "REP-T-01 Sales summary by day")
    page.keyboard.press("Enter")
    page.wait_for_selector("table tfoot")
    screen = foot(page)
    assert screen[0] == "Total"
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "hub-report-summary.png"), full_page=True)
    tab_to(page, "CSV")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
    assert rows[-1] == screen  # the export's totals are the screen's, cell for cell

    for rid, shot in (("REP-T-02", "hub-report-hourly.png"), ("REP-T-10", "hub-report-tax.png")):
        page.goto(f"{base}/reports/{rid}")
        page.wait_for_selector("table")
        assert axe_violations(page) == []
        page.screenshot(path=str(shots / shot), full_page=True)

    # the shift the refund and the void were rung in was closed: its Z is on the hub, and the
    # hub's own sales summary over that shift gives the same net total to the cent
    expected = box.call("GET", "/shifts/current/x")["tenders"][0]["expected"]
    box.call("POST", "/shifts/current/close", json={"counted": {"cash": expected}})
    latest = wait_for_z(hub)
    summary = hub.http.get(
        f"{hub.base}/reports/REP-T-01", params={"shift_id": latest["shift_id"]}, timeout=10
    ).json()
    assert summary["totals"]["total"] == latest["net_total"]
    page.goto(f"{base}/reports/REP-T-04")
    page.screenshot(path=str(shots / "hub-report-z.png"), full_page=True)

    page.goto(f"{base}/overview/branches/{seed['box_branch_id']}")
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "hub-drill-branch.png"), full_page=True)
    page.keyboard.press("Tab")
    tab_to(page, box_name(page))
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('today')")
    assert axe_violations(page) == []
    page.screenshot(path=str(shots / "hub-drill-box.png"), full_page=True)
    page.close()


def wait_for_z(hub: Any) -> dict[str, Any]:
    """The newest Z report on the hub, once the closed shift has synced."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        resp = hub.http.get(
            f"{hub.base}/reports/REP-T-04", params={"sort": "-closed_at"}, timeout=10
        )
        items = resp.json()["items"]
        if items:
            return dict(items[0])
        time.sleep(0.3)
    raise AssertionError("the closed shift's Z never reached the hub")


def box_name(page: Any) -> str:
    """The first box link's text on the branch drill-down."""
    return str(page.locator("tbody a").first.inner_text()).strip()
