"""A box lists several broker endpoints and fails over when its node dies (issue 15 item 3).

On a real three-node nats-server cluster (JetStream, MQTT 3.1.1): a box connected to node 1
with nodes 0 and 2 as failover; node 1 is SIGKILLed; the box reconnects to another node by
itself, its persistent session (stored in the cluster, R3) still delivers the hub's answers
to it, and what it publishes reaches the hub's subscriber on node 2. Before, a box had one
broker address: its sales waited until that very node came back.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance.sync.transport import PahoTransport
from firmware_config.schema import BrokerEndpoint, MqttSettings
from posdomain import topics
from scripts.testkit.nats_cluster import NATS, NatsCluster
from scripts.testkit.waiting import poll_until, wait_until

pytestmark = [
    pytest.mark.req("FR-303", "NFR-006"),
    pytest.mark.skipif(not Path(NATS).exists(), reason="no nats-server"),
]


class Echo:
    """The hub side on node 2: answers every box event on the box's ack topic."""

    def __init__(self, port: int) -> None:
        self.seen: list[bytes] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"echo-{uuid.uuid4().hex[:6]}",
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self.client.on_connect = lambda c, *_: c.subscribe(topics.ALL_BOX_EVENTS, qos=1)
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = self._echo
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _echo(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self.seen.append(bytes(msg.payload))
        box_id = topics.box_id_from_topic(msg.topic)
        assert box_id is not None
        client.publish(topics.box_ack(box_id), b"ack:" + msg.payload, qos=1)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_box_fails_over_to_another_cluster_node_when_its_node_is_sigkilled(
    tmp_path: Path,
) -> None:
    cluster = NatsCluster(tmp_path / "nats")
    cluster.start()
    echo = box = None
    try:
        echo = Echo(cluster.nodes[2].mqtt)
        assert echo.ready.wait(30), "the hub side did not subscribe"
        settings = MqttSettings(
            port=cluster.nodes[1].mqtt,
            failover=[BrokerEndpoint(host="127.0.0.1", port=n.mqtt) for n in cluster.nodes[::2]],
        )
        box_id = f"box-fo-{uuid.uuid4().hex[:6]}"
        acks: list[bytes] = []
        box = PahoTransport(settings, f"cfpos-box-{box_id}")
        box.subscribe(topics.box_ack(box_id), lambda _t, p: acks.append(p))
        box.start()
        assert box.wait_connected(30)

        def round_trip(payload: bytes) -> bool:
            if box.is_connected():
                box.publish(topics.box_events(box_id), payload)
            return poll_until(lambda: b"ack:" + payload in acks, 3)

        wait_until(lambda: round_trip(b"e1"), 60, "a round trip through node 1")
        cluster.kill(1)
        wait_until(lambda: box.endpoint[1] != cluster.nodes[1].mqtt, 30, "the box moving on")
        wait_until(lambda: round_trip(b"e2"), 60, "a round trip through another node")
        assert box.endpoint[1] in (cluster.nodes[0].mqtt, cluster.nodes[2].mqtt)
        assert b"e2" in echo.seen
    finally:
        for side in (box, echo):
            if side is not None:
                side.stop()
        cluster.stop()
