"""The business-rule decision log and its two-person rule (FR-901, issue 16 item 6).

Real PostgreSQL under RLS. A rule change (tax, pricing, risk, loyalty config; promotions) is
proposed with reason, impact and change reference, takes effect only when a second person
activates it, never when its proposer does (every role), is audited on the tenant's hash
chain, listed and exported; the boxes receive each rule with its approval. The last test
calls every write route of the hub as one person and finds none that changes a rule.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import psycopg2
import psycopg2.errors
import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.app import create_app
from hub.core import db as hub_db
from hub.core.db import tenant_tx
from hub.demo.seed import seed_demo
from hub.governance import config, rule_changes
from hub.governance.models import AuditLog
from hub.identity.models import Box
from hub.sync import downlink
from posdomain.errors import Conflict
from posdomain.permissions import Principal, Role
from tests.hub.conftest import drop_database, enrol_box, login, make_database
from tests.hub.ops_helpers import new_tenant
from tests.hub.rule_helpers import EVIDENCE, EVIDENCE_FIELDS, approve_by_admin, set_rule

pytestmark = [pytest.mark.pg]
T, B = "t-greenbasket", "b-downtown"
RULE_TABLES_SQL = (
    "SELECT 'cv:' || id FROM config_versions WHERE kind IN ('tax', 'pricing', 'risk', 'loyalty')"
    " UNION ALL SELECT 'pp:' || id FROM pricing_policies"
)
# every version of a rule in force links to an ACTIVE change decided by someone else
UNAPPROVED_SQL = """
    SELECT v.src, v.id FROM (
        SELECT 'cv' AS src, id, change_id FROM config_versions
        WHERE kind IN ('tax', 'pricing', 'risk', 'loyalty')
        UNION ALL SELECT 'pp', id, change_id FROM pricing_policies) v
    LEFT JOIN rule_changes c ON c.id = v.change_id
    WHERE c.id IS NULL OR c.state <> 'ACTIVE' OR c.decided_by IS NULL
       OR c.decided_by = c.proposed_by"""


def _tax(client: FlaskClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/api/v1/config/tax").get_json()["body"]
    return body


def _raised_std(tax: dict[str, Any], rate: str) -> dict[str, Any]:
    classes = {**tax["classes"], "STD": {**tax["classes"]["STD"], "rate": rate}}
    return {**tax, "classes": classes}


def _audits(action: str, target: str) -> list[AuditLog]:
    with tenant_tx(T):
        query = AuditLog.select().where(
            AuditLog.chain == T, AuditLog.action == action, AuditLog.target == target
        )
        return list(query.order_by(AuditLog.seq))


def _config_down(box_id: str) -> dict[str, Any]:
    with tenant_tx(T):
        box = Box.get_by_id(box_id)
        return {m.kind: m.body for _t, m in downlink.messages_for_box(box)}


@pytest.mark.req("FR-901", "FR-801")
def test_a_tax_change_takes_effect_only_when_a_second_person_approves(app, client):
    login(client, "owner")
    before = client.get("/api/v1/config/tax").get_json()
    new_tax = _raised_std(before["body"], "0.21")
    put = {"body": new_tax, "reason": "rate rise", **EVIDENCE_FIELDS}
    proposed = client.put("/api/v1/config/tax", json=put)
    assert proposed.status_code == 202, proposed.get_json()
    entry = proposed.get_json()
    assert (entry["state"], entry["kind"], entry["proposed_by"]) == (
        "PROPOSED",
        "tax",
        "user:u-owner",
    )
    assert (entry["impact"], entry["change_ref"], entry["reason"]) == (
        "test fixture",
        "TEST-1",
        "rate rise",
    )
    assert client.get("/api/v1/config/tax").get_json() == before  # no effect yet
    assert _audits("rule.proposed", f"rule_change:{entry['id']}")

    # the proposer cannot approve it: 409 SAME_PERSON, audited, nothing changes
    self_approval = client.post(f"/api/v1/rule-changes/{entry['id']}/approve", json={})
    assert self_approval.status_code == 409
    assert self_approval.get_json()["error"]["reason"] == "SAME_PERSON"
    refused = _audits("rule.approval_refused", f"rule_change:{entry['id']}")
    assert refused
    assert refused[-1].severity == "WARN"
    assert client.get("/api/v1/config/tax").get_json() == before

    done = approve_by_admin(app, proposed, T)
    assert done.status_code == 200, done.get_json()
    active = done.get_json()
    assert (active["state"], active["decided_by"]) == ("ACTIVE", "user:u-admin")
    assert active["effective_at"]
    assert active["result"]["config_version"] == before["version"] + 1
    now = client.get("/api/v1/config/tax").get_json()
    assert (now["body"], now["change_id"], now["actor"]) == (new_tax, entry["id"], "user:u-owner")
    activated = _audits("rule.activated", f"rule_change:{entry['id']}")[-1]
    assert activated.details["proposed_by"] == "user:u-owner"

    # approved once: a second approval is 409, and the box gets the rule with its approval
    again = approve_by_admin(app, proposed, T)
    assert again.status_code == 409
    cfg = _config_down(enrol_box(T, B))["config"]
    assert cfg["tax"] == new_tax
    assert cfg["approvals"]["tax"]["change_id"] == entry["id"]
    assert cfg["approvals"]["tax"]["approved_by"] == "user:u-admin"
    assert set(cfg["approvals"]) == {"tax", "pricing", "loyalty"}


@pytest.mark.req("FR-901")
@pytest.mark.parametrize("role", [Role.APPLICATION_OWNER, Role.TENANT_OWNER])
def test_the_proposer_never_approves_whatever_their_role(app, role):
    tenant, _b = new_tenant()
    set_rule(tenant, "pricing", {"currency": "EUR", "exponent": 2, "locale": "en"})
    who = Principal(
        kind="user",
        id=f"u-{role.value.lower()}",
        role=role,
        tenant_id=None if role is Role.APPLICATION_OWNER else tenant,
    )
    body = {"currency": "EUR", "exponent": 2, "locale": "de"}
    proposed = rule_changes.propose_config(who, tenant, "pricing", body, "locale", EVIDENCE)
    with pytest.raises(Conflict) as info:
        rule_changes.activate(who, tenant, proposed["id"])
    assert info.value.reason == "SAME_PERSON"
    with pytest.raises(Conflict):
        rule_changes.reject(who, tenant, proposed["id"], "mine")
    assert rule_changes.get_change(tenant, proposed["id"])["state"] == "PROPOSED"
    with tenant_tx(tenant):
        assert config.current(tenant, "pricing").body["locale"] == "en"


@pytest.mark.req("FR-901")
def test_bootstrap_activation_only_before_the_first_box(app):
    tenant, [branch] = new_tenant()
    seeded = rule_changes.bootstrap_config(tenant, "risk", {"mode": "observe"}, "new tenant")
    assert (seeded["state"], seeded["bootstrap"], seeded["decided_by"]) == (
        "ACTIVE",
        True,
        "bootstrap",
    )
    enrol_box(tenant, branch)
    with pytest.raises(Conflict) as info:
        rule_changes.bootstrap_config(tenant, "risk", {"mode": "enforce"}, "after go-live")
    assert info.value.reason == "TENANT_LIVE"
    with tenant_tx(tenant):
        assert config.current(tenant, "risk").body == {"mode": "observe"}
        bootstrap = AuditLog.select().where(
            AuditLog.chain == tenant, AuditLog.action == "rule.bootstrap_activated"
        )
        assert bootstrap.count() == 1


@pytest.mark.req("FR-901")
def test_no_rule_version_without_its_change_even_in_the_database(app, hub_urls):
    tenant, _b = new_tenant()
    with tenant_tx(tenant), pytest.raises(ValueError, match="change_id"):
        config.write_version(None, tenant, "tax", {"rounding": "HALF_UP", "classes": {}}, "direct")
    conn = psycopg2.connect(hub_urls[0])  # even the superuser cannot
    try:
        for sql in (
            "INSERT INTO config_versions (id, tenant_id, kind, version, body, actor, reason, after,"
            " created_at) VALUES ('x1', %s, 'tax', 99, '{}', 'a', 'r', '{}', now())",
            "INSERT INTO rule_changes (id, tenant_id, seq, kind, operation, target, payload,"
            " reason, impact, change_ref, state, proposed_by, proposed_at, decided_by, decided_at,"
            " effective_at) VALUES ('x2', %s, 999, 'tax', 'set', 't', '{}', 'r', 'i', 'c',"
            " 'ACTIVE', 'user:a', now(), 'user:a', now(), now())",
        ):
            with pytest.raises(psycopg2.errors.CheckViolation), conn.cursor() as cur:
                cur.execute(sql, (tenant,))
            conn.rollback()
    finally:
        conn.close()


@pytest.mark.req("FR-901", "FR-301")
def test_promotions_and_retirements_go_through_the_log(app, client):
    login(client, "owner")
    policy = {
        "policy_id": "pol-log-1",
        "kind": "percent",
        "target": {"product_ids": ["p-003"], "categories": []},
        "params": {"percent": "12"},
        "reason": "autumn promo",
        **EVIDENCE_FIELDS,
    }
    proposed = client.post("/api/v1/pricing/policies", json=policy)
    assert proposed.status_code == 202, proposed.get_json()
    listed = client.get("/api/v1/pricing/policies").get_json()["items"]
    assert "pol-log-1" not in [i["policy"]["policy_id"] for i in listed]
    assert approve_by_admin(app, proposed, T).status_code == 200
    listed = client.get("/api/v1/pricing/policies").get_json()["items"]
    assert "pol-log-1" in [i["policy"]["policy_id"] for i in listed]
    pricing = _config_down(enrol_box(T, B))["pricing"]
    assert pricing["approvals"]["pol-log-1@1"]["change_id"] == proposed.get_json()["id"]
    retire = client.post(
        "/api/v1/pricing/policies/pol-log-1/retire", json={"reason": "over", **EVIDENCE_FIELDS}
    )
    assert retire.status_code == 202
    rejected = app.test_client()
    login(rejected, "admin")
    path = f"/api/v1/tenants/{T}/rule-changes/{retire.get_json()['id']}/reject"
    assert rejected.post(path, json={"note": "keep it"}).get_json()["state"] == "REJECTED"
    listed = client.get("/api/v1/pricing/policies").get_json()["items"]
    still = [i for i in listed if i["policy"]["policy_id"] == "pol-log-1"]
    assert still[0]["status"] == "active"


@pytest.mark.req("FR-901")
def test_the_log_is_listed_exported_and_shown_in_the_portal(app, client):
    login(client, "owner")
    put = {
        "body": _raised_std(_tax(client), "0.19"),
        "reason": "=cmd|' /C calc'!A0",
        **EVIDENCE_FIELDS,
    }
    proposed = client.put("/api/v1/config/tax", json=put)
    listed = client.get("/api/v1/rule-changes?state=PROPOSED").get_json()
    assert proposed.get_json()["id"] in [i["id"] for i in listed["items"]]
    assert all(i["state"] == "PROPOSED" for i in listed["items"])
    seqs = [i["seq"] for i in client.get("/api/v1/rule-changes").get_json()["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == len(seqs)
    export = client.get("/api/v1/rule-changes/export.csv")
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    mine = [r for r in rows if r["id"] == proposed.get_json()["id"]]
    assert mine[0]["reason"].startswith("'=")  # no formula injection
    assert mine[0]["proposed_by"] == "user:u-owner"
    assert mine[0]["state"] == "PROPOSED"
    assert any(r["bootstrap"] == "True" for r in rows)  # the demo seed's bootstrap entries
    with tenant_tx(T):
        assert (
            AuditLog.select()
            .where(AuditLog.chain == T, AuditLog.action == "rule_changes.exported")
            .exists()
        )
    page = client.get("/rules?state=PROPOSED")
    assert page.status_code == 200
    assert b"Rule changes" in page.data
    assert b"Approve" in page.data
    cashier = app.test_client()
    login(cashier, "cashier")
    assert cashier.get("/api/v1/rule-changes").status_code == 403
    auditor = app.test_client()
    login(auditor, "auditor")
    change = proposed.get_json()["id"]
    assert auditor.post(f"/api/v1/rule-changes/{change}/approve", json={}).status_code == 403


# ---- every write path ------------------------------------------------------------------


@pytest.fixture
def own_db(pg_admin_dsn: str, tmp_path) -> Iterator[tuple[Flask, str]]:
    """A hub on its own seeded database (every write route is called on it)."""
    admin_url, app_url = make_database(pg_admin_dsn)
    hub_db.bind(app_url)
    seed_demo()
    app = create_app(
        {
            "DATABASE_URL": app_url,
            "PUBLISH_DOWN": False,
            "TESTING": True,
            "AUDIT_CHECKPOINT_DIR": str(tmp_path),
        }
    )
    yield app, admin_url
    drop_database(pg_admin_dsn, admin_url)


def _superuser_rows(admin_url: str, sql: str) -> set[tuple[Any, ...]]:
    conn = psycopg2.connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return set(cur.fetchall())
    finally:
        conn.close()


def _bodies(rule_bodies: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rule-shaped bodies a bypass would take (each a valid rule write somewhere)."""
    policy = {
        "policy_id": "pol-bypass",
        "kind": "percent",
        "target": {"product_ids": ["p-003"], "categories": []},
        "params": {"percent": "50"},
        "reason": "bypass?",
    }
    out: list[dict[str, Any]] = [{}, policy, {**policy, **EVIDENCE_FIELDS}]
    for body in rule_bodies.values():
        out.append({"body": body, "reason": "bypass?"})
        out.append({"body": body, "reason": "bypass?", **EVIDENCE_FIELDS})
    return out


