"""After a hub restore the box resends what the restored hub lost (NFR-004), on the real broker.

The hub stand-in (Acker) first receives and acks everything; then it "is restored" from a
backup that held only seqs 1..k: a fresh Acker that knows 1..k. The hub's retained `resend`
down message (after_seq = k) makes the agent send k+1..N again, although the box holds them
acked; nothing is lost, nothing arrives twice, and a repeated version of the same restore
resends nothing more.
"""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.sync.models import OutboxResend
from firmware_config.schema import BoxConfig
from posdomain import topics
from posdomain.contract import ResendRequest
from posdomain.envelope import encode
from scripts.testkit.waiting import wait_until
from tests.appliance.factories import down
from tests.appliance.sync.test_sync_agent import _publish_retained, unacked
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_checkout import pay

pytestmark = pytest.mark.mqtt


def audit_actions(db: SqliteDatabase, action: str) -> int:
    """Audit entries with this action."""
    return int(
        db.execute_sql("SELECT count(*) FROM audit_log WHERE action = ?", (action,)).fetchone()[0]
    )


@pytest.mark.req("NFR-004", "FR-700")
@pytest.mark.usefixtures("shift_open")
def test_resend_after_hub_restore_loses_and_doubles_nothing(
    cashier: FlaskClient,
    box_db: SqliteDatabase,
    mqtt_config: BoxConfig,
    mqtt_addr: tuple[str, int],
    start_agent,
    acker_factory,
) -> None:
    for _ in range(3):
        add(cashier, MILK)
        assert pay(cashier).status_code == 200
    first_hub = acker_factory()
    agent = start_agent()
    wait_until(lambda: unacked(box_db) == 0)
    agent.close()
    total = int(box_db.execute_sql("SELECT max(seq) FROM outbox").fetchone()[0])
    kept = total // 2  # the restored backup held seqs 1..kept
    restored_hub = acker_factory()
    restored_hub.events = {s: e for s, e in first_hub.events.items() if s <= kept}
    first_hub.stop()
    restore_id = uuid.uuid4().hex
    body = ResendRequest(
        restore_id=restore_id, after_seq=kept, restored_at="2026-12-01T12:00:00+00:00"
    ).model_dump()
    topic = topics.box_down(mqtt_config.box_id, "resend")
    _publish_retained(mqtt_addr, {topic: encode(down("resend", 1001, body))})
    try:
        start_agent()
        wait_until(lambda: OutboxResend.get_or_none(OutboxResend.restore_id == restore_id))
        request = OutboxResend.get(OutboxResend.restore_id == restore_id)
        assert (request.after_seq, request.through_seq) == (kept, total)
        wait_until(
            lambda: OutboxResend.get(OutboxResend.restore_id == restore_id).finished_at is not None
        )
        wait_until(lambda: unacked(box_db) == 0)
        newest = int(box_db.execute_sql("SELECT max(seq) FROM outbox").fetchone()[0])
        assert sorted(restored_hub.events) == list(range(1, newest + 1))  # nothing lost
        for seq in range(kept + 1, total + 1):  # each lost event sent once more, not twice
            event_id = str(restored_hub.events[seq].event_id)
            assert restored_hub.deliveries[event_id] == 1
        assert all(
            restored_hub.deliveries[str(restored_hub.events[s].event_id)] == 0
            for s in range(1, kept + 1)
        )
        assert audit_actions(box_db, "sync.resend.requested") == 1
        assert audit_actions(box_db, "sync.resend.finished") == 1
        # the same restore under a newer version (the hub republished): no second resend
        _publish_retained(mqtt_addr, {topic: encode(down("resend", 1002, body))})
        wait_until(
            lambda: (
                box_db.execute_sql(
                    "SELECT count(*) FROM config_doc WHERE kind = 'resend' AND version = 1002"
                ).fetchone()[0]
                == 1
            )
        )
        assert OutboxResend.select().count() == 1
        assert audit_actions(box_db, "sync.resend.requested") == 1
    finally:
        _publish_retained(mqtt_addr, {topic: b""})


@pytest.mark.req("NFR-004")
def test_a_resend_for_a_box_enrolled_after_the_restore_does_nothing(
    box_db: SqliteDatabase, box_config: BoxConfig
) -> None:

    body = ResendRequest(restore_id="none", after_seq=0, restored_at="x").model_dump()
    with box_db.connection_context():
        assert down_messages.apply_down(BoxContext(box_config), down("resend", 1, body))
        assert OutboxResend.select().count() == 0
