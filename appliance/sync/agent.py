"""Box sync agent: outbox → EventBatch over MQTT until the hub's BatchAck; apply down messages.

The outbox is the source of truth (PITFALLS): a row is delivered only when a BatchAck
covering it arrives, never on a broker PUBACK; anything unacked is simply sent again.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence

from peewee import OperationalError

from appliance.core.context import BoxContext
from appliance.core.db import database, write_txn
from appliance.customers import directory
from appliance.devices.health import device_summary
from appliance.ops import telemetry
from appliance.sync import outbox, refusals, resend
from appliance.sync.agent_settings import AgentSettings, backoff_delay
from appliance.sync.box_state import touch_agent
from appliance.sync.hub_requests import HubRequests
from appliance.sync.models import Outbox
from appliance.sync.transport import Transport
from posdomain import topics
from posdomain.envelope import (
    BatchAck,
    BatchReceived,
    DownMessage,
    EventBatch,
    EventEnvelope,
    IngestStatus,
    decode,
    encode,
    fitting_prefix,
    utcnow,
)
from posdomain.errors import PosError
from posdomain.flow import AckWait, Flight, HubPresence, SendWindow, ack_base
from posdomain.obs import log_event

__all__ = ["AgentSettings", "SyncAgent", "backoff_delay", "offline_will"]

log = logging.getLogger(__name__)
SENT_KEPT = 64  # batches whose answer is still awaited (late acks of timed-out batches)


class SyncAgent(HubRequests):
    """One box's sync loop; `run()` until `stop_event` is set (thread or process); its
    catch-up and search requests to the hub are `HubRequests`'."""

    def __init__(
        self,
        ctx: BoxContext,
        transport: Transport,
        settings: AgentSettings | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.ctx = ctx
        self.box_id = ctx.config.box_id
        self.transport = transport
        self.settings = settings or AgentSettings()
        self.stop_event = stop_event or threading.Event()
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._failures = 0
        self._want_seqs: list[int] = []
        self._last_heartbeat = 0.0
        self._init_requests()
        self.last_sent_seq = 0  # the highest seq of the last batch published
        # seqs of the batches sent and not yet answered: an ack delivers only what its own
        # batch carried (outbox.apply_ack); bounded, an answer older than that is resent
        self._sent: OrderedDict[uuid.UUID, list[int]] = OrderedDict()
        self._waiting: tuple[uuid.UUID, AckWait] | None = None  # a resend awaiting its ack
        # batches sent and not yet answered, at most `settings.window` (posdomain/flow.py)
        self.window = SendWindow(self.settings.window)
        self._linked = False  # connected at the last step (a restored link resends)
        self._silent = 0  # ack timeouts in a row without an ack or a signal (adaptive wait)
        # the hub ingest workers' retained statuses: while none is online, waits are held
        self.presence = HubPresence(self.settings.absent_hold)

    def subscribe(self) -> None:
        """Listen for acks and (retained) down messages; handling happens on the agent thread."""
        self.transport.subscribe(topics.box_ack(self.box_id), self._enqueue)
        self.transport.subscribe(topics.box_flow(self.box_id), self._enqueue)
        self.transport.subscribe(topics.box_down(self.box_id, "+"), self._enqueue)
        self.transport.subscribe(topics.ALL_HUB_INGEST_STATUS, self._enqueue)

    def _enqueue(self, topic: str, payload: bytes) -> None:
        self.inbox.put((topic, payload))

    def run(self) -> None:
        """Loop until stopped: drain inbound messages, send a batch, await its ack."""
        self.subscribe()
        try:
            self._loop()
        finally:
            self._publish_status(online=False)
            if not database.is_closed():
                database.close()

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                self._step()
            except OperationalError as err:  # e.g. database busy past busy_timeout
                log_event(log, "sync step failed; backing off", logging.WARNING, error=str(err))
                self._pause()

    def _step(self) -> None:
        self._drain(timeout=0)
        self._heartbeat()
        if not self.transport.is_connected():
            self._linked = False
            self.presence.reset()  # re-learnt from the retained statuses at the next link
            self._pause()
            return
        if not self._linked:  # link (re)established: what was in flight may be gone
            self._linked = True
            self._silent = 0
            self.window.reset()
        self.catch_up_catalog()
        self.catch_up_cards()
        self.send_searches()
        if self.window:
            if resend.open_request() is None:  # a restore's resend goes before new events
                self._fill_window()
        elif self._resend_step():
            return
        else:
            self._fill_window()
        if not self.window:
            self._drain(timeout=self.settings.idle_poll)
        elif self._await_window():
            self._failures = 0
        else:
            self._pause()

    def _fill_window(self) -> None:
        """Send batches until the window is full or nothing is left: what the hub said it
        lacks first (not what is still on its way), then the next unacked events above the
        last seq in flight, in seq order."""
        while self.window.has_room():
            rows: list[Outbox] = []
            if self._want_seqs:
                flying = self.window.in_flight()
                wanted, self._want_seqs = [s for s in self._want_seqs if s not in flying], []
                rows = outbox.by_seqs(wanted)[: self.settings.batch_size]
            if not rows:
                rows = outbox.unacked(self.settings.batch_size, after=self.window.last_seq())
            if not rows:
                return
            self._publish(rows)

    def _await_window(self) -> bool:
        """Wait for acks of the batches in flight, at most `idle_poll` (so events rung
        meanwhile go out in the window's free places) or until one is answered; False once
        the oldest batch's wait ran out: the window is given up and the box sends again from
        its first unacked event after a backoff."""
        now = time.monotonic()
        expired = None if self._hub_holding(now) else self.window.expired(now)
        if expired is not None:
            self._timed_out(expired.seqs, expired.batch_id)
            self._silent += 1  # the next batches wait longer (posdomain.flow.ack_base)
            self.window.reset()
            return False
        until = now + self.settings.idle_poll
        while not self.stop_event.is_set():
            left = until - now
            if not self._hub_holding(now):
                left = min(self.window.remaining(now), left)
            if left <= 0:
                return True
            try:
                topic, payload = self.inbox.get(timeout=left)
            except queue.Empty:
                return True
            flying = len(self.window)
            self._handle(topic, payload)
            if len(self.window) < flying:
                return True  # one of ours was answered: room for the next batch
            now = time.monotonic()
        return True

    def _hub_holding(self, now: float) -> bool:
        """True while the hub's ingest is known absent (its workers' statuses): ack waits do
        not run, nothing is resent. When a worker is back, every wait starts afresh: a batch
        the broker kept for the worker is answered, one nobody kept is resent after it."""
        holding, resumed = self.presence.poll(now)
        if resumed:
            self.window.restart(now)
            if self._waiting is not None:
                self._waiting[1].restart(now)
            log_event(log, "hub ingest back; ack waits restarted", in_flight=len(self.window))
        return holding

    def _timed_out(self, seqs: list[int], batch_id: object) -> None:
        with write_txn():
            outbox.note_error(seqs, "no ack before timeout")
        log_event(
            log,
            "batch not acked in time",
            logging.WARNING,
            batch_id=str(batch_id),
            first_seq=seqs[0],
            last_seq=seqs[-1],
        )

    def _pause(self) -> None:
        self._failures += 1
        self.stop_event.wait(backoff_delay(self._failures, self.settings))

    def _resend_step(self) -> bool:
        """Send the next batch a hub restore asked for again (NFR-004); True if it did."""
        if self._want_seqs:
            return False  # what the hub says it lacks goes first
        pending = resend.pending_rows(self.settings.batch_size)
        if pending is None:
            return False
        request, rows = pending
        if not rows:  # nothing kept in the range (cannot happen with a gap-free outbox)
            with write_txn():
                resend.advance(self.ctx, request.restore_id, int(request.through_seq))
            return True
        if self.send_batch(rows):
            self._failures = 0
            with write_txn():
                resend.advance(self.ctx, request.restore_id, self.last_sent_seq)
        else:
            self._pause()
        return True

    def send_batch(self, rows: list[Outbox]) -> bool:
        """Publish one batch and wait for its ack (a restore's resend: one at a time); True
        if an ack for it was applied."""
        batch_id, seqs = self._publish(rows, windowed=False)
        if self._await_ack(batch_id) is None:
            self._timed_out(seqs, batch_id)
            return False
        return True

    def _publish(self, rows: list[Outbox], *, windowed: bool = True) -> tuple[uuid.UUID, list[int]]:
        """Publish the longest prefix of `rows` that fits one batch; in the window unless
        `windowed` is False. Returns the batch id and the seqs it carries."""
        envelopes = [outbox.envelope_of(r) for r in rows]
        batch_id, sent_at = uuid.uuid4(), utcnow()

        def wire(events: Sequence[EventEnvelope]) -> bytes:
            return encode(
                EventBatch(
                    batch_id=batch_id, box_id=self.box_id, sent_at=sent_at, events=list(events)
                )
            )

        # the longest prefix that fits the 256 KiB message limit (never below one event)
        envelopes = envelopes[: fitting_prefix(envelopes, lambda evs: len(wire(evs)))]
        raw = wire(envelopes)
        seqs = [e.seq for e in envelopes]
        self.last_sent_seq = seqs[-1]
        with write_txn():
            outbox.record_attempt(seqs)
        self._sent[batch_id] = seqs
        while len(self._sent) > SENT_KEPT:
            self._sent.popitem(last=False)
        if windowed:
            s = self.settings
            base = ack_base(s.ack_timeout, self._silent)
            wait = AckWait(time.monotonic(), base, s.ack_wait_hold, s.ack_wait_cap)
            self.window.add(Flight(batch_id, seqs, wait))
        self.transport.publish(topics.box_events(self.box_id), raw, qos=1)
        log_event(
            log,
            "batch sent",
            batch_id=str(batch_id),
            first_seq=seqs[0],
            last_seq=seqs[-1],
            in_flight=len(self.window) if windowed else 1,
        )
        return batch_id, seqs

    def _apply_ack(self, ack: BatchAck) -> None:
        with write_txn():
            marked = outbox.apply_ack(ack, self._sent.pop(ack.batch_id, []))
            self.window.answered(ack.batch_id)
            self._silent = 0
            self.presence.heard(time.monotonic())
            directory.note_acked()
            if ack.rejected:  # head office may have resolved it before this refusal arrived
                refusals.settle_held(self.ctx)
            touch_agent(acked=True)
        self._want_seqs = sorted(set(ack.missing_seqs))
        log_event(
            log,
            "batch acked",
            batch_id=str(ack.batch_id),
            acked_through=ack.acked_through,
            marked=marked,
            missing=len(ack.missing_seqs),
            rejected=len(ack.rejected),
        )
        self._publish_status(online=True)

    def _await_ack(self, batch_id: uuid.UUID) -> BatchAck | None:
        """Wait for this batch's ack: the base timeout, stretched by the hub's flow signals
        (a busy hub is not a lost ack), never past the cap; None if it did not come."""
        s = self.settings
        wait = AckWait(time.monotonic(), s.ack_timeout, s.ack_wait_hold, s.ack_wait_cap)
        self._waiting = (batch_id, wait)
        try:
            while not self.stop_event.is_set():
                now = time.monotonic()
                remaining = 0.5 if self._hub_holding(now) else wait.remaining(now)
                if remaining <= 0:
                    return None
                try:
                    topic, payload = self.inbox.get(timeout=min(remaining, 0.5))
                except queue.Empty:
                    continue
                ack = self._handle(topic, payload)
                if ack is not None and ack.batch_id == batch_id:
                    return ack
            return None
        finally:
            self._waiting = None

    def _flow(self, payload: bytes) -> None:
        """A hub flow signal: stretch the wait of the batch it names (advisory only)."""
        signal = decode(payload, BatchReceived)
        if signal.box_id != self.box_id:
            return
        self._silent = 0  # the hub is there, only busy
        self.presence.heard(time.monotonic())
        flight = self.window.get(signal.batch_id)
        if flight is not None:
            flight.wait.signal(time.monotonic(), signal.eta_ms / 1000)
        elif self._waiting is not None and self._waiting[0] == signal.batch_id:
            self._waiting[1].signal(time.monotonic(), signal.eta_ms / 1000)

    def _ingest_status(self, worker: str, payload: bytes) -> None:
        """A hub ingest worker's status (an empty retained message: it left)."""
        online = decode(payload, IngestStatus).online if payload else None
        was = self.presence.absent()
        self.presence.note(worker, online, time.monotonic())
        if self.presence.absent() == was:
            return
        if was:
            log_event(log, "hub ingest present", worker=worker, in_flight=len(self.window))
            return
        # the hold itself starts only once the absence lasted the grace (posdomain.flow)
        log_event(
            log,
            "hub ingest absent; ack waits held if it lasts",
            logging.WARNING,
            worker=worker,
            in_flight=len(self.window),
            grace_s=self.presence.grace,
        )

    def _drain(self, timeout: float) -> None:
        try:
            item = self.inbox.get(timeout=timeout) if timeout else self.inbox.get_nowait()
        except queue.Empty:
            return
        self._handle(*item)
        while True:
            try:
                self._handle(*self.inbox.get_nowait())
            except queue.Empty:
                return

    def _handle(self, topic: str, payload: bytes) -> BatchAck | None:
        """Decode an inbound message at the edge; acks are returned, down messages applied."""
        try:
            if topic == topics.box_ack(self.box_id):
                ack = decode(payload, BatchAck)
                if ack.box_id != self.box_id:
                    return None
                self._apply_ack(ack)  # late acks of earlier batches count too (own seqs only)
                return ack
            if topic == topics.box_flow(self.box_id):
                self._flow(payload)
            elif (worker := topics.hub_worker_from_topic(topic)) is not None:
                self._ingest_status(worker, payload)
            elif topic == topics.box_reply(self.box_id):
                self._reply(payload)
            elif payload:
                self._down(decode(payload, DownMessage))
        except PosError as err:
            log_event(
                log,
                "inbound message refused",
                logging.WARNING,
                topic=topic,
                reason=str(err.reason),
                error=err.message,
            )
        return None

    def _heartbeat(self) -> None:
        if time.monotonic() - self._last_heartbeat < self.settings.heartbeat_every:
            return
        self._last_heartbeat = time.monotonic()
        if self.transport.is_connected():
            with write_txn():
                touch_agent(acked=False)
            self._publish_status(online=True)

    def _publish_status(self, *, online: bool) -> None:
        body = {
            "v": 1,
            "box_id": self.box_id,
            "online": online,
            **telemetry.heartbeat_fields(self.ctx.config),
            "devices": device_summary(),
            "ts": utcnow().isoformat(),
        }
        if self.transport.is_connected():
            self.transport.publish(
                topics.box_status(self.box_id), json.dumps(body).encode(), qos=1, retain=True
            )


def offline_will(box_id: str) -> tuple[str, bytes]:
    """The last-will message: this box went away without saying goodbye."""
    body = {"v": 1, "box_id": box_id, "online": False, "queued": None, "ts": None}
    return topics.box_status(box_id), json.dumps(body).encode()
