"""SUPERVISOR reads sales of its own branch, today only (P0 probe item 6, permission matrix
"REP-T reports: B (own branch, today)"). Before: any date of the branch was readable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.core.db import tenant_tx
from hub.sales.models import Sale
from hub.sync.apply import apply_batch
from scripts.testkit.crafted import batch_of, sale_event
from tests.hub.conftest import create_user, enrol_box, login

pytestmark = [pytest.mark.pg]
T, B = "t-greenbasket", "b-downtown"


def _supervisor() -> str:
    return create_user(T, "SUPERVISOR", "supervisor-pass", [B])


@pytest.mark.req("FR-002")
def test_supervisor_sees_only_todays_sales_of_own_branch(app, client):
    box = enrol_box(T, B)
    now = datetime.now(UTC)
    events = [
        sale_event(box, 1, occurred_at=now),
        sale_event(box, 2, occurred_at=now - timedelta(days=3)),
    ]
    apply_batch(batch_of(box, events), box)
    owner = app.test_client()
    login(owner, "owner")
    with tenant_tx(T):
        rows = list(Sale.select().where(Sale.box_id == box).order_by(Sale.completed_at))
    old, new = ({"sale_id": r.id} for r in rows)
    assert owner.get(f"/api/v1/sales/{old['sale_id']}").status_code == 200

    name = _supervisor()
    resp = client.post("/api/v1/auth/login", json={"username": name, "password": "supervisor-pass"})
    assert resp.status_code == 200
    listed = {s["sale_id"] for s in client.get("/api/v1/sales?page_size=200").get_json()["items"]}
    assert new["sale_id"] in listed
    assert old["sale_id"] not in listed
    path = f"/api/v1/tenants/{T}/branches/{B}/sales"
    assert old["sale_id"] not in {s["sale_id"] for s in client.get(path).get_json()["items"]}
    assert client.get(f"/api/v1/sales/{new['sale_id']}").status_code == 200
    assert client.get(f"/api/v1/sales/{old['sale_id']}").status_code == 404
    assert owner.get(f"/api/v1/sales/{old['sale_id']}").status_code == 200
    other = client.get("/api/v1/sales?branch_id=b-riverside")
    assert other.status_code == 403
