"""MQTT ingest worker (`python -m hub ingest`): thin paho glue around services.ingest."""

from __future__ import annotations

import hashlib
import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from peewee import InterfaceError, OperationalError

from hub.core.db import close_connection, db, is_transient
from hub.core.models import utcnow
from hub.core.mqtt import MqttLogin, apply_credentials
from hub.ops.instruments import INGEST_BATCH_SECONDS, INGEST_BATCHES, INGEST_LAG_SECONDS
from hub.sync.apply import apply_events
from hub.sync.box_requests import handle_request
from hub.sync.fair import FairQueue
from hub.sync.flood import FloodGuard
from hub.sync.health import record_heartbeat
from hub.sync.partition import DEFAULT_REFRESH, Partition, PartitionFollower
from hub.sync.quarantine import quarantine
from posdomain import topics
from posdomain.envelope import (
    BatchHead,
    BatchReceived,
    IncomingEvent,
    IngestStatus,
    decode_batch,
    encode,
)
from posdomain.errors import PosError, Reason
from posdomain.failover import EndpointRing
from posdomain.flow import RECONNECT_MAX, RESIGNAL_EVERY, ApplyClock, reconnect_wait
from posdomain.obs import correlation, log_event

log = logging.getLogger(__name__)
CLIENT_ID = "cfpos-hub-ingest"
QUARANTINE_QUEUE = 1000  # messages refused whole waiting for their quarantine write


Quarantiner = Callable[[str, bytes, PosError, str | None], None]
Decoded = tuple[BatchHead, list[IncomingEvent]] | BaseException  # a batch decoded ahead


def decode_ahead(raw: bytes) -> Decoded:
    """Decode a batch on the decode thread; a failure is kept and raised where the batch is
    applied (`handle_message` classifies it there, exactly as if it had decoded it)."""
    try:
        return decode_batch(raw)
    except Exception as err:  # noqa: BLE001 - handed to handle_message, never lost
        return err


def handle_message(
    topic: str,
    raw: bytes,
    guard: FloodGuard | None = None,
    later: Quarantiner | None = None,
    decoded: Decoded | None = None,
) -> bytes | None:
    """Decode and apply one message; return the ack bytes to publish, or None when the whole
    message was quarantined. A transient database error propagates (no ack: the box resends).

    Every other failure is classified: refused events are quarantined one by one inside
    `apply_events` (the ack lists them); a message that cannot be attributed to a batch of
    an enrolled box is quarantined whole with its reason; an unforeseen failure outside any
    event is quarantined whole as INTERNAL (logged as such), never left unexplained.
    With a `guard` (the worker's), a box over its budget of bad messages is dropped unread
    and each message quarantined whole takes a strike (hub/sync/flood.py). With `later`
    (the worker's), a message refused whole is handed to it to be quarantined off the apply
    thread, so a flood of bad messages never holds good batches behind its writes.
    `decoded`: `raw` already decoded by the worker's decode thread (`decode_ahead`).
    """
    box_id = topics.box_id_from_topic(topic)
    if guard is not None and not guard.allow(box_id):  # flooding box: dropped unread, unacked
        INGEST_BATCHES.labels("rate_limited").inc()
        return None
    started = time.perf_counter()
    try:
        if decoded is None:
            head, events = decode_batch(raw)
        elif isinstance(decoded, BaseException):
            raise decoded
        else:
            head, events = decoded
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
        _strike(guard, box_id)
        (later or quarantine)(topic, raw, err, box_id)
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


def _closing(loop: Callable[[], None]) -> Callable[[], None]:
    """A worker thread's loop that gives its database connection back when it ends: a pooled
    connection a finished thread kept would count as in use for good (a process that starts
    and stops workers, as the tests do, ran out of the pool's 16 and then waited on it)."""

    def run() -> None:
        try:
            loop()
        finally:
            close_connection()

    return run


def _reset() -> None:
    """Drop the connection of a failed transaction before quarantining."""
    close_connection()


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


BATCH_ID_HEAD = re.compile(rb'^\s*\{\s*"batch_id"\s*:\s*"([0-9a-fA-F-]{36})"')


def head_batch_id(raw: bytes) -> uuid.UUID | None:
    """The batch id at the head of a box's canonical batch (sorted keys: `batch_id` comes
    first), read without parsing the message; None if it is not there (no flow signal)."""
    found = BATCH_ID_HEAD.match(raw[:128])
    if found is None:
        return None
    try:
        return uuid.UUID(found.group(1).decode())
    except ValueError:
        return None


