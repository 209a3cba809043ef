"""Consecutive batches of one box, queued at the ingest worker, applied as one (issue 15).

A box keeps a window of unacked batches (posdomain.flow.WINDOW). When several of them are
queued behind the one the worker takes, applying them one transaction each pays every
batch's fixed part again: its look-ups, its set-based inserts' round trips, the report
inserts at its end that nothing overlaps, its commit. Here the worker hands over the run of
them (in the box's order), and they are applied in one transaction exactly as if the box had
sent their events as one batch: `apply_events` is the same, per-box order and exactly-once
are the same, and each batch still gets its own BatchAck, sent only after the commit and
listing only its own events (`split_ack`). The box marks a row delivered only from its own
batch's ack (appliance/sync/outbox.py `apply_ack`), so `acked_through` and `missing_seqs`,
which are the box's and not a batch's, go out the same in each.

Anything short of a plain run (a batch that does not decode, one of another box, a merged
apply that fails other than transiently) is applied one batch at a time, as before.
"""

from __future__ import annotations

import logging
import time

from hub.core.db import is_transient
from hub.sync.apply import apply_events
from hub.sync.flood import FloodGuard
from hub.sync.handling import (
    Decoded,
    Quarantiner,
    applied,
    decode_ahead,
    handle_message,
    observe_applied,
)
from posdomain import topics
from posdomain.envelope import BatchAck, BatchHead, IncomingEvent, encode
from posdomain.obs import correlation, log_event

log = logging.getLogger(__name__)

RUN_BATCHES = 4  # batches of one box applied together at most (a box's window)


def split_ack(ack: BatchAck, head: BatchHead, events: list[IncomingEvent]) -> BatchAck:
    """The part of a run's ack that answers one of its batches: its batch id, its own events'
    outcomes, the box's `acked_through` and `missing_seqs`."""
    ids = {ev.event_id for ev in events if ev.event_id is not None}
    keys = {(ev.event_id, ev.seq) for ev in events}
    return BatchAck(
        batch_id=head.batch_id,
        box_id=ack.box_id,
        acked_through=ack.acked_through,
        missing_seqs=ack.missing_seqs,
        accepted=[e for e in ack.accepted if str(e) in ids],
        duplicates=[e for e in ack.duplicates if str(e) in ids],
        rejected=[r for r in ack.rejected if (r.get("event_id"), r.get("seq")) in keys],
    )


def _one_by_one(
    topic: str,
    messages: list[tuple[bytes, Decoded]],
    guard: FloodGuard | None,
    later: Quarantiner | None,
) -> list[bytes | None]:
    return [handle_message(topic, raw, guard, later, decoded) for raw, decoded in messages]


def handle_run(
    topic: str,
    messages: list[tuple[bytes, Decoded | None]],
    guard: FloodGuard | None = None,
    later: Quarantiner | None = None,
) -> list[bytes | None]:
    """Apply consecutive batches of one box (in the order the box sent them) in one
    transaction; return each one's ack bytes (None: that message was quarantined whole), in
    the same order. A transient database error propagates: none of them is acked, the box
    resends them all."""
    decoded = [(raw, d if d is not None else decode_ahead(raw)) for raw, d in messages]
    box_id = topics.box_id_from_topic(topic)
    batches: list[tuple[BatchHead, list[IncomingEvent]]] = []
    for _raw, d in decoded:
        if isinstance(d, BaseException) or d[0].box_id != box_id or not d[1]:
            return _one_by_one(topic, decoded, guard, later)
        batches.append(d)
    if len(batches) == 1 or (guard is not None and not guard.allow(box_id)):
        return _one_by_one(topic, decoded, guard, later)
    assert box_id is not None  # a box topic: every head named it
    last = batches[-1][0]
    # the run's head: the latest batch's (its clock-skew reading is the freshest)
    head = BatchHead.model_construct(
        batch_id=last.batch_id, box_id=box_id, sent_at=last.sent_at, events=[]
    )
    events = [ev for _head, evs in batches for ev in evs]
    started = time.perf_counter()
    try:
        first = events[0].envelope
        with correlation(first.correlation_id if first else None):
            ack = apply_events(head, events, box_id)
    except Exception as err:
        if is_transient(err):
            raise
        log_event(
            log, "run failed as a whole, applying its batches one by one", logging.WARNING,
            box_id=box_id, batches=len(batches), error=repr(err)[:300],
        )  # fmt: skip
        return _one_by_one(topic, decoded, guard, later)
    observe_applied(started, events)
    out: list[bytes | None] = []
    for batch_head, evs in batches:
        part = split_ack(ack, batch_head, evs)
        applied(box_id, part, batch_id=str(part.batch_id), run=len(batches))
        out.append(encode(part))
    return out
