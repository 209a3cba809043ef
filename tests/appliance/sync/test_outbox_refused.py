"""FR-303 / NFR-003 (issue 9): an event the hub lists under `rejected` is refused on the box:
never counted delivered although `acked_through` passes its seq, never sent again, kept with
its reason, shown in the status and counted in the X report; the rest of the queue drains."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import IntegrityError, SqliteDatabase

from appliance.sync import outbox
from appliance.till import xz_reports
from firmware_config.schema import BoxConfig
from posdomain.envelope import BatchAck
from tests.appliance.till.test_basket import BREAD, MILK
from tests.appliance.till_helpers import scalar, sell

SALE = "'sale.completed'"


def _rows(db: SqliteDatabase) -> list[tuple[int, str, str]]:
    return list(db.execute_sql("SELECT seq, event_id, type FROM outbox ORDER BY seq").fetchall())


def _seqs(rows: list[tuple[int, str, str]]) -> list[int]:
    return [r[0] for r in rows]


def _ack(cfg: BoxConfig, through: int, rejected: list[dict[str, Any]]) -> BatchAck:
    return BatchAck(
        batch_id=uuid.uuid4(), box_id=cfg.box_id, acked_through=through, rejected=rejected
    )


@pytest.mark.req("FR-303", "NFR-003")
@pytest.mark.usefixtures("shift_open")
def test_a_rejected_sale_is_refused_not_delivered(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    for _ in range(2):
        sell(cashier, [(MILK, 1), (BREAD, 1)], "10.00")
    rows = _rows(box_db)
    seq, event_id, _type = next(r for r in rows if r[2] == "sale.completed")
    refusal = {"event_id": event_id, "seq": seq, "reason": "SEQ_CONFLICT", "message": "held"}
    foreign = {"event_id": str(uuid.uuid4()), "seq": seq, "reason": "SEQ_CONFLICT", "message": ""}
    with box_db.atomic():
        marked = outbox.apply_ack(_ack(box_config, rows[-1][0], [refusal, foreign]), _seqs(rows))

    assert marked == len(rows) - 1, "every other event is delivered"
    got = box_db.execute_sql(
        "SELECT acked_at, refused_at, refused_reason, refused_message FROM outbox WHERE seq = ?",
        (seq,),
    ).fetchone()
    assert got[0] is None, "the refused sale is never counted delivered"
    assert got[1] is not None
    assert got[2:] == ("SEQ_CONFLICT", "held")
    assert outbox.unacked(100) == [], "a refused event is not sent again"
    assert outbox.by_seqs([seq]) == [], "not even when the hub asks for its seq"
    assert (outbox.queued_count(), outbox.queued_sales_count()) == (0, 0)
    assert (outbox.refused_count(), outbox.refused_sales_count()) == (1, 1)
    assert int(scalar(box_db, "SELECT count(*) FROM outbox WHERE refused_at IS NOT NULL")) == 1

    status = cashier.get("/api/v1/status").get_json()
    assert (status["refused"], status["refused_sales"]) == (1, 1)
    assert status["refused_events"][0]["reason"] == "SEQ_CONFLICT"
    x = cashier.get("/api/v1/shifts/current/x").get_json()
    assert (x["sales"]["count"], x["refused_sales"]) == (2, 1)

    with box_db.atomic():  # a later ack (a replayed one) changes nothing of the refusal
        outbox.apply_ack(
            _ack(box_config, rows[-1][0], [{**refusal, "reason": "OTHER"}]), _seqs(rows)
        )
    assert scalar(box_db, f"SELECT refused_reason FROM outbox WHERE seq = {seq}") == "SEQ_CONFLICT"
    with pytest.raises(IntegrityError), box_db.atomic():
        box_db.execute_sql("UPDATE outbox SET acked_at = 'x' WHERE seq = ?", (seq,))


@pytest.mark.req("FR-303")
@pytest.mark.usefixtures("shift_open")
def test_an_acked_event_is_never_refused_afterwards(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    """A rejection naming a delivered event (a crafted replay's ack) does not touch it."""
    sell(cashier, [(MILK, 1)], "5.00")
    rows = _rows(box_db)
    with box_db.atomic():
        outbox.apply_ack(_ack(box_config, rows[-1][0], []), _seqs(rows))
    seq, event_id, _type = rows[0]
    late = {"event_id": event_id, "seq": seq, "reason": "EVENT_ID_CONFLICT", "message": ""}
    with box_db.atomic():
        outbox.apply_ack(_ack(box_config, rows[-1][0], [late]), _seqs(rows))
    assert outbox.refused_count() == 0
    assert scalar(box_db, f"SELECT refused_at FROM outbox WHERE seq = {seq}") is None


@pytest.mark.req("FR-303", "NFR-003")
@pytest.mark.usefixtures("shift_open")
def test_an_ack_delivers_only_what_its_own_batch_carried(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    """A crafted publisher's ack on this box's topic says the hub holds seq N, but under the
    crafted event: the box's own unsent sale N stays waiting (it used to be marked delivered
    by `acked_through` alone and never sent: a lost sale)."""
    sell(cashier, [(MILK, 1)], "5.00")
    rows = _rows(box_db)
    seq, event_id, _type = next(r for r in rows if r[2] == "sale.completed")
    rejected = [{"event_id": event_id, "seq": seq, "reason": "SEQ_CONFLICT", "message": ""}]
    crafted = BatchAck(
        batch_id=uuid.uuid4(),
        box_id=box_config.box_id,
        acked_through=rows[-1][0],
        accepted=[uuid.uuid4()],
        rejected=rejected,
    )
    with box_db.atomic():
        assert outbox.apply_ack(crafted, []) == 0
    assert outbox.queued_count() == len(rows)
    assert outbox.refused_count() == 0, "a foreign ack's rejections are not this box's"
    with box_db.atomic():  # the hub stored that very event: delivered by its id
        held = BatchAck(
            batch_id=uuid.uuid4(), box_id=box_config.box_id, acked_through=0,
            accepted=[uuid.UUID(event_id)],
        )  # fmt: skip
        assert outbox.apply_ack(held, []) == 1
    assert outbox.queued_sales_count() == 0


@pytest.mark.req("FR-303", "FR-300")
@pytest.mark.usefixtures("shift_open")
def test_a_refusal_after_the_close_shows_on_the_z_report(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    """The box was offline at the close: the hub's refusal comes later, and the Z report
    (page, JSON, print) must still tell the owner that sale was not booked."""
    sell(cashier, [(MILK, 1)], "5.00")
    closed = cashier.post("/api/v1/shifts/current/close", json={"counted": {}})
    assert closed.status_code == 200, closed.get_json()
    z_no = int(closed.get_json()["z_no"])
    assert xz_reports.get_z(z_no)["refused_sales"] == 0
    rows = _rows(box_db)
    seq, event_id, _type = next(r for r in rows if r[2] == "sale.completed")
    refusal = {"event_id": event_id, "seq": seq, "reason": "TOTALS_MISMATCH", "message": "x"}
    with box_db.atomic():
        outbox.apply_ack(_ack(box_config, 0, [refusal]), _seqs(rows))
    body = xz_reports.get_z(z_no)
    assert body["refused_sales"] == 1
    assert "Sales refused by the hub (not booked): 1" in xz_reports.print_lines(body)
    german = xz_reports.print_lines(body, "de", "Europe/Berlin")
    assert "Von der Zentrale abgelehnte Verkäufe (nicht gebucht): 1" in german
