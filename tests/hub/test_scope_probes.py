"""Cross-tenant and made-up id probes of EVERY hub route with a path parameter (P0 items 2, 3),
of every operation with an `*_id` query argument, and of every id in every request body.

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
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from hub.app import OPENAPI_PATH, create_app
from hub.core import db as hub_db
from hub.core import openapi
from hub.core.db import platform_tx, tenant_tx
from hub.demo.seed import seed_demo
from hub.governance.models import AuditLog
from hub.integrations.models import WebhookDelivery, WebhookEndpoint
from hub.sales.models import Sale
from hub.sync.apply import apply_batch
from posdomain.text import printable
from scripts.testkit.crafted import make_batch
from tests.hub import probe_bodies
from tests.hub.conftest import drop_database, enrol_box, login, make_database
from tests.hub.rule_helpers import EVIDENCE_FIELDS, approve_by_admin

pytestmark = [pytest.mark.pg]
T, B, OTHER, OTHER_B = "t-greenbasket", "b-downtown", "t-harborfoods", "b-harbor-main"
SCOPE_PARAMS = frozenset({"tenant_id", "branch_id", "box_id"})
# names, not ids: always the caller's own valid value
FIXED = {
    "kind": "branding",
    "name": "loyalty_rules",
    "verb": "ack",
    "step": "classify",
    "data_class": "webhook_deliveries",
    "report_id": "REP-T-01",  # a catalog id, the same for every tenant
    "verdict": "reject",
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
        **EVIDENCE_FIELDS,
    }
    proposed = harbor.post("/api/v1/pricing/policies", json=policy)
    change = approve_by_admin(app, proposed, OTHER).get_json()
    policy_id = {"policy_id": change["result"]["policy_id"]}
    box = enrol_box(OTHER, OTHER_B)
    apply_batch(make_batch(box, OTHER, OTHER_B, [1]), box)
    with tenant_tx(OTHER):
        sale_id = Sale.select().where(Sale.box_id == box).get().id
    name = f"h-{uuid.uuid4().hex[:10]}"
    integration = harbor.post("/api/v1/integrations", json={"name": name}).get_json()
    app.config["WEBHOOK_ALLOWLIST"] = ["http://127.0.0.1:9/"]
    endpoint = harbor.post(
        f"/api/v1/integrations/{integration['id']}/webhooks",
        json={"url": "http://127.0.0.1:9/h", "event_types": ["sale.completed"]},
    ).get_json()
    apply_batch(make_batch(box, OTHER, OTHER_B, [2]), box)  # queues one delivery
    with tenant_tx(OTHER):
        delivery = WebhookDelivery.get(WebhookDelivery.endpoint_id == endpoint["id"])
        WebhookEndpoint.update(enabled=False).where(WebhookEndpoint.id == endpoint["id"]).execute()
    hold = harbor.post("/api/v1/legal-holds", json={"scope": "tenant", "reason": "probe"})
    harbor.post(f"/api/v1/legal-holds/{hold.get_json()['id']}/release", json={})  # id only
    return {
        "hold_id": hold.get_json()["id"],
        "integration_id": integration["id"],
        "endpoint_id": endpoint["id"],
        "delivery_id": str(delivery.id),
        "tenant_id": OTHER,
        "branch_id": OTHER_B,
        "box_id": box,
        "product_id": product_id,
        "token_id": token_id.get_json()["id"],
        "policy_id": policy_id["policy_id"],
        "change_id": change["id"],
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
        "integration_id": MADE_UP,
        "hold_id": MADE_UP,
        "endpoint_id": MADE_UP,
        "delivery_id": "987654321",
        "artifact": MADE_UP,
        "rollout_id": MADE_UP,
        "decision_id": MADE_UP,
        "change_id": MADE_UP,
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
    assert problems == [], "\n".join(problems)


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
    assert problems == [], "\n".join(problems)


VOLATILE = frozenset({"generated_at", "exported_at", "csrf_token", "correlation_id", "day"})
ROLES = ("owner", "auditor", "manager", "cashier")


def _stable(body: Any, probed: str) -> Any:
    """The body without volatile fields, the probed id itself (echoed filters) masked."""
    if isinstance(body, dict):
        return {k: _stable(v, probed) for k, v in body.items() if k not in VOLATILE}
    if isinstance(body, list):
        return [_stable(v, probed) for v in body]
    return "<probed>" if body == probed else body


def _probe(client: FlaskClient, url: str, name: str, value: str) -> tuple[Any, ...]:
    resp = client.get(url, query_string={name: value})
    resp.get_data()  # a streamed answer (CSV, tar) is read to its end and closed
    resp.close()
    return resp.status_code, _answer(resp)[1], _stable(resp.get_json(silent=True), value)


def _query_operations(app: Flask) -> list[tuple[str, str, list[str]]]:
    """(path, path params, query *_id params) of every GET operation of the OpenAPI document."""
    base = yaml.safe_load(OPENAPI_PATH.read_text())
    out = []
    for path, item in openapi.document(app, base)["paths"].items():
        op = item.get("get")
        if op is None:
            continue
        names = [p["name"] for p in op["parameters"] if p["in"] == "query"]
        ids = [n for n in names if n.endswith("_id")]
        if ids:
            out.append((path, [p["name"] for p in op["parameters"] if p["in"] == "path"], ids))
    return out


@pytest.mark.req("FR-P7-1019", "FR-002", "NFR-005")
def test_every_operation_answers_another_tenants_query_ids_like_made_up_ones(app):
    """Generated from the OpenAPI document: every GET with an `*_id` query argument, as every
    role, with another tenant's id and with a made-up one: the same status, reason and
    body (a scope id is never 2xx), so nothing of tenant B shows to tenant A."""
    foreign = _harbor_objects(app)
    own = _own_values()
    operations = _query_operations(app)
    assert len(operations) >= 10
    problems = []
    probed = 0
    for user in ROLES:
        client = app.test_client()
        login(client, user)
        for path, _params, ids in operations:
            url = path
            for key, value in own.items():
                url = url.replace("{" + key + "}", value)
            for name in ids:
                a = _probe(client, url, name, foreign.get(name, MADE_UP + "x"))
                b = _probe(client, url, name, MADE_UP)
                probed += 1
                if a != b:
                    problems.append(f"{user} GET {url}?{name}=: {a[:2]} vs made-up {b[:2]}")
                elif name in SCOPE_PARAMS and a[0] < 400:
                    problems.append(f"{user} GET {url}?{name}=<foreign>: {a[0]}")
    assert probed > 40
    assert problems == [], "\n".join(problems)


@pytest.mark.req("FR-P7-1019", "FR-002")
@pytest.mark.parametrize("user", ["auditor", "manager", "cashier"])
def test_every_route_answers_other_roles_alike_for_foreign_and_made_up_path_ids(app, user):
    """The path probe above as the other roles: whatever a role may or may not do, another
    tenant's id and a made-up one get the same answer, and the foreign one is never 2xx."""
    foreign = _harbor_objects(app)
    own = _own_values()
    client = app.test_client()
    login(client, user)
    csrf = client.get("/api/v1/auth/me").get_json()["csrf_token"]
    problems = []
    for method, rule, params in _routes(app):
        if (method, rule) in OTHER_AUTH:
            continue
        for param in params:
            if param in FIXED:
                continue
            other = _call(
                client, method, _url(rule, {**own, param: foreign.get(param, MADE_UP + "x")}), csrf
            )
            made_up = _call(client, method, _url(rule, {**own, param: MADE_UP}), csrf)
            if other.status_code < 400 or _answer(other) != _answer(made_up):
                problems.append(
                    f"{user} {method} {rule} [{param}]: {_answer(other)} vs {_answer(made_up)}"
                )
    assert problems == [], "\n".join(problems)