def events_key(topic: str, raw: bytes) -> tuple[str, bytes] | None:
    """(topic, digest of the events part) of a canonical batch: two batches with the same key
    carry exactly the same events (a resend of the same outbox rows), whatever their batch
    ids and send times; None for a message not in canonical shape."""
    start, end = raw.find(b',"events":['), raw.rfind(b'],"sent_at":')
    if start < 0 or end <= start:
        return None
    return topic, hashlib.sha256(raw[start:end]).digest()


@dataclass(frozen=True)
class Received:
    """One message taken off the broker, waiting for the worker's apply thread."""

    topic: str
    payload: bytes
    retained: bool
    batch_id: uuid.UUID | None
    key: tuple[str, bytes] | None = None  # events_key
    number: int = 0  # arrival number on this worker


class IngestWorker:
    """Subscribes to every box's events topic and acks after the hub commit.

    Flow control (docs/sync-protocol.md "Flow control"): paho's network thread only takes
    messages off the broker into an in-process queue and tells each batch's box at once that
    its batch is queued (`BatchReceived`, with the batches ahead and an estimate of the wait);
    one apply thread applies batches round-robin over boxes (in arrival order within a box:
    `hub/sync/fair.py`, so a box flooding the worker never queues ahead of the others), says
    `applying` when it starts one and
    publishes the BatchAck after the commit. Heartbeats and box requests go to a side thread,
    so a herd of batches never delays a customer search. A message taken off the broker is
    acked to the broker (PUBACK) before it is applied: if the worker dies with it queued, no
    BatchAck was sent and the box resends it (the outbox is the truth, never the broker).

    Several workers (`shared_group`): each subscribes with MQTT 5 through the shared
    subscription `$share/<group>/...` with its own client id and a session that ends with
    the connection, so the broker hands each batch to one live member and never queues for a
    dead one. Per-box order holds whichever worker gets a batch: one worker applies a box's
    batches in arrival order (a box's window of unacked batches arrives in seq order on its
    one connection), the apply locks the box row for the batch (`apply._locked`), so two
    workers holding batches of the same box apply them one after the other; an out-of-order
    arrival is a gap the ack reports (`missing_seqs`) and the late batch fills.

    Pipelining: while the apply thread writes and commits batch N, the next batch in the
    serving order is already taken off the queue and decoded on the decode thread, so the
    JSON parse and schema checks of N+1 overlap N's database time (its turn is unchanged; a
    batch decoded ahead and not applied when the worker dies was never acked: resent).

    Presence (docs/sync-protocol.md "Hub ingest presence"): the worker keeps a retained
    `IngestStatus` on `topics.hub_ingest_status(client_id)`: online once subscribed, an
    offline last will the broker publishes when the worker dies (SIGKILL, a lost link), and
    cleared (empty retained message) when it stops. A box does not count its ack waits while
    every worker it heard of is offline, so an absent hub is not taken for a lost batch.
    """

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str = CLIENT_ID,
        login: MqttLogin | None = None,
        releases_dir: Path | None = None,
        shared_group: str | None = None,
        failover: Sequence[tuple[str, int]] = (),
        partition: Partition | None = None,
        partition_refresh: float = DEFAULT_REFRESH,
    ) -> None:
        # the broker, then the other nodes of a cluster (CFPOS_MQTT_FAILOVER), tried in turn
        self.endpoints = EndpointRing([(host, port), *failover])
        self.releases_dir = releases_dir  # the artifact store release chunks are read from
        self.shared_group = shared_group
        self.ready = threading.Event()
        self.flood = FloodGuard()  # per-box budgets of bad messages (hub/sync/flood.py)
        # batches waiting for the apply thread, served round-robin per box (hub/sync/fair.py)
        self.batches: FairQueue[Received] = FairQueue()
        self.dropped = 0  # messages dropped unread on the network thread (limited or over cap)
        self.side: queue.Queue[Received] = queue.Queue()
        # messages refused whole, written to `quarantine` by their own thread (bounded: the
        # flood budget lets at most BURST + 2/s of a box through to here)
        self.quarantines: queue.Queue[tuple[str, bytes, PosError, str | None]] = queue.Queue(
            QUARANTINE_QUEUE
        )
        self.clock = ApplyClock()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._busy = 0  # 1 while the apply thread is inside a batch
        self._current: Received | None = None  # the batch being applied
        # pipelining: the next batch, taken off the queue and decoded on its own thread while
        # the apply thread writes and commits the current one (its turn is unchanged)
        self._decoder = ThreadPoolExecutor(1, thread_name_prefix="ingest-decode")
        self._next: tuple[Received, Future[Decoded]] | None = None
        self._stopping = threading.Event()  # stop(): the threads end, queued messages dropped
        # events_key -> arrival number of its latest copy: an older identical copy still
        # queued is skipped (a box without flow control resending into a long queue)
        self._latest: dict[tuple[str, bytes], int] = {}
        self._arrivals = 0
        self.superseded = 0
        if shared_group:
            self.client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
            )
        else:
            self.client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                clean_session=False,
                protocol=mqtt.MQTTv311,
            )
        apply_credentials(self.client, login)
        self.status_topic = topics.hub_ingest_status(client_id)
        offline = encode(IngestStatus(worker=client_id, online=False))
        self.client.will_set(self.status_topic, offline, qos=1, retain=True)
        self._online = encode(IngestStatus(worker=client_id, online=True))
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.on_connect_fail = self._on_connect_fail
        # CFPOS_INGEST_PARTITION: only the per-box topics of this worker's share of the boxes
        self.partition = (
            PartitionFollower(partition, self.client, partition_refresh) if partition else None
        )
        # link back -> first ack within NFR-003 5 s; jittered so workers do not move in step
        self.client.reconnect_delay_set(reconnect_wait(), RECONNECT_MAX)  # type: ignore[arg-type]

    def _filters(self) -> list[str]:
        if self.partition is not None:
            return self.partition.filters()
        plain = [topics.ALL_BOX_EVENTS, topics.ALL_BOX_REQUESTS, topics.ALL_BOX_STATUS]
        if not self.shared_group:
            return plain
        return [topics.shared(f, self.shared_group) for f in plain]

    def _on_connect(self, client, _userdata, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        log_event(log, "ingest connected", reason=str(reason_code), group=self.shared_group)
        if filters := self._filters():
            client.subscribe([(f, 1) for f in filters])
        else:  # a partition without boxes yet: its refresh subscribes them as they come
            self.ready.set()

    def _on_disconnect(self, client, _userdata, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        log_event(log, "ingest disconnected", logging.WARNING, reason=str(reason_code))
        client.reconnect_delay_set(reconnect_wait(), RECONNECT_MAX)
        if reason_code.is_failure:  # not our own disconnect(): the node may be gone
            self._fail_over()

    def _on_connect_fail(self, client, _userdata) -> None:  # type: ignore[no-untyped-def]
        client.reconnect_delay_set(reconnect_wait(), RECONNECT_MAX)
        self._fail_over()

    def _fail_over(self) -> None:
        """Point paho's next reconnect at the next broker endpoint (posdomain/failover.py);
        `connect_async` only records it, paho reconnects after its jittered wait."""
        if not self._stopping.is_set() and (moved := self.endpoints.advance()) is not None:
            self._connect(wait=False)
            log_event(log, "ingest failing over", logging.WARNING, host=moved[0], port=moved[1])

    def _on_subscribe(self, _client, _userdata, _mid, codes, _props) -> None:  # type: ignore[no-untyped-def]
        """Ready once every filter is granted. A refused one (SUBACK 0x80: e.g. a nats-server
        node whose JetStream timed out creating the subscription's consumer) is asked for
        again after a jittered wait: connected but not subscribed would take no batch ever."""
        if any(c.is_failure for c in codes):
            log_event(
                log,
                "ingest subscription refused; asking again",
                logging.WARNING,
                codes=[str(c) for c in codes],
            )
            timer = threading.Timer(reconnect_wait(), self._resubscribe)
            timer.daemon = True
            timer.start()
            return
        log_event(log, "ingest subscribed", codes=[str(c) for c in codes], group=self.shared_group)
        # present: boxes count their ack waits again (a batch the broker kept is coming)
        self.client.publish(self.status_topic, self._online, qos=1, retain=True)
        self.ready.set()

    def _resubscribe(self) -> None:
        # else on_connect does; a partition may have been emptied meanwhile (no filters)
        connected = self.client.is_connected() and not self._stopping.is_set()
        if connected and (filters := self._filters()):
            self.client.subscribe([(f, 1) for f in filters])

    def _on_message(self, client, _userdata, msg) -> None:  # type: ignore[no-untyped-def]
        """Network thread: queue the message; a batch's box hears at once that it is held.

        A batch of a box over its flood budget, or of a box that already has its share
        queued, is dropped here before anything else is done with it (no parse, no signal,
        no database): unacked, so nothing is lost, and cheap enough that a flooding box
        cannot make the worker fall behind the broker."""
        self._ensure_threads()
        if not msg.topic.endswith("/events"):
            self.side.put(Received(msg.topic, bytes(msg.payload), bool(msg.retain), None))
            return
        box_id = topics.box_id_from_topic(msg.topic)
        if not self.flood.allow(box_id):
            self._drop()
            return
        payload = bytes(msg.payload)
        self._arrivals += 1
        key = events_key(msg.topic, payload)
        item = Received(msg.topic, payload, False, head_batch_id(payload), key, self._arrivals)
        previous = self._latest.get(key) if key is not None else None
        if key is not None:
            self._latest[key] = item.number
        ahead = self.batches.put(box_id or "", item)
        if ahead is None:  # the box has its share queued already: an older copy stays valid
            if key is not None and self._latest.get(key) == item.number:
                if previous is None:
                    self._latest.pop(key, None)
                else:
                    self._latest[key] = previous
            self._drop()
            return
        # the one being applied and the one decoded ahead count too
        self._signal(item, "queued", ahead + self._busy + (self._next is not None))

    def _drop(self) -> None:
        self.dropped += 1
        INGEST_BATCHES.labels("rate_limited").inc()

    def _signal(self, item: Received, stage: str, ahead: int) -> None:
        box_id = topics.box_id_from_topic(item.topic)
        if item.batch_id is None or box_id is None:
            return
        signal = BatchReceived(
            batch_id=item.batch_id,
            box_id=box_id,
            stage=stage,  # type: ignore[arg-type]
            ahead=min(ahead, 1_000_000),
            eta_ms=self.clock.eta_ms(ahead),
        )
        self.client.publish(topics.box_flow(box_id), encode(signal), qos=0)

    def _ensure_threads(self) -> None:
        with self._threads_lock:
            if self._threads:
                return
            for name, target in (
                ("ingest-apply", self._apply_loop),
                ("ingest-side", self._side_loop),
                ("ingest-quarantine", self._quarantine_loop),
                ("ingest-flow", self._resignal_loop),
            ):
                thread = threading.Thread(target=_closing(target), name=name, daemon=True)
                thread.start()
                self._threads.append(thread)

    def _take(self, q: queue.Queue[Received]) -> Received | None:
        """The next queued message, or None once the worker is stopping."""
        while not self._stopping.is_set():
            try:
                return q.get(timeout=0.5)
            except queue.Empty:
                continue
        return None

    def _next_batch(self) -> tuple[Received, Future[Decoded] | None] | None:
        """The next batch (round-robin over boxes) and its decoding if it was decoded ahead,
        or None once the worker is stopping."""
        if self._next is not None:
            taken, self._next = self._next, None
            return taken
        while not self._stopping.is_set():
            item = self.batches.get(timeout=0.5)
            if item is not None:
                return item, None
        return None

    def _decode_next(self) -> None:
        """Take the batch after the current one off the queue now and decode it on the decode
        thread (its turn, checks and signals stay those of a queued batch)."""
        if self._next is None:
            item = self.batches.get(timeout=0)
            if item is not None:
                self._next = (item, self._decoder.submit(decode_ahead, item.payload))

    def _apply_loop(self) -> None:
        while (taken := self._next_batch()) is not None:
            item, decoding = taken
            if item.key is not None and self._latest.get(item.key, item.number) > item.number:
                self.superseded += 1  # the same events are queued again behind it: no ack
                continue
            if not self.flood.allow(topics.box_id_from_topic(item.topic)):
                self._drop()  # limited while it was queued: dropped unread, no signal
                continue
            self._busy, self._current = 1, item
            self._signal(item, "applying", 0)
            started = time.perf_counter()
            try:
                self._decode_next()
                self._apply(item, decoding.result() if decoding is not None else None)
            finally:
                self._busy, self._current = 0, None
                if item.key is not None and self._latest.get(item.key) == item.number:
                    del self._latest[item.key]
            self.clock.observe(time.perf_counter() - started)

    def _resignal_loop(self) -> None:
        """Repeat the signal of every batch still held, with its position now: a box keeps
        waiting while the worker is alive and stops soon after it is not."""
        while not self._stopping.wait(RESIGNAL_EVERY):
            current = self._current
            if current is not None:
                self._signal(current, "applying", 0)
            ahead_one = self._next
            held = [ahead_one[0]] if ahead_one is not None else []
            held += list(self.batches.in_order())
            for ahead, item in enumerate(held, start=self._busy):
                self._signal(item, "queued", ahead)

    def _quarantine_later(self, topic: str, raw: bytes, err: PosError, box_id: str | None) -> None:
        """Apply thread: hand a message refused whole to the quarantine thread."""
        try:
            self.quarantines.put_nowait((topic, raw, err, box_id))
        except queue.Full:  # only if the database stalls: unacked, so nothing is lost
            self._drop()
            log_event(log, "quarantine queue full, message dropped", logging.WARNING, topic=topic)

    def _quarantine_loop(self) -> None:
        """Write refused messages to `quarantine` (what is queued at stop is still written)."""
        while not self._stopping.is_set() or not self.quarantines.empty():
            try:
                topic, raw, err, box_id = self.quarantines.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                db.connect(reuse_if_open=True)
                quarantine(topic, raw, err, box_id)
            except Exception as failure:  # noqa: BLE001 - the thread must go on
                log_event(log, "quarantine write failed", logging.ERROR, error=repr(failure)[:300])
                self._reset_db()

    def _side_loop(self) -> None:
        while (item := self._take(self.side)) is not None:
            if item.topic.endswith("/req"):
                self._on_request(self.client, item)
            else:
                self._on_status(item)

    def _apply(self, msg: Received, decoded: Decoded | None = None) -> None:
        try:
            db.connect(reuse_if_open=True)
            ack = handle_message(
                msg.topic, msg.payload, self.flood, self._quarantine_later, decoded
            )
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
            self.client.publish(topics.box_ack(box_id), ack, qos=1)

    def _on_request(self, client, msg: Received) -> None:  # type: ignore[no-untyped-def]
        """Answer a box request (catalog catch-up, release chunks, search), never retained."""
        try:
            db.connect(reuse_if_open=True)
            replies = handle_request(msg.topic, msg.payload, self.releases_dir)
        except Exception as err:  # noqa: BLE001 - one bad request must never kill the worker
            log_event(log, "box request failed", logging.ERROR, error=repr(err), topic=msg.topic)
            self._reset_db()
            return
        for topic, message in replies:  # catalog chunks come encoded (hub.catalog.chunks)
            raw = message if isinstance(message, bytes) else encode(message)
            client.publish(topic, raw, qos=1, retain=False)

    def _on_status(self, msg: Received) -> None:
        """Record a heartbeat; a failure here never stops event ingest."""
        try:
            db.connect(reuse_if_open=True)
            handle_status(msg.topic, msg.payload, retained=msg.retained)
        except Exception as err:  # noqa: BLE001 - one bad heartbeat must never kill the worker
            log_event(log, "heartbeat not recorded", logging.ERROR, error=repr(err))
            self._reset_db()

    @staticmethod
    def _reset_db() -> None:
        close_connection()

    def _connect(self, *, wait: bool = True) -> None:
        """Connect (`wait=False`: in the background, retried until the broker answers)."""
        connect = self.client.connect if wait else self.client.connect_async
        host, port = self.endpoints.current
        if self.shared_group:  # the session ends with the connection: no queue for the dead
            connect(host, port, keepalive=30, clean_start=True)
        else:
            connect(host, port, keepalive=30)

    def start(self) -> None:
        """Connect and process messages on paho's background thread."""
        if self.partition is not None:
            self.partition.start()
        self._connect()
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the background threads (a batch taken and not applied gets no
        ack: its box resends it)."""
        self.leave()
        self.client.loop_stop()
        for thread in self._threads:
            thread.join(30)
        self._decoder.shutdown(wait=False, cancel_futures=True)

    def _leave(self) -> None:
        """Clear this worker's retained status (it left on purpose), then disconnect: a clean
        DISCONNECT discards the last will, so the status must be cleared by hand."""
        if self.client.is_connected():
            info = self.client.publish(self.status_topic, b"", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=2)
            except (RuntimeError, ValueError) as err:
                log_event(log, "status not cleared", logging.WARNING, error=str(err))
        self.client.disconnect()

    def leave(self) -> None:
        """Leave on purpose: no more partition refreshes, the status cleared, disconnected
        (what `stop` starts with; ends `run_forever` on SIGTERM, from a thread)."""
        self._stopping.set()
        if self.partition is not None:
            self.partition.stop()
        self._leave()

    def run_forever(self) -> None:
        """Connect and block (CLI); a broker not up yet is waited for, not a crash."""
        if self.partition is not None:
            self.partition.start()
        self._connect(wait=False)
        self.client.loop_forever(retry_first_connection=True)
