"""NFR-002: the queued count the status endpoint shows is a trigger-kept counter that always
equals the unacked rows of the outbox (inserts, acks through a seq, duplicate acks)."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

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
            )
        )

    with box_db.atomic():
        ack(seqs[2], [last_id])
    assert outbox.queued_count() == _unacked(box_db) == len(seqs) - 4
    with box_db.atomic():
        ack(seqs[-1], [last_id])  # the duplicate is acked already: counted once
    assert outbox.queued_count() == _unacked(box_db) == 0
