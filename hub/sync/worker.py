"""MQTT ingest worker (`python -m hub ingest`): the queues and threads between the broker
link (hub/sync/link.py) and the batch apply (hub/sync/handling.py, hub/sync/apply.py)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from peewee import InterfaceError, OperationalError

from hub.core.db import close_connection, db
from hub.core.mqtt import MqttLogin
from hub.ops.instruments import INGEST_BATCHES
from hub.sync.box_requests import handle_request
from hub.sync.fair import FairQueue
from hub.sync.flood import FloodGuard
from hub.sync.handling import Decoded, decode_ahead, handle_status
from hub.sync.link import CLIENT_ID, IngestLink
from hub.sync.partition import DEFAULT_REFRESH, Partition
from hub.sync.quarantine import quarantine
from hub.sync.received import Received, events_key, head_batch_id
from hub.sync.runs import RUN_BATCHES, handle_run
from hub.sync.takeover import DEFAULT_STALE
from posdomain import topics
from posdomain.envelope import BatchReceived, encode
from posdomain.errors import PosError
from posdomain.flow import RESIGNAL_EVERY, ApplyClock
from posdomain.obs import log_event

log = logging.getLogger(__name__)
QUARANTINE_QUEUE = 1000  # messages refused whole waiting for their quarantine write


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


class IngestWorker(IngestLink):
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
    Connection, failover and presence: hub/sync/link.py.
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
        partition_stale: float = DEFAULT_STALE,
        run_batches: int = RUN_BATCHES,
    ) -> None:
        super().__init__(
            host,
            port,
            client_id,
            login,
            shared_group,
            failover,
            partition,
            partition_refresh,
            partition_stale,
        )
        self.releases_dir = releases_dir  # the artifact store release chunks are read from
        self.flood = FloodGuard()  # per-box budgets of bad messages (hub/sync/flood.py)
        # batches waiting for the apply thread, served round-robin per box (hub/sync/fair.py)
        self.batches: FairQueue[Received] = FairQueue()
        self.dropped = 0  # messages dropped unread on the network thread (limited or over cap)
        self.foreign = 0  # messages of boxes another partitioned worker serves, dropped
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
        self._running: list[Received] = []  # the batches of its box applied with it
        self.run_batches = run_batches  # at most this many of a box's batches in one apply
        # pipelining: the next batch, taken off the queue and decoded on its own thread while
        # the apply thread writes and commits the current one (its turn is unchanged)
        self._decoder = ThreadPoolExecutor(1, thread_name_prefix="ingest-decode")
        self._next: tuple[Received, Future[Decoded]] | None = None
        # events_key -> arrival number of its latest copy: an older identical copy still
        # queued is skipped (a box without flow control resending into a long queue)
        self._latest: dict[tuple[str, bytes], int] = {}
        self._arrivals = 0
        self.superseded = 0

    def _on_message(self, client, _userdata, msg) -> None:  # type: ignore[no-untyped-def]
        """Network thread: queue the message; a batch's box hears at once that it is held.

        A batch of a box over its flood budget, or of a box that already has its share
        queued, is dropped here before anything else is done with it (no parse, no signal,
        no database): unacked, so nothing is lost, and cheap enough that a flooding box
        cannot make the worker fall behind the broker. A partitioned worker takes the other
        workers' statuses in here and drops a message of a box it does not serve now
        (hub/sync/follower.py `accepts`): unacked, its server has it or the box resends."""
        self._ensure_threads()
        if self.partition is not None:
            if self.partition.heard(msg.topic, msg.payload):
                return
            if not self.partition.accepts(topics.box_id_from_topic(msg.topic)):
                self.foreign += 1
                return
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
            if self._skipped(item):
                continue
            self._busy, self._current = 1, item
            self._signal(item, "applying", 0)
            started = time.perf_counter()
            run: list[tuple[Received, Future[Decoded] | None]] = [(item, decoding)]
            try:
                run += self._run_behind(item)
                self._decode_next()
                self._apply_run(run)
            finally:
                self._busy, self._current, self._running = 0, None, []
                for done, _decoding in run:
                    if done.key is not None and self._latest.get(done.key) == done.number:
                        del self._latest[done.key]
            elapsed = time.perf_counter() - started
            for _ in run:  # the clock's mean is per batch (the flow signals' eta)
                self.clock.observe(elapsed / len(run))

    def _skipped(self, item: Received) -> bool:
        """A batch not to apply: an identical copy of it queued later (a box without flow
        control resending into a long queue; that copy gets the ack), or one of a box that
        went over its flood budget while it was queued (dropped unread, no signal)."""
        if item.key is not None and self._latest.get(item.key, item.number) > item.number:
            self.superseded += 1
            return True
        if not self.flood.allow(topics.box_id_from_topic(item.topic)):
            self._drop()
            return True
        return False

    def _run_behind(self, item: Received) -> list[tuple[Received, Future[Decoded] | None]]:
        """The batches of `item`'s box queued behind it, oldest first, up to `RUN_BATCHES` in
        all (`run_batches`): applied with it in one transaction (hub/sync/runs.py)."""
        box = topics.box_id_from_topic(item.topic) or ""
        behind: list[tuple[Received, Future[Decoded] | None]] = []
        if self.run_batches <= 1:
            return behind
        if self._next is not None and topics.box_id_from_topic(self._next[0].topic) == box:
            behind.append(self._next)  # taken off the queue before the rest: the oldest
            self._next = None
        behind += [(b, None) for b in self.batches.take(box, self.run_batches - 1 - len(behind))]
        kept = [(b, d) for b, d in behind if not self._skipped(b)]
        self._running = [b for b, _d in kept]
        for b in self._running:
            self._signal(b, "applying", 0)
        return kept

    def _resignal_loop(self) -> None:
        """Repeat the signal of every batch still held, with its position now: a box keeps
        waiting while the worker is alive and stops soon after it is not."""
        while not self._stopping.wait(RESIGNAL_EVERY):
            current = self._current
            if current is not None:
                self._signal(current, "applying", 0)
            for running in list(self._running):
                self._signal(running, "applying", 0)
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
                close_connection()

    def _side_loop(self) -> None:
        while (item := self._take(self.side)) is not None:
            if item.topic.endswith("/req"):
                self._on_request(self.client, item)
            else:
                self._on_status(item)

    def _apply_run(self, run: list[tuple[Received, Future[Decoded] | None]]) -> None:
        """Apply one batch, or a run of one box's batches together; publish each ack."""
        topic = run[0][0].topic
        try:
            db.connect(reuse_if_open=True)
            messages = [(m.payload, d.result() if d is not None else None) for m, d in run]
            # a single batch goes to handle_message there, as before
            acks = handle_run(topic, messages, self.flood, self._quarantine_later)
        except (OperationalError, InterfaceError) as err:
            # database down: no ack, the box resends from its outbox
            log_event(log, "database unavailable, batch not acked", logging.ERROR, error=str(err))
            close_connection()
            return
        except Exception as err:  # noqa: BLE001 - one bad message must never kill the worker
            # only reachable if quarantining itself failed: retried on the box's resend
            log_event(
                log,
                "unexpected ingest error, batch not acked",
                logging.ERROR,
                error=repr(err),
                topic=topic,
            )
            close_connection()
            return
        box_id = topics.box_id_from_topic(topic) or ""
        for ack in acks:
            if ack is not None:
                self.client.publish(topics.box_ack(box_id), ack, qos=1)

    def _on_request(self, client, msg: Received) -> None:  # type: ignore[no-untyped-def]
        """Answer a box request (catalog catch-up, release chunks, search), never retained."""
        try:
            db.connect(reuse_if_open=True)
            replies = handle_request(msg.topic, msg.payload, self.releases_dir)
        except Exception as err:  # noqa: BLE001 - one bad request must never kill the worker
            log_event(log, "box request failed", logging.ERROR, error=repr(err), topic=msg.topic)
            close_connection()
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
            close_connection()

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
