"""Business rules in tests the way production changes them (FR-901): proposed by one person,
activated by a second (hub.governance.rule_changes). Tests never write a rule version directly.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hub.governance import rule_changes
from hub.pricing import policies
from hub.pricing.policies import PolicyIn
from posdomain.permissions import Principal, Role

EVIDENCE = rule_changes.Evidence(impact="test fixture", change_ref="TEST-1")
EVIDENCE_FIELDS = {"impact": "test fixture", "change_ref": "TEST-1"}


def proposer(tenant_id: str) -> Principal:
    """A tenant owner who proposes."""
    return Principal(
        kind="user", id="test-rule-proposer", role=Role.TENANT_OWNER, tenant_id=tenant_id
    )


def approver(tenant_id: str) -> Principal:
    """A second tenant owner who approves."""
    return Principal(
        kind="user", id="test-rule-approver", role=Role.TENANT_OWNER, tenant_id=tenant_id
    )


def set_rule(
    tenant_id: str,
    kind: str,
    body: dict[str, Any],
    reason: str = "tests",
    branch_id: str | None = None,
) -> dict[str, Any]:
    """Propose and approve a rule config version (two people); the ACTIVE log entry."""
    proposed = rule_changes.propose_config(
        proposer(tenant_id), tenant_id, kind, body, reason, EVIDENCE, branch_id
    )
    return rule_changes.activate(approver(tenant_id), tenant_id, proposed["id"])


def set_policy(tenant_id: str, body: PolicyIn | dict[str, Any]) -> dict[str, Any]:
    """Propose and approve a promotion (pricing policy); the ACTIVE log entry."""
    policy = body if isinstance(body, PolicyIn) else PolicyIn.model_validate(body)
    proposed = rule_changes.propose_policy(proposer(tenant_id), tenant_id, policy, EVIDENCE)
    return rule_changes.activate(approver(tenant_id), tenant_id, proposed["id"])


def approve_as(
    app: Flask, username: str, password: str, resp: TestResponse, tenant_id: str
) -> TestResponse:
    """A second person (another login) approves the proposal a 202 answer returned."""
    assert resp.status_code == 202, resp.get_json()
    second: FlaskClient = app.test_client()
    login = second.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert login.status_code == 200, login.get_json()
    change = resp.get_json()["id"]
    path = f"/api/v1/tenants/{tenant_id}/rule-changes/{change}/approve"
    return second.post(path, json={"note": "second person"})


def approve_by_admin(app: Flask, resp: TestResponse, tenant_id: str) -> TestResponse:
    """The platform admin approves as the second person (demo tenants have one owner)."""
    return approve_as(app, "admin", "admin-demo-pass", resp, tenant_id)


def _approved(app: Flask, resp: TestResponse, tenant_id: str) -> dict[str, Any]:
    done = approve_by_admin(app, resp, tenant_id)
    assert done.status_code == 200, done.get_json()
    entry: dict[str, Any] = done.get_json()
    assert entry["state"] == "ACTIVE"
    return entry


def post_policy(
    app: Flask, client: FlaskClient, body: dict[str, Any], tenant_id: str
) -> dict[str, Any]:
    """POST a policy as `client` (a proposal), approve it as the admin; the stored row."""
    resp = client.post("/api/v1/pricing/policies", json={**EVIDENCE_FIELDS, **body})
    result = _approved(app, resp, tenant_id)["result"]
    return policies.version_row(tenant_id, result["policy_id"], result["policy_version"])


def retire_policy(
    app: Flask, client: FlaskClient, policy_id: str, reason: str, tenant_id: str
) -> dict[str, Any]:
    """Propose a retirement as `client`, approve it as the admin; the stored row."""
    path = f"/api/v1/pricing/policies/{policy_id}/retire"
    resp = client.post(path, json={**EVIDENCE_FIELDS, "reason": reason})
    result = _approved(app, resp, tenant_id)["result"]
    return policies.version_row(tenant_id, result["policy_id"], result["policy_version"])


def put_rule(
    app: Flask, client: FlaskClient, kind: str, put: dict[str, Any], tenant_id: str
) -> dict[str, Any]:
    """PUT a rule config as `client` (a proposal), approve it as the admin; the version."""
    resp = client.put(f"/api/v1/config/{kind}", json={**EVIDENCE_FIELDS, **put})
    entry = _approved(app, resp, tenant_id)
    branch = put.get("branch_id")
    query = f"?branch_id={branch}" if branch else ""
    got = client.get(f"/api/v1/config/{kind}{query}").get_json()
    assert got["change_id"] == entry["id"], got
    return got  # type: ignore[no-any-return]
