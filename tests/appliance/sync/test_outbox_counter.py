"""NFR-002: the queued count the status endpoint shows is a trigger-kept counter that always
equals the unacked rows of the outbox (inserts, acks through a seq, duplicate acks)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.migrations import discover
from appliance.sync import outbox
from firmware_config.schema import BoxConfig
from posdomain.envelope import BatchAck
from tests.appliance.till.test_basket import BREAD, MILK
from tests.appliance.till_helpers import scalar, sell


def _unacked(db: SqliteDatabase) -> int:
    return int(scalar(db, "SELECT count(*) FROM outbox WHERE acked_at IS NULL"))


@pytest.mark.req("NFR-002")
@pytest.mark.usefixtures("shift_open")
def test_queued_counter_follows_inserts_and_acks(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    for _ in range(3):
        sell(cashier, [(MILK, 1), (BREAD, 1)], "10.00")
    assert outbox.queued_count() == _unacked(box_db) >= 6
    assert cashier.get("/api/v1/status").get_json()["queued"] == _unacked(box_db)
    seqs = [r[0] for r in box_db.execute_sql("SELECT seq FROM outbox ORDER BY seq").fetchall()]
    last_id = scalar(box_db, "SELECT event_id FROM outbox ORDER BY seq DESC LIMIT 1")

    def ack(through: int, duplicates: list[str]) -> None:
        outbox.apply_ack(
            BatchAck(
                batch_id=uuid.uuid4(),
                box_id=box_config.box_id,
                acked_through=through,
                duplicates=[uuid.UUID(d) for d in duplicates],
            ),
            seqs,
        )

    with box_db.atomic():
        ack(seqs[2], [last_id])
    assert outbox.queued_count() == _unacked(box_db) == len(seqs) - 4
    with box_db.atomic():
        ack(seqs[-1], [last_id])  # the duplicate is acked already: counted once
    assert outbox.queued_count() == _unacked(box_db) == 0


def _unacked_sales(db: SqliteDatabase) -> int:
    sql = "SELECT count(*) FROM outbox WHERE acked_at IS NULL AND type = 'sale.completed'"
    return int(scalar(db, sql))


@pytest.mark.req("NFR-002", "FR-303")
@pytest.mark.usefixtures("shift_open")
def test_the_status_counts_waiting_sales_apart_from_other_events(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    """An owner reads "queued" as sales; audit entries, shift closes and the like are not."""
    for _ in range(2):
        sell(cashier, [(MILK, 1)], "5.00")
    status = cashier.get("/api/v1/status").get_json()
    assert status["queued_sales"] == _unacked_sales(box_db) == 2
    assert status["queued"] == _unacked(box_db) > 2
    first_sale = scalar(box_db, "SELECT seq FROM outbox WHERE type = 'sale.completed' LIMIT 1")
    with box_db.atomic():
        outbox.apply_ack(
            BatchAck(batch_id=uuid.uuid4(), box_id=box_config.box_id, acked_through=first_sale),
            range(1, first_sale + 1),
        )
    assert cashier.get("/api/v1/status").get_json()["queued_sales"] == 1


@pytest.mark.req("NFR-002", "FR-800")
def test_migration_0007_counts_the_sales_already_waiting(tmp_path: Path) -> None:
    """A box updated while offline starts with the right number of waiting sales."""
    db = SqliteDatabase(str(tmp_path / "old.sqlite3"))
    with db.connection_context():
        for version, _name, module in discover():
            if version < 7:
                module.up(db)
        rows = [("sale.completed", None), ("audit.entry", None), ("sale.completed", "acked"),
                ("sale.completed", None), ("shift.closed", None)]  # fmt: skip
        for seq, (kind, acked) in enumerate(rows, start=1):
            db.execute_sql(
                "INSERT INTO outbox (seq, event_id, type, payload, created_at, acked_at)"
                " VALUES (?, ?, ?, '{}', 'now', ?)",
                (seq, str(uuid.uuid4()), kind, acked),
            )
        dict(discover_by_version())[7].up(db)
        queued, sales = db.execute_sql(
            "SELECT queued, queued_sales FROM outbox_queued WHERE id = 1"
        ).fetchone()
    assert (queued, sales) == (4, 2)


def discover_by_version() -> list[tuple[int, Any]]:
    """(version, migration module) of every box migration."""
    return [(version, module) for version, _name, module in discover()]
