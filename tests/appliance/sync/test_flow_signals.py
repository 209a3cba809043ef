"""The box's side of flow control (docs/sync-protocol.md "Flow control"): a hub signal that
it holds the awaited batch stretches that batch's ack wait and nothing else; a signal for
another batch, another box or a malformed one changes nothing and never marks a row."""

from __future__ import annotations

import time
import uuid

import pytest

from appliance.core.context import BoxContext
from appliance.sync.agent import AgentSettings, SyncAgent
from firmware_config.schema import BoxConfig
from posdomain import topics
from posdomain.envelope import BatchReceived, encode
from posdomain.flow import AckWait


class NullTransport:
    """A transport that goes nowhere (the test hands messages to the agent itself)."""

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Drop the message."""

    def subscribe(self, topic: str, handler: object) -> None:
        """Ignore the subscription."""

    def is_connected(self) -> bool:
        """Never connected."""
        return False

    def stop(self) -> None:
        """Nothing to stop."""


def _signal(box_id: str, batch_id: uuid.UUID, eta_ms: int) -> bytes:
    return encode(
        BatchReceived(batch_id=batch_id, box_id=box_id, stage="queued", ahead=3, eta_ms=eta_ms)
    )


@pytest.mark.req("NFR-003", "FR-303")
def test_a_flow_signal_stretches_only_the_awaited_batch(box_config: BoxConfig) -> None:
    agent = SyncAgent(BoxContext(box_config), NullTransport(), AgentSettings(ack_timeout=1.0))
    box_id, awaited = box_config.box_id, uuid.uuid4()
    wait = AckWait(time.monotonic(), 1.0, 20.0, 600.0)
    agent._waiting = (awaited, wait)
    before = wait.deadline
    flow = topics.box_flow(box_id)
    assert agent._handle(flow, _signal(box_id, uuid.uuid4(), 8000)) is None  # another batch
    assert agent._handle(flow, _signal("box-other", awaited, 8000)) is None  # another box
    assert agent._handle(flow, b'{"not": "a signal"}') is None  # malformed: logged, ignored
    assert wait.deadline == before
    assert wait.signals == 0
    assert agent._handle(flow, _signal(box_id, awaited, 8000)) is None  # never an ack
    assert wait.signals == 1
    assert wait.deadline >= before + 2 * 8.0  # the hub's estimate, twice, plus the base
