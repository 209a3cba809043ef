"""Statements sent ahead on a writer thread inside one transaction (hub/core/writer.py,
issue 15 item 2): the order, visibility and atomicity of the plain path, whatever fails and
wherever; and the fast ingest pass that uses it, whose speculative answers (every event id
and sale id free) fall back to the careful pass when another tenant holds one."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg2
import pytest
from peewee import IntegerField, IntegrityError, TextField

from hub.core import writer
from hub.core.bulk import insert_rows, insert_rows_later, select_later
from hub.core.db import close_connection, db, is_transient, platform_tx, send_ahead, tenant_tx
from hub.core.models import BaseModel
from hub.identity.models import Box
from hub.sync.models import IngestedEvent
from scripts.testkit.crafted import B, T
from scripts.testkit.waiting import wait_until
from tests.hub.conftest import enrol_box
from tests.hub.ingest_helpers import acked_ids, quarantined, rejected, sale, sale_ids, send

pytestmark = [pytest.mark.pg]
OTHER_TENANT, OTHER_BRANCH = "t-harborfoods", "b-harbor-main"


class Probe(BaseModel):
    id = IntegerField(primary_key=True)
    note = TextField(null=True)

    class Meta:
        table_name = "send_ahead_probe"


@pytest.fixture
def probe(app: Any, hub_urls: tuple[str, str]) -> Any:
    """An empty probe table the app role may write (created by the superuser)."""
    conn = _superuser(hub_urls)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS send_ahead_probe (id int PRIMARY KEY, note text)")
        cur.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON send_ahead_probe TO cfpos_app")
        cur.execute("TRUNCATE send_ahead_probe")
    yield conn
    with conn.cursor() as cur:  # the schema holds only the product's tables
        cur.execute("DROP TABLE send_ahead_probe")
    conn.close()


def _superuser(hub_urls: tuple[str, str]) -> Any:
    """An autocommit connection to the session's hub database as its owner (past RLS)."""
    conn = psycopg2.connect(hub_urls[0])
    conn.autocommit = True
    return conn


def _ids(admin: Any) -> list[int]:
    with admin.cursor() as cur:
        cur.execute("SELECT id FROM send_ahead_probe ORDER BY id")
        return [r[0] for r in cur.fetchall()]


def _rows(*ids: int) -> list[dict[str, Any]]:
    return [{"id": i, "note": f"n{i}"} for i in ids]


@pytest.mark.req("NFR-003")
def test_statements_sent_ahead_are_seen_by_later_reads_and_committed(probe: Any) -> None:
    with tenant_tx(T), send_ahead():
        pipe = writer.current()
        assert pipe is not None
        insert_rows(Probe, _rows(1, 2))
        assert pipe._sent, "an insert without RETURNING is sent ahead"
        insert_rows(Probe, _rows(3))
        # a plain statement waits for what was sent before it: it sees every row
        assert [p.id for p in Probe.select().order_by(Probe.id)] == [1, 2, 3]
        insert_rows(Probe, _rows(4))
        stored = insert_rows_later(Probe, _rows(5), suffix="RETURNING id")
        seen = select_later(Probe.select(Probe.id).order_by(Probe.id))
        insert_rows(Probe, _rows(6))  # sent after the read: not in its answer
        assert stored() == [(5,)]
        assert seen() == [(1,), (2,), (3,), (4,), (5,)]
    assert writer.current() is None
    assert _ids(probe) == [1, 2, 3, 4, 5, 6]


@pytest.mark.req("NFR-003", "NFR-005")
def test_a_failed_statement_sent_ahead_fails_the_transaction_with_its_own_error(
    probe: Any,
) -> None:
    def twice() -> None:
        with tenant_tx(T), send_ahead():
            insert_rows(Probe, _rows(1))
            insert_rows(Probe, _rows(1))  # the same key: fails on the writer thread
            insert_rows(Probe, _rows(2))  # queued behind it: skipped
            Probe.select().count()  # the next statement raises the failure

    with pytest.raises(IntegrityError, match="send_ahead_probe_pkey"):
        twice()
    assert _ids(probe) == [], "nothing of the transaction is committed"
    with tenant_tx(T):  # the connection is clean: the next transaction works
        insert_rows(Probe, _rows(7))
    assert _ids(probe) == [7]


@pytest.mark.req("NFR-003", "NFR-005")
def test_the_end_of_the_block_raises_a_failure_nobody_read(probe: Any) -> None:
    with pytest.raises(IntegrityError), tenant_tx(T), send_ahead():
        insert_rows(Probe, _rows(1, 1))  # fails; no statement of this thread follows
    assert _ids(probe) == []


