"""The releases page in real Chromium, keyboard only (FR-703, FR-804, FR-901): a published
artifact, a proposed GO awaiting its second person, and a canary rollout that halted by
itself after its canary box rolled back, with the box's reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.core import db as hub_db
from hub.core.db import platform_tx
from hub.identity.models import Box
from hub.releases import artifacts, decisions, rollouts
from posdomain.permissions import Principal, Role
from scripts.build_release import build

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]
ADMIN = Principal("user", "e2e-release-admin", Role.APPLICATION_OWNER, None)


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{selector} not reachable with Tab")


def _prepare(stack: Any, tmp: Path) -> str:
    hub_db.bind(stack.env["CFPOS_HUB_DATABASE_URL"])
    art = build("DEV", out=tmp / "dist")
    artifacts.publish(ADMIN, art, tmp / "store")
    decisions.propose(
        ADMIN,
        art.name,
        decisions.ProposeIn(
            target="STAGING",
            decision="GO",
            report={"decision": "GO", "rules": []},
            reason="gate GO on the smoke tier",
            change_ref="CHG-42",
        ),
    )
    with platform_tx():
        box = Box.get(Box.box_id == stack.env["CFPOS_DEMO_BOX_ID"])
    body = rollouts.RolloutIn(
        artifact=art.name, strategy="branch", canary_branches=[box.branch_id],
        max_failures=1, reason="canary: the demo store first",
    )  # fmt: skip
    made = rollouts.create(ADMIN, box.tenant_id, body, "DEV")
    report = rollouts.BoxReportIn(
        artifact=art.name, outcome="ROLLED_BACK",
        reason="health:migrations: migration failed: RuntimeError: broken on purpose",
    )  # fmt: skip
    assert rollouts.report(box, made["id"], report)["state"] == "HALTED"
    return art.name


@pytest.mark.req("FR-703", "FR-804", "FR-901")
def test_releases_page_by_keyboard(stack, browser, shots, tmp_path):
    running, _seed = stack
    name = _prepare(running, tmp_path)
    base = f"http://127.0.0.1:{running.hub_port}"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/login")
    page.focus("#username")
    page.keyboard.type("owner")
    page.keyboard.press("Tab")
    page.keyboard.type("owner-demo-pass")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    _tab_to(page, "a[href='/releases']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/releases")
    text = page.content()
    assert name in text
    assert "CHG-42" in text
    assert "PROPOSED" in text
    assert "HALTED" in text
    assert "broken on purpose" in text
    page.screenshot(path=str(shots / "hub-releases.png"), full_page=True)
    page.close()
