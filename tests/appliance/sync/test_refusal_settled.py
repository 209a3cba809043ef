"""FR-303 / NFR-003 / NFR-006 (issue 9): a refused event is settled on the box, never
delivered. Head office resolves it on the hub (the `refusals` down message) or a supervisor /
manager acknowledges it at the till (audited); either way the row stays refused and kept, the
banner's open count lets go of it, the X report still counts the sale as not booked, and the
heartbeat carries the open counts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import IntegrityError, SqliteDatabase

from appliance.catalog.down_messages import apply_down
from appliance.core.context import BoxContext
from appliance.sync import outbox
from appliance.sync.agent import SyncAgent
from appliance.sync.transport import Handler
from firmware_config.schema import BoxConfig
from posdomain import topics
from posdomain.envelope import BatchAck
from tests.appliance.conftest import login
from tests.appliance.factories import down
from tests.appliance.till.test_basket import BREAD, MILK
from tests.appliance.till_helpers import scalar, sell


class Recorder:
    """A transport that is always connected and records what the agent publishes."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        self.sent.append((topic, payload))

    def subscribe(self, topic: str, handler: Handler) -> None:
        return None

    def is_connected(self) -> bool:
        return True

    def stop(self) -> None:
        return None


def _refuse_a_sale(client: FlaskClient, db: SqliteDatabase, cfg: BoxConfig) -> tuple[int, str]:
    """Sell once; the hub delivers every event but refuses the sale; return its (seq, id)."""
    sell(client, [(MILK, 1), (BREAD, 1)], "10.00")
    rows = list(db.execute_sql("SELECT seq, event_id, type FROM outbox ORDER BY seq").fetchall())
    seq, event_id = next((r[0], r[1]) for r in rows if r[2] == "sale.completed")
    ack = BatchAck(
        batch_id=uuid.uuid4(),
        box_id=cfg.box_id,
        acked_through=rows[-1][0],
        rejected=[{"event_id": event_id, "seq": seq, "reason": "SEQ_CONFLICT", "message": "x"}],
    )
    with db.atomic():
        outbox.apply_ack(ack, [r[0] for r in rows])
    return seq, event_id


def _resolutions(*items: tuple[str, int], note: str = "booked by hand") -> dict[str, Any]:
    stamp = datetime.now(UTC).isoformat()
    return {
        "resolved": [
            {"event_id": e, "seq": s, "resolved_at": stamp, "resolved_by": "u-owner", "note": note}
            for e, s in items
        ]
    }


def _audit(db: SqliteDatabase, action: str) -> list[dict[str, Any]]:
    rows = db.execute_sql(
        "SELECT actor, severity, details FROM audit_log WHERE action = ? ORDER BY seq", (action,)
    ).fetchall()
    return [{"actor": a, "severity": s, **json.loads(d)} for a, s, d in rows]


