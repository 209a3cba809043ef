"""The decision log page in real Chromium, keyboard only (FR-901): the tenant owner proposed a
tax rate change; the platform owner, as the second person, finds it on *Rule changes*, approves
it with the keyboard, and the page shows who proposed, who approved and since when it is in
force — while the demo seed's bootstrap entries stay marked as such."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core import db as hub_db
from hub.core.db import tenant_tx
from hub.governance import config, rule_changes
from posdomain.permissions import Principal, Role

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]
T = "t-greenbasket"
OWNER = Principal("user", "u-owner", Role.TENANT_OWNER, T)


def _tab_to(page: Any, selector: str, limit: int = 120) -> None:
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{selector} not reachable with Tab")


@pytest.mark.req("FR-901")
def test_rule_changes_page_by_keyboard(stack, browser, shots):
    running, _seed = stack
    hub_db.bind(running.env["CFPOS_HUB_DATABASE_URL"])
    with tenant_tx(T):
        tax = dict(config.current(T, "tax").body)
    tax["classes"] = {**tax["classes"], "REDUCED": {"rate": "0.06", "inclusive": True}}
    evidence = rule_changes.Evidence(impact="reduced-rate items cost 1 % more", change_ref="CHG-77")
    proposed = rule_changes.propose_config(OWNER, T, "tax", tax, "reduced rate 5 → 6 %", evidence)
    base = f"http://127.0.0.1:{running.hub_port}"
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{base}/login")
    page.focus("#username")
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type("admin-demo-pass")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{base}/rules?tenant_id={T}")
    text = page.content()
    assert "CHG-77" in text
    assert "PROPOSED" in text
    assert "(bootstrap)" in text  # the demo seed's entries
    page.screenshot(path=str(shots / "hub-rules.png"), full_page=True)
    _tab_to(page, f"form[action^='/rules/{proposed['id']}/approve'] button")
    # the answer redirects to the page it came from: wait for that navigation, not the URL
    with page.expect_navigation(url=f"{base}/rules?tenant_id={T}"):
        page.keyboard.press("Enter")
    row = page.locator("tr", has_text="CHG-77")
    assert "ACTIVE" in row.inner_text()
    assert "user:u-admin" in row.inner_text()
    assert "user:u-owner" in row.inner_text()
    with tenant_tx(T):
        assert config.current(T, "tax").body["classes"]["REDUCED"]["rate"] == "0.06"
    page.close()
