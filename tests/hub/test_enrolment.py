"""Enrolment codes and the code-gated enrol call (FR-002, FR-003, FR-802, NFR-005)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.boxes import broker_acl, enrolment
from hub.boxes.enrolment import CodeRequest, Endpoints
from hub.boxes.models import BoxCredential, EnrolmentCode
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance.models import AuditLog
from hub.identity.auth import hash_secret
from hub.identity.models import Box, User
from hub.sync.apply import apply_batch
from posdomain.errors import Gone
from posdomain.permissions import Principal, Role
from scripts.testkit.crafted import make_batch
from tests.hub.conftest import login

pytestmark = [pytest.mark.pg]
TENANT, BRANCH, OTHER_BRANCH = "t-greenbasket", "b-downtown", "b-riverside"
ENDPOINTS = Endpoints("http://hub.test", "mqtt.test", 1883)


def field_tech(client: FlaskClient) -> dict[str, Any]:
    """A FIELD_TECH for b-downtown, logged in on `client`."""
    name = f"tech{uuid.uuid4().hex[:8]}"
    with tenant_tx(TENANT):
        User.create(
            id=f"u-{name}",
            tenant_id=TENANT,
            username=name,
            display_name="Fiona Tech",
            password_hash=hash_secret("field-tech-pass"),
            role=Role.FIELD_TECH.value,
            branch_ids=[BRANCH],
        )
    resp = client.post("/api/v1/auth/login", json={"username": name, "password": "field-tech-pass"})
    assert resp.status_code == 200
    return resp.get_json()["principal"]  # type: ignore[no-any-return]


def create_code(client: FlaskClient, **body: Any) -> Any:
    return client.post("/api/v1/enrolment-codes", json={"branch_id": BRANCH, **body})


def enrol(client: FlaskClient, code: str, ip: str = "10.1.1.1") -> Any:
    return client.post(
        "/api/v1/enrol",
        json={"code": code, "hardware": {"model": "Raspberry Pi 4"}},
        environ_base={"REMOTE_ADDR": ip},
    )


def audit_actions(tenant: str) -> list[str]:
    with tenant_tx(tenant):
        return [r.action for r in AuditLog.select().where(AuditLog.chain == tenant)]


@pytest.mark.req("NFR-005", "FR-802")
def test_owner_creates_single_use_code_and_enrols(client: FlaskClient) -> None:
    login(client, "owner")
    resp = create_code(client, till_name="Till 7")
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert len(created["code"]) == 14
    assert created["code"].count("-") == 2
    with tenant_tx(TENANT):
        row = EnrolmentCode.get_by_id(created["id"])
    assert created["code"] not in str(row.__data__)  # only the hash is stored
    assert row.code_hash == enrolment.code_digest(created["code"])

    first = enrol(client, created["code"].lower().replace("-", " "))  # typed sloppily
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    mqtt = {"host": "127.0.0.1", "port": 1883, "username": body["box_id"], "tls": False}
    assert body["config"]["mqtt"] == mqtt  # plain MQTT only through a plain (loopback) URL
    assert body["config"]["till_name"] == "Till 7"
    with platform_tx():
        cred = BoxCredential.get_by_id(body["box_id"])
        assert Box.get_by_id(body["box_id"]).status == "active"
    assert cred.password_hash.startswith("$7$")
    assert body["mqtt"]["password"] not in cred.password_hash
    assert broker_acl.verify_password(cred.password_hash, body["mqtt"]["password"])

    again = enrol(client, created["code"])
    assert again.status_code == 409
    assert again.get_json()["error"]["reason"] == "ENROLMENT_USED"
    assert "ask the head office" in again.get_json()["error"]["message"]
    actions = audit_actions(TENANT)
    assert {"enrolment.code_created", "enrolment.used", "enrolment.failed"} <= set(actions)


@pytest.mark.req("NFR-005")
def test_unknown_and_expired_codes(client: FlaskClient) -> None:
    unknown = enrol(client, "AAAA-BBBB-CCCC", ip="10.1.1.2")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["reason"] == "ENROLMENT_UNKNOWN"
    owner = Principal("user", "u-owner-test", Role.TENANT_OWNER, TENANT)
    t0 = utcnow() - timedelta(hours=2)
    created = enrolment.create_code(owner, CodeRequest(BRANCH, "Till X", 30), now=t0)
    with pytest.raises(Gone) as info:
        enrolment.enrol(created["code"], {}, "10.1.1.3", ENDPOINTS, now=t0 + timedelta(minutes=31))
    assert (info.value.status, str(info.value.reason)) == (410, "ENROLMENT_EXPIRED")
    # the same code one minute before expiry still works
    ok = enrolment.enrol(created["code"], {}, "10.1.1.3", ENDPOINTS, now=t0 + timedelta(minutes=29))
    assert ok["box_id"].startswith("box-")
    login(client, "owner")
    too_long = create_code(client, expires_in_minutes=1441)
    assert too_long.status_code == 400


@pytest.mark.req("FR-003", "FR-002")
def test_code_permissions_per_role_branch_and_tenant(client: FlaskClient, app: Any) -> None:
    field_tech(client)
    assert create_code(client).status_code == 201
    other = create_code(client, branch_id=OTHER_BRANCH)
    assert other.status_code == 403
    assert other.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"

    harbor = app.test_client()
    login(harbor, "harbor-owner")
    cross = create_code(harbor)
    assert cross.status_code == 403
    assert cross.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"
    made_up = create_code(harbor, branch_id="b-no-such-branch")
    # "another tenant's" and "does not exist" look the same (P0 probe item 3)
    assert (made_up.status_code, made_up.get_json()) == (cross.status_code, cross.get_json())

    cashier = app.test_client()
    login(cashier, "cashier")
    assert create_code(cashier).get_json()["error"]["reason"] == "FORBIDDEN_ROLE"
    assert app.test_client().post("/api/v1/enrolment-codes", json={}).status_code == 401


@pytest.mark.req("NFR-005")
def test_enrol_is_rate_limited_per_address(client: FlaskClient) -> None:
    ip = f"10.77.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    for _ in range(enrolment.MAX_FAILURES):
        assert enrol(client, "ZZZZ-ZZZZ-ZZZZ", ip=ip).status_code == 404
    limited = enrol(client, "ZZZZ-ZZZZ-ZZZZ", ip=ip)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["reason"] == "ENROLMENT_RATE_LIMITED"


@pytest.mark.req("FR-002", "NFR-005")
def test_replacement_gets_new_id_and_sequences_never_collide(client: FlaskClient) -> None:
    login(client, "owner")
    old_id = enrol(client, create_code(client).get_json()["code"]).get_json()["box_id"]
    ack = apply_batch(make_batch(old_id, TENANT, BRANCH, [1, 2, 3]), old_id)
    assert ack.acked_through == 3

    code = create_code(client, replaces_box_id=old_id).get_json()
    assert code["till_name"]  # inherited from the replaced box
    new = enrol(client, code["code"]).get_json()
    assert new["box_id"] != old_id
    assert new["replaces_box_id"] == old_id
    with platform_tx():
        assert Box.get_by_id(old_id).status == "replaced"

    ack_new = apply_batch(make_batch(new["box_id"], TENANT, BRANCH, [1]), new["box_id"])
    assert (ack_new.acked_through, len(ack_new.accepted)) == (1, 1)
    late = apply_batch(make_batch(old_id, TENANT, BRANCH, [4]), old_id)  # rung before the swap
    assert (late.acked_through, len(late.accepted)) == (4, 1)
    with platform_tx():
        assert Box.get_by_id(old_id).last_contiguous_seq == 4
        assert Box.get_by_id(new["box_id"]).last_contiguous_seq == 1
    assert enrolment.accepts_late_events(old_id)
    assert not enrolment.accepts_late_events(old_id, utcnow() + timedelta(days=15))
    again = create_code(client, replaces_box_id=old_id)
    assert again.status_code == 409
    assert "box.replaced" in audit_actions(TENANT)