# body id names -> the object kind whose id they hold (own and foreign values by that kind)
BODY_KINDS = {
    "from_branch_id": "branch_id", "to_branch_id": "branch_id", "home_branch_id": "branch_id",
    "branch_ids": "branch_id", "scope_id": "branch_id", "replaces_box_id": "box_id",
    "deposit_product_id": "product_id", "product_ids": "product_id",
}  # fmt: skip
SCOPE_KINDS = frozenset({"tenant_id", "branch_id", "box_id"})
SCHEMA_REFUSALS = frozenset({"VALIDATION_FAILED", "MALFORMED_JSON"})


@pytest.fixture
def probe_app(pg_admin_dsn: str, tmp_path: Any) -> Iterator[Flask]:
    """The app on its own seeded database: the body probe sends valid bodies that write."""
    admin_url, app_url = make_database(pg_admin_dsn)
    hub_db.bind(app_url)
    seed_demo()
    yield create_app({"DATABASE_URL": app_url, "PUBLISH_DOWN": False, "TESTING": True,
                      "SECRET_KEY": "probe", "AUDIT_CHECKPOINT_DIR": str(tmp_path)})  # fmt: skip
    drop_database(pg_admin_dsn, admin_url)


def _body_operations(app: Flask) -> list[tuple[str, str, Any]]:
    """(method, path, request schema) of every operation with a JSON body."""
    base = yaml.safe_load(OPENAPI_PATH.read_text())
    doc = openapi.document(app, base)
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
            if "application/json" in content:
                out.append((method.upper(), path, content["application/json"]["schema"]))
    return [*out, ("components", "", doc["components"]["schemas"])]


