"""A refused subscription is asked for again (issue 15 item 3).

Seen on the three-node nats-server cluster under load: a box connected, its SUBSCRIBE to its
ack topic came back SUBACK 0x80 (the node's JetStream timed out creating the consumer:
"Unable to add JetStream consumer for subscription ... timeout"), paho ignored it, and the box
stayed connected without its ack subscription for good: its batches reached the hub, every
ack was lost, and it resent the same batch for ten minutes. Here a real nats-server (JetStream,
MQTT) refuses the subscription by the box user's permissions (0x80 as well); once the
permission is given (config reload on SIGHUP), the box's own retry subscribes and the ack
arrives, with no reconnect. Until then the box does not count as connected (it would send
batches whose acks cannot reach it). (Mosquitto 2.0 grants a denied SUBSCRIBE and filters
on delivery, so it cannot show this.)
"""

from __future__ import annotations

import signal
import subprocess
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance.sync.transport import PahoTransport
from firmware_config.schema import MqttSettings
from posdomain import topics
from scripts.demo import free_ports
from scripts.testkit.nats_cluster import NATS, wait_port
from scripts.testkit.waiting import poll_until, wait_until

pytestmark = [
    pytest.mark.req("FR-303", "NFR-006"),
    pytest.mark.skipif(not Path(NATS).exists(), reason="no nats-server"),
]


def _conf(folder: Path, port: int, client: int, deny: str | None) -> str:
    perms = f"permissions: {{ subscribe: {{ deny: [{deny!r}] }} }}" if deny else ""
    return (
        "server_name: solo\n"
        f"listen: 127.0.0.1:{client}\n"
        f'jetstream {{ store_dir: "{folder / "js"}" }}\n'
        f"mqtt {{ listen: 127.0.0.1:{port} }}\n"
        "authorization { users: [\n"
        f"  {{ user: box, password: boxpw, {perms} }}\n"
        "  { user: hub, password: hubpw }\n"
        "] }\n"
    )


def test_a_refused_ack_subscription_is_asked_for_again_until_granted(tmp_path: Path) -> None:
    box_id = f"box-sub-{uuid.uuid4().hex[:6]}"
    ack_subject = topics.box_ack(box_id).replace("/", ".")  # the NATS subject of the topic
    (port, client), conf = free_ports(2), tmp_path / "nats.conf"
    conf.write_text(_conf(tmp_path, port, client, ack_subject))
    log = (tmp_path / "nats.log").open("ab")
    server = subprocess.Popen([NATS, "-c", str(conf)], stdout=log, stderr=log)
    box = hub = None
    try:
        wait_port(port, 30)
        secret = tmp_path / "box.pw"
        secret.write_text("boxpw")
        got: list[bytes] = []
        settings = MqttSettings(port=port, username="box", password_file=str(secret))
        box = PahoTransport(settings, f"cfpos-box-{box_id}")
        box.subscribe(topics.box_ack(box_id), lambda _t, p: got.append(p))
        box.start()
        hub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        hub.username_pw_set("hub", "hubpw")
        hub.connect("127.0.0.1", port)
        hub.loop_start()
        wait_until(
            lambda: "Subscription Violation" in _text(tmp_path / "nats.log"),
            30,
            "the broker refusing the subscription",
        )
        hub.publish(topics.box_ack(box_id), b"lost", qos=1).wait_for_publish(10)
        assert not poll_until(lambda: got, 1), "delivered on a refused subscription"
        assert not box.is_connected(), "ready to send batches whose acks cannot arrive"
        conf.write_text(conf.read_text().replace(f"deny: [{ack_subject!r}]", "deny: []"))
        server.send_signal(signal.SIGHUP)  # nats-server reloads its configuration

        def arrived() -> bool:
            hub.publish(topics.box_ack(box_id), b"ack", qos=1).wait_for_publish(10)
            return poll_until(lambda: b"ack" in got, 1)

        assert box.wait_connected(60), "the subscription asked for again was not granted"
        wait_until(arrived, 30, "the ack over the subscription asked for again")
    finally:
        if hub is not None:
            hub.disconnect()
            hub.loop_stop()
        if box is not None:
            box.stop()
        server.terminate()
        server.wait(10)
        log.close()


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""