@pytest.mark.req("NFR-003", "NFR-005")
def test_an_exception_with_statements_in_flight_rolls_back_and_runs_nothing_after(
    probe: Any,
) -> None:
    def failing() -> None:
        with tenant_tx(T), send_ahead():
            pipe = writer.current()
            assert pipe is not None
            # a slow statement in flight, and inserts queued behind it
            pipe.send("INSERT INTO send_ahead_probe SELECT 1, pg_sleep(0.3)::text", None, False)
            insert_rows(Probe, _rows(2))
            insert_rows(Probe, _rows(3))
            raise RuntimeError("apply failed")

    with pytest.raises(RuntimeError, match="apply failed"):
        failing()
    # discarded before the rollback: a queued insert never runs after it (it would open an
    # implicit transaction that the next commit on this connection would keep)
    time.sleep(0.4)
    with tenant_tx(T):
        insert_rows(Probe, _rows(9))
    assert _ids(probe) == [9]


@pytest.mark.req("NFR-003")
def test_statements_queued_back_to_back_go_as_one_round_trip_and_keep_their_errors(
    probe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[int] = []
    original = writer._Writer._run

    def counted(run: list[Any]) -> None:
        runs.append(len(run))
        original(run)

    def behind_a_slow_one(*ids: int) -> None:
        with tenant_tx(T), send_ahead():
            pipe = writer.current()
            assert pipe is not None
            pipe.send("SELECT pg_sleep(0.2)", None, False)  # the writer is busy meanwhile
            for i in ids:
                insert_rows(Probe, _rows(i))

    monkeypatch.setattr(writer._Writer, "_run", staticmethod(counted))
    behind_a_slow_one(1, 2, 3, 4, 5)
    assert max(runs) >= 2, runs
    with pytest.raises(IntegrityError):
        behind_a_slow_one(10, 1, 11)  # 1 is stored: fails inside the round trip
    assert _ids(probe) == [1, 2, 3, 4, 5]


def _clone(admin: Any, table: str, key: str, value: str, **over: Any) -> None:
    """Copy one row of `table` (as the superuser: past RLS) with some columns replaced."""
    with admin.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            (table,),
        )
        cols = [r[0] for r in cur.fetchall()]
        picks = ", ".join("%s" if c in over else c for c in cols)
        params = [over[c] for c in cols if c in over]
        cur.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) SELECT {picks} FROM {table} WHERE {key} = %s",
            [*params, value],
        )
        assert cur.rowcount == 1


def _other_tenant_box() -> str:
    return enrol_box(OTHER_TENANT, OTHER_BRANCH)


@pytest.mark.req("FR-303", "NFR-005")
def test_an_event_id_another_tenant_holds_is_refused_alone_in_a_batch_of_sales(
    app: Any, hub_urls: tuple[str, str]
) -> None:
    box, elsewhere = enrol_box(T, B), _other_tenant_box()
    seed = sale(box, 1)
    send(box, [seed])
    taken = str(uuid.uuid4())
    admin = _superuser(hub_urls)
    _clone(
        admin,
        "ingested_events",
        "event_id",
        seed["event_id"],
        event_id=taken,
        tenant_id=OTHER_TENANT,
        branch_id=OTHER_BRANCH,
        box_id=elsewhere,
    )
    admin.close()
    events = [sale(box, 2), {**sale(box, 3), "event_id": taken}, sale(box, 4)]
    ack = send(box, events)  # the fast pass assumed the id free: the careful pass decides
    assert rejected(ack) == {3: "EVENT_ID_CONFLICT"}
    assert acked_ids(ack) == {events[0]["event_id"], events[2]["event_id"]}
    assert sale_ids(box) == {
        seed["payload"]["sale_id"],
        events[0]["payload"]["sale_id"],
        events[2]["payload"]["sale_id"],
    }
    with platform_tx():
        assert IngestedEvent.get_by_id(taken).tenant_id == OTHER_TENANT  # untouched


@pytest.mark.req("FR-303", "NFR-005")
def test_a_sale_id_another_tenant_holds_is_refused_alone_and_the_rest_stored_once(
    app: Any, hub_urls: tuple[str, str]
) -> None:
    box, elsewhere = enrol_box(T, B), _other_tenant_box()
    seed = sale(box, 1)
    send(box, [seed])
    theirs, their_event = f"s-{uuid.uuid4().hex[:12]}", str(uuid.uuid4())
    admin = _superuser(hub_urls)
    common = {"tenant_id": OTHER_TENANT, "branch_id": OTHER_BRANCH, "box_id": elsewhere}
    _clone(admin, "ingested_events", "event_id", seed["event_id"], event_id=their_event, **common)
    _clone(
        admin, "sales", "id", seed["payload"]["sale_id"], id=theirs, event_id=their_event, **common
    )
    admin.close()
    events = [sale(box, 2), sale(box, 3, sale_id=theirs), sale(box, 4)]
    ack = send(box, events)
    assert rejected(ack) == {3: "DOCUMENT_ID_CONFLICT"}
    assert ack.acked_through == 4
    assert sale_ids(box) == {
        seed["payload"]["sale_id"],
        events[0]["payload"]["sale_id"],
        events[2]["payload"]["sale_id"],
    }
    assert quarantined(box) == ["DOCUMENT_ID_CONFLICT"]
    again = send(box, events)  # redelivered: the two sales are duplicates, nothing twice
    assert {str(e) for e in again.duplicates} >= {events[0]["event_id"], events[2]["event_id"]}
    assert len(sale_ids(box)) == 3


