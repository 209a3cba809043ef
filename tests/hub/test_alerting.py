"""Alerting (FR-501): dedup by key, ack/resolve/re-arm, routing, exactly-once delivery to a
real SMTP server and a real HTTP receiver, retries, nothing sent for a rolled-back change."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from hub.alerting import channels, store
from hub.alerting.delivery import deliver_due
from hub.alerting.models import Alert, AlertChannel, AlertDelivery
from hub.alerting.senders import Senders
from hub.alerting.store import AlertSpec
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.governance.models import AuditLog
from posdomain.errors import HubReason, Reason, ValidationError
from posdomain.webhooks import verify
from scripts.testkit.receivers import MailCatcher, WebhookReceiver
from tests.hub.conftest import login
from tests.hub.ops_helpers import new_tenant, owner

pytestmark = [pytest.mark.pg]
LATER = timedelta(hours=1)


def _channel(tenant: str, kind: str, target: str, severities: list[str], allow: list[str]) -> dict:
    body = channels.ChannelIn(name=f"{kind}-{len(target)}", kind=kind, target=target,
                              severities=severities)  # fmt: skip
    return channels.create(owner(tenant), tenant, body, allow)


def _raise(tenant: str, key: str = "box_offline:x", severity: str = "WARN") -> Alert | None:
    spec = AlertSpec("BOX_OFFLINE", key, severity, f"box {key} offline", {"n": 1})
    with tenant_tx(tenant):
        return store.raise_alert(tenant, spec)


def _resolve(tenant: str, key: str = "box_offline:x") -> None:
    with tenant_tx(tenant):
        store.resolve_key(tenant, key)


@pytest.mark.req("FR-501")
def test_each_state_change_reaches_mail_and_webhook_exactly_once(app):
    tenant, _b = new_tenant()
    with MailCatcher() as mail, WebhookReceiver() as hook:
        senders = Senders("127.0.0.1", mail.port, "alerts@test", [hook.url])
        made = _channel(tenant, "webhook", hook.url, ["WARN", "CRITICAL"], [hook.url])
        _channel(tenant, "email", "ops@example.test", ["WARN"], [])
        alert = _raise(tenant)
        assert _raise(tenant) is None  # deduplicated: live key, nothing new queued
        principal = owner(tenant)
        store.acknowledge(principal, None, alert.id)
        store.acknowledge(principal, None, alert.id)  # idempotent: no second ACKED
        _resolve(tenant)
        assert deliver_due(senders).sent == 6
        assert deliver_due(senders, now=utcnow() + LATER).sent == 0  # nothing sent twice
    transitions = [json.loads(r.body)["transition"] for r in hook.received]
    assert transitions == ["OPENED", "ACKED", "RESOLVED"]
    subjects = [m["Subject"] for m in mail.messages]
    assert [s.split(":")[0] for s in subjects] == [
        "[WARN] OPENED",
        "[WARN] ACKED",
        "[WARN] RESOLVED",
    ]
    for r in hook.received:  # signed over the raw body with the channel's secret
        assert verify([made["secret"]], r.headers, r.body).startswith("msg_")
    assert len({r.headers["webhook-id"] for r in hook.received}) == 3


@pytest.mark.req("FR-501")
def test_resolved_alert_re_arms_as_a_new_episode(app):
    tenant, _b = new_tenant()
    first = _raise(tenant)
    _resolve(tenant)
    second = _raise(tenant)
    assert second is not None
    assert second.id != first.id
    with tenant_tx(tenant):
        states = sorted(a.state for a in Alert.select().where(Alert.tenant_id == tenant))
    assert states == ["OPEN", "RESOLVED"]


@pytest.mark.req("FR-501")
def test_failing_webhook_is_retried_with_backoff_then_delivered_once(app):
    tenant, _b = new_tenant()
    with WebhookReceiver(fail_first=2) as hook:
        senders = Senders(webhook_allowlist=[hook.url])
        _channel(tenant, "webhook", hook.url, ["WARN"], [hook.url])
        _raise(tenant)
        first = deliver_due(senders, base_s=1)
        assert (first.sent, first.failed) == (0, 1)
        assert deliver_due(senders).sent == 0  # not due yet: backoff
        with tenant_tx(tenant):
            row = AlertDelivery.get(AlertDelivery.tenant_id == tenant)
        assert row.attempts == 1
        assert "500" in row.last_error
        assert deliver_due(senders, now=utcnow() + LATER, base_s=1).failed == 1
        assert deliver_due(senders, now=utcnow() + 2 * LATER, base_s=1).sent == 1
        assert deliver_due(senders, now=utcnow() + 3 * LATER).sent == 0
    assert hook.attempts == 3
    assert len(hook.received) == 1


def _raise_then_fail(tenant: str) -> None:
    with tenant_tx(tenant):
        store.raise_alert(tenant, AlertSpec("BOX_OFFLINE", "k", "WARN", "offline"))
        raise RuntimeError("the rule's transaction fails after raising")


@pytest.mark.req("FR-501")
def test_nothing_is_queued_or_sent_for_a_rolled_back_transaction(app):
    tenant, _b = new_tenant()
    with WebhookReceiver() as hook:
        _channel(tenant, "webhook", hook.url, ["WARN"], [hook.url])
        with pytest.raises(RuntimeError):
            _raise_then_fail(tenant)
        assert deliver_due(Senders(webhook_allowlist=[hook.url])).sent == 0
    assert hook.received == []
    with tenant_tx(tenant):
        assert Alert.select().where(Alert.tenant_id == tenant).count() == 0


@pytest.mark.req("FR-501")
def test_routing_by_severity_and_log_channel(app, caplog):
    tenant, _b = new_tenant()
    _channel(tenant, "log", "", ["CRITICAL"], [])
    _raise(tenant, "a", "WARN")
    _raise(tenant, "b", "CRITICAL")
    with caplog.at_level("WARNING", logger="cfpos.alerts"):
        assert deliver_due(Senders()).sent == 1
    assert [r.fields["payload"]["alert"]["key"] for r in caplog.records] == ["b"]


@pytest.mark.req("FR-501", "NFR-005")
def test_bad_channels_are_refused_and_nothing_written(app):
    tenant, _b = new_tenant()
    allow = ["http://127.0.0.1:9/hooks/"]
    cases = [
        ("pager", "x", HubReason.UNKNOWN_CHANNEL),
        ("webhook", "http://evil.example/hooks/", HubReason.WEBHOOK_URL_NOT_ALLOWED),
        ("webhook", "file:///etc/passwd", HubReason.WEBHOOK_URL_NOT_ALLOWED),
        ("email", "not an address", Reason.VALIDATION_FAILED),
    ]
    for kind, target, reason in cases:
        with pytest.raises(ValidationError) as info:
            _channel(tenant, kind, target, ["WARN"], allow)
        assert info.value.reason is reason
    with pytest.raises(ValidationError):
        _channel(tenant, "log", "", ["LOUD"], allow)
    with tenant_tx(tenant):
        assert AlertChannel.select().where(AlertChannel.tenant_id == tenant).count() == 0


@pytest.mark.req("FR-501", "FR-003")
def test_alert_api_permissions_cross_tenant_and_denial_audit(app, client):
    login(client, "owner")
    resp = client.post(
        "/api/v1/alert-channels", json={"name": "x", "kind": "pager", "severities": ["WARN"]}
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"]["reason"] == "UNKNOWN_CHANNEL"
    other, _b = new_tenant()
    foreign = _raise(other, "foreign")
    resp = client.post(f"/api/v1/alerts/{foreign.id}/ack", json={})
    assert resp.status_code == 404  # another tenant's alert: never found, never changed
    with tenant_tx(other):
        assert Alert.get_by_id(foreign.id).state == "OPEN"
    cashier = app.test_client()
    login(cashier, "cashier")
    denied = cashier.get("/api/v1/alerts")
    assert denied.status_code == 403
    assert denied.get_json()["error"]["reason"] == "FORBIDDEN_ROLE"
    with tenant_tx("t-greenbasket"):
        last = (
            AuditLog.select()
            .where(AuditLog.action == "access.denied")
            .order_by(AuditLog.id.desc())
            .first()
        )
    assert last.target == "/api/v1/alerts"
    manager = app.test_client()
    login(manager, "manager")
    body = {"name": "m", "kind": "log", "severities": ["WARN"]}
    assert manager.post("/api/v1/alert-channels", json=body).status_code == 403
    page = client.get("/api/v1/alerts?state=live").get_json()
    assert all(a["state"] in ("OPEN", "ACKED") for a in page["items"])
    assert client.get("/api/v1/alerts?state=bogus").status_code == 400


@pytest.mark.req("FR-501")
def test_webhook_outside_the_allow_list_at_send_time_is_not_sent(app):
    tenant, _b = new_tenant()
    with WebhookReceiver() as hook:
        _channel(tenant, "webhook", hook.url, ["WARN"], [hook.url])
        _raise(tenant)
        stats = deliver_due(Senders(webhook_allowlist=[]))  # allow list narrowed since
    assert (stats.sent, stats.failed) == (0, 1)
    assert hook.received == []
