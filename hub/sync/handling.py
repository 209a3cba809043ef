"""One message of a box, classified: a batch decoded and applied (the ack to publish) or
quarantined whole with its reason; a heartbeat stored or quarantined. No MQTT here: the
ingest worker (hub/sync/worker.py) calls these from its threads."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from hub.core.db import close_connection, is_transient
from hub.core.models import utcnow
from hub.ops.instruments import INGEST_BATCH_SECONDS, INGEST_BATCHES, INGEST_LAG_SECONDS
from hub.sync.apply import apply_events
from hub.sync.flood import FloodGuard
from hub.sync.health import record_heartbeat
from hub.sync.quarantine import quarantine
from posdomain import topics
from posdomain.envelope import BatchAck, BatchHead, IncomingEvent, decode_batch, encode
from posdomain.errors import PosError, Reason
from posdomain.obs import correlation, log_event

log = logging.getLogger(__name__)

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
            observe_applied(started, events)
            applied(box_id, ack)
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


def observe_applied(started: float, events: list[IncomingEvent]) -> None:
    """The apply's time (since `started`) and the lag of its oldest event, as metrics."""
    INGEST_BATCH_SECONDS.observe(time.perf_counter() - started)
    times = [e.envelope.occurred_at for e in events if e.envelope is not None]
    if times:
        INGEST_LAG_SECONDS.observe(max(0.0, (utcnow() - min(times)).total_seconds()))


def applied(box_id: str, ack: BatchAck, **more: Any) -> None:
    """Count and log one applied batch by its ack (`more`: e.g. the run it was part of)."""
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
        **more,
    )


def _strike(guard: FloodGuard | None, box_id: str | None) -> None:
    if guard is not None:
        guard.strike(box_id)


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