PROPOSAL_ROUTES = {
    ("PUT", "/api/v1/config/<kind>"),
    ("PUT", "/api/v1/tenants/<tenant_id>/config/<kind>"),
    ("POST", "/api/v1/pricing/policies"),
    ("POST", "/api/v1/tenants/<tenant_id>/pricing/policies"),
    ("POST", "/api/v1/pricing/policies/<policy_id>/retire"),
    ("POST", "/api/v1/tenants/<tenant_id>/pricing/policies/<policy_id>/retire"),
}
SKIP = {("POST", "/api/v1/auth/logout"), ("POST", "/logout"), ("POST", "/api/v1/auth/password")}


@pytest.mark.req("FR-901", "NFR-005")
def test_no_write_route_changes_a_rule_for_one_person(own_db):
    """Every POST/PUT/PATCH/DELETE route of the url map, as the tenant owner alone, with
    rule-shaped bodies: no rule version appears; only the proposal routes answer 202, and
    approving one's own proposal (API or portal form) is refused."""
    app, admin_url = own_db
    owner = app.test_client()
    login(owner, "owner")
    csrf = owner.get("/api/v1/auth/me").get_json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    rule_bodies = {
        kind: owner.get(f"/api/v1/config/{kind}").get_json()["body"] for kind in config.RULE_KINDS
    }
    mine = owner.put(
        "/api/v1/config/risk",
        json={"body": {"mode": "enforce"}, "reason": "own", **EVIDENCE_FIELDS},
    ).get_json()["id"]
    values = {
        "tenant_id": T,
        "branch_id": B,
        "box_id": "box-downtown-1",
        "policy_id": "demo-snacks-10pct",
        "change_id": mine,
    }
    before = _superuser_rows(admin_url, RULE_TABLES_SQL)
    answered_202: set[tuple[str, str]] = set()
    called = 0
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}):
            if (method, rule.rule) in SKIP:
                continue
            for url in _urls(rule.rule, sorted(rule.arguments), values):
                for body in _bodies(rule_bodies):
                    resp = owner.open(url, method=method, json=body, headers=headers)
                    called += 1
                    assert resp.status_code < 500, (method, url, resp.status_code)
                    if resp.status_code == 202:
                        answered_202.add((method, rule.rule))
                    if resp.status_code == 401:  # something ended the session: sign in again
                        login(owner, "owner")
                        headers = {
                            "X-CSRF-Token": owner.get("/api/v1/auth/me").get_json()["csrf_token"]
                        }
    assert called > 500
    assert _superuser_rows(admin_url, RULE_TABLES_SQL) == before, "a rule changed for one person"
    assert answered_202 <= PROPOSAL_ROUTES
    assert {("PUT", "/api/v1/config/<kind>"), ("POST", "/api/v1/pricing/policies")} <= answered_202
    assert not _superuser_rows(admin_url, UNAPPROVED_SQL)
    # and a second person does change it, through the one function
    second = app.test_client()
    login(second, "admin")
    ok = second.post(f"/api/v1/tenants/{T}/rule-changes/{mine}/approve", json={})
    assert ok.status_code == 200, ok.get_json()
    assert len(_superuser_rows(admin_url, RULE_TABLES_SQL) - before) == 1
    assert not _superuser_rows(admin_url, UNAPPROVED_SQL)


def _urls(rule: str, params: list[str], values: dict[str, str]) -> list[str]:
    """The route with its path parameters filled (every rule kind / verdict)."""
    urls = [rule]
    choices = {"kind": list(config.RULE_KINDS), "verdict": ["approve", "reject"]}
    for param in params:
        options = choices.get(param, [values.get(param, "zz-none")])
        pattern = re.compile(rf"<(?:\w+:)?{param}>")
        urls = [pattern.sub(option, u) for u in urls for option in options]
    return urls
