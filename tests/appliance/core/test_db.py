"""Box SQLite: durable pragmas, numbered migrations, append-only triggers."""

from __future__ import annotations

import pytest
from peewee import IntegrityError, SqliteDatabase

from appliance.migrations import discover, migrate, pending
from tests.appliance.conftest import count


@pytest.mark.req("NFR-004", "FR-303")
def test_pragmas_are_wal_and_synchronous_full(box_db: SqliteDatabase) -> None:
    with box_db.connection_context():
        assert box_db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert box_db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2
        assert box_db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert box_db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_migrations_are_numbered_recorded_and_idempotent(box_db: SqliteDatabase) -> None:
    versions = [v for v, _, _ in discover()]
    assert versions == sorted(versions)
    assert versions[0] == 1
    with box_db.connection_context():
        assert pending(box_db) == []
        assert migrate(box_db) == []
        assert count(box_db, "schema_migrations") == len(versions)


@pytest.mark.req("FR-802")
def test_audit_log_rows_cannot_be_changed_or_deleted(box_db: SqliteDatabase) -> None:
    with box_db.connection_context():
        assert count(box_db, "audit_log") > 0
        with pytest.raises(IntegrityError, match="append-only"):
            box_db.execute_sql("UPDATE audit_log SET actor = 'x' WHERE seq = 1")
        with pytest.raises(IntegrityError, match="append-only"):
            box_db.execute_sql("DELETE FROM audit_log")


@pytest.mark.req("FR-303")
def test_outbox_rows_only_gain_acked_at(box_db: SqliteDatabase) -> None:
    with box_db.connection_context():
        with pytest.raises(IntegrityError):
            box_db.execute_sql("UPDATE outbox SET payload = '{}' WHERE seq = 1")
        with pytest.raises(IntegrityError):
            box_db.execute_sql("UPDATE outbox SET seq = 999 WHERE seq = 1")
        with pytest.raises(IntegrityError):
            box_db.execute_sql("DELETE FROM outbox WHERE seq = 1")
        box_db.execute_sql("UPDATE outbox SET acked_at = 'now', attempts = 1 WHERE seq = 1")
        with pytest.raises(IntegrityError):
            box_db.execute_sql("UPDATE outbox SET acked_at = NULL WHERE seq = 1")
