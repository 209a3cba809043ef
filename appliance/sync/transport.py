"""The sync transport: a small publish/subscribe interface and its paho-mqtt implementation."""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_config.schema import MqttSettings
from posdomain import topics
from posdomain.failover import EndpointRing
from posdomain.flow import RECONNECT_MAX, reconnect_wait
from posdomain.obs import log_event

log = logging.getLogger(__name__)
Handler = Callable[[str, bytes], None]


def _password(settings: MqttSettings) -> str | None:
    """The box's broker password (None on an anonymous broker)."""
    if not settings.username or not settings.password_file:
        return None
    return Path(settings.password_file).read_text(encoding="utf-8").strip()


class Transport(Protocol):
    """What the sync agent needs from a message transport."""

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Queue a message for sending (delivery is proven only by the hub's ack)."""

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Deliver messages matching `topic` (MQTT wildcards allowed) to `handler`."""

    def is_connected(self) -> bool:
        """True while connected to the broker."""

    def stop(self) -> None:
        """Disconnect and stop the network thread."""


class PahoTransport:
    """paho-mqtt 2.x client: MQTT 3.1.1, persistent session, resubscribe on every connect.

    Several endpoints (`MqttSettings.failover`, the nodes of a clustered broker): a lost
    connection, a failed connect or a connection closed before its CONNACK moves the client
    to the next endpoint (paho reconnects there after its jittered wait); the persistent
    session lives in the cluster, so the box carries on where it was. A refused subscription
    (SUBACK 0x80, e.g. a cluster node whose JetStream is not ready) is asked for again, so a
    box is never connected without its ack subscription.
    """

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        *,
        will: tuple[str, bytes] | None = None,
    ) -> None:
        self._settings = settings
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._last: mqtt.MQTTMessageInfo | None = None
        self._ring = EndpointRing(settings.endpoints())
        self._stopping = False
        self._pending: dict[int, str] = {}  # subscribe mid -> topic, until its SUBACK
        self._sub_lock = threading.Lock()  # _pending and _unsettled
        self._link = False  # CONNACK received on the current connection
        self._unsettled: set[str] = set()  # asked at connect, not granted yet
        # a suffix keyed by the box's own password: another box cannot take its session over
        self.session_id = topics.keyed_client_id(client_id, _password(settings))
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.session_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self._configure(settings, will)

    def _configure(self, settings: MqttSettings, will: tuple[str, bytes] | None) -> None:
        client = self._client
        if settings.username:
            client.username_pw_set(settings.username, _password(settings))
        if settings.tls:  # chain always verified; no plain-text fallback on a refused cert
            client.tls_set(ca_certs=settings.ca_file, cert_reqs=ssl.CERT_REQUIRED)
            client.tls_insecure_set(not settings.tls_verify_hostname)
        if will is not None:
            client.will_set(will[0], will[1], qos=1, retain=True)
        self._jitter()
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message

    def _jitter(self) -> None:
        """Draw the next reconnect wait afresh (full jitter, posdomain/flow.py): boxes that
        lost the broker together do not come back in lockstep; NFR-003 sync <= 5 s after link."""
        # paho types the delays as int; it computes with floats (time arithmetic)
        self._client.reconnect_delay_set(min_delay=reconnect_wait(), max_delay=RECONNECT_MAX)  # type: ignore[arg-type]

    @property
    def endpoint(self) -> tuple[str, int]:
        """The broker endpoint in use or being tried."""
        return self._ring.current

    def start(self) -> None:
        """Connect in the background (reconnects by itself) and start the network loop."""
        host, port = self.endpoint
        self._client.connect_async(host, port, keepalive=self._settings.keepalive)
        self._client.loop_start()

    def _fail_over(self, client: mqtt.Client) -> None:
        """Point paho's next reconnect at the next endpoint (nothing with a single one).
        Called on paho's network thread with the socket closed: `connect_async` only records
        the address, and paho's loop reconnects there after its wait."""
        if self._stopping or (moved := self._ring.advance()) is None:
            return
        host, port = moved
        client.connect_async(host, port, keepalive=self._settings.keepalive)
        log_event(log, "mqtt failing over", logging.WARNING, host=host, port=port)

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected (with every subscription granted) or the timeout passes."""
        return self._connected.wait(timeout)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log_event(log, "mqtt connect refused", logging.WARNING, reason=str(reason))
            return
        with self._lock:
            topics = list(self._handlers)
        with self._sub_lock:
            self._pending.clear()
            self._unsettled = set(topics)
        self._link = True
        for topic in topics:
            self._subscribe(topic)
        if not topics:
            self._connected.set()
        host, port = self.endpoint
        log_event(log, "mqtt connected", host=host, port=port)

    def _subscribe(self, topic: str) -> None:
        # held across the call: the SUBACK (network thread) cannot be handled before its mid
        # is recorded when this runs on another thread (a late subscribe, a retry)
        with self._sub_lock:
            result, mid = self._client.subscribe(topic, qos=1)
            if result == mqtt.MQTT_ERR_SUCCESS and mid is not None:
                self._pending[mid] = topic

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, codes: Any, _p: Any) -> None:
        """Connected (`is_connected`) once every subscription asked at connect is granted: a
        batch sent before its ack subscription exists would only time out and be resent."""
        with self._sub_lock:
            topic = self._pending.pop(mid, None)
            if topic is not None and not any(c.is_failure for c in codes):
                self._unsettled.discard(topic)
                if self._link and not self._unsettled:
                    self._connected.set()
        if topic is None or not any(c.is_failure for c in codes):
            return
        log_event(log, "mqtt subscription refused; asking again", logging.WARNING, topic=topic)
        timer = threading.Timer(reconnect_wait(), self._resubscribe, [topic])
        timer.daemon = True
        timer.start()

    def _resubscribe(self, topic: str) -> None:
        if self._link and not self._stopping:  # else on_connect subscribes
            self._subscribe(topic)

    def _on_connect_fail(self, client: mqtt.Client, _u: Any) -> None:
        self._jitter()
        host, port = self.endpoint
        log_event(
            log,
            "mqtt connect failed (broker unreachable or its TLS certificate refused)",
            logging.WARNING,
            host=host,
            port=port,
            tls=self._settings.tls,
        )
        self._fail_over(client)

    def _on_disconnect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._link = False
        self._connected.clear()
        self._jitter()
        log_event(log, "mqtt disconnected", logging.WARNING, reason=str(reason))
        if reason.is_failure:  # not our own disconnect(): the node may be gone
            self._fail_over(client)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            handlers = [
                h for t, h in self._handlers.items() if mqtt.topic_matches_sub(t, msg.topic)
            ]
        for handler in handlers:
            handler(msg.topic, bytes(msg.payload))

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Queue a publish with paho (a PUBACK proves nothing about the hub)."""
        self._last = self._client.publish(topic, payload, qos=qos, retain=retain)

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Register a handler and subscribe now if connected (and on every reconnect)."""
        with self._lock:
            self._handlers[topic] = handler
        if self._link:
            self._subscribe(topic)

    def is_connected(self) -> bool:
        """True while the broker connection is up."""
        return self._connected.is_set()

    def stop(self) -> None:
        """Flush the last publish (briefly), disconnect cleanly and stop the network thread."""
        self._stopping = True
        if self._last is not None and self._connected.is_set():
            try:
                self._last.wait_for_publish(timeout=2)
            except (RuntimeError, ValueError) as err:
                log_event(log, "last publish not flushed", logging.WARNING, error=str(err))
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
