"""Sync agent against the REAL Mosquitto (FR-303): only the hub's BatchAck marks delivery."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from flask.testing import FlaskClient
from paho.mqtt.enums import CallbackAPIVersion
from peewee import SqliteDatabase

from appliance.core.context import BoxContext
from appliance.sync.agent import AgentSettings, SyncAgent, offline_will
from appliance.sync.box_state import held_versions
from appliance.sync.transport import PahoTransport
from firmware_config.schema import BoxConfig, MqttSettings
from posdomain import topics
from posdomain.envelope import encode
from scripts.testkit.waiting import wait_until
from tests.appliance.acker import Acker
from tests.appliance.factories import catalog_body, down, staff_body
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_checkout import pay

pytestmark = pytest.mark.mqtt
FAST = AgentSettings(
    batch_size=50,
    ack_timeout=1.0,
    idle_poll=0.1,
    heartbeat_every=0.3,
    backoff_base=0.1,
    backoff_cap=1.0,
    # the shared test broker carries other runs' hub ingest statuses: one of their workers
    # stopping can make a box here see "hub absent"; its waits then count again after 2 s
    absent_hold=2.0,
)


def unacked(db: SqliteDatabase) -> int:
    """Outbox rows without the hub's ack."""
    return int(db.execute_sql("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0])


class RunningAgent:
    """A sync agent on a thread with its own paho transport."""

    def __init__(self, config: BoxConfig) -> None:
        self.transport = PahoTransport(
            config.mqtt, f"cfpos-box-{config.box_id}", will=offline_will(config.box_id)
        )
        self.stop = threading.Event()
        self.agent = SyncAgent(BoxContext(config), self.transport, FAST, self.stop)
        self.thread = threading.Thread(target=self.agent.run, daemon=True)

    def start(self) -> RunningAgent:
        """Connect and start the loop."""
        self.transport.start()
        assert self.transport.wait_connected(5)
        self.thread.start()
        return self

    def close(self) -> None:
        """Stop the loop and disconnect."""
        self.stop.set()
        self.thread.join(10)
        self.transport.stop()


@pytest.fixture
def mqtt_config(box_config: BoxConfig, mqtt_addr: tuple[str, int]) -> BoxConfig:
    """The box config pointing at the real broker."""
    return box_config.model_copy(
        update={"mqtt": MqttSettings(host=mqtt_addr[0], port=mqtt_addr[1])}
    )


@pytest.fixture
def start_agent(
    mqtt_config: BoxConfig, box_db: SqliteDatabase
) -> Iterator[Callable[[], RunningAgent]]:
    """Factory starting agents that are all stopped at teardown."""
    started: list[RunningAgent] = []

    def start() -> RunningAgent:
        started.append(RunningAgent(mqtt_config).start())
        return started[-1]

    yield start
    for agent in started:
        agent.close()


@pytest.fixture
def acker_factory(
    mqtt_config: BoxConfig, mqtt_addr: tuple[str, int]
) -> Iterator[Callable[..., Acker]]:
    """Test hub stand-ins on the real broker, stopped at teardown."""
    made: list[Acker] = []

    def make(**kwargs: Any) -> Acker:
        acker = Acker(mqtt_addr[0], mqtt_addr[1], mqtt_config.box_id, **kwargs)
        acker.wait_ready()
        made.append(acker)
        return acker

    yield make
    for acker in made:
        acker.stop()


@pytest.mark.smoke
@pytest.mark.req("FR-303", "NFR-006")
@pytest.mark.usefixtures("shift_open")
def test_sales_are_delivered_and_marked_acked(
    cashier: FlaskClient, box_db: SqliteDatabase, start_agent, acker_factory
) -> None:
    add(cashier, MILK)
    sale = pay(cashier, headers={"X-Correlation-ID": "corr-sync-1"}).get_json()
    total = box_db.execute_sql("SELECT count(*) FROM outbox").fetchone()[0]
    acker = acker_factory()
    start_agent()
    wait_until(lambda: unacked(box_db) == 0)
    [event] = acker.of_type("sale.completed")
    assert event.payload["sale_id"] == sale["sale_id"]
    assert event.correlation_id == "corr-sync-1"
    assert sorted(acker.events) == list(range(1, total + 1))
    assert len(acker.of_type("audit.entry")) == total - 1
    assert cashier.get("/api/v1/status").get_json()["queued"] == 0


@pytest.mark.req("FR-303")
def test_puback_alone_never_marks_delivered(
    cashier: FlaskClient, box_db: SqliteDatabase, start_agent, acker_factory
) -> None:
    add(cashier, MILK)
    pay(cashier)
    queued = unacked(box_db)
    start_agent()  # the broker PUBACKs every batch, but no hub answers
    wait_until(lambda: box_db.execute_sql("SELECT min(attempts) FROM outbox").fetchone()[0] >= 2)
    assert unacked(box_db) == queued
    errors = box_db.execute_sql("SELECT DISTINCT last_error FROM outbox").fetchall()
    assert errors == [("no ack before timeout",)]
    status = cashier.get("/api/v1/status").get_json()
    assert status["online"] is False
    assert status["queued"] == queued
    acker_factory()  # the hub comes back: the backlog drains from the outbox
    wait_until(lambda: unacked(box_db) == 0)


@pytest.mark.smoke
@pytest.mark.req("FR-303")
def test_gaps_reported_by_the_hub_are_resent(
    cashier: FlaskClient, box_db: SqliteDatabase, start_agent, acker_factory
) -> None:
    add(cashier, MILK)
    pay(cashier)
    acker = acker_factory(drop_seqs={2})
    start_agent()
    wait_until(lambda: unacked(box_db) == 0)
    total = box_db.execute_sql("SELECT count(*) FROM outbox").fetchone()[0]
    assert sorted(acker.events) == list(range(1, total + 1))
    assert acker.batches >= 2


def _publish_retained(addr: tuple[str, int], messages: dict[str, bytes]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    client.connect(*addr)
    client.loop_start()
    for topic, payload in messages.items():
        client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


@pytest.mark.req("FR-303")
def test_retained_down_messages_are_applied_in_version_order(
    mqtt_config: BoxConfig, box_db: SqliteDatabase, start_agent, mqtt_addr
) -> None:
    box = mqtt_config.box_id
    newer_staff = staff_body()
    newer_staff["staff"] = newer_staff["staff"][:2]
    stale_catalog = catalog_body()
    stale_catalog["products"] = []
    messages = {
        topics.box_down(box, "staff"): encode(down("staff", 2, newer_staff)),
        topics.box_down(box, "catalog"): encode(down("catalog", 1, stale_catalog)),
        topics.box_down(box, "flags"): encode(down("flags", 1, {"advanced_discounts": False})),
    }
    _publish_retained(mqtt_addr, messages)
    try:
        start_agent()
        wait_until(lambda: held_versions().get("flags") == 1)
        wait_until(lambda: held_versions().get("staff") == 2)
        assert box_db.execute_sql("SELECT count(*) FROM staff").fetchone() == (2,)
        assert held_versions()["catalog"] == 1
        assert box_db.execute_sql("SELECT count(*) FROM products").fetchone() == (3,)
    finally:
        _publish_retained(mqtt_addr, {topic: b"" for topic in messages})


@pytest.mark.req("FR-303", "NFR-006")
def test_status_heartbeat_and_goodbye(mqtt_config: BoxConfig, start_agent, mqtt_addr) -> None:
    seen: list[dict[str, Any]] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-st-{uuid.uuid4().hex[:8]}")

    def on_message(_c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.payload:  # the retained-clear at the end is empty
            seen.append(json.loads(msg.payload))

    client.on_message = on_message
    client.connect(*mqtt_addr)
    client.subscribe(topics.box_status(mqtt_config.box_id), qos=1)
    client.loop_start()
    try:
        agent = start_agent()
        wait_until(lambda: any(s["online"] for s in seen))
        assert seen[-1]["box_id"] == mqtt_config.box_id
        assert seen[-1]["queued"] >= 1
        agent.close()
        wait_until(lambda: seen[-1]["online"] is False)
    finally:
        client.publish(topics.box_status(mqtt_config.box_id), b"", qos=1, retain=True)
        client.disconnect()
        client.loop_stop()
