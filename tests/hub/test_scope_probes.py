"""Cross-tenant and made-up id probes of EVERY hub route with a path parameter (P0 items 2, 3).

Generated from `app.url_map`, so a new endpoint cannot skip them: a route with a path
parameter this file has no probe values for fails the test until someone adds them.
For each parameter in turn (the others set to the caller's own valid values) the route is
called with another tenant's id and with an id that exists nowhere:

* tenant, branch and box ids (scope ids): 403 for both, the same body for both, and each
  403 leaves an `access.denied` audit entry (docs/security.md, "scope ids");
* object ids (products, sales, users, ...): never 2xx, and the same status and reason code
  for another tenant's id as for a made-up one ("another tenant's" is never told apart);
* as the platform owner, a made-up tenant id is 404 (or a role refusal), never data.

Before this change: another tenant's branch in inventory movements and tenant sales paths
answered 200 with empty data, a made-up one 200 too, enrolment told the two apart.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.core.db import platform_tx, tenant_tx
from hub.governance.models import AuditLog
from hub.sales.models import Sale
from hub.sync.apply import apply_batch
from posdomain.text import printable
from scripts.testkit.crafted import make_batch
from tests.hub.conftest import enrol_box, login

pytestmark = [pytest.mark.pg]
T, B, OTHER, OTHER_B = "t-greenbasket", "b-downtown", "t-harborfoods", "b-harbor-main"
SCOPE_PARAMS = frozenset({"tenant_id", "branch_id", "box_id"})
# names, not ids: always the caller's own valid value
FIXED = {
    "kind": "branding",
    "name": "loyalty_rules",
    "verb": "ack",
    "step": "classify",
    "report_id": "REP-T-01",  # a catalog id, the same for every tenant
}
# routes that authenticate by something other than the portal session: same answer only
OTHER_AUTH = {("POST", "/api/v1/boxes/<box_id>/commissioning"): 401}
MADE_UP = "zz-" + uuid.uuid4().hex[:12]


def _harbor_objects(app: Flask) -> dict[str, str]:
    """Real objects of the other tenant, to probe with (ids the caller cannot see)."""
    harbor = app.test_client()
    login(harbor, "harbor-owner")
    product = {
        "sku": f"H-{uuid.uuid4().hex[:8]}",
        "name": "Harbor oats",
        "tax_class": "STD",
        "price": "1.00",
    }
    product_id = harbor.post("/api/v1/products", json=product).get_json()["id"]
    token_id = harbor.post("/api/v1/tokens", json={"name": "h", "scopes": ["sales.read"]})
    policy = {
        "kind": "percent",
        "target": {"product_ids": [product_id], "categories": []},
        "params": {"percent": "5"},
        "reason": "probe",
    }
    policy_id = harbor.post("/api/v1/pricing/policies", json=policy).get_json()["policy"]
    box = enrol_box(OTHER, OTHER_B)
    apply_batch(make_batch(box, OTHER, OTHER_B, [1]), box)
    with tenant_tx(OTHER):
        sale_id = Sale.select().where(Sale.box_id == box).get().id
    return {
        "tenant_id": OTHER,
        "branch_id": OTHER_B,
        "box_id": box,
        "product_id": product_id,
        "token_id": token_id.get_json()["id"],
        "policy_id": policy_id["policy_id"],
        "sale_id": sale_id,
        "user_id": "u-harbor-owner",
    }


def _own_values() -> dict[str, str]:
    box = enrol_box(T, B)
    return {
        "tenant_id": T,
        "branch_id": B,
        "box_id": box,
        "product_id": "p-001",
        "user_id": "u-cashier",
        "token_id": MADE_UP,
        "policy_id": MADE_UP,
        "sale_id": MADE_UP,
        "alert_id": MADE_UP,
        "transfer_id": MADE_UP,
        "item_id": MADE_UP,
        "format_id": MADE_UP,
        "channel_id": MADE_UP,
        "incident_id": MADE_UP,
        "customer_id": MADE_UP,
        "card": MADE_UP,
        "artifact": MADE_UP,
        "rollout_id": MADE_UP,
        "decision_id": MADE_UP,
        **FIXED,
    }


def _routes(app: Flask) -> list[tuple[str, str, list[str]]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule, sorted(rule.arguments)))
    return out


def _url(rule: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        rule = rule.replace(f"<{key}>", value)
    return rule


def _call(client: FlaskClient, method: str, url: str, csrf: str) -> Any:
    headers = {"X-CSRF-Token": csrf}
    if method in ("POST", "PUT"):
        return client.open(url, method=method, json={}, headers=headers)
    return client.open(url, method=method, headers=headers)


def _denials(path: str) -> int:
    with platform_tx():
        query = AuditLog.select().where(
            AuditLog.chain == T, AuditLog.action == "access.denied", AuditLog.target == path
        )
        return int(query.count())


def _answer(resp: Any) -> tuple[int, Any]:
    body = resp.get_json(silent=True)
    reason = body["error"]["reason"] if body and "error" in body else None
    return resp.status_code, reason


def _check_scope(resp: Any, again: Any, url: str, before: int) -> list[str]:
    problems = []
    if resp.status_code != 403:
        problems.append(f"{url}: {resp.status_code}, want 403")
    if resp.get_data() != again.get_data() or resp.status_code != again.status_code:
        problems.append(f"{url}: foreign and made-up answers differ")
    if resp.status_code == 403 and _denials(printable(url)) <= before:
        problems.append(f"{url}: 403 without an access.denied audit entry")
    return problems


@pytest.mark.req("FR-002", "FR-100", "NFR-005")
def test_every_route_resolves_path_ids_against_the_caller(app):
    foreign = _harbor_objects(app)
    own = _own_values()
    owner = app.test_client()
    login(owner, "owner")
    csrf = owner.get("/api/v1/auth/me").get_json()["csrf_token"]
    problems: list[str] = []
    probed = 0
    for method, rule, params in _routes(app):
        unknown = [p for p in params if p not in own]
        assert not unknown, f"{method} {rule}: add probe values for {unknown} to this test"
        for param in params:
            if param in FIXED:
                continue
            answers = []
            for value in (foreign.get(param, MADE_UP + "x"), MADE_UP):
                url = _url(rule, {**own, param: value})
                before = _denials(printable(url))
                answers.append((url, before, _call(owner, method, url, csrf)))
            (url, before, resp), (_u2, _b2, again) = answers
            probed += 2
            if (method, rule) in OTHER_AUTH:
                if _answer(resp) != _answer(again) or resp.status_code != OTHER_AUTH[method, rule]:
                    problems.append(f"{method} {url}: {_answer(resp)} vs {_answer(again)}")
            elif param in SCOPE_PARAMS:
                problems += [f"{method} {p}" for p in _check_scope(resp, again, url, before)]
            elif resp.status_code < 400 or _answer(resp) != _answer(again):
                problems.append(f"{method} {url}: {_answer(resp)} vs made-up {_answer(again)}")
    assert probed > 60
    assert problems == []


@pytest.mark.req("FR-002")
def test_platform_owner_gets_404_for_a_tenant_that_does_not_exist(app):
    admin = app.test_client()
    login(admin, "admin")
    csrf = admin.get("/api/v1/auth/me").get_json()["csrf_token"]
    own = _own_values()
    problems = []
    for method, rule, params in _routes(app):
        if "tenant_id" not in params:
            continue
        resp = _call(admin, method, _url(rule, {**own, "tenant_id": MADE_UP}), csrf)
        status, reason = _answer(resp)
        if status != 404 and (status, reason) != (403, "FORBIDDEN_ROLE"):
            problems.append(f"{method} {rule}: {status} {reason}")
    assert problems == []