def _masked(body: Any, probed: str) -> Any:
    """An error body with the probed id masked wherever it is echoed (messages too)."""
    if isinstance(body, dict):
        return {k: _masked(v, probed) for k, v in body.items() if k not in VOLATILE}
    if isinstance(body, list):
        return [_masked(v, probed) for v in body]
    return body.replace(probed, "<probed>") if isinstance(body, str) else body


def _send(client: FlaskClient, method: str, url: str, body: Any, csrf: str, probed: str) -> Any:
    resp = client.open(url, method=method, json=body, headers={"X-CSRF-Token": csrf})
    resp.get_data()
    resp.close()
    payload = resp.get_json(silent=True)
    return (
        resp.status_code,
        _answer(resp)[1],
        _masked(payload, probed) if resp.status_code >= 400 else None,
    )


@pytest.mark.req("FR-P7-1019", "FR-002", "NFR-005")
def test_every_operation_answers_another_tenants_body_ids_like_made_up_ones(probe_app):
    """Generated from the OpenAPI request schemas: every operation with a JSON body, as every
    role, with a valid body whose id properties (name `*_id`/`*_ids` or `format: uuid`, at
    any depth) are the caller's own, then with each of them in turn set to tenant B's id and
    to a made-up one: the same status, reason and error body, and a scope id (tenant,
    branch, box) of tenant B is never accepted."""
    app = probe_app
    foreign = _harbor_objects(app)
    own = {**_own_values(), "kind": "tax"}  # a config kind that takes a branch_id
    *operations, (_c, _p, components) = _body_operations(app)
    maker = probe_bodies.Maker(components, {"scopes": ["sales.read"]})
    problems: list[str] = []
    probed = 0
    reached: list[str] = []  # got past schema validation to where ids are looked up
    refused: list[str] = []
    for user in ROLES:
        client = app.test_client()
        login(client, user)
        csrf = client.get("/api/v1/auth/me").get_json()["csrf_token"]
        for method, path, schema in operations:
            if (method, path.replace("{", "<").replace("}", ">")) in OTHER_AUTH:
                continue
            url = path
            for key, value in own.items():
                url = url.replace("{" + key + "}", value)

            def own_id(name: str) -> str:
                return own.get(BODY_KINDS.get(name, name), MADE_UP)

            body, id_paths = maker.body(schema, own_id)
            if isinstance(body, dict) and body.get("scope") == "tenant":
                body["scope"] = "branch"  # a scope_id counts for a branch (tenant: ignored)
            for id_path in id_paths:
                kind = BODY_KINDS.get(
                    probe_bodies.leaf_name(id_path), probe_bodies.leaf_name(id_path)
                )
                other = foreign.get(kind, MADE_UP + "x")
                a = _send(client, method, url, probe_bodies.put(body, id_path, other), csrf, other)
                b = _send(
                    client, method, url, probe_bodies.put(body, id_path, MADE_UP), csrf, MADE_UP
                )
                probed += 1
                if b[1] not in SCHEMA_REFUSALS:
                    reached.append(path)
                else:
                    refused.append(f"{user} {method} {path} {'.'.join(map(str, id_path))} {b}")
                where = f"{user} {method} {url} body {'.'.join(map(str, id_path))}"
                if a != b:
                    problems.append(f"{where}: {a} vs made-up {b}")
                elif kind in SCOPE_KINDS and a[0] < 400:
                    problems.append(f"{where}=<tenant B's>: {a[0]}")
    assert probed > 100
    assert len(reached) >= probed * 0.95, "\n".join(refused)  # bodies valid enough to matter
    assert problems == [], "\n".join(problems)
