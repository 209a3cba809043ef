"""Pricing policies on the hub (FR-301), per-branch tax (FR-302), flags (FR-803), config (FR-801).

Real PostgreSQL, the app role under RLS; tampering is done as the superuser, like an attacker
with database access would.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg2
import psycopg2.errors
import pytest

from hub.core.db import tenant_tx
from hub.governance.models import AuditLog, DownState
from hub.identity.models import Box
from hub.sync import downlink
from posdomain.policy import verify_policy
from tests.hub.conftest import enrol_box, login
from tests.hub.rule_helpers import EVIDENCE_FIELDS, post_policy, put_rule, retire_policy

pytestmark = [pytest.mark.pg]

T, B, B2 = "t-greenbasket", "b-downtown", "b-riverside"
OTHER = "t-harborfoods"
MULTIBUY = {"kind": "multibuy", "params": {"qty": 3, "price": "2.00"}}


def _body(**over: Any) -> dict[str, Any]:
    body = {
        "policy_id": f"pol-{uuid.uuid4().hex[:8]}",
        "kind": "percent",
        "target": {"product_ids": ["p-003"], "categories": []},
        "params": {"percent": "15"},
        "reason": "spring promo",
        **EVIDENCE_FIELDS,
    }
    body.update(over)
    return body


def _down(box_id: str) -> dict[str, Any]:
    """kind → DownMessage for a box (built as the publisher builds them)."""
    with tenant_tx(T):
        box = Box.get_by_id(box_id)
        return {m.kind: m for _t, m in downlink.messages_for_box(box)}


def _err(resp: Any) -> str:
    return str(resp.get_json()["error"]["reason"])


def _audits(action: str, target: str) -> list[AuditLog]:
    with tenant_tx(T):
        query = AuditLog.select().where(
            AuditLog.chain == T, AuditLog.action == action, AuditLog.target == target
        )
        return list(query.order_by(AuditLog.seq))


@pytest.mark.req("FR-301", "FR-801")
def test_create_change_list_retire_signed_audited(app, client):
    login(client, "owner")
    body = _body()
    pid = body["policy_id"]
    created = post_policy(app, client, body, T)
    wire = created["policy"]
    assert set(wire) == {
        "policy_id", "policyVersion", "effectiveFrom", "effectiveTo", "kind", "target",
        "params", "signature",
    }  # fmt: skip
    assert wire["policyVersion"] == 1
    assert created["status"] == "active"

    changed = post_policy(app, client, _body(policy_id=pid, **MULTIBUY), T)
    assert changed["policy"]["policyVersion"] == 2
    audit = _audits("pricing.policy_changed", f"policy:{pid}")[-1].details
    assert audit["before"]["params"] == {"percent": "15"}
    assert audit["after"]["params"] == MULTIBUY["params"]
    assert audit["reason"] == "spring promo"

    # the signature verifies with the key every box of the tenant receives in `config`
    cfg = _down(enrol_box(T, B))["config"].body
    assert cfg["policy_key_id"].startswith("pk-")
    assert verify_policy(changed["policy"], cfg["policy_key"], datetime.now(UTC))

    listed = client.get("/api/v1/pricing/policies").get_json()
    mine = [i for i in listed["items"] if i["policy"]["policy_id"] == pid]
    assert [i["policy"]["policyVersion"] for i in mine] == [2]
    history = client.get("/api/v1/pricing/policies?versions=all").get_json()["items"]
    assert [i["policy"]["policyVersion"] for i in history if i["policy"]["policy_id"] == pid] == [
        1,
        2,
    ]

    retired = retire_policy(app, client, pid, "sold out", T)
    assert retired["policy"]["policyVersion"] == 3
    assert retired["status"] == "ended"
    assert _audits("pricing.policy_retired", f"policy:{pid}")
    again = {"reason": "again", **EVIDENCE_FIELDS}
    assert client.post(f"/api/v1/pricing/policies/{pid}/retire", json=again).status_code == 409
    no_reason = client.post(f"/api/v1/pricing/policies/{pid}/retire", json=EVIDENCE_FIELDS)
    assert _err(no_reason) == "REASON_REQUIRED"
    nope = {"reason": "x", **EVIDENCE_FIELDS}
    assert client.post("/api/v1/pricing/policies/nope/retire", json=nope).status_code == 404


@pytest.mark.req("FR-301")
@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"reason": "  "}, "REASON_REQUIRED"),
        ({"kind": "multibuy", "params": {"qty": 1, "price": "2.00"}}, "VALIDATION_FAILED"),
        ({"kind": "multibuy", "params": {"qty": 3, "price": 2.5}}, "VALIDATION_FAILED"),
        ({"params": {"percent": "150"}}, "VALIDATION_FAILED"),
        ({"params": {"percent": "10", "extra": 1}}, "VALIDATION_FAILED"),
        ({"kind": "bogo"}, "VALIDATION_FAILED"),
        ({"target": {"product_ids": [], "categories": []}}, "VALIDATION_FAILED"),
        ({"target": {"product_ids": ["p-999"], "categories": []}}, "UNKNOWN_PRODUCT"),
        ({"target": {"product_ids": [], "categories": ["NOPE"]}}, "UNKNOWN_CATEGORY"),
        (
            {"effectiveFrom": "2030-01-02T00:00:00Z", "effectiveTo": "2030-01-01T00:00:00Z"},
            "VALIDATION_FAILED",
        ),
        ({"effectiveTo": "2020-01-01T00:00:00Z"}, "POLICY_EXPIRED"),
        ({"effectiveFrom": "2030-01-01T00:00:00"}, "VALIDATION_FAILED"),
        ({"policy_id": "bad id!"}, "VALIDATION_FAILED"),
    ],
)
def test_invalid_policies_are_refused_before_storing(client, over, reason):
    login(client, "owner")
    body = _body(**over)
    resp = client.post("/api/v1/pricing/policies", json=body)
    assert resp.status_code == 400, resp.get_json()
    assert _err(resp) == reason
    listed = client.get("/api/v1/pricing/policies?versions=all").get_json()["items"]
    assert all(i["policy"]["policy_id"] != body["policy_id"] for i in listed)


@pytest.mark.req("FR-301", "FR-100")
def test_roles_and_cross_tenant_isolation(app):
    owner, other = app.test_client(), app.test_client()
    login(owner, "owner")
    pid = post_policy(app, owner, _body(), T)["policy"]["policy_id"]
    for role in ("manager", "cashier", "auditor"):
        c = app.test_client()
        login(c, role)
        assert c.post("/api/v1/pricing/policies", json=_body()).status_code == 403
    login(other, "harbor-owner")
    seen = other.get("/api/v1/pricing/policies").get_json()["items"]
    assert all(i["policy"]["policy_id"] != pid for i in seen)
    assert other.get(f"/api/v1/tenants/{T}/pricing/policies").status_code == 403
    retire = other.post(
        f"/api/v1/pricing/policies/{pid}/retire", json={"reason": "x", **EVIDENCE_FIELDS}
    )
    assert retire.status_code == 404
    preview = other.get("/api/v1/pricing/policies/preview").get_json()["policies"]
    assert all(p["policy_id"] != pid for p in preview)


@pytest.mark.req("FR-301")
def test_preview_is_cacheable_with_etag_and_304(app, client):
    login(client, "owner")
    at = (datetime.now(UTC) + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = client.get(f"/api/v1/pricing/policies/preview?at={at}")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "private, max-age=60"
    etag = first.headers["ETag"]
    ids = [p["policy_id"] for p in first.get_json()["policies"]]
    assert {"demo-passata-3for2", "demo-snacks-10pct"} <= set(ids)
    assert ids == sorted(ids)
    cached = client.get(
        f"/api/v1/pricing/policies/preview?at={at}", headers={"If-None-Match": etag}
    )
    assert cached.status_code == 304
    assert cached.data == b""
    assert cached.headers["ETag"] == etag

    # a policy that starts after `at` is not in the preview at `at`, but is at its start
    later = (datetime.now(UTC) + timedelta(days=500)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pid = post_policy(app, client, _body(effectiveFrom=later), T)["policy"]["policy_id"]
    same = client.get(f"/api/v1/pricing/policies/preview?at={at}", headers={"If-None-Match": etag})
    assert same.status_code == 304
    at_start = client.get(f"/api/v1/pricing/policies/preview?at={later}").get_json()
    assert pid in [p["policy_id"] for p in at_start["policies"]]
    retire_policy(app, client, pid, "cancelled", T)
    at_start = client.get(f"/api/v1/pricing/policies/preview?at={later}").get_json()
    assert pid not in [p["policy_id"] for p in at_start["policies"]]
    assert client.get("/api/v1/pricing/policies/preview?at=yesterday").status_code == 400


@pytest.mark.req("FR-301", "FR-302")
def test_basket_preview_prices_and_taxes_without_writing(client):
    login(client, "owner")
    with tenant_tx(T):
        audits = AuditLog.select().where(AuditLog.chain == T).count()
    basket = {"items": [{"product_id": "p-011", "qty": "3"}, {"product_id": "p-018"}]}
    resp = client.post("/api/v1/pricing/preview", json=basket)
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    passata, chocolate = out["lines"]
    assert passata["discounts"] == [
        {
            "policy_id": "demo-passata-3for2",
            "policy_version": 1,
            "kind": "multibuy",
            "amount": "0.97",
        }
    ]
    assert chocolate["discounts"][0]["policy_id"] == "demo-snacks-10pct"
    assert out["subtotal"] == "4.96"
    assert out["discount_total"] == "1.17"
    assert out["total"] == "3.79"
    assert out["cash_rounding"] == "0.00"
    assert sum(Decimal(row["gross"]) for row in out["tax_breakdown"]) == Decimal(out["total"])
    with tenant_tx(T):
        assert AuditLog.select().where(AuditLog.chain == T).count() == audits
    bad = client.post("/api/v1/pricing/preview", json={"items": [{"product_id": "p-999"}]})
    assert _err(bad) == "UNKNOWN_PRODUCT"


def _superuser(hub_urls: tuple[str, str], sql: str, params: tuple[Any, ...]) -> None:
    conn = psycopg2.connect(hub_urls[0])
    with conn, conn.cursor() as cur:
        cur.execute(sql, params)
    conn.close()


@pytest.mark.req("FR-301")
@pytest.mark.parametrize(
    "tamper",
    [
        'UPDATE pricing_policies SET params = \'{"percent": "90"}\' WHERE policy_id = %s',
        "UPDATE pricing_policies SET signature = repeat('0', 64) WHERE policy_id = %s",
    ],
)
def test_tampered_row_is_never_published_and_is_audited(app, client, hub_urls, tamper):
    login(client, "owner")
    pid = post_policy(app, client, _body(), T)["policy"]["policy_id"]
    box = enrol_box(T, B)
    assert pid in [p["policy_id"] for p in _down(box)["pricing"].body["policies"]]
    _superuser(hub_urls, tamper, (pid,))
    for _ in range(2):  # rebuilt for every publish; audited once
        published = _down(box)["pricing"].body["policies"]
        assert pid not in [p["policy_id"] for p in published]
        assert "demo-passata-3for2" in [p["policy_id"] for p in published]
    entries = _audits("pricing.policy_unverifiable", f"policy:{pid}@1")
    assert len(entries) == 1
    assert entries[0].severity == "CRITICAL"
    assert entries[0].details["reason"] == "POLICY_UNVERIFIABLE"
    preview = client.get("/api/v1/pricing/policies/preview").get_json()["policies"]
    assert pid not in [p["policy_id"] for p in preview]


@pytest.mark.req("FR-803", "FR-301")
def test_advanced_discounts_flip_bumps_the_pricing_version(client):
    login(client, "owner")
    box = enrol_box(T, B)
    before = _down(box)["pricing"]
    assert before.body["flags"] == {"advanced_discounts": True}
    flip = {"enabled": False, "reason": "pause promotions"}
    assert client.put("/api/v1/flags/advanced_discounts", json=flip).status_code == 200
    after = _down(box)["pricing"]
    assert after.version == before.version + 1
    assert after.body["flags"] == {"advanced_discounts": False}
    client.put("/api/v1/flags/loyalty_rules", json={"enabled": False, "reason": "other flag"})
    with tenant_tx(T):
        state = DownState.get(DownState.tenant_id == T, DownState.kind == "pricing")
    assert state.version == after.version
    back = {"enabled": True, "reason": "resume promotions"}
    assert client.put("/api/v1/flags/advanced_discounts", json=back).status_code == 200
    assert _down(box)["pricing"].version == after.version + 1


@pytest.mark.req("FR-302", "FR-801")
def test_branch_tax_override_reaches_only_that_branch(app, client):
    login(client, "owner")
    tenant_tax = client.get("/api/v1/config/tax").get_json()["body"]
    assert tenant_tax["level"] == "document"
    assert tenant_tax["cash_rounding"] is None
    override = {**tenant_tax, "cash_rounding": "0.05", "level": "line"}
    put = {"body": override, "reason": "riverside takes cash rounding", "branch_id": B2}
    assert put_rule(app, client, "tax", put, T)["branch_id"] == B2
    riverside, downtown = enrol_box(T, B2), enrol_box(T, B)
    assert _down(riverside)["config"].body["tax"] == override
    assert _down(downtown)["config"].body["tax"] == tenant_tax
    assert client.get(f"/api/v1/config/tax?branch_id={B2}").get_json()["body"] == override
    assert client.get("/api/v1/config/tax").get_json()["body"] == tenant_tax
    entry = _audits("config.changed", "config:tax")[-1].details
    assert entry["branch_id"] == B2
    assert entry["after"] == override

    wrong_kind = {"body": {"mode": "observe"}, "reason": "x", "branch_id": B2, **EVIDENCE_FIELDS}
    assert client.put("/api/v1/config/risk", json=wrong_kind).status_code == 400
    foreign = {**put, "branch_id": "b-harbor-main", **EVIDENCE_FIELDS}
    assert _err(client.put("/api/v1/config/tax", json=foreign)) == "UNKNOWN_BRANCH"


@pytest.mark.req("FR-302")
@pytest.mark.parametrize(
    "change",
    [{"level": "page"}, {"cash_rounding": "0.005"}, {"deposit_tax_class": "NOPE"}],
)
def test_tax_config_the_boxes_would_refuse_is_refused(client, change):
    login(client, "owner")
    tenant_tax = client.get("/api/v1/config/tax").get_json()["body"]
    put = {"body": {**tenant_tax, **change}, "reason": "x", **EVIDENCE_FIELDS}
    resp = client.put("/api/v1/config/tax", json=put)
    assert resp.status_code == 400
    assert _err(resp) == "VALIDATION_FAILED"


LOOP = [{"code": "A", "rate": "0.05", "on": ["B"]}, {"code": "B", "rate": "0.05", "on": ["A"]}]


@pytest.mark.req("FR-302")
@pytest.mark.parametrize(
    ("classes", "reason"),
    [
        ({"X": {"inclusive": True}}, "TAX_CLASS_NO_RATES"),
        ({"X": {"rate": "1.2"}}, "TAX_RATE_OUT_OF_RANGE"),
        ({"X": {"taxes": LOOP}}, "TAX_COMPOUND_LOOP"),
    ],
)
def test_bad_multi_tax_config_is_refused_with_its_reason_and_not_stored(client, classes, reason):
    login(client, "owner")
    before = client.get("/api/v1/config/tax").get_json()
    body = {**before["body"], "classes": {**before["body"]["classes"], **classes}}
    resp = client.put("/api/v1/config/tax", json={"body": body, "reason": "x", **EVIDENCE_FIELDS})
    assert resp.status_code == 400
    assert _err(resp) == reason
    assert client.get("/api/v1/config/tax").get_json() == before


@pytest.mark.req("FR-302")
def test_multi_tax_config_with_levy_and_exempt_class_is_stored_as_sent(app, client):
    login(client, "owner")
    before = client.get("/api/v1/config/tax").get_json()["body"]
    bev = {
        "inclusive": False,
        "taxes": [
            {"code": "GST", "name": "GST", "rate": "0.05"},
            {"code": "PST", "rate": "0.08875", "compound": True},
            {"code": "CRF", "name": "Container fee", "per_unit": "0.10"},
        ],
    }
    body = {
        **before,
        "classes": {**before["classes"], "BEV": bev, "EX": {"exempt": True, "inclusive": True}},
    }
    body["rounding"], body["cash_rounding_mode"] = "HALF_EVEN", "DOWN"
    assert put_rule(app, client, "tax", {"body": body, "reason": "levy"}, T)["body"] == body
    assert client.get("/api/v1/config/tax").get_json()["body"] == body


@pytest.mark.req("FR-301", "FR-100")
def test_new_tables_are_tenant_isolated_and_append_only(app, hub_urls, client):
    login(client, "owner")
    post_policy(app, client, _body(), T)
    conn = psycopg2.connect(hub_urls[1])
    with conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", (OTHER,))
        for table in ("pricing_policies", "tenant_secrets"):
            cur.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (T,))
            assert cur.fetchone()[0] == 0, table
        cur.execute(
            "SELECT relname FROM pg_class WHERE relname IN ('pricing_policies', 'tenant_secrets')"
            " AND relrowsecurity AND relforcerowsecurity"
        )
        assert len(cur.fetchall()) == 2
    for sql in ("UPDATE pricing_policies SET reason = 'x'", "DELETE FROM tenant_secrets"):
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", (T,))
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(sql)
        conn.rollback()
    conn.close()


@pytest.mark.req("FR-301", "FR-803")
def test_demo_seed_has_promotions_on_and_verifiable(client):
    login(client, "owner")
    flags = {f["name"]: f["enabled"] for f in client.get("/api/v1/flags").get_json()["items"]}
    assert flags["advanced_discounts"] is True
    down = _down(enrol_box(T, B))
    key = down["config"].body["policy_key"]
    seeded = {
        p["policy_id"]: p
        for p in down["pricing"].body["policies"]
        if p["policy_id"].startswith("demo-")
    }
    assert set(seeded) == {"demo-passata-3for2", "demo-snacks-10pct"}
    for policy in seeded.values():
        assert verify_policy(policy, key, datetime.now(UTC))
    assert seeded["demo-passata-3for2"]["params"] == {"qty": 3, "price": "2.00"}


@pytest.mark.req("FR-301")
def test_portal_page_lists_the_promotions(client):
    login(client, "owner")
    page = client.get("/pricing")
    assert page.status_code == 200
    assert b"demo-passata-3for2" in page.data
    assert b"Advanced discounts are <strong>on</strong>" in page.data


@pytest.mark.req("FR-300", "FR-801")
def test_till_policy_config_reaches_the_branch_boxes_in_the_config_message(client):
    """Store policy `till.drawer_counting` is configuration (never code), per tenant or branch."""
    login(client, "owner")
    riverside = enrol_box(T, B2)
    assert "till" not in _down(riverside)["config"].body  # no policy yet: boxes count drawers
    bad = {"body": {"drawer_counting": "sometimes"}, "reason": "x", "branch_id": B2}
    assert _err(client.put("/api/v1/config/till", json=bad)) == "VALIDATION_FAILED"
    put = {"body": {"drawer_counting": False}, "reason": "riverside counts no drawers"}
    resp = client.put("/api/v1/config/till", json={**put, "branch_id": B2})
    assert resp.status_code == 200, resp.get_json()
    downtown = enrol_box(T, B)
    assert _down(riverside)["config"].body["till"] == {"drawer_counting": False}
    assert "till" not in _down(downtown)["config"].body
    assert _audits("config.changed", "config:till")[-1].details["branch_id"] == B2
