"""Tamper detection (FR-802): a superuser edit breaks the chain; start-up locks writes."""

from __future__ import annotations

import psycopg2
import pytest

from hub.app import create_app
from hub.core import db as hub_db
from hub.demo.seed import seed_demo
from hub.governance import audit
from tests.hub.conftest import PASSWORDS, drop_database, make_database

pytestmark = [pytest.mark.pg, pytest.mark.slow]


@pytest.fixture
def own_db(pg_admin_dsn):
    admin_url, app_url = make_database(pg_admin_dsn)
    hub_db.bind(app_url)
    seed_demo()
    yield admin_url, app_url
    drop_database(pg_admin_dsn, admin_url)


def _tamper(admin_url: str, sql: str) -> None:
    conn = psycopg2.connect(admin_url)
    with conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        cur.execute(sql)
        cur.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    conn.close()


def _config(app_url: str, cp_dir: str) -> dict[str, object]:
    return {
        "DATABASE_URL": app_url,
        "SECRET_KEY": "k",
        "PUBLISH_DOWN": False,
        "AUDIT_CHECKPOINT_DIR": cp_dir,
        "AUDIT_CHECKPOINT_KEY": "cp-key",
    }


@pytest.mark.req("FR-802")
def test_edited_row_locks_privileged_writes(own_db, tmp_path):
    admin_url, app_url = own_db
    _tamper(
        admin_url,
        "UPDATE audit_log SET actor = 'user:nobody' WHERE chain = 't-greenbasket' AND seq = 2",
    )
    app = create_app(_config(app_url, str(tmp_path)))
    client = app.test_client()
    client.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORDS["owner"]})
    resp = client.put("/api/v1/flags/loyalty_rules", json={"enabled": True, "reason": "x"})
    assert resp.status_code == 423
    assert resp.get_json()["error"]["reason"] == "AUDIT_CHAIN_BROKEN"
    report = client.get("/api/v1/audit/integrity").get_json()
    assert report["locked"] is True
    assert report["chains"][0]["ok"] is False
    assert report["chains"][0]["first_bad_seq"] == 2
    assert client.get("/api/v1/sales").status_code == 200  # reads still work
    with hub_db.platform_tx():
        critical = [r for r in audit.chain_records("platform") if r.action == "audit.chain_broken"]
    assert critical
    assert critical[-1].severity == "CRITICAL"


@pytest.mark.req("FR-802")
def test_truncated_chain_is_caught_by_signed_checkpoint(own_db, tmp_path):
    admin_url, app_url = own_db
    key = b"cp-key"
    assert audit.write_checkpoints(str(tmp_path), key)
    _tamper(
        admin_url,
        "DELETE FROM audit_log WHERE chain = 't-greenbasket' AND seq = "
        "(SELECT max(seq) FROM audit_log WHERE chain = 't-greenbasket')",
    )
    reports = {r.chain: r for r in audit.verify_all(str(tmp_path), key)}
    assert reports["t-greenbasket"].ok is False
    assert reports["t-greenbasket"].problems[0]["kind"] == "checkpoint"
    assert reports["t-harborfoods"].ok is True
    app = create_app(_config(app_url, str(tmp_path)))
    assert app.extensions["cfpos_integrity"].locked is True


@pytest.mark.req("FR-802")
def test_severity_downgrade_is_flagged(own_db):
    with hub_db.tenant_tx("t-greenbasket"):
        audit.append(
            "t-greenbasket",
            "user:x",
            "incident.classify",
            "incident:1",
            audit.Severity.CRITICAL,
            {"subject": "incident:1"},
        )
        audit.append(
            "t-greenbasket",
            "user:x",
            "incident.classify",
            "incident:1",
            audit.Severity.INFO,
            {"subject": "incident:1"},
        )
        report = audit.verify_chain_with_anchor("t-greenbasket")
    assert report.ok is False
    assert report.problems[0]["kind"] == "severity downgrade"


def _chain_broken_entries() -> list[audit.AuditRecord]:
    with hub_db.platform_tx():
        return [r for r in audit.chain_records("platform") if r.action == "audit.chain_broken"]


@pytest.mark.req("FR-802")
def test_chain_broken_written_once_per_distinct_break(own_db, tmp_path):
    admin_url, app_url = own_db
    _tamper(admin_url, "UPDATE audit_log SET actor = 'x' WHERE chain = 't-greenbasket' AND seq = 3")
    for _ in range(3):
        app = create_app(_config(app_url, str(tmp_path)))
        assert app.extensions["cfpos_integrity"].locked  # every start still locks
        # activity on the locked chain moves its head, which is not a new break
        login_body = {"username": "owner", "password": PASSWORDS["owner"]}
        assert app.test_client().post("/api/v1/auth/login", json=login_body).status_code == 200
    entries = _chain_broken_entries()
    assert len(entries) == 1
    assert entries[0].details["broken"][0]["first_bad_seq"] == 3
    _tamper(admin_url, "UPDATE audit_log SET actor = 'y' WHERE chain = 't-greenbasket' AND seq = 2")
    assert create_app(_config(app_url, str(tmp_path))).extensions["cfpos_integrity"].locked
    entries = _chain_broken_entries()
    assert len(entries) == 2
    assert entries[-1].details["broken"][0]["first_bad_seq"] == 2
