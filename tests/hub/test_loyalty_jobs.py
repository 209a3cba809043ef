"""Scheduled loyalty jobs (FR-401 expiry, FR-402 tiers): oldest points expire first and a rerun
books nothing; tiers follow rolling spend, are audited, multiply later earning, and can be
recalculated on demand by the owner only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.core.db import tenant_tx
from hub.customers.models import Customer
from hub.loyalty import jobs, rules
from hub.loyalty.ledger import Entry, book
from tests.hub.conftest import enrol_box, login
from tests.hub.loyalty_helpers import balance, customer_sale, enable_loyalty, new_customer, send

pytestmark = [pytest.mark.pg]
T = "t-greenbasket"


@pytest.mark.req("FR-401")
def test_oldest_points_expire_first_and_a_rerun_books_nothing(app):
    enable_loyalty()
    cid = new_customer()
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=400), now - timedelta(days=30)
    with tenant_tx(T):
        book(
            T,
            [
                Entry(cid, f"test:{cid}:1", "adjust", 100, old, reason_code="MIGRATION"),
                Entry(cid, f"test:{cid}:2", "adjust", 50, recent, reason_code="MIGRATION"),
                Entry(cid, f"test:{cid}:3", "adjust", -30, recent, reason_code="CORRECTION"),
            ],
        )
        found = rules.current_rules(T)
        first = jobs.expire_points(T, now, found)
        second = jobs.expire_points(T, now, found)
    assert first["points"] >= 70  # the old lot had 100, the -30 used 30 of it: 70 expire
    assert second["points"] == 0
    assert balance(cid) == (50, 50)


@pytest.mark.req("FR-402")
def test_tiers_follow_rolling_spend_multiply_earning_and_are_audited(app, client):
    enable_loyalty()
    box = enrol_box(T, "b-downtown")
    cid = new_customer()
    send(box, [customer_sale(box, 1, cid, qty="12", total="12.00", tax="0.00")])  # spend 12.00
    login(client, "cashier")
    assert client.post("/api/v1/loyalty/tiers/recalculate", json={}).status_code == 403
    client.post("/api/v1/auth/logout")
    login(client, "owner")
    result = client.post("/api/v1/loyalty/tiers/recalculate", json={})
    assert result.status_code == 200
    assert result.get_json()["changed"] >= 1
    with tenant_tx(T):
        assert Customer.get(Customer.id == cid).tier == "GOLD"
    audit = client.get("/api/v1/audit").get_json()["items"]
    assert any(
        e["action"] == "loyalty.tier_changed" and e["target"] == f"customer:{cid}" for e in audit
    )
    assert any(e["action"] == "loyalty.tiers_recalculated" for e in audit)
    before = balance(cid)[0]
    send(box, [customer_sale(box, 2, cid, qty="1", total="1.00", tax="0.00")])  # 1 x 10 x2 x GOLD 2
    assert balance(cid)[0] - before == 40
