"""The box's window of unacked batches (docs/sync-protocol.md "A window of batches"): up to
`window` batches go out before the first ack, each with the events after the last one in
flight; an ack answers its own batch in any order; a gap the hub reports for seqs still in
flight is not resent at once; a batch whose wait runs out gives the window up and the box
sends again from its first unacked event; window 1 is the old one-batch-in-flight box."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.core.context import BoxContext
from appliance.sync.agent import AgentSettings, SyncAgent
from firmware_config.schema import BoxConfig
from posdomain import topics
from posdomain.envelope import BatchAck, encode
from posdomain.flow import ack_base
from tests.appliance.till.test_basket import BREAD, MILK
from tests.appliance.till_helpers import sell


class Recorder:
    """A connected transport that keeps what the agent publishes."""

    def __init__(self) -> None:
        self.batches: list[dict[str, object]] = []

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Keep a batch (other topics are dropped)."""
        if topic.endswith("/events"):
            self.batches.append(json.loads(payload))

    def subscribe(self, topic: str, handler: object) -> None:
        """Nothing to subscribe to."""

    def is_connected(self) -> bool:
        """Always connected."""
        return True

    def stop(self) -> None:
        """Nothing to stop."""


def _seqs(batch: dict[str, object]) -> list[int]:
    return [int(e["seq"]) for e in batch["events"]]  # type: ignore[attr-defined,index]


def _ack(box_id: str, batch: dict[str, object], through: int, missing: list[int]) -> bytes:
    ids = [uuid.UUID(str(e["event_id"])) for e in batch["events"]]  # type: ignore[attr-defined,index]
    ack = BatchAck(
        batch_id=uuid.UUID(str(batch["batch_id"])),
        box_id=box_id,
        acked_through=through,
        missing_seqs=missing,
        accepted=ids,
    )
    return encode(ack)


def _unacked(db: SqliteDatabase) -> list[int]:
    rows = db.execute_sql("SELECT seq FROM outbox WHERE acked_at IS NULL ORDER BY seq")
    return [int(r[0]) for r in rows.fetchall()]


def _agent(cfg: BoxConfig, window: int, wait: float = 30.0) -> tuple[SyncAgent, Recorder]:
    recorder = Recorder()
    settings = AgentSettings(batch_size=2, window=window, ack_timeout=wait, idle_poll=0.05)
    return SyncAgent(BoxContext(cfg), recorder, settings), recorder


@pytest.fixture
def queued(cashier: FlaskClient, shift_open: object, box_db: SqliteDatabase) -> list[int]:
    """Enough sales for several batches of two events."""
    for _ in range(4):
        sell(cashier, [(MILK, 1), (BREAD, 1)], "10.00")
    return _unacked(box_db)


@pytest.mark.req("FR-303", "NFR-003")
def test_window_sends_ahead_and_takes_acks_in_any_order(
    box_config: BoxConfig, box_db: SqliteDatabase, queued: list[int]
) -> None:
    agent, sent = _agent(box_config, window=3)
    agent._fill_window()
    assert [_seqs(b) for b in sent.batches] == [queued[0:2], queued[2:4], queued[4:6]]
    assert len(agent.window) == 3
    agent._fill_window()
    assert len(sent.batches) == 3, "a full window sends nothing more"

    # the second batch is answered first (applied above a gap): its events are held by id
    ack_topic = topics.box_ack(box_config.box_id)
    first, second = sent.batches[0], sent.batches[1]
    agent._handle(ack_topic, _ack(box_config.box_id, second, queued[0] - 1, _seqs(first)))
    assert _unacked(box_db) == [*queued[0:2], *queued[4:]]
    assert len(agent.window) == 2
    agent._fill_window()  # the reported gap is still on its way: not resent, the next goes
    assert _seqs(sent.batches[3]) == queued[6:8]
    assert all(_seqs(b) != queued[0:2] for b in sent.batches[1:])

    # a duplicate answer to an answered batch changes nothing; the first batch's ack delivers
    agent._handle(ack_topic, _ack(box_config.box_id, second, queued[0] - 1, _seqs(first)))
    agent._handle(ack_topic, _ack(box_config.box_id, first, queued[3], []))
    assert _unacked(box_db) == queued[4:]


@pytest.mark.req("FR-303", "NFR-003")
def test_a_timed_out_window_is_sent_again_from_the_first_unacked_event(
    box_config: BoxConfig, box_db: SqliteDatabase, queued: list[int]
) -> None:
    agent, sent = _agent(box_config, window=3)
    agent._fill_window()
    ack_topic = topics.box_ack(box_config.box_id)
    agent._handle(ack_topic, _ack(box_config.box_id, sent.batches[1], queued[0] - 1, []))
    oldest = agent.window.get(uuid.UUID(str(sent.batches[0]["batch_id"])))
    assert oldest is not None
    assert agent._await_window() is True, "still within the wait: nothing given up"
    assert len(agent.window) == 2
    oldest.wait.deadline = time.monotonic() - 1  # its ack never came
    assert agent._await_window() is False
    assert len(agent.window) == 0
    agent._fill_window()
    again = [_seqs(b) for b in sent.batches[3:]]
    assert again[0] == queued[0:2], "the first unacked event goes first"
    assert queued[2] not in {s for b in again for s in b}, "a delivered batch is not resent"
    assert again[1] == queued[4:6]
    assert _unacked(box_db) == [*queued[0:2], *queued[4:]]


@pytest.mark.req("FR-303", "NFR-003")
def test_window_one_is_the_old_box(
    box_config: BoxConfig, box_db: SqliteDatabase, queued: list[int]
) -> None:
    agent, sent = _agent(box_config, window=1)
    agent._fill_window()
    agent._fill_window()
    assert [_seqs(b) for b in sent.batches] == [queued[0:2]]
    agent._handle(
        topics.box_ack(box_config.box_id),
        _ack(box_config.box_id, sent.batches[0], queued[1], []),
    )
    agent._fill_window()
    assert _seqs(sent.batches[1]) == queued[2:4]


@pytest.mark.req("NFR-003")
def test_the_ack_wait_grows_while_the_hub_is_silent_and_falls_back_at_its_first_word(
    box_config: BoxConfig, box_db: SqliteDatabase, queued: list[int]
) -> None:
    assert [ack_base(5.0, n) for n in range(6)] == [5.0, 10.0, 20.0, 40.0, 40.0, 40.0]
    agent, sent = _agent(box_config, window=2, wait=5.0)
    agent._fill_window()
    first = agent.window.get(uuid.UUID(str(sent.batches[0]["batch_id"])))
    assert first is not None
    first.wait.deadline = time.monotonic() - 1
    assert agent._await_window() is False
    agent._fill_window()
    resent = agent.window.get(uuid.UUID(str(sent.batches[2]["batch_id"])))
    assert resent is not None
    assert resent.wait.base == 10.0, "twice the base after one silent timeout"
    agent._handle(
        topics.box_ack(box_config.box_id),
        _ack(box_config.box_id, sent.batches[2], queued[1], []),
    )
    agent._fill_window()
    after = agent.window.get(uuid.UUID(str(sent.batches[-1]["batch_id"])))
    assert after is not None
    assert after.wait.base == 5.0, "an ack: back to the base wait"
