"""MQTT ingest worker (`python -m hub ingest`): thin paho glue around services.ingest."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from peewee import InterfaceError, OperationalError

from hub.core.db import db, is_transient
from hub.core.models import utcnow
from hub.core.mqtt import MqttLogin, apply_credentials
from hub.ops.instruments import INGEST_BATCH_SECONDS, INGEST_BATCHES, INGEST_LAG_SECONDS
from hub.sync.apply import apply_events
from hub.sync.box_requests import handle_request
from hub.sync.flood import FloodGuard
from hub.sync.health import record_heartbeat
from hub.sync.quarantine import quarantine
from posdomain import topics
from posdomain.envelope import decode_batch, encode
from posdomain.errors import PosError, Reason
from posdomain.obs import correlation, log_event

log = logging.getLogger(__name__)
CLIENT_ID = "cfpos-hub-ingest"


def handle_message(topic: str, raw: bytes, guard: FloodGuard | None = None) -> bytes | None:
    """Decode and apply one message; return the ack bytes to publish, or None when the whole
    message was quarantined. A transient database error propagates (no ack: the box resends).

    Every other failure is classified: refused events are quarantined one by one inside
    `apply_events` (the ack lists them); a message that cannot be attributed to a batch of
    an enrolled box is quarantined whole with its reason; an unforeseen failure outside any
    event is quarantined whole as INTERNAL (logged as such), never left unexplained.
    With a `guard` (the worker's), a box over its budget of bad messages is dropped unread
    and each message quarantined whole takes a strike (hub/sync/flood.py).
    """
    box_id = topics.box_id_from_topic(topic)
    if guard is not None and not guard.allow(box_id):  # flooding box: dropped unread, unacked
        INGEST_BATCHES.labels("rate_limited").inc()
        return None
    started = time.perf_counter()
    try:
        head, events = decode_batch(raw)
        if box_id is None:
            raise PosError("not a box topic")
        first = events[0].envelope
        with correlation(first.correlation_id if first else None):
            ack = apply_events(head, events, box_id)
            INGEST_BATCH_SECONDS.observe(time.perf_counter() - started)
            times = [e.envelope.occurred_at for e in events if e.envelope is not None]
            if times:
                INGEST_LAG_SECONDS.observe(max(0.0, (utcnow() - min(times)).total_seconds()))
            INGEST_BATCHES.labels("applied").inc()
            log_event(
                log,
                "batch applied",
                box_id=box_id,
                acked_through=ack.acked_through,
                accepted=len(ack.accepted),
                duplicates=len(ack.duplicates),
                rejected=len(ack.rejected),
                missing=len(ack.missing_seqs),
            )
        return encode(ack)
    except PosError as err:
        quarantine(topic, raw, err, box_id)
        _strike(guard, box_id)
        INGEST_BATCHES.labels("quarantined").inc()
        return None
    except Exception as err:
        if is_transient(err):
            raise
        log_event(log, "ingest failure classified INTERNAL", logging.ERROR, error=repr(err)[:500])
        _reset()
        quarantine(topic, raw, PosError(repr(err)[:500], Reason.INTERNAL), box_id)
        _strike(guard, box_id)
        INGEST_BATCHES.labels("quarantined").inc()
        return None


def _strike(guard: FloodGuard | None, box_id: str | None) -> None:
    if guard is not None:
        guard.strike(box_id)


def _reset() -> None:
    """Drop the connection of a failed transaction before quarantining."""
    if not db.is_closed():
        db.close()


def handle_status(topic: str, raw: bytes, *, retained: bool) -> None:
    """Store a box heartbeat; quarantine a malformed or forged one (REP-O-08).

    A retained heartbeat of an unknown box is a leftover of a decommissioned box replayed by
    the broker at subscribe time: logged, not quarantined. A live one is quarantined.
    """
    box_id = topics.box_id_from_topic(topic)
    try:
        record_heartbeat(topic, raw, retained=retained)
    except PosError as err:
        if retained and err.reason == Reason.UNKNOWN_BOX:
            log_event(log, "stale retained heartbeat ignored", topic=topic)
            return
        quarantine(topic, raw, err, box_id)


class IngestWorker:
    """Subscribes to every box's events topic and acks after the hub commit."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str = CLIENT_ID,
        login: MqttLogin | None = None,
        releases_dir: Path | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.releases_dir = releases_dir  # the artifact store release chunks are read from
        self.ready = threading.Event()
        self.flood = FloodGuard()  # per-box budgets of bad messages (hub/sync/flood.py)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        apply_credentials(self.client, login)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)  # link back -> first ack within NFR-003 5 s

    def _on_connect(self, client, _userdata, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        log_event(log, "ingest connected", reason=str(reason_code))
        client.subscribe(
            [(topics.ALL_BOX_EVENTS, 1), (topics.ALL_BOX_REQUESTS, 1), (topics.ALL_BOX_STATUS, 1)]
        )

    def _on_subscribe(self, _client, _userdata, _mid, _codes, _props) -> None:  # type: ignore[no-untyped-def]
        self.ready.set()

    def _on_message(self, client, _userdata, msg) -> None:  # type: ignore[no-untyped-def]
        if msg.topic.endswith("/req"):
            self._on_request(client, msg)
            return
        if msg.topic.endswith("/status"):
            self._on_status(msg)
            return
        try:
            db.connect(reuse_if_open=True)
            ack = handle_message(msg.topic, msg.payload, self.flood)
        except (OperationalError, InterfaceError) as err:
            # database down: no ack, the box resends from its outbox
            log_event(log, "database unavailable, batch not acked", logging.ERROR, error=str(err))
            self._reset_db()
            return
        except Exception as err:  # noqa: BLE001 - one bad message must never kill the worker
            # only reachable if quarantining itself failed: retried on the box's resend
            log_event(
                log,
                "unexpected ingest error, batch not acked",
                logging.ERROR,
                error=repr(err),
                topic=msg.topic,
            )
            self._reset_db()
            return
        if ack is not None:
            box_id = topics.box_id_from_topic(msg.topic) or ""
            client.publish(topics.box_ack(box_id), ack, qos=1)

    def _on_request(self, client, msg) -> None:  # type: ignore[no-untyped-def]
        """Answer a box request (catalog catch-up, release chunks, search), never retained."""
        try:
            db.connect(reuse_if_open=True)
            replies = handle_request(msg.topic, msg.payload, self.releases_dir)
        except Exception as err:  # noqa: BLE001 - one bad request must never kill the worker
            log_event(log, "box request failed", logging.ERROR, error=repr(err), topic=msg.topic)
            self._reset_db()
            return
        for topic, message in replies:
            client.publish(topic, encode(message), qos=1, retain=False)

    def _on_status(self, msg) -> None:  # type: ignore[no-untyped-def]
        """Record a heartbeat; a failure here never stops event ingest."""
        try:
            db.connect(reuse_if_open=True)
            handle_status(msg.topic, bytes(msg.payload), retained=bool(msg.retain))
        except Exception as err:  # noqa: BLE001 - one bad heartbeat must never kill the worker
            log_event(log, "heartbeat not recorded", logging.ERROR, error=repr(err))
            self._reset_db()

    @staticmethod
    def _reset_db() -> None:
        if not db.is_closed():
            db.close()

    def start(self) -> None:
        """Connect and process messages on paho's background thread."""
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the background thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self) -> None:
        """Connect and block (CLI)."""
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_forever(retry_first_connection=True)
