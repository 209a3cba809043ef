"""Test helpers: a private Mosquitto with generated ACLs, MQTT probes, a Flask HTTP adapter."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from flask.testing import FlaskClient
from paho.mqtt.enums import CallbackAPIVersion


@dataclass
class Probe:
    """A connected MQTT client that records what it receives and its SUBACK codes."""

    client: mqtt.Client
    connack: str = ""
    received: list[tuple[str, bytes]] = field(default_factory=list)
    suback: list[int] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    subscribed: threading.Event = field(default_factory=threading.Event)

    def subscribe(self, topic: str) -> list[int]:
        """Subscribe and wait for the SUBACK; return its reason codes (128 = refused)."""
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(5), "no SUBACK"
        return list(self.suback)

    def publish(self, topic: str, payload: bytes) -> bool:
        """QoS 1 publish; True when the broker PUBACKed it."""
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        return info.is_published()

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()


def probe(port: int, username: str | None, password: str | None, client_id: str) -> Probe:
    """Connect a client (MQTT 3.1.1) and wait for the CONNACK (check `.connack`)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    if username:
        client.username_pw_set(username, password)
    p = Probe(client)

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        p.connack = str(reason)
        p.connected.set()

    def on_subscribe(_c: Any, _u: Any, _mid: Any, codes: Any, _p: Any) -> None:
        p.suback = [c.value for c in codes]
        p.subscribed.set()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        p.received.append((msg.topic, msg.payload))

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    assert p.connected.wait(5), "no CONNACK"
    return p


class FlaskHttp:
    """provisioning.http.HttpClient over a Flask test client (the real hub app in-process)."""

    def __init__(self, client: FlaskClient, remote_addr: str = "10.9.8.7") -> None:
        self.client = client
        self.remote_addr = remote_addr

    def post_json(
        self, url: str, body: dict[str, Any], basic_auth: tuple[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """POST through the test client."""
        headers = {}
        if basic_auth:
            raw = f"{basic_auth[0]}:{basic_auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        resp = self.client.post(
            urlparse(url).path,
            json=body,
            headers=headers,
            environ_base={"REMOTE_ADDR": self.remote_addr},
        )
        return resp.status_code, resp.get_json(silent=True) or {}