@pytest.mark.req("FR-303", "NFR-003")
def test_the_fast_pass_sends_its_inserts_ahead(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    original = writer.Pipeline.send

    def spy(self: writer.Pipeline, sql: str, params: Any, returning: bool) -> Any:
        sent.append(sql.split("(")[0].strip())
        return original(self, sql, params, returning)

    box = enrol_box(T, B)
    monkeypatch.setattr(writer.Pipeline, "send", spy)
    ack = send(box, [sale(box, 1), sale(box, 2), sale(box, 3)])
    assert ack is not None
    assert len(ack.accepted) == 3
    for table in ("ingested_events", "sales", "sale_lines", "stock_movements", "report_lines"):
        assert f"INSERT INTO {table}" in sent, sent


@pytest.mark.req("FR-303", "NFR-005")
def test_a_connection_lost_under_a_statement_sent_ahead_leaves_the_batch_unacked(
    app: Any, hub_urls: tuple[str, str]
) -> None:
    """The worker's connection dies while the writer thread waits on a row lock: the failure
    is transient (SQLSTATE class 57), so the batch is left unacked and nothing is stored;
    the box's resend is then applied exactly once."""
    box = enrol_box(T, B)
    first = sale(box, 1)
    send(box, [first])  # the branch's stock rows exist
    events = [sale(box, 2), sale(box, 3)]
    product = events[0]["payload"]["lines"][0]["product_id"]
    admin = psycopg2.connect(hub_urls[0])
    with admin.cursor() as cur:  # hold the stock balance row the batch's upsert must take
        cur.execute("SELECT pg_backend_pid()")
        holder = cur.fetchone()[0]
        cur.execute(
            "SELECT 1 FROM stock_balances WHERE tenant_id = %s AND branch_id = %s "
            "AND product_id = %s FOR UPDATE",
            (T, B, product),
        )
        assert cur.rowcount == 1
    outcome: dict[str, Any] = {}

    def deliver() -> None:  # what the worker does: a transient error drops the connection
        try:
            outcome["ack"] = send(box, events)
        except Exception as err:  # the test inspects it
            outcome["error"] = err
            close_connection()

    thread = threading.Thread(target=deliver)
    thread.start()
    killer = _superuser(hub_urls)

    def blocked() -> list[int]:  # the app backend waiting on the held row
        with killer.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity WHERE usename = 'cfpos_app' "
                "AND %s = ANY(pg_blocking_pids(pid))",
                (holder,),
            )
            return [r[0] for r in cur.fetchall()]

    try:
        pids = wait_until(blocked, 10, "the batch waiting on the held row")
        with killer.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pids[0],))
        thread.join(30)
    finally:
        admin.rollback()
        admin.close()
        killer.close()
    assert not thread.is_alive()
    assert "ack" not in outcome, "a lost connection must leave the batch unacked"
    assert is_transient(outcome["error"]), repr(outcome["error"])
    assert sale_ids(box) == {first["payload"]["sale_id"]}
    ack = send(box, events)  # the box resends after its ack wait
    assert ack is not None
    assert {str(e) for e in ack.accepted} == {e["event_id"] for e in events}
    assert len(sale_ids(box)) == 3
    again = send(box, events)
    assert {str(e) for e in again.duplicates} == {e["event_id"] for e in events}
    assert len(sale_ids(box)) == 3


def test_send_ahead_blocks_do_not_nest(app: Any) -> None:
    with tenant_tx(T), send_ahead(), pytest.raises(RuntimeError, match="do not nest"):  # noqa: SIM117
        with send_ahead():
            pass
    with platform_tx():
        assert Box.select().count() >= 1
    assert writer.current() is None
    assert db.obj is not None


@pytest.mark.req("NFR-005")
def test_a_failure_of_the_writer_itself_is_raised_never_waited_for_forever(
    probe: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(run: list[Any]) -> None:
        raise MemoryError("writer bug")

    monkeypatch.setattr(writer._Writer, "_run", staticmethod(broken))

    def sent_ahead() -> None:
        with tenant_tx(T), send_ahead():
            insert_rows(Probe, _rows(1))

    with pytest.raises(MemoryError, match="writer bug"):
        sent_ahead()
    monkeypatch.undo()
    with tenant_tx(T), send_ahead():  # the same writer thread goes on
        insert_rows(Probe, _rows(2))
    assert _ids(probe) == [2]
