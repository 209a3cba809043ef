"""Reconciliation API/portal (branch-scoped, audited resolve), late sales, heartbeats, health."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hub.core.db import tenant_tx
from hub.governance.models import AuditLog
from hub.sales.models import Sale
from hub.sync.apply import apply_batch
from hub.sync.handling import handle_status
from hub.sync.models import BoxHeartbeat, Quarantine
from posdomain import topics
from scripts.testkit.crafted import B2, B, T, batch_of, sale_event
from tests.hub.conftest import enrol_box, login

pytestmark = [pytest.mark.pg]


def _flagged_box(branch_id: str = B) -> str:
    box = enrol_box(T, branch_id)
    ev = sale_event(box, 1, branch_id=branch_id, cashier_id="u-nobody")
    apply_batch(batch_of(box, [ev]), box)
    return box


def _items(client, **params: str) -> dict:
    resp = client.get("/api/v1/reconciliation", query_string=params)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


@pytest.mark.req("FR-303", "FR-101")
def test_list_filters_and_branch_scope(app, client):
    here, there = _flagged_box(B), _flagged_box(B2)
    login(client, "owner")
    owner_boxes = {i["box_id"] for i in _items(client, kind="CASHIER_UNKNOWN")["items"]}
    assert {here, there} <= owner_boxes
    assert _items(client, branch_id=B2, state="open", kind="CASHIER_UNKNOWN")["total"] >= 1
    assert client.get("/api/v1/reconciliation?kind=NOPE").status_code == 400
    client.post("/api/v1/auth/logout")
    login(client, "manager")  # b-downtown only
    seen = _items(client, kind="CASHIER_UNKNOWN")
    assert {i["branch_id"] for i in seen["items"]} == {B}
    assert client.get(f"/api/v1/reconciliation?branch_id={B2}").status_code == 403
    page = _items(client, page="1", kind="CASHIER_UNKNOWN")
    assert page["page"] == 1
    assert page["pages"] >= 1


@pytest.mark.req("FR-303", "FR-002")
def test_resolve_with_note_is_audited_once_and_branch_scoped(app, client):
    here, there = _flagged_box(B), _flagged_box(B2)
    login(client, "owner")
    items = _items(client, kind="CASHIER_UNKNOWN", state="open")["items"]
    mine = next(i for i in items if i["box_id"] == here)
    other = next(i for i in items if i["box_id"] == there)
    client.post("/api/v1/auth/logout")
    login(client, "auditor")
    denied = client.post(f"/api/v1/reconciliation/{mine['id']}/resolve", json={"note": "x"})
    assert denied.status_code == 403
    client.post("/api/v1/auth/logout")
    login(client, "manager")
    url = f"/api/v1/reconciliation/{mine['id']}/resolve"
    assert client.post(url, json={"note": ""}).status_code == 400
    foreign = client.post(f"/api/v1/reconciliation/{other['id']}/resolve", json={"note": "n"})
    assert foreign.status_code == 404
    done = client.post(url, json={"note": "cashier was a temp; HR confirmed"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["state"] == "resolved"
    assert body["resolution_note"].startswith("cashier was")
    assert client.post(url, json={"note": "again"}).status_code == 409
    with tenant_tx(T):
        audited = AuditLog.select().where(
            AuditLog.action == "reconciliation.resolve",
            AuditLog.target == f"reconciliation:{mine['id']}",
        )
        assert audited.count() == 1


@pytest.mark.req("FR-303")
def test_portal_pages_render_and_resolve_form_needs_csrf(app, client):
    _flagged_box(B)
    login(client, "manager")
    page = client.get("/reconciliation?state=open")
    assert page.status_code == 200
    assert b"CASHIER_UNKNOWN" in page.data
    assert client.get("/sync").status_code == 200
    item = _items(client, state="open", kind="CASHIER_UNKNOWN")["items"][0]
    refused = client.post(f"/reconciliation/{item['id']}/resolve", data={"note": "n"})
    assert refused.status_code == 400  # no CSRF token
    with client.session_transaction() as sess:
        token = sess.get("csrf_token")
    ok = client.post(
        f"/reconciliation/{item['id']}/resolve", data={"note": "ok", "csrf_token": token}
    )
    assert ok.status_code == 302


@pytest.mark.req("FR-303", "NFR-003")
def test_late_sale_is_flagged_and_marked_in_the_sales_api(app, client):
    box = enrol_box(T, B)
    old = datetime.now(UTC) - timedelta(minutes=40)
    events = [sale_event(box, 1, occurred_at=old), sale_event(box, 2)]
    apply_batch(batch_of(box, events), box)
    with tenant_tx(T):
        late = {s.receipt_no: s.late for s in Sale.select().where(Sale.box_id == box)}
    assert late == {1: True, 2: False}
    login(client, "owner")
    resp = client.get(f"/api/v1/sales/{events[0]['payload']['sale_id']}")
    assert resp.get_json()["late_synced"] is True
    health = client.get("/api/v1/sync/health").get_json()["items"]
    row = next(r for r in health if r["box_id"] == box)
    assert row["late_events"] == 1
    assert row["last_contiguous_seq"] == 2


@pytest.mark.req("FR-303", "NFR-003")
def test_box_clock_hours_behind_is_not_misreported_late(app):
    """Heartbeat says the box clock is 3 h behind: a just-made sale stamped 3 h ago is on time,
    while one made 40 min before that is still late."""
    box = enrol_box(T, B)
    skew = timedelta(hours=3)
    box_now = datetime.now(UTC) - skew
    beat = {"v": 1, "box_id": box, "online": True, "queued": 2, "ts": box_now.isoformat()}
    handle_status(topics.box_status(box), json.dumps(beat).encode(), retained=False)
    events = [
        sale_event(box, 1, occurred_at=box_now),
        sale_event(box, 2, occurred_at=box_now - timedelta(minutes=40)),
    ]
    apply_batch(batch_of(box, events, sent_at=box_now), box)
    with tenant_tx(T):
        rows = {s.receipt_no: s for s in Sale.select().where(Sale.box_id == box)}
        stored = BoxHeartbeat.get(BoxHeartbeat.box_id == box)
    assert rows[1].late is False
    assert rows[2].late is True
    assert abs(rows[1].clock_skew_seconds - skew.total_seconds()) < 60
    assert abs(stored.clock_skew_seconds - skew.total_seconds()) < 60
    assert stored.queued == 2


@pytest.mark.req("FR-303", "NFR-003")
def test_box_clock_ahead_uses_the_batch_clock_when_no_heartbeat(app):
    box = enrol_box(T, B)
    box_now = datetime.now(UTC) + timedelta(hours=5)
    ev = sale_event(box, 1, occurred_at=box_now - timedelta(minutes=1))
    apply_batch(batch_of(box, [ev], sent_at=box_now), box)
    with tenant_tx(T):
        sale = Sale.get(Sale.box_id == box)
    assert sale.late is False
    assert sale.clock_skew_seconds < -5 * 3600 + 60


@pytest.mark.req("FR-303", "NFR-005")
def test_forged_and_malformed_heartbeats_are_quarantined_retained_skew_ignored(app):
    box, other = enrol_box(T, B), enrol_box(T, B)
    forged = {"v": 1, "box_id": other, "online": True, "queued": 0, "ts": None}
    handle_status(topics.box_status(box), json.dumps(forged).encode(), retained=False)
    handle_status(topics.box_status(box), b"not json", retained=False)
    stale = {"v": 1, "box_id": box, "online": True, "queued": 5, "ts": "2020-01-01T00:00:00+00:00"}
    handle_status(topics.box_status(box), json.dumps(stale).encode(), retained=True)
    handle_status(topics.box_status("box-gone-x"), b'{"v":1}', retained=True)  # ignored
    with tenant_tx(T):
        beat = BoxHeartbeat.get(BoxHeartbeat.box_id == box)
    assert beat.queued == 5
    assert beat.clock_skew_seconds is None
    with tenant_tx(T):
        reasons = sorted(q.reason for q in Quarantine.select().where(Quarantine.box_id == box))
    assert reasons == ["BOX_MISMATCH", "MALFORMED_MESSAGE"]


@pytest.mark.req("FR-303", "NFR-005")
def test_refused_events_are_listed_critical_first_and_filter_by_severity(app, client):
    box = _flagged_box(B)  # a WARN item (unknown cashier) on seq 1
    forged = sale_event(box, 1)  # a fresh event id on the used seq: a CRITICAL conflict
    ack = apply_batch(batch_of(box, [forged]), box)
    assert [r["reason"] for r in ack.rejected] == ["SEQ_CONFLICT"]
    login(client, "owner")
    first = _items(client, state="open")["items"][0]
    assert first["severity"] == "CRITICAL"
    critical = _items(client, severity="CRITICAL", kind="SEQ_CONFLICT")["items"]
    mine = [i for i in critical if i["box_id"] == box]
    assert [(i["details"]["reason"], i["details"]["seq_consumed"]) for i in mine] == [
        ("SEQ_CONFLICT", False)
    ]
    assert all(i["severity"] == "WARN" for i in _items(client, severity="WARN")["items"])
    assert client.get("/api/v1/reconciliation?severity=LOUD").status_code == 400
    page = client.get("/reconciliation?severity=CRITICAL").get_data(as_text=True)
    assert "CRITICAL" in page
    assert "SEQ_CONFLICT" in page
