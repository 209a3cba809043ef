"""FR-P7-1009..1011 tried as a new user would, in real Chromium, keyboard only: create an
integration and a token in the portal, register a local verifying receiver, ring a sale on
the till and see the verified delivery in the receiver and the portal's log; flip the kill
switch and see the token refused and the next sale not delivered. Screenshots in
docs/screenshots with CFPOS_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from hub.core import db as hub_db
from hub.integrations import delivery
from scripts.testkit.waiting import wait_until
from scripts.webhook_receiver import VerifyingReceiver
from tests.e2e.conftest import cashier, hub_as
from tests.e2e.test_ops_portal_browser import _follow, _login, _submit, _tab_to

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


def _deliver_until(url: str, receiver: VerifyingReceiver, count: int) -> None:
    def done() -> bool:
        delivery.deliver_due([url])
        return len(receiver.events) >= count

    wait_until(done, timeout=60, what=f"{count} verified deliveries")


@pytest.mark.req("FR-P7-1009", "FR-P7-1010", "FR-P7-1011", "FR-P7-1013")
def test_token_webhook_and_kill_switch_in_the_portal_by_keyboard(stack, browser, shots):
    running, seed = stack
    hub_db.bind(running.env["CFPOS_HUB_DATABASE_URL"])
    base = f"http://127.0.0.1:{running.hub_port}"
    page: Any = browser.new_page(viewport={"width": 1280, "height": 1000})
    _login(page, base)
    _follow(page, base, "/integrations")
    _tab_to(page, "#name")
    page.keyboard.type("ERP bridge")
    _submit(page)
    assert "Integration ERP bridge" in page.content()
    _tab_to(page, "#token-name")
    page.keyboard.type("erp reader")
    _submit(page)
    raw = page.locator("#new-token").inner_text()
    assert raw.startswith("cfpit_")
    page.screenshot(path=str(shots / "hub-integration-token.png"), full_page=True)
    with VerifyingReceiver([]) as receiver:
        _tab_to(page, "#url")
        page.keyboard.type(receiver.url)
        _submit(page)
        receiver.secrets.append(page.locator("#new-secret").inner_text())
        box = cashier(running, seed)
        sale = box.sell(box.first_barcodes(1), "50.00")
        hub_as(running, seed, "TENANT_OWNER").wait_for_sale(sale["sale_id"])
        _deliver_until(receiver.url, receiver, 1)
        assert receiver.events[0]["type"] == "sale.completed"
        assert receiver.events[0]["data"]["sale_id"] == sale["sale_id"]
        assert receiver.refused == 0
        auth = {"Authorization": f"Bearer {raw}"}
        assert requests.get(f"{base}/api/v1/sales", headers=auth, timeout=10).status_code == 200
        page.reload()
        assert page.locator("td", has_text="sale.completed").count() >= 1
        page.screenshot(path=str(shots / "hub-integration-webhooks.png"), full_page=True)
        _tab_to(page, "#reason")
        page.keyboard.type("token seen in a support ticket")
        _submit(page)
        assert "Switched off" in page.locator("[role=alert]").inner_text()
        page.screenshot(path=str(shots / "hub-integration-killed.png"), full_page=True)
        refused = requests.get(f"{base}/api/v1/sales", headers=auth, timeout=10)
        assert refused.status_code == 401
        assert refused.json()["error"]["reason"] == "INTEGRATION_DISABLED"
        second = box.sell(box.first_barcodes(1), "50.00")
        hub_as(running, seed, "TENANT_OWNER").wait_for_sale(second["sale_id"])
        assert delivery.deliver_due([receiver.url]).sent == 0
        assert len(receiver.events) == 1
        _tab_to(page, "#switch-on")  # back on for the other tests of this stack
        _submit(page)
    page.close()
