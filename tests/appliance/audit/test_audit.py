"""Box audit chain (FR-802): verified at start-up, tamper detected, privileged writes refused."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.app import create_app
from firmware_config.schema import BoxConfig
from posdomain.audit_chain import AuditRecord
from tests.appliance.conftest import login
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_checkout import outbox_events, pay


@pytest.mark.req("FR-802")
def test_integrity_endpoint_reports_an_intact_chain(client: FlaskClient) -> None:
    login(client, "manager")
    body = client.get("/api/v1/audit/integrity").get_json()
    assert body["ok"] is True
    assert body["entries"] >= 4
    assert body["privileged_writes_refused"] is False


@pytest.mark.req("FR-802", "FR-003")
def test_integrity_endpoint_needs_audit_read(cashier: FlaskClient) -> None:
    resp = cashier.get("/api/v1/audit/integrity")
    assert resp.status_code == 403


@pytest.mark.req("FR-802")
def test_every_audit_entry_is_queued_for_the_hub(box_db: SqliteDatabase) -> None:
    entries = box_db.execute_sql("SELECT count(*) FROM audit_log").fetchone()[0]
    events = outbox_events(box_db, "audit.entry")
    assert len(events) == entries
    record = AuditRecord(**events[0].payload)
    assert record.seq == 1
    assert record.chain.startswith("box:")


@pytest.mark.req("FR-802")
def test_tampered_chain_is_caught_at_startup_and_blocks_privileged_writes(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    # an attacker with file access drops the guard trigger and edits history
    box_db.execute_sql("DROP TRIGGER audit_log_no_update")
    box_db.execute_sql("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
    app = create_app(box_config)
    app.testing = True
    client = app.test_client()
    crit = box_db.execute_sql(
        "SELECT action, severity FROM audit_log ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    assert crit == ("audit.chain_broken", "CRITICAL")
    assert login(client).status_code == 200
    add(client, MILK)
    resp = pay(client)
    assert resp.status_code == 423
    assert resp.get_json()["error"]["reason"] == "AUDIT_CHAIN_BROKEN"
    assert client.delete("/api/v1/basket/lines/1").status_code == 423
    assert client.get("/api/v1/status").get_json()["audit_chain_ok"] is False
    manager = app.test_client()
    login(manager, "manager")
    report = manager.get("/api/v1/audit/integrity").get_json()
    assert report["ok"] is False
    assert report["first_bad_seq"] == 2
    assert report["privileged_writes_refused"] is True
    assert report["problems"][0]["kind"] == "hash"
