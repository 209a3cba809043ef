"""FR-P7-1001..1004 in real Chromium, keyboard only: fleet view per branch with state and sync
lag, drill-down, the alert feed (acknowledge), an incident opened from the keyboard, a risk
WARN banner, and the backups page with a real drill.
Screenshots go to docs/screenshots with CFPOS_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from hub.core import db as hub_db
from hub.core.db import platform_tx
from hub.ops import backups, jobs, restore_drill
from hub.sync.models import BoxHeartbeat
from scripts.demo import Stack
from scripts.testkit.waiting import wait_until

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


def _silent_box(admin_url: str) -> str:
    box_id = f"box-silent-{uuid.uuid4().hex[:6]}"
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO boxes (box_id, tenant_id, branch_id, name, created_at) VALUES "
            "(%s, 't-greenbasket', 'b-riverside', 'Riverside till 2', now() - interval '20 min')",
            (box_id,),
        )
    conn.close()
    return box_id


def _prepare(stack: Stack, tmp: Path) -> str:
    """A silent box, one pass of the alert rules, a backup and a drill, in the stack's database."""
    admin = stack.env["CFPOS_HUB_ADMIN_DATABASE_URL"]
    hub_db.bind(stack.env["CFPOS_HUB_DATABASE_URL"])
    demo_box = stack.env["CFPOS_DEMO_BOX_ID"]
    wait_until(lambda: _beat_of(demo_box), timeout=60, what="the demo box's first heartbeat")
    box_id = _silent_box(admin)
    backups.run_backup(admin, tmp, keep=3)
    restore_drill.restore_drill(admin, 1800, 900)
    jobs.evaluate_alerts()
    return box_id


def _beat_of(box_id: str) -> bool:
    with platform_tx():
        return BoxHeartbeat.get_or_none(BoxHeartbeat.box_id == box_id) is not None


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{selector} not reachable with Tab")


def _follow(page: Any, base: str, href: str) -> None:
    """Tab to a link and press Enter."""
    _tab_to(page, f"a[href='{href}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{href}")


def _submit(page: Any) -> None:
    """Press Enter in a form and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _login(page: Any, base: str) -> None:
    page.goto(f"{base}/login")
    page.focus("#username")
    page.keyboard.type("owner")
    page.keyboard.press("Tab")
    page.keyboard.type("owner-demo-pass")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


@pytest.mark.req("FR-P7-1001", "FR-P7-1002", "FR-P7-1003", "FR-P7-1004", "FR-500", "FR-501")
def test_operations_portal_by_keyboard(stack, browser, tmp_path, shots):
    running, _seed = stack
    _prepare(running, tmp_path)
    base = f"http://127.0.0.1:{running.hub_port}"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, base)
    _follow(page, base, "/fleet")
    assert "1 boxes online" in page.content()  # the demo box, from its heartbeats
    assert "1 silent (enrolled, never reported)" in page.content()
    page.screenshot(path=str(shots / "hub-fleet.png"), full_page=True)
    _follow(page, base, "/fleet/b-riverside")
    assert "Riverside till 2" in page.content()
    assert page.locator("td.state-silent").count() >= 1
    page.screenshot(path=str(shots / "hub-fleet-branch.png"), full_page=True)
    _follow(page, base, "/alerts")
    row = page.locator("tr", has_text="box Riverside till 2 silent")
    assert row.count() == 1
    row.locator("button").focus()  # the row's own button (Tab order is the table's)
    _submit(page)
    assert (
        page.locator("tr", has_text="box Riverside till 2 silent")
        .locator("td", has_text="acknowledged")
        .count()
        == 1
    )
    page.screenshot(path=str(shots / "hub-alerts.png"), full_page=True)
    _follow(page, base, "/incidents")
    _tab_to(page, "#title")
    page.keyboard.type("Riverside till 2 never reported")
    _submit(page)
    assert "DETECT" in page.content()
    page.screenshot(path=str(shots / "hub-incident.png"), full_page=True)
    _follow(page, base, "/risk")
    _tab_to(page, "#mode")
    page.keyboard.type("W")  # WARN
    _tab_to(page, "#reason")
    page.keyboard.type("stocktake week: watch refunds")
    _submit(page)
    assert "Risk mode WARN" in page.locator("[role=alert]").inner_text()
    page.screenshot(path=str(shots / "hub-risk-warn.png"), full_page=True)
    _tab_to(page, "#mode")
    page.keyboard.type("N")  # back to NORMAL for the other tests of this stack
    _tab_to(page, "#reason")
    page.keyboard.type("stocktake done")
    _submit(page)
    assert page.locator("[role=alert]").count() == 0
    _follow(page, base, "/backups")
    assert "OK" in page.locator("table").first.inner_text()
    page.screenshot(path=str(shots / "hub-backups.png"), full_page=True)
    page.close()
