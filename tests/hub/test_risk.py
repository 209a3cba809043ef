"""Risk (FR-701): versioned rules with validation, scores that name their rules and figures,
modes per tenant/branch/box with reason and expiry, audited, enforced at the hub, pushed down
in the `risk` message; bad input and forbidden roles refused with nothing written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hub.alerting.models import Alert
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance import flags
from hub.governance.models import AuditLog, BoxAudit, ConfigVersion
from hub.identity.models import Box
from hub.risk import modes, scoring
from hub.risk.models import RiskModeChange
from hub.sales.models import HubSaleVoid
from hub.sync import downlink
from hub.sync.apply import apply_batch
from posdomain.audit_chain import Severity, next_record
from posdomain.contract import RiskMode
from posdomain.errors import ValidationError
from posdomain.permissions import Role
from scripts.testkit.crafted import batch_of, sale_event
from tests.hub.inventory_helpers import login_as
from tests.hub.ops_helpers import add_box, new_tenant, owner
from tests.hub.rule_helpers import EVIDENCE_FIELDS, set_rule

pytestmark = [pytest.mark.pg]
RULES = {
    "window_hours": 48,
    "business_open": "06:00",
    "business_close": "22:00",
    "alert_score": 40,
    "rules": [
        {
            "id": "voids",
            "metric": "void_ratio",
            "subject": "cashier",
            "threshold": "0.2",
            "weight": 30,
            "min_sales": 2,
        },
        {
            "id": "late",
            "metric": "after_hours_sales",
            "subject": "cashier",
            "threshold": "0",
            "weight": 20,
        },
        {
            "id": "drawer",
            "metric": "no_sale_opens",
            "subject": "box",
            "threshold": "1",
            "weight": 50,
        },
    ],
}


def _sales(tenant: str, branch: str, box: str, times: list[datetime], cashier: str) -> list[str]:
    events = []
    for seq, at in enumerate(times, start=1):
        ev = sale_event(box, seq, branch_id=branch, occurred_at=at, cashier_id=cashier)
        ev["tenant_id"] = tenant
        events.append(ev)
    apply_batch(batch_of(box, events), box)
    return [e["payload"]["sale_id"] for e in events]


def _void(tenant: str, branch: str, box: str, sale_id: str, cashier: str) -> None:
    with tenant_tx(tenant):
        HubSaleVoid.create(
            sale_id=sale_id,
            tenant_id=tenant,
            branch_id=branch,
            box_id=box,
            event_id=uuid.uuid4().hex,
            receipt_no=1,
            cashier_id=cashier,
            approver_id="u-sup",
            reason_code="MISTAKE",
            total_minor=298,
            voided_at=utcnow(),
        )


def _no_sales(tenant: str, branch: str, box: str, cashier: str, n: int) -> None:
    """n synced `drawer.no_sale` box audit entries forming a valid box chain."""
    head = None
    with tenant_tx(tenant):
        for _ in range(n):
            head = next_record(
                chain=box,
                head=head,
                ts=utcnow().isoformat(),
                actor=f"staff:{cashier}",
                action="drawer.no_sale",
                target="nosale",
                severity=Severity.INFO,
                details={},
            )
            BoxAudit.create(
                tenant_id=tenant,
                branch_id=branch,
                box_id=box,
                event_id=uuid.uuid4().hex,
                **head.__dict__,
            )


@pytest.mark.req("FR-701")
def test_scores_name_the_rules_that_fired_and_their_figures(app):
    tenant, [branch] = new_tenant()
    set_rule(tenant, "risk", {"scoring": RULES}, "risk rules v1")
    box = add_box(tenant, branch)
    today = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    if today > utcnow():
        today -= timedelta(days=1)
    night = today.replace(hour=3)
    ids = _sales(tenant, branch, box, [today, today - timedelta(minutes=5), night], "u-carl")
    _void(tenant, branch, box, ids[0], "u-carl")
    _no_sales(tenant, branch, box, "u-carl", 2)
    done = scoring.score_tenant(tenant)
    assert done["rules_version"] == 1
    scores = {
        (s["subject_kind"], s["subject_id"]): s for s in scoring.list_scores(tenant, None, None)
    }
    carl = scores[("cashier", "u-carl")]
    assert carl["score"] == 50
    assert [(f["rule"], f["value"]) for f in carl["fired"]] == [("voids", "0.3333"), ("late", "1")]
    assert carl["figures"]["sales"] == "3"
    assert scores[("box", box)]["fired"][0]["value"] == "2"
    with tenant_tx(tenant):
        keys = {
            a.key
            for a in Alert.select().where(
                Alert.tenant_id == tenant, Alert.rule == "RISK_SCORE_HIGH"
            )
        }
    assert keys == {"risk_score:cashier:u-carl", f"risk_score:box:{box}"}


@pytest.mark.req("FR-701")
@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (
            {
                "id": "x",
                "metric": "moon_phase",
                "subject": "cashier",
                "threshold": "1",
                "weight": 5,
            },
            "RULES_INVALID",
        ),
        (
            {
                "id": "x",
                "metric": "void_ratio",
                "subject": "cashier",
                "threshold": "1",
                "weight": 500,
            },
            "THRESHOLD_OUT_OF_RANGE",
        ),
        (
            {
                "id": "x",
                "metric": "void_ratio",
                "subject": "cashier",
                "threshold": "3",
                "weight": 5,
            },
            "RULES_INVALID",
        ),
        (
            {
                "id": "x",
                "metric": "offline_minutes",
                "subject": "cashier",
                "threshold": "1",
                "weight": 5,
            },
            "RULES_INVALID",
        ),
    ],
)
def test_malformed_rules_and_out_of_range_thresholds_are_refused(app, client, rule, reason):
    tenant, _b = new_tenant()
    login_as(client, Role.TENANT_OWNER, [], tenant)
    body = {
        "body": {"scoring": {**RULES, "rules": [rule]}},
        "reason": "bad rules",
        **EVIDENCE_FIELDS,
    }
    resp = client.put("/api/v1/config/risk", json=body)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["reason"] == reason
    assert resp.get_json()["error"]["details"]["fields"]
    with tenant_tx(tenant):
        assert ConfigVersion.select().where(ConfigVersion.tenant_id == tenant).count() == 0


@pytest.mark.req("FR-701", "FR-003")
def test_a_manager_may_not_change_a_mode_denial_audited_nothing_written(app, client):
    tenant, [branch] = new_tenant()
    login_as(client, Role.BRANCH_MANAGER, [branch], tenant)
    body = {"scope": "branch", "scope_id": branch, "mode": "BLOCK", "reason": "no"}
    resp = client.post("/api/v1/risk/modes", json=body)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["reason"] == "FORBIDDEN_ROLE"
    with tenant_tx(tenant):
        assert RiskModeChange.select().where(RiskModeChange.tenant_id == tenant).count() == 0
        denied = AuditLog.select().where(
            AuditLog.chain == tenant, AuditLog.action == "access.denied"
        )
        assert [a.target for a in denied] == ["/api/v1/risk/modes"]


@pytest.mark.req("FR-701")
def test_bad_mode_changes_are_refused(app):
    tenant, [_branch] = new_tenant()
    who = owner(tenant)
    past = datetime.now(UTC) - timedelta(minutes=1)
    cases = [
        modes.ModeIn(scope="branch", mode=RiskMode.WARN, reason="x"),  # no scope_id
        modes.ModeIn(scope="tenant", mode=RiskMode.WARN, reason="x", expires_at=past),
        modes.ModeIn(
            scope="tenant",
            mode=RiskMode.WARN,
            reason="x",
            expires_at=datetime.now(UTC) + timedelta(days=91),
        ),
    ]
    for body in cases:
        with pytest.raises(ValidationError):
            modes.set_mode(who, tenant, body)
    _other, [foreign] = new_tenant()
    with pytest.raises(Exception, match="no branch"):
        modes.set_mode(
            who,
            tenant,
            modes.ModeIn(scope="branch", scope_id=foreign, mode=RiskMode.BLOCK, reason="x"),
        )
    with tenant_tx(tenant):
        assert RiskModeChange.select().count() == 0


@pytest.mark.req("FR-701")
def test_strictest_mode_wins_expiry_returns_to_normal_and_the_box_gets_it(app):
    tenant, [branch] = new_tenant()
    box = add_box(tenant, branch)
    who = owner(tenant)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    modes.set_mode(
        who, tenant, modes.ModeIn(scope="tenant", mode=RiskMode.WARN, reason="audit week")
    )
    modes.set_mode(
        who,
        tenant,
        modes.ModeIn(
            scope="box",
            scope_id=box,
            mode=RiskMode.BLOCK,
            reason="till 3 suspicious",
            expires_at=soon,
        ),
    )
    with tenant_tx(tenant):
        state = modes.state_for(tenant, [branch], box)
        assert (state.mode, state.scope, state.reason_code) == (
            RiskMode.BLOCK,
            "box",
            "RISK_BLOCKED",
        )
        assert modes.state_for(tenant, [branch]).mode is RiskMode.WARN  # other boxes: WARN
        later = modes.in_force(tenant, soon + timedelta(seconds=1))
        assert [r.mode for r in later.values()] == ["WARN"]  # the box's BLOCK expired
        msgs = dict(downlink.messages_for_box(Box.get_by_id(box)))
    body = next(m for t, m in msgs.items() if t.endswith("/down/risk")).body
    assert body["mode_state"]["mode"] == "BLOCK"
    assert body["mode_state"]["expires_at"] == soon.isoformat()
    assert body["mode_state"]["enforced"] is False  # risk_enforcement is off
    with tenant_tx(tenant):
        changes = AuditLog.select().where(
            AuditLog.chain == tenant, AuditLog.action == "risk.mode_changed"
        )
        assert [c.details["after"] for c in changes.order_by(AuditLog.seq)] == ["WARN", "BLOCK"]
        alerts = Alert.select().where(Alert.tenant_id == tenant, Alert.rule == "RISK_MODE_CHANGED")
        assert alerts.count() == 2


def _enforce(tenant: str) -> None:
    flags.set_flag(
        owner(tenant), tenant, "risk_enforcement", {"enabled": True, "reason": "go"}, "DEV"
    )


@pytest.mark.req("FR-701")
@pytest.mark.smoke
@pytest.mark.parametrize("mode", ["WARN", "READ_ONLY", "BLOCK"])
def test_smoke_risk_mode_at_the_hub(app, client, mode):
    """Release Governance smoke tier 4: risk WARN / READ_ONLY / BLOCK."""
    tenant, [branch, other] = new_tenant(2)
    login_as(client, Role.TENANT_OWNER, [], tenant)
    _enforce(tenant)
    body = {"scope": "branch", "scope_id": branch, "mode": mode, "reason": f"smoke {mode}"}
    assert client.post("/api/v1/risk/modes", json=body).status_code == 201
    receipt = {"idempotency_key": uuid.uuid4().hex, "lines": [{"product_id": "p-x", "qty": "1"}]}
    write = client.post(f"/api/v1/inventory/branches/{branch}/receipts", json=receipt)
    elsewhere = client.post(f"/api/v1/inventory/branches/{other}/receipts", json=receipt)
    assert elsewhere.status_code != 403  # another branch is not in the scope
    if mode == "READ_ONLY":
        assert write.status_code == 403
        assert write.get_json()["error"]["reason"] == "RISK_READ_ONLY"
        with tenant_tx(tenant):
            denied = AuditLog.select().where(
                AuditLog.chain == tenant, AuditLog.action == "access.denied"
            )
            assert [d.details["reason"] for d in denied] == ["RISK_READ_ONLY"]
    else:
        assert write.status_code != 403  # WARN warns, BLOCK stops sales only: hub stock moves run
    assert client.get("/api/v1/inventory/on-hand").status_code == 200  # reads always work
    page = client.get("/risk").get_data(as_text=True)
    assert f"smoke {mode}" in page
    box = add_box(tenant, branch)
    got = client.get(f"/api/v1/risk/boxes/{box}/mode").get_json()["mode_state"]
    assert (got["mode"], got["enforced"]) == (mode, True)
    assert (
        got["reason_code"]
        == {"WARN": "RISK_WARN", "READ_ONLY": "RISK_READ_ONLY", "BLOCK": "RISK_BLOCKED"}[mode]
    )
    lift = {"scope": "branch", "scope_id": branch, "mode": "NORMAL", "reason": "smoke done"}
    assert client.post("/api/v1/risk/modes", json=lift).status_code == 201  # never locked out


@pytest.mark.req("FR-701")
def test_tenant_read_only_refuses_config_changes_and_warn_shows_a_banner(app, client):
    tenant, [_branch] = new_tenant()
    login_as(client, Role.TENANT_OWNER, [], tenant)
    modes.set_mode(
        owner(tenant), tenant, modes.ModeIn(scope="tenant", mode=RiskMode.WARN, reason="watch")
    )
    assert "Risk mode WARN" in client.get("/risk").get_data(as_text=True)
    modes.set_mode(
        owner(tenant), tenant, modes.ModeIn(scope="tenant", mode=RiskMode.READ_ONLY, reason="fraud")
    )
    branding = {
        "body": {"store_name": "X", "primary_color": "#112233", "logo_text": "X"},
        "reason": "r",
    }
    assert (
        client.put("/api/v1/config/branding", json=branding).status_code == 200
    )  # not enforced yet
    _enforce(tenant)
    refused = client.put("/api/v1/config/branding", json=branding)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["reason"] == "RISK_READ_ONLY"


@pytest.mark.req("FR-701")
def test_sales_from_a_blocked_box_are_kept_and_alerted(app):
    tenant, [branch] = new_tenant()
    box = add_box(tenant, branch)
    _enforce(tenant)
    modes.set_mode(
        owner(tenant),
        tenant,
        modes.ModeIn(scope="box", scope_id=box, mode=RiskMode.BLOCK, reason="x"),
    )
    ids = _sales(tenant, branch, box, [utcnow()], "u-c")
    assert len(ids) == 1  # the hub never refuses a completed sale
    scoring.score_tenant(tenant)
    with tenant_tx(tenant):
        [alert] = Alert.select().where(
            Alert.tenant_id == tenant, Alert.rule == "SALES_IN_RESTRICTED_SCOPE"
        )
    assert alert.details["sales"] == 1
    with platform_tx():
        assert Box.get_by_id(box).last_contiguous_seq == 1
