"""Compliance (FR-P7-1014..1018): legal holds visible on the records they cover and blocking
erasure; customer PII export and erasure that keeps sales, points and audit verifiable and
reaches the boxes' card directory; the tenant export and the audit evidence export, streamed
with a signed manifest, read-only and audited."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.compliance import export
from hub.core.db import tenant_tx
from hub.customers import directory
from hub.customers.models import Customer
from hub.governance import audit
from hub.governance.models import AuditLog
from posdomain.audit_chain import verify_chain
from posdomain.permissions import Principal, Role
from tests.hub.conftest import enrol_box, login
from tests.hub.loyalty_helpers import balance, customer_sale, enable_loyalty, new_customer, send

pytestmark = [pytest.mark.pg]
T, B = "t-greenbasket", "b-downtown"


def _owner(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client, "owner")
    return client


def _shopper(app: Flask) -> tuple[str, str]:
    """A customer with a card, contact data, a sale and points; (customer id, sale id)."""
    enable_loyalty()
    cid = new_customer(
        full_name="Erika Mustermann",
        phone="+4915112345678",
        email="erika@example.test",
        card=f"27{uuid.uuid4().int % 10**11:011d}",
    )
    box = enrol_box(T, B)
    sale = customer_sale(box, 1, cid)
    ack = send(box, [sale])
    assert ack.accepted, ack
    return cid, sale["payload"]["sale_id"]


def _actions(target: str) -> list[str]:
    with tenant_tx(T):
        rows = AuditLog.select().where(AuditLog.chain == T, AuditLog.target == target)
        return [r.action for r in rows.order_by(AuditLog.seq)]


@pytest.mark.req("FR-P7-1017", "FR-P7-1018")
def test_pii_export_holds_everything_about_the_customer_and_is_audited(app):
    owner = _owner(app)
    cid, sale_id = _shopper(app)
    resp = owner.get(f"/api/v1/customers/{cid}/pii-export")
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()
    assert doc["customer"]["email"] == "erika@example.test"
    assert [p["sale_id"] for p in doc["purchases"]] == [sale_id]
    assert doc["points_ledger"]
    assert doc["erasure"] is None
    assert _actions(f"customer:{cid}")[-1] == "customer.pii_exported"
    manager = app.test_client()
    login(manager, "manager")
    denied = manager.get(f"/api/v1/customers/{cid}/pii-export")
    assert denied.status_code == 403  # "customer PII export/erase: T" only


@pytest.mark.req("FR-P7-1017", "FR-P7-1015")
def test_erasure_removes_pii_keeps_ledgers_verifiable_and_reaches_the_card_directory(app):
    owner = _owner(app)
    cid, sale_id = _shopper(app)
    points_before = balance(cid)
    with tenant_tx(T):
        version_before = Customer.get_by_id(cid).dir_version
    resp = owner.post(f"/api/v1/customers/{cid}/erasure", json={"reason": "customer request #1"})
    assert resp.status_code == 200, resp.get_json()
    record = resp.get_json()
    assert record["erased"]["fields"] == ["card", "display_name", "email", "full_name", "phone"]
    assert record["kept"]["customer_activity"]["rows"] == 1
    assert record["kept"]["loyalty_ledger"]["rows"] >= 1
    assert "tax" in record["kept"]["customer_activity"]["rule"]
    with tenant_tx(T):
        row = Customer.get_by_id(cid)
        assert (row.full_name, row.phone, row.email, row.card) == (None, None, None, None)
        assert row.display_name == "Erased customer"
        assert not row.active
        assert row.erased_at is not None
        assert row.dir_version > version_before
        entries = directory.build_chunks(T, version_before)
        chain_ok = verify_chain(T, audit.chain_records(T)).ok
    sent = [e for chunk in entries for e in chunk["cards"] if e["customer_id"] == cid]
    assert sent[-1]["card"] is None
    assert sent[-1]["active"] is False
    assert sent[-1]["display_name"] == "Erased customer"
    assert balance(cid) == points_before  # running balance == ledger sum, both unchanged
    assert chain_ok  # the audit chain was not rewritten
    sale = owner.get(f"/api/v1/sales/{sale_id}").get_json()
    assert sale["total"]  # the tax record stays
    dump = json.dumps(owner.get(f"/api/v1/customers/{cid}/pii-export").get_json()["customer"])
    assert "Mustermann" not in dump
    assert "erika@" not in dump
    again = owner.post(f"/api/v1/customers/{cid}/erasure", json={"reason": "twice"})
    assert again.status_code == 409
    assert again.get_json()["error"]["reason"] == "CUSTOMER_ERASED"
    edit = owner.patch(f"/api/v1/customers/{cid}", json={"email": "back@example.test"})
    assert edit.status_code == 409
    assert owner.get(f"/api/v1/customers/{cid}/erasure").get_json()["id"] == record["id"]
    assert "customer.erased" in _actions(f"customer:{cid}")


@pytest.mark.req("FR-P7-1015", "FR-P7-1017")
def test_a_legal_hold_blocks_erasure_says_why_and_shows_on_the_records(app):
    owner = _owner(app)
    cid, sale_id = _shopper(app)
    hold = owner.post(
        "/api/v1/legal-holds",
        json={"scope": "customer", "target": cid, "reason": "litigation 2026-17"},
    )
    assert hold.status_code == 201, hold.get_json()
    hold_id = hold.get_json()["id"]
    refused = owner.post(f"/api/v1/customers/{cid}/erasure", json={"reason": "request"})
    assert refused.status_code == 409
    body = refused.get_json()["error"]
    assert body["reason"] == "LEGAL_HOLD"
    assert "litigation 2026-17" in body["message"]
    assert body["details"]["holds"][0]["id"] == hold_id
    with tenant_tx(T):
        assert Customer.get_by_id(cid).email == "erika@example.test"  # nothing erased
    assert _actions(f"customer:{cid}")[-1] == "customer.erasure_refused"
    customer = owner.get(f"/api/v1/customers/{cid}").get_json()
    assert [h["id"] for h in customer["legal_holds"]] == [hold_id]
    sale = owner.get(f"/api/v1/sales/{sale_id}").get_json()
    assert [h["id"] for h in sale["legal_holds"]] == [hold_id]
    for page in (f"/customers/{cid}", f"/sales/{sale_id}"):  # and in the portal
        html = owner.get(page).get_data(as_text=True)
        assert 'id="legal-holds"' in html, page
        assert "litigation 2026-17" in html, page
    assert owner.post(f"/api/v1/legal-holds/{hold_id}/release", json={}).status_code == 200
    assert owner.post(f"/api/v1/legal-holds/{hold_id}/release", json={}).status_code == 409
    assert owner.get(f"/api/v1/customers/{cid}").get_json()["legal_holds"] == []
    assert owner.post(f"/api/v1/customers/{cid}/erasure", json={"reason": "now"}).status_code == 200
    assert _actions(f"legal_hold:{hold_id}") == ["legal_hold.placed", "legal_hold.released"]


@pytest.mark.req("FR-P7-1015")
def test_date_range_and_branch_holds_cover_records_in_them(app):
    owner = _owner(app)
    cid, sale_id = _shopper(app)
    now = datetime.now(UTC)
    held = owner.post(
        "/api/v1/legal-holds",
        json={
            "scope": "date_range",
            "starts_at": (now - timedelta(days=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "reason": "tax audit period",
        },
    ).get_json()
    past = owner.post(
        "/api/v1/legal-holds",
        json={
            "scope": "date_range",
            "starts_at": "2021-01-01T00:00:00Z",
            "ends_at": "2021-02-01T00:00:00Z",
            "reason": "old period",
        },
    ).get_json()
    try:
        sale = owner.get(f"/api/v1/sales/{sale_id}").get_json()
        ids = {h["id"] for h in sale["legal_holds"]}
        assert held["id"] in ids
        assert past["id"] not in ids
        refused = owner.post(f"/api/v1/customers/{cid}/erasure", json={"reason": "x y"})
        assert refused.get_json()["error"]["reason"] == "LEGAL_HOLD"
    finally:
        for h in (held, past):
            owner.post(f"/api/v1/legal-holds/{h['id']}/release", json={})


@pytest.mark.req("FR-P7-1015", "NFR-005")
def test_bad_holds_and_unknown_customers_are_refused_and_nothing_written(app):
    owner = _owner(app)
    before = len(owner.get("/api/v1/legal-holds").get_json()["items"])
    cases = [
        ({"scope": "branch", "reason": "no target"}, 400),
        ({"scope": "tenant", "target": "x", "reason": "target on tenant"}, 400),
        ({"scope": "date_range", "reason": "no dates"}, 400),
        ({"scope": "branch", "target": "b-harbor-main", "reason": "foreign"}, 404),
        ({"scope": "customer", "target": "nobody", "reason": "unknown"}, 404),
        ({"scope": "planet", "reason": "bad scope"}, 400),
    ]
    for body, status in cases:
        assert owner.post("/api/v1/legal-holds", json=body).status_code == status, body
    assert len(owner.get("/api/v1/legal-holds").get_json()["items"]) == before
    unknown = owner.post("/api/v1/customers/nobody/erasure", json={"reason": "request"})
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["reason"] == "UNKNOWN_CUSTOMER"
    auditor = app.test_client()
    login(auditor, "auditor")
    assert auditor.get("/api/v1/legal-holds").status_code == 200  # AUDITOR reads
    placed = auditor.post("/api/v1/legal-holds", json={"scope": "tenant", "reason": "no way"})
    assert placed.status_code == 403


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        out = {}
        for m in tar.getmembers():
            f = tar.extractfile(m)
            assert f is not None
            out[m.name] = f.read()
        return out


@pytest.mark.req("FR-P7-1014", "FR-P7-1018")
def test_tenant_export_streams_every_table_with_a_signed_manifest_and_no_secrets(app):
    _shopper(app)
    auditor = app.test_client()
    login(auditor, "auditor")  # "AUDITOR: read-only, including exports"
    resp = auditor.get("/api/v1/compliance/export")
    assert resp.status_code == 200
    assert resp.is_streamed
    files = _members(resp.get_data())
    manifest_bytes = files["manifest.json"]
    manifest = json.loads(manifest_bytes)
    key = str(app.config["AUDIT_CHECKPOINT_KEY"]).encode()
    assert files["manifest.sig"].decode() == export.sign(key, manifest_bytes)
    for entry in manifest["files"]:
        data = files[entry["name"]]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert data.count(b"\n") == entry["rows"]
    names = {f["name"] for f in manifest["files"]}
    assert {"sales.jsonl", "customers.jsonl", "loyalty_ledger.jsonl", "audit_log.jsonl"} <= names
    users = [json.loads(line) for line in files["users.jsonl"].splitlines()]
    assert users
    assert {u["password_hash"] for u in users} == {"[redacted]"}
    assert "hub_sessions.jsonl" not in names
    assert b"harbor" not in files["sales.jsonl"]  # tenant-isolated
    with tenant_tx(T):
        last = AuditLog.select().where(AuditLog.chain == T).order_by(AuditLog.seq.desc()).first()
    assert last.action == "compliance.exported"
    assert last.details["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()


@pytest.mark.req("FR-P7-1014")
def test_an_export_over_the_limit_is_refused_before_it_starts(app, monkeypatch):
    monkeypatch.setitem(app.config, "COMPLIANCE_EXPORT_MAX_ROWS", 5)
    resp = _owner(app).get("/api/v1/compliance/export")
    assert resp.status_code == 413
    assert resp.get_json()["error"]["reason"] == "EXPORT_TOO_LARGE"


@pytest.mark.req("FR-P7-1014")
def test_an_abandoned_export_writes_nothing_but_its_start(app):
    with tenant_tx(T):
        before = AuditLog.select().where(AuditLog.chain == T).count()
    who = Principal(kind="user", id="u-owner", role=Role.TENANT_OWNER, tenant_id=T)
    key = b"k" * 32
    chunks = export.tenant_export(who, T, key, 10**9)
    next(chunks)  # the client reads the first table, then goes away
    chunks.close()
    with tenant_tx(T):
        rows = list(
            AuditLog.select().where(AuditLog.chain == T).order_by(AuditLog.seq).offset(before)
        )
    assert [r.action for r in rows] == ["compliance.export_started"]


@pytest.mark.req("FR-P7-1018")
def test_audit_evidence_export_carries_the_chain_and_its_verification(app):
    resp = _owner(app).get("/api/v1/compliance/audit-evidence")
    assert resp.status_code == 200
    files = _members(resp.get_data())
    report = json.loads(files["verification.json"])
    assert report["chain"] == T
    assert report["ok"] is True
    entries = [json.loads(line) for line in files["audit_log.jsonl"].splitlines()]
    assert len(entries) == report["entries"]
