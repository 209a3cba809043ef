"""Integrations (FR-P7-1009..1013): prefixed checksummed tokens with scopes, expiry, last use,
audited revocation; business webhooks signed the Standard Webhooks way, delivered to a real
local receiver that verifies them, retried with backoff, logged per attempt, replayed by
hand; secret rotation with two signatures; the kill switch; per-token rate limits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.alerting import store
from hub.alerting.store import AlertSpec
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance import config
from hub.governance.models import AuditLog
from hub.identity.models import ApiToken
from hub.integrations import delivery, service
from hub.integrations.models import WebhookDelivery, WebhookEndpoint
from hub.integrations.schemas import EndpointIn, IntegrationIn
from hub.sync.apply import apply_batch
from posdomain import api_tokens
from posdomain.errors import HubReason, ValidationError
from posdomain.webhooks import SignatureError, sign_headers, verify
from scripts.testkit.crafted import make_batch
from scripts.testkit.receivers import WebhookReceiver
from scripts.webhook_receiver import VerifyingReceiver
from tests.hub.conftest import enrol_box, login
from tests.hub.ops_helpers import new_tenant
from tests.hub.ops_helpers import owner as ops_owner

pytestmark = [pytest.mark.pg]
T, B = "t-greenbasket", "b-downtown"
LATER = timedelta(hours=2)


@pytest.fixture(autouse=True)
def _quiet_endpoints(app: Flask) -> Iterator[None]:
    """Endpoints made by a test stop receiving once it ends (the session database is shared)."""
    yield
    with platform_tx():
        WebhookEndpoint.update(enabled=False).execute()


def _csrf(client: FlaskClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/v1/auth/me").get_json()["csrf_token"]}


def _owner(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client, "owner")
    return client


def _integration(client: FlaskClient, name: str | None = None) -> dict[str, Any]:
    resp = client.post("/api/v1/integrations", json={"name": name or f"erp-{uuid.uuid4().hex[:6]}"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def _token(client: FlaskClient, integration_id: str, **extra: Any) -> dict[str, Any]:
    body = {"name": "reader", "scopes": ["sales.read"], **extra}
    resp = client.post(f"/api/v1/integrations/{integration_id}/tokens", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def _endpoint(
    client: FlaskClient, app: Flask, integration_id: str, url: str, types: list[str]
) -> dict[str, Any]:
    app.config["WEBHOOK_ALLOWLIST"] = [url]
    resp = client.post(
        f"/api/v1/integrations/{integration_id}/webhooks", json={"url": url, "event_types": types}
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def _sell(count: int = 1) -> str:
    box = enrol_box(T, B)
    outcome = apply_batch(make_batch(box, T, B, list(range(1, count + 1))), box)
    del outcome
    return box


def _audit_actions(target: str) -> list[str]:
    with tenant_tx(T):
        rows = AuditLog.select().where(AuditLog.chain == T, AuditLog.target == target)
        return [r.action for r in rows.order_by(AuditLog.seq)]


@pytest.mark.req("FR-P7-1009", "FR-P7-1013")
def test_integration_token_scopes_expiry_last_use_and_audited_revocation(app):
    owner = _owner(app)
    integration = _integration(owner)
    made = _token(owner, integration["id"], expires_in_days=30)
    raw = made["token"]
    assert api_tokens.well_formed(raw)
    assert made["integration_id"] == integration["id"]
    assert made["expires_at"]
    assert made["last_used_at"] is None
    api = app.test_client()
    auth = {"Authorization": f"Bearer {raw}"}
    assert api.get("/api/v1/sales", headers=auth).status_code == 200
    listed = owner.get(f"/api/v1/integrations/{integration['id']}/tokens").get_json()["items"]
    assert listed[0]["last_used_at"] is not None
    assert "token" not in listed[0]
    assert api.get("/api/v1/users", headers=auth).get_json()["error"]["reason"] == (
        "FORBIDDEN_SCOPE"
    )
    broken = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    bad = api.get("/api/v1/sales", headers={"Authorization": f"Bearer {broken}"})
    assert bad.status_code == 401
    assert bad.get_json()["error"]["reason"] == "BAD_CREDENTIALS"
    gone = owner.delete(f"/api/v1/integrations/{integration['id']}/tokens/{made['id']}")
    assert gone.status_code == 200
    assert gone.get_json()["revoked_by"].startswith("user:")
    refused = api.get("/api/v1/sales", headers=auth)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["reason"] == "TOKEN_REVOKED"
    assert _audit_actions(f"token:{made['id']}") == ["token.created", "token.revoked"]
    with tenant_tx(T):
        assert ApiToken.get_by_id(made["id"]).token_hash != raw  # only the digest is kept


def _flip(client: FlaskClient, integration_id: str, enabled: bool, reason: str = "") -> Any:
    return client.put(
        f"/api/v1/integrations/{integration_id}/enabled",
        json={"enabled": enabled, "reason": reason},
    )


@pytest.mark.req("FR-P7-1010")
def test_a_sale_reaches_a_verifying_receiver_signed_over_the_raw_body(app):
    owner = _owner(app)
    integration = _integration(owner)
    with VerifyingReceiver([]) as receiver:
        ep = _endpoint(owner, app, integration["id"], receiver.url, ["sale.completed"])
        receiver.secrets.append(ep["secret"])
        _sell(2)
        stats = delivery.deliver_due([receiver.url])
    assert stats.sent >= 2
    assert receiver.refused == 0
    sales = [e for e in receiver.events if e["type"] == "sale.completed"]
    assert len(sales) == 2
    assert {"sale_id", "total", "currency", "branch_id", "box_id"} <= set(sales[0]["data"])
    log = owner.get(f"/api/v1/webhooks/{ep['id']}/deliveries").get_json()
    assert log["total"] == 2
    assert [a["status_code"] for a in log["items"][0]["log"]] == [204]
    assert log["items"][0]["state"] == "sent"


@pytest.mark.req("FR-P7-1010")
def test_a_forged_or_stale_message_fails_verification_at_the_receiver():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"sale.completed"}'
    good = sign_headers([secret], "msg_1", body)
    receiver = VerifyingReceiver([secret])
    assert receiver.handle(good, body) == 204
    assert receiver.handle(good, body) == 204
    assert receiver.duplicates == 1
    assert receiver.handle(good, body + b" ") == 401  # re-serialised / tampered body
    stale = sign_headers([secret], "msg_2", body, timestamp=1_600_000_000)
    assert receiver.handle(stale, body) == 401
    assert receiver.refused == 2


@pytest.mark.req("FR-P7-1010")
def test_failures_are_retried_with_backoff_logged_per_attempt_and_replayed_by_hand(app):
    owner = _owner(app)
    integration = _integration(owner)
    with WebhookReceiver(fail_first=2) as hook:
        ep = _endpoint(owner, app, integration["id"], hook.url, ["sale.completed"])
        _sell(1)
        first = delivery.deliver_due([hook.url])
        assert first.failed == 1
        assert first.sent == 0
        assert delivery.deliver_due([hook.url]).sent == 0  # not due yet: backoff
        assert delivery.deliver_due([hook.url], now=utcnow() + LATER).failed == 1
        assert delivery.deliver_due([hook.url], now=utcnow() + 2 * LATER).sent == 1
        item = owner.get(f"/api/v1/webhooks/{ep['id']}/deliveries").get_json()["items"][0]
        assert [a["status_code"] for a in item["log"]] == [500, 500, 204]
        replayed = owner.post(f"/api/v1/webhook-deliveries/{item['id']}/replay", json={})
        assert replayed.status_code == 200
        assert replayed.get_json()["state"] == "pending"
        assert delivery.deliver_due([hook.url]).sent == 1
    assert len(hook.received) == 2
    ids = {r.headers["webhook-id"] for r in hook.received}
    assert ids == {item["message_id"]}  # a replay is the same message: receivers dedupe
    assert hook.received[0].body == hook.received[1].body
    for r in hook.received:
        assert verify([ep["secret"]], r.headers, r.body) == item["message_id"]
    assert "webhook.replayed" in _audit_actions(f"webhook_delivery:{item['id']}")


@pytest.mark.req("FR-P7-1010")
def test_rotation_signs_with_old_and_new_secret_until_retired(app):
    owner = _owner(app)
    integration = _integration(owner)
    with WebhookReceiver() as hook:
        ep = _endpoint(owner, app, integration["id"], hook.url, ["alert.opened"])
        rotated = owner.post(f"/api/v1/webhooks/{ep['id']}/rotate-secret", json={}).get_json()
        assert rotated["secrets_in_use"] == 2
        assert rotated["secret"] != ep["secret"]
        with tenant_tx(T):
            store.raise_alert(T, AlertSpec("BOX_OFFLINE", f"k-{uuid.uuid4().hex}", "WARN", "x", {}))
        delivery.deliver_due([hook.url])
        retired = owner.post(f"/api/v1/webhooks/{ep['id']}/retire-old-secrets", json={})
        assert retired.get_json()["secrets_in_use"] == 1
        with tenant_tx(T):
            store.raise_alert(T, AlertSpec("BOX_OFFLINE", f"k-{uuid.uuid4().hex}", "WARN", "x", {}))
        delivery.deliver_due([hook.url])
    during, after = hook.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verify([ep["secret"]], during.headers, during.body)  # old receivers still verify
    assert verify([rotated["secret"]], during.headers, during.body)
    assert verify([rotated["secret"]], after.headers, after.body)
    with pytest.raises(SignatureError, match="no webhook signature matches"):
        verify([ep["secret"]], after.headers, after.body)  # the old secret is gone


@pytest.mark.req("FR-P7-1011", "FR-P7-1013")
def test_kill_switch_stops_deliveries_and_refuses_tokens_at_once(app):
    owner = _owner(app)
    integration = _integration(owner)
    raw = _token(owner, integration["id"])["token"]
    auth = {"Authorization": f"Bearer {raw}"}
    api = app.test_client()
    with WebhookReceiver() as hook:
        _endpoint(owner, app, integration["id"], hook.url, ["sale.completed"])
        assert api.get("/api/v1/sales", headers=auth).status_code == 200
        assert _flip(owner, integration["id"], False).status_code == 400  # reason required
        off = _flip(owner, integration["id"], False, "leaked token in a log")
        assert off.status_code == 200
        assert off.get_json()["enabled"] is False
        refused = api.get("/api/v1/sales", headers=auth)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["reason"] == "INTEGRATION_DISABLED"
        _sell(1)  # nothing is queued for a switched-off integration
        assert delivery.deliver_due([hook.url]).sent == 0
        assert hook.received == []
        assert _flip(owner, integration["id"], True).get_json()["enabled"] is True
        assert api.get("/api/v1/sales", headers=auth).status_code == 200
        _sell(1)
        delivery.deliver_due([hook.url])
    assert len(hook.received) == 1
    actions = _audit_actions(f"integration:{integration['id']}")
    assert actions == ["integration.created", "integration.killed", "integration.enabled"]


@pytest.mark.req("FR-P7-1011")
def test_deliveries_queued_before_the_switch_are_held_not_sent(app):
    owner = _owner(app)
    integration = _integration(owner)
    with WebhookReceiver() as hook:
        ep = _endpoint(owner, app, integration["id"], hook.url, ["sale.completed"])
        _sell(1)
        _flip(owner, integration["id"], False, "incident")
        assert delivery.deliver_due([hook.url]).sent == 0
        assert hook.received == []
        _flip(owner, integration["id"], True)
        assert delivery.deliver_due([hook.url]).sent == 1
    with tenant_tx(T):
        assert WebhookDelivery.select().where(WebhookDelivery.endpoint_id == ep["id"]).count() == 1


@pytest.mark.req("FR-P7-1012")
def test_rate_limit_per_token_answers_ratelimit_headers_and_429(app, monkeypatch):
    fixed = utcnow().replace(second=10, microsecond=0)
    monkeypatch.setitem(app.extensions, "cfpos_clock", lambda: fixed)
    owner = _owner(app)
    integration = _integration(owner)
    made = _token(owner, integration["id"], rate_limit_per_minute=3)
    other = _token(owner, integration["id"], rate_limit_per_minute=3)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {made['token']}"}
    remaining = []
    for _ in range(3):
        resp = api.get("/api/v1/sales", headers=auth)
        assert resp.status_code == 200
        assert resp.headers["RateLimit-Limit"] == "3"
        assert resp.headers["RateLimit-Policy"] == "3;w=60"
        assert resp.headers["RateLimit-Reset"] == "50"
        remaining.append(resp.headers["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    for _ in range(2):
        over = api.get("/api/v1/sales", headers=auth)
        assert over.status_code == 429
        assert over.get_json()["error"]["reason"] == "TOKEN_RATE_LIMITED"
        assert over.headers["Retry-After"] == "50"
        assert over.headers["RateLimit-Remaining"] == "0"
    # another token has its own budget; the next minute starts afresh
    own_budget = api.get("/api/v1/sales", headers={"Authorization": f"Bearer {other['token']}"})
    assert own_budget.status_code == 200
    monkeypatch.setitem(app.extensions, "cfpos_clock", lambda: fixed + timedelta(minutes=1))
    assert api.get("/api/v1/sales", headers=auth).status_code == 200
    assert _audit_actions(f"token:{made['id']}").count("token.rate_limited") == 1


@pytest.mark.req("FR-P7-1010", "NFR-005")
def test_bad_endpoints_are_refused_with_reasons_and_nothing_written(app):
    owner = _owner(app)
    integration = _integration(owner)
    app.config["WEBHOOK_ALLOWLIST"] = ["http://127.0.0.1:9/hooks/"]
    url = f"/api/v1/integrations/{integration['id']}/webhooks"
    cases = [
        ({"url": "not a url", "event_types": ["sale.completed"]}, "WEBHOOK_URL_NOT_ALLOWED"),
        ({"url": "http://evil.example/hooks/", "event_types": ["sale.completed"]},
         "WEBHOOK_URL_NOT_ALLOWED"),
        ({"url": "file:///etc/passwd", "event_types": ["sale.completed"]},
         "WEBHOOK_URL_NOT_ALLOWED"),
        ({"url": "http://127.0.0.1:9/hooks/x", "event_types": ["sale.maybe"]},
         "UNKNOWN_WEBHOOK_EVENT"),
        ({"url": "http://127.0.0.1:9/hooks/x", "event_types": []}, "VALIDATION_FAILED"),
    ]  # fmt: skip
    for body, reason in cases:
        resp = owner.post(url, json=body)
        assert resp.status_code == 400, body
        assert resp.get_json()["error"]["reason"] == reason
    assert owner.get(url).get_json()["items"] == []
    unknown = owner.post("/api/v1/integrations/nope/webhooks", json=cases[-2][0] | {
        "event_types": ["sale.completed"]})  # fmt: skip
    assert unknown.status_code == 404


@pytest.mark.req("FR-P7-1010", "FR-P7-1019")
def test_only_owners_manage_integrations_and_other_tenants_see_nothing(app):
    owner = _owner(app)
    integration = _integration(owner)
    for user in ("auditor", "manager", "cashier"):
        client = app.test_client()
        login(client, user)
        resp = client.get("/api/v1/integrations")
        assert resp.status_code == 403, user
        assert resp.get_json()["error"]["reason"] == "FORBIDDEN_ROLE"
    harbor = app.test_client()
    login(harbor, "harbor-owner")
    assert integration["id"] not in {
        i["id"] for i in harbor.get("/api/v1/integrations").get_json()["items"]
    }
    assert harbor.get(f"/api/v1/integrations/{integration['id']}").status_code == 404
    assert _flip(harbor, integration["id"], False, "x").status_code == 404
    types = owner.get("/api/v1/webhook-event-types").get_json()["items"]
    assert {"sale.completed", "refund.completed", "stock.below_reorder_point"} <= set(types)
    assert {"alert.opened", "incident.opened"} <= set(types)


@pytest.mark.req("FR-P7-1009", "FR-P7-1011")
def test_portal_pages_issue_tokens_register_webhooks_and_flip_the_switch(app):
    owner = _owner(app)
    csrf = _csrf(owner)["X-CSRF-Token"]
    made = owner.post("/integrations", data={"name": f"portal-{uuid.uuid4().hex[:6]}",
                                             "csrf_token": csrf})  # fmt: skip
    assert made.status_code == 302
    page_url = made.headers["Location"]
    integration_id = page_url.rsplit("/", 1)[1]
    issued = owner.post(f"{page_url}/tokens", data={"name": "bi", "scopes": ["sales.read"],
                                                    "csrf_token": csrf})  # fmt: skip
    assert issued.status_code == 302  # post/redirect/get: a reload issues nothing
    html = owner.get(page_url).get_data(as_text=True)
    assert 'id="new-token"' not in owner.get(page_url).get_data(as_text=True)  # once only
    raw = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert api_tokens.well_formed(raw)
    app.config["WEBHOOK_ALLOWLIST"] = ["http://127.0.0.1:9/"]
    hooked = owner.post(f"{page_url}/webhooks", data={"url": "http://127.0.0.1:9/h",
                        "event_types": ["sale.completed"], "csrf_token": csrf})  # fmt: skip
    assert hooked.status_code == 302
    assert 'id="new-secret">whsec_' in owner.get(page_url).get_data(as_text=True)
    off = owner.post(f"{page_url}/enabled", data={"enabled": "false", "reason": "portal test",
                                                  "csrf_token": csrf})  # fmt: skip
    assert off.status_code == 302
    assert "Switched off" in owner.get(page_url).get_data(as_text=True)
    api = app.test_client()
    refused = api.get("/api/v1/sales", headers={"Authorization": f"Bearer {raw}"})
    assert refused.get_json()["error"]["reason"] == "INTEGRATION_DISABLED"
    assert integration_id in owner.get("/integrations").get_data(as_text=True)
    cashier = app.test_client()
    login(cashier, "cashier")
    assert cashier.get("/integrations").status_code == 403


@pytest.mark.req("FR-P7-1010", "NFR-005")
def test_the_tenants_own_allow_list_narrows_the_hubs(app):
    tenant, _b = new_tenant()
    who = ops_owner(tenant)
    made = service.create(who, tenant, IntegrationIn(name="erp"))
    hub_list = ["http://127.0.0.1:"]
    with tenant_tx(tenant):
        config.write_version(
            who,
            tenant,
            "alerting",
            {"webhook_allowlist": ["http://127.0.0.1:9001/"]},
            "only the ERP",
        )
    body = EndpointIn(url="http://127.0.0.1:9002/hooks", event_types=["sale.completed"])
    with pytest.raises(ValidationError) as info:
        service.add_endpoint(who, tenant, made["id"], body, hub_list)
    assert info.value.reason is HubReason.WEBHOOK_URL_NOT_ALLOWED
    ok = EndpointIn(url="http://127.0.0.1:9001/hooks", event_types=["sale.completed"])
    assert service.add_endpoint(who, tenant, made["id"], ok, hub_list)["url"] == ok.url
    with pytest.raises(ValidationError):  # the tenant cannot widen the hub's list
        service.add_endpoint(who, tenant, made["id"], ok, ["http://10.0.0.1/"])
