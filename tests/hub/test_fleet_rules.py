"""Fleet health and alert rules (FR-500, FR-501): silent boxes from the enrolled inventory,
offline by last will or missed heartbeats, child alerts suppressed under an offline branch,
backlog, print queue, quarantine, broken chains, stale backups; all resolve by themselves."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from hub.alerting.delivery import deliver_due
from hub.alerting.models import Alert, AlertDelivery
from hub.alerting.senders import Senders
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance.models import BoxAudit
from hub.incidents import service as incidents
from hub.ops import fleet, rules
from hub.sync import health
from hub.sync.models import Quarantine
from posdomain import topics
from scripts.testkit.receivers import WebhookReceiver
from tests.hub.ops_helpers import add_box, beat, new_tenant
from tests.hub.test_alerting import _channel

pytestmark = [pytest.mark.pg]


def _live(tenant: str) -> dict[str, Alert]:
    with tenant_tx(tenant):
        query = Alert.select().where(Alert.tenant_id == tenant, Alert.state.in_(("OPEN", "ACKED")))
        return {a.key: a for a in query}


def _evaluate(tenant: str) -> dict[str, int]:
    return rules.evaluate_tenant(tenant, check_backups=False)


@pytest.mark.req("FR-500")
def test_states_silent_offline_by_last_will_and_by_missed_heartbeats(app):
    tenant, [branch] = new_tenant()
    now = utcnow()
    silent = add_box(tenant, branch)
    willed, missed, fine = (add_box(tenant, branch) for _ in range(3))
    beat(tenant, willed, branch, now, online=False)
    beat(tenant, missed, branch, now - timedelta(seconds=16))  # 3 x 5 s missed
    beat(
        tenant,
        fine,
        branch,
        now - timedelta(seconds=2),
        queued=4,
        version="1.4.2",
        devices={"printer": "ok", "scanner": "unplugged"},
    )
    states = {r["box_id"]: r for r in fleet.box_rows(tenant, None)}
    assert {b: states[b]["state"] for b in (silent, willed, missed, fine)} == {
        silent: "silent",
        willed: "offline",
        missed: "offline",
        fine: "online",
    }
    assert states[fine]["version"] == "1.4.2"
    assert states[fine]["devices"]["scanner"] == "unplugged"
    view = fleet.fleet(tenant, None)
    assert view["totals"] == {"online": 1, "offline": 2, "silent": 1}
    assert view["branches"][0]["offline_branch"] is False


@pytest.mark.req("FR-500", "FR-501")
def test_silent_box_alerts_from_the_inventory_and_resolves_when_it_reports(app):
    tenant, [branch] = new_tenant()
    box = add_box(tenant, branch, created_at=utcnow() - timedelta(minutes=11))
    online = add_box(tenant, branch)
    beat(tenant, online, branch, utcnow())
    assert _evaluate(tenant)["opened"] == 1
    alert = _live(tenant)[f"box_offline:{box}"]
    assert alert.details["state"] == "silent"
    assert not alert.suppressed
    assert _evaluate(tenant)["opened"] == 0  # deduplicated
    beat(tenant, box, branch, utcnow())
    assert _evaluate(tenant)["resolved"] == 1
    assert f"box_offline:{box}" not in _live(tenant)


@pytest.mark.req("FR-501")
def test_offline_branch_suppresses_its_boxes_alerts_until_it_is_back(app):
    tenant, [branch] = new_tenant()
    old = utcnow() - timedelta(minutes=30)
    a, b = add_box(tenant, branch, old), add_box(tenant, branch, old)
    beat(tenant, a, branch, old, online=False)
    beat(tenant, b, branch, old, online=False)
    with WebhookReceiver() as hook:
        _channel(tenant, "webhook", hook.url, ["WARN", "CRITICAL"], [hook.url])
        _evaluate(tenant)
        live = _live(tenant)
        assert live[f"branch_offline:{branch}"].severity == "CRITICAL"
        assert live[f"box_offline:{a}"].suppressed
        assert live[f"box_offline:{b}"].suppressed
        deliver_due(Senders(webhook_allowlist=[hook.url]))
        assert [r.body.count(b"BRANCH_OFFLINE") for r in hook.received] == [1]  # only the parent
        beat(tenant, a, branch, utcnow())  # one box back: branch up, b is now its own problem
        _evaluate(tenant)
        deliver_due(Senders(webhook_allowlist=[hook.url]))
    sent = [r.body.decode() for r in hook.received]
    assert any('"RESOLVED"' in s and "BRANCH_OFFLINE" in s for s in sent)
    assert any('"OPENED"' in s and f"box_offline:{b}" in s for s in sent)
    assert not any(f"box_offline:{a}" in s for s in sent)  # resolved while suppressed: silent
    assert f"box_offline:{a}" not in _live(tenant)


@pytest.mark.req("FR-501")
def test_critical_branch_outage_opens_one_incident(app):
    tenant, [branch] = new_tenant()
    old = utcnow() - timedelta(minutes=30)
    box = add_box(tenant, branch, old)
    beat(tenant, box, branch, old, online=False)
    _evaluate(tenant)
    assert incidents.detect_from_alerts(tenant) == 1
    assert incidents.detect_from_alerts(tenant) == 0
    listed = incidents.list_incidents(tenant, None, 1)
    [incident] = listed["items"]
    assert incident["source"] == "alert"
    assert incident["state"] == "DETECTED"


@pytest.mark.req("FR-501", "FR-500")
def test_backlog_and_stuck_print_queue_from_heartbeat_telemetry(app):
    tenant, [branch] = new_tenant()
    box = add_box(tenant, branch)
    now = utcnow()
    beat(
        tenant,
        box,
        branch,
        now,
        queued=120,
        oldest_unsynced_at=now - timedelta(minutes=20),
        print_queue=3,
        print_failed=1,
        print_oldest_at=now - timedelta(minutes=11),
    )
    _evaluate(tenant)
    live = _live(tenant)
    assert live[f"sync_backlog:{box}"].details["outbox_depth"] == 120
    assert live[f"print_stuck:{box}"].details["queue"] == 3
    beat(tenant, box, branch, utcnow(), queued=0, oldest_unsynced_at=None, print_queue=0)
    assert _evaluate(tenant)["resolved"] == 2


@pytest.mark.req("FR-501")
def test_quarantine_growing_and_a_broken_box_chain(app):
    tenant, [branch] = new_tenant()
    box = add_box(tenant, branch)
    beat(tenant, box, branch, utcnow())
    with platform_tx():
        for i in range(11):
            Quarantine.create(
                topic=f"cfpos/v1/box/{box}/events",
                box_id=box,
                payload=b"x",
                reason="MALFORMED_MESSAGE",
                error=str(i),
            )
        BoxAudit.create(
            tenant_id=tenant,
            branch_id=branch,
            box_id=box,
            event_id=f"e-{box}",
            chain=box,
            seq=1,
            ts=utcnow().isoformat(),
            actor="staff:x",
            action="drawer.no_sale",
            target="t",
            severity="INFO",
            details={},
            prev_hash="0" * 64,
            hash="f" * 64,
        )
    _evaluate(tenant)
    live = _live(tenant)
    assert live[f"quarantine:{box}"].details["count"] == 11
    chain = live[f"audit_chain:{box}:{box}"]
    assert chain.severity == "CRITICAL"


@pytest.mark.req("FR-501", "FR-700")
def test_backup_older_than_its_schedule_alerts_critical(app):
    tenant, _b = new_tenant()
    with tenant_tx(tenant):
        t = fleet.thresholds(tenant)
    [(spec, suppressed)] = [
        f
        for f in rules.backup_findings(t, utcnow() + timedelta(days=30))
        if f[0].rule == "BACKUP_STALE"
    ]
    assert spec.severity == "CRITICAL"
    assert not suppressed
    rules.evaluate_tenant(tenant)  # the full pass runs the backup rules too
    with tenant_tx(tenant):
        queued = AlertDelivery.select().where(AlertDelivery.tenant_id == tenant).count()
    assert queued == 0  # no channel configured: shown in the feed, nothing queued


@pytest.mark.req("FR-500")
def test_todays_box_heartbeat_shape_is_stored_not_quarantined(app):
    tenant, [branch] = new_tenant()
    box = add_box(tenant, branch)
    raw = json.dumps(
        {
            "v": 1,
            "box_id": box,
            "online": True,
            "queued": 2,
            "ts": utcnow().isoformat(),
            "devices": {
                "service": True,
                "printer": {"state": "paper_out", "detail": "x"},
                "scanner": {"state": "ok", "detail": ""},
                "print_queue": 4,
            },
        }
    )
    health.record_heartbeat(topics.box_status(box), raw.encode(), retained=False)
    [row] = [r for r in fleet.box_rows(tenant, None) if r["box_id"] == box]
    assert row["devices"] == {"service": "ok", "printer": "paper_out", "scanner": "ok"}
    assert row["print_queue"] == 4
    assert row["state"] == "online"
    will = json.dumps({"v": 1, "box_id": box, "online": False, "queued": None, "ts": None})
    health.record_heartbeat(topics.box_status(box), will.encode(), retained=False)
    [row] = [r for r in fleet.box_rows(tenant, None) if r["box_id"] == box]
    assert (row["state"], row["print_queue"]) == ("offline", 4)  # the will keeps telemetry