@pytest.mark.req("FR-303", "NFR-003")
@pytest.mark.usefixtures("shift_open")
def test_a_hub_resolution_settles_the_refused_row_and_clears_the_banner(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    seq, event_id = _refuse_a_sale(cashier, box_db, box_config)
    assert cashier.get("/api/v1/status").get_json()["refused"] == 1
    ctx = BoxContext(box_config)
    crafted = (str(uuid.uuid4()), seq)  # the crafted event's resolution: not this box's row
    assert apply_down(ctx, down("refusals", 1, _resolutions((event_id, seq), crafted)))

    row = box_db.execute_sql(
        "SELECT acked_at, refused_at, refused_reason, resolved_by, resolution_note"
        " FROM outbox WHERE seq = ?",
        (seq,),
    ).fetchone()
    assert row[0] is None, "a resolved refusal is still never delivered"
    assert row[1] is not None, "kept as refused"
    assert row[2] == "SEQ_CONFLICT"
    assert row[3:] == ("u-owner", "booked by hand")
    status = cashier.get("/api/v1/status").get_json()
    assert (status["refused"], status["refused_sales"], status["refused_events"]) == (0, 0, [])
    waiting = {r.seq: r.type for r in outbox.unacked(100)}
    assert seq not in waiting, "never sent again"
    assert outbox.by_seqs([seq]) == []
    assert set(waiting.values()) == {"audit.entry"}, "only the resolution's audit entry goes up"
    x = cashier.get("/api/v1/shifts/current/x").get_json()
    assert x["refused_sales"] == 1, "settling does not book the sale at head office"
    [entry] = _audit(box_db, "outbox.refusal_resolved")
    assert (entry["actor"], entry["event_id"], entry["note"]) == ("hub", event_id, "booked by hand")

    with pytest.raises(IntegrityError), box_db.atomic():  # a resolution is written once
        box_db.execute_sql("UPDATE outbox SET resolution_note = 'other' WHERE seq = ?", (seq,))
    with pytest.raises(IntegrityError), box_db.atomic():
        box_db.execute_sql("UPDATE outbox SET acked_at = 'x' WHERE seq = ?", (seq,))
    assert int(scalar(box_db, "SELECT count(*) FROM outbox")) >= 1


@pytest.mark.req("FR-303")
@pytest.mark.usefixtures("shift_open")
def test_only_a_refused_row_can_be_settled(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    """A resolution naming a waiting event marks nothing (and the guard refuses it in SQL)."""
    sell(cashier, [(MILK, 1)], "5.00")
    seq, event_id = box_db.execute_sql(
        "SELECT seq, event_id FROM outbox WHERE type = 'sale.completed'"
    ).fetchone()
    assert apply_down(BoxContext(box_config), down("refusals", 1, _resolutions((event_id, seq))))
    assert scalar(box_db, f"SELECT resolved_at FROM outbox WHERE seq = {seq}") is None
    assert outbox.queued_sales_count() == 1, "still waiting to be sent"
    with pytest.raises(IntegrityError), box_db.atomic():
        box_db.execute_sql("UPDATE outbox SET acknowledged_at = 'x' WHERE seq = ?", (seq,))


@pytest.mark.req("FR-303", "NFR-003")
@pytest.mark.usefixtures("shift_open")
def test_a_resolution_that_arrives_before_the_refusal_settles_it_when_it_comes(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    """The box missed the hub's ack and resent; head office resolved meanwhile and the
    retained `refusals` message came first: the refusal, when it comes, is settled at once."""
    sell(cashier, [(MILK, 1)], "5.00")
    rows = list(box_db.execute_sql("SELECT seq, event_id, type FROM outbox ORDER BY seq"))
    seq, event_id = next((r[0], r[1]) for r in rows if r[2] == "sale.completed")
    ctx = BoxContext(box_config)
    apply_down(ctx, down("refusals", 1, _resolutions((event_id, seq))))
    agent = SyncAgent(ctx, Recorder())
    batch_id = uuid.uuid4()
    agent._sent[batch_id] = [r[0] for r in rows]
    rejected = [{"event_id": event_id, "seq": seq, "reason": "SEQ_CONFLICT", "message": ""}]
    ack = BatchAck(
        batch_id=batch_id, box_id=box_config.box_id, acked_through=rows[-1][0], rejected=rejected
    )
    agent._handle(topics.box_ack(box_config.box_id), ack.model_dump_json().encode())

    assert scalar(box_db, f"SELECT refused_reason FROM outbox WHERE seq = {seq}") == "SEQ_CONFLICT"
    assert scalar(box_db, f"SELECT resolved_by FROM outbox WHERE seq = {seq}") == "u-owner"
    assert (outbox.refused_count(), outbox.refused_sales_count()) == (0, 0)


@pytest.mark.req("FR-303", "NFR-006")
@pytest.mark.usefixtures("shift_open")
def test_the_heartbeat_carries_the_open_refused_counts(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    seq, event_id = _refuse_a_sale(cashier, box_db, box_config)
    transport = Recorder()
    agent = SyncAgent(BoxContext(box_config), transport)
    agent._publish_status(online=True)
    topic, raw = transport.sent[-1]
    assert topic == topics.box_status(box_config.box_id)
    beat = json.loads(raw)
    assert (beat["refused"], beat["refused_sales"]) == (1, 1)

    apply_down(BoxContext(box_config), down("refusals", 1, _resolutions((event_id, seq))))
    agent._publish_status(online=True)
    beat = json.loads(transport.sent[-1][1])
    assert (beat["refused"], beat["refused_sales"]) == (0, 0)


@pytest.mark.req("FR-303", "FR-300")
@pytest.mark.usefixtures("shift_open")
def test_a_manager_acknowledges_a_refused_event_at_the_till_and_a_cashier_may_not(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    seq, event_id = _refuse_a_sale(cashier, box_db, box_config)
    url = f"/api/v1/sync/refused/{seq}/acknowledge"

    denied = cashier.post(url, json={"note": "seen"})
    assert denied.status_code == 403
    assert denied.get_json()["error"]["reason"] == "FORBIDDEN_ROLE"
    assert _audit(box_db, "outbox.refusal_acknowledge_denied")[0]["actor"] == "staff:s-cash"
    assert outbox.refused_count() == 1

    assert login(cashier, "manager").status_code == 200
    assert cashier.post(url, json={}).status_code == 400
    assert cashier.post(url, json={"note": "bad\x07"}).status_code == 400
    waiting = int(scalar(box_db, "SELECT max(seq) FROM outbox")) + 1
    missing = cashier.post(f"/api/v1/sync/refused/{waiting}/acknowledge", json={"note": "x"})
    assert missing.status_code == 404

    done = cashier.post(url, json={"note": "Hub unreachable; owner phoned"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["acknowledged_by"] == "staff:s-mgr"
    again = cashier.post(url, json={"note": "twice"})
    assert again.status_code == 409
    assert again.get_json()["error"]["reason"] == "INVALID_TRANSITION"

    row = box_db.execute_sql(
        "SELECT acked_at, refused_at, acknowledged_by, acknowledged_note, resolved_at"
        " FROM outbox WHERE seq = ?",
        (seq,),
    ).fetchone()
    assert row[0] is None, "never delivered"
    assert row[1] is not None, "kept as refused"
    assert row[2:] == ("staff:s-mgr", "Hub unreachable; owner phoned", None)
    status = cashier.get("/api/v1/status").get_json()
    assert (status["refused"], status["refused_sales"]) == (0, 0)
    [entry] = _audit(box_db, "outbox.refusal_acknowledged")
    assert (entry["actor"], entry["severity"]) == ("staff:s-mgr", "WARN")
    assert entry["event_id"] == event_id
    queued = box_db.execute_sql(
        "SELECT count(*) FROM outbox WHERE type = 'audit.entry' AND payload LIKE ?",
        ("%outbox.refusal_acknowledged%",),
    ).fetchone()[0]
    assert queued == 1, "the acknowledgement reaches the hub on the box's audit chain"

    # head office resolves it later: recorded beside the acknowledgement, counters untouched
    apply_down(BoxContext(box_config), down("refusals", 1, _resolutions((event_id, seq))))
    assert scalar(box_db, f"SELECT resolved_by FROM outbox WHERE seq = {seq}") == "u-owner"
    assert (outbox.refused_count(), outbox.refused_sales_count()) == (0, 0)
