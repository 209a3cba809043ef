"""Apply a box's batch in one transaction and build the BatchAck (FR-303, FR-100, NFR-005).

Tenant, branch and box always come from the enrolled box row, never the payload. The batch
is sorted against what the hub holds (`triage`: duplicates, conflicts, fresh events), every
fresh event is checked against the domain rules (`rules`), and what passes is written:
consecutive sales and audit entries set-based, other events one by one in a savepoint.
A refused event is quarantined with its reason and raised for reconciliation (`refusals`);
the ack lists it under `rejected`, never under `accepted` or `duplicates`.

Failures are classified: a transient database error (`hub.core.db.is_transient`) leaves
the transaction rolled back and the batch unacked (the box resends); any other failure of
the set-based pass rolls it back too and the batch is applied again event by event, each in
its own savepoint, so the one event that fails is quarantined (`INGEST_FAILED`) and the
rest of the batch is applied. Nothing is ever acked that the hub has not stored or
knowingly refused.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from peewee import IntegrityError

from hub.boxes import enrolment
from hub.core import writer
from hub.core.bulk import insert_rows, insert_rows_later
from hub.core.db import db, is_postgres, is_transient, platform_tx, send_ahead, tenant_tx
from hub.core.models import JsonText, utcnow
from hub.governance import config
from hub.governance.models import BoxAudit
from hub.identity.models import Box
from hub.inventory import alerts, box_events
from hub.releases import rollouts
from hub.reports import snapshots
from hub.sales import till_documents
from hub.sync import derived, health, refusals, sale_rows, seqs
from hub.sync.models import IngestedEvent
from hub.sync.refusals import Refusal
from hub.sync.rules import Rules
from hub.sync.sale_rows import Arrival, PreparedSale
from hub.sync.triage import Triage, triage
from posdomain.contract import EventType
from posdomain.envelope import BatchAck, BatchHead, EventBatch, IncomingEvent, incoming_event
from posdomain.errors import PosError, Reason, ValidationError
from posdomain.obs import correlation, log_event

log = logging.getLogger(__name__)
# seam: called inside the batch transaction after its writes, before the commit (fault tests
# inject a sleep here and SIGKILL the worker with the transaction open)
INSIDE_TRANSACTION_HOOKS: list[Callable[[], None]] = []
RUN_TYPES = frozenset({EventType.SALE_COMPLETED, EventType.AUDIT_ENTRY})


def enrolled_box(head: BatchHead, topic_box_id: str) -> Box:
    """The enrolled box the batch came from (ValidationError otherwise: whole message)."""
    if head.box_id != topic_box_id:
        raise ValidationError("batch box_id does not match the topic", Reason.BOX_MISMATCH)
    with platform_tx():
        box = Box.get_or_none(Box.box_id == topic_box_id)
    if box is None:
        raise ValidationError(f"unknown box {topic_box_id}", Reason.UNKNOWN_BOX)
    # a replaced box's late events are still accepted during its grace window (no lost sale)
    if box.status != "active" and not enrolment.accepts_late_events(box.box_id):
        raise ValidationError(f"box {topic_box_id} is not enrolled", Reason.BOX_NOT_ENROLLED)
    return box


@dataclass
class Run:
    """Consecutive sales and box audit entries (seq order), written together."""

    sales: list[PreparedSale] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    events: list[IncomingEvent] = field(default_factory=list)


@dataclass
class Applier:
    """Applies a batch's fresh events; collects what was accepted and what was refused."""

    box: Box
    arrival: Arrival
    rules: Rules
    accepted: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)  # refused while applying (consumed)
    run: Run = field(default_factory=Run)
    late: set[str] = field(default_factory=set)  # ids of the late sales prepared (reports)
    # event id -> (type, seq, correlation id) of each accepted event, for the batch's log line
    notes: dict[str, tuple[str, int, str | None]] = field(default_factory=dict)

    def accept(self, ev: IncomingEvent) -> None:
        """Count an applied event (logged with the batch once it is committed: `log_applied`)."""
        env = ev.envelope
        assert env is not None
        event_id = str(ev.event_id)
        self.accepted.append(event_id)
        self.notes[event_id] = (env.type, env.seq, env.correlation_id)

    def log_applied(self) -> None:
        """One log line for the batch's applied events: counts per type, the seq range and
        every event's correlation id (NFR-006), instead of a line per event."""
        notes = [self.notes[e] for e in self.accepted if e in self.notes]
        if not notes:
            return
        types = Counter(kind for kind, _seq, _cid in notes)
        seqs = [seq for _kind, seq, _cid in notes]
        log_event(
            log,
            "events applied",
            box_id=self.box.box_id,
            count=len(notes),
            types=dict(types),
            first_seq=min(seqs),
            last_seq=max(seqs),
            correlation_ids=list(dict.fromkeys(cid for _k, _s, cid in notes if cid)),
        )

    def refuse(self, ev: IncomingEvent, err: PosError) -> None:
        """Refuse an event whose seq is already recorded as consumed."""
        details = {k: v for k, v in err.details.items() if k in ("violations", "fields", "sale_id")}
        self.refused.append(Refusal(ev, err.reason, err.message, True, details))

    def add(self, ev: IncomingEvent) -> None:
        """Apply (or queue into the run) one fresh event, refusing it if it breaks a rule."""
        env = ev.envelope
        assert env is not None
        with correlation(env.correlation_id):
            if env.type not in RUN_TYPES:
                self.flush()  # a later refund/void/stock event sees the run's effects
                self._one(ev)
                return
            try:
                self._queue(ev, env)
            except ValidationError as err:
                self.refuse(ev, err)

    def _queue(self, ev: IncomingEvent, env: Any) -> None:
        if env.type == EventType.SALE_COMPLETED:
            sale = self.rules.check_sale(env, ev.body)
            prepared = sale_rows.prepare(self.box, env, sale, self.arrival)
            if prepared.sale["late"]:
                self.late.add(sale.sale_id)
            self.run.sales.append(prepared)
        else:
            entry = self.rules.check_audit(env)
            self.run.audits.append(
                dict(
                    tenant_id=self.box.tenant_id,
                    branch_id=self.box.branch_id,
                    box_id=self.box.box_id,
                    event_id=ev.event_id,
                    **entry.model_dump(),
                )
            )
        self.run.events.append(ev)

    def _one(self, ev: IncomingEvent) -> None:
        env = ev.envelope
        assert env is not None
        try:
            with db.atomic():  # savepoint: a refused event writes nothing but its seq
                self._apply_document(env)
        except ValidationError as err:
            self.refuse(ev, err)
            return
        except IntegrityError as err:  # a refund/shift/z number the box used before
            log_event(log, "document id conflict", logging.WARNING, error=str(err)[:300])
            self.refuse(
                ev,
                ValidationError("document id or number already used", Reason.DOCUMENT_ID_CONFLICT),
            )
            return
        self.accept(ev)

    def _apply_document(self, env: Any) -> None:
        box, rules = self.box, self.rules
        if env.type == EventType.STOCK_MOVEMENT:
            body = rules.check_movement(env)
            box_events.record_box_movement(
                box.tenant_id, box.branch_id, box.box_id, str(env.event_id), body
            )
        elif env.type == EventType.REFUND_COMPLETED:
            till_documents.store_refund(box, env, rules.check_refund(env))
        elif env.type == EventType.SALE_VOIDED:
            till_documents.store_void(box, env, rules.check_void(env))
        elif env.type == EventType.SHIFT_CLOSED:
            till_documents.store_shift(box, env, rules.check_shift(env))
        elif env.type == EventType.SHIFT_SNAPSHOT:
            snapshots.store(box, env, rules.check_snapshot(env))
        elif env.type == EventType.LINE_VOIDED:
            snapshots.store_line_void(box, env, rules.check_line_void(env))
        elif env.type == EventType.NO_SALE:
            snapshots.store_no_sale(box, env, rules.check_no_sale(env))
        elif env.type == EventType.BANK_DEPOSIT:
            till_documents.store_deposit(box, env, rules.check_bank_deposit(env))
        elif env.type == EventType.CASH_MOVEMENT:
            till_documents.store_cash_movement(box, env, rules.check_cash_movement(env))
        elif env.type == EventType.RELEASE_REPORTED:
            rollouts.report_event(box, env.payload)

    def flush(self) -> None:
        """Write the pending run set-based, then accept each of its events (seq order)."""
        run, self.run = self.run, Run()
        if not run.events:
            return
        taken = {p.ev.event_id for p in sale_rows.write(self.box, run.sales)}
        insert_rows(BoxAudit, run.audits)
        for ev in run.events:
            assert ev.envelope is not None
            if ev.envelope.event_id in taken:  # its sale id belongs to another tenant
                self.refuse(
                    ev, ValidationError("sale id already used", Reason.DOCUMENT_ID_CONFLICT)
                )
            else:
                self.accept(ev)


def _ingested_row(box: Box, ev: IncomingEvent, received_at: datetime) -> dict[str, Any]:
    env = ev.envelope
    assert env is not None
    return {
        "event_id": ev.event_id,
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "box_id": box.box_id,
        "seq": env.seq,
        "type": env.type,
        "occurred_at": env.occurred_at,
        "received_at": received_at,
        "correlation_id": env.correlation_id,
        # the canonical text the digest was taken over (decoded once, never encoded again)
        "payload": env.payload if ev.payload_json is None else JsonText(ev.payload_json),
        "outcome": "applied",
        "reason": None,
        "digest": ev.digest,
    }


def _hold(box: Box, rows: list[dict[str, Any]]) -> set[str]:
    """Record events with their seqs; return the ids recorded. An id missing from the answer
    is held by a row this tenant cannot see (another tenant's event id): a conflict."""
    return {str(r[0]) for r in _hold_later(box, rows)()}


def _hold_later(box: Box, rows: list[dict[str, Any]]) -> Callable[[], list[tuple[Any, ...]]]:
    """`_hold` whose answer is read later (sent ahead inside `send_ahead()`)."""
    # bare on purpose: the event id and (box_id, seq) are both unique, and a row missing from
    # RETURNING on either key is refused as a conflict by the caller, never taken as held
    suffix = "ON CONFLICT DO NOTHING RETURNING event_id"
    return insert_rows_later(IngestedEvent, rows, suffix=suffix)


def _lost(events: list[IncomingEvent], held: set[str]) -> list[Refusal]:
    return [
        Refusal(ev, Reason.EVENT_ID_CONFLICT, "event id held elsewhere", False)
        for ev in events
        if ev.event_id not in held
    ]


@dataclass
class Outcome:
    """What one pass over the batch produced (the ack is built from it after the commit)."""

    triaged: Triage
    applier: Applier
    lost: list[Refusal]
    missing: list[int]


def _apply_fresh(
    applier: Applier, fresh: list[IncomingEvent], received_at: datetime, careful: bool
) -> list[Refusal]:
    """Record and apply the fresh events; careful: each alone in a savepoint, a failure
    quarantines that event (its seq consumed) and the rest goes on."""
    box = applier.box
    if not careful:
        # sent ahead: the events are applied as if every one was recorded, and the answer is
        # read after the writes; an event id held elsewhere (another tenant's) sends the batch
        # to the careful pass, which refuses that event alone
        held_later = _hold_later(box, [_ingested_row(box, ev, received_at) for ev in fresh])
        for ev in fresh:
            applier.add(ev)
        applier.flush()
        held = {str(r[0]) for r in held_later()}
        if len(held) != len(fresh):
            raise writer.Mispredicted("an event id of the batch is held elsewhere")
        return []
    lost: list[Refusal] = []
    for ev in fresh:
        try:
            with db.atomic():
                held = _hold(box, [_ingested_row(box, ev, received_at)])
                if held:
                    applier.add(ev)
                    applier.flush()
        except Exception as err:  # classified: transient re-raised, else refused
            if is_transient(err):
                raise
            log_event(log, "event failed to apply", logging.ERROR, seq=ev.seq, error=repr(err))
            failed = Refusal(ev, Reason.INGEST_FAILED, repr(err)[:500], True)
            _hold(box, [refusals.consumed_row(box, failed, received_at)])
            applier.refused.append(failed)
            continue
        lost += _lost([ev], held)
    return lost


def _pass(box: Box, head: BatchHead, events: list[IncomingEvent], careful: bool) -> Outcome:
    received_at = utcnow()
    # stock alerts raised by the batch's movements go out only after the commit
    # config versions (pricing: currency, business day) read once for the whole batch
    # the fast pass sends its inserts ahead (hub/core/writer.py); the careful pass does not
    ahead = nullcontext() if careful else send_ahead()
    with alerts.deliver_after_commit(), tenant_tx(box.tenant_id), config.read_once(), ahead:
        box = _locked(box.box_id)
        arrival = Arrival(received_at, health.clock_skew(box.box_id, head.sent_at, received_at))
        sorted_ = triage(box, events)
        consumed = [r for r in sorted_.refused if r.consumed]
        _hold(box, [refusals.consumed_row(box, r, received_at) for r in consumed])
        applier = Applier(box, arrival, Rules.load(box, sorted_.fresh))
        # what the derived effects read is read before the first insert (hub/core/writer.py)
        seen = derived.reads(box, [ev.envelope for ev in sorted_.fresh if ev.envelope])
        lost = _apply_fresh(applier, sorted_.fresh, received_at, careful)
        # customers, loyalty points, reports, cashier performance (hub/sync/derived.py)
        _apply_derived(applier, sorted_.fresh, seen)
        refusals.mark_quarantined([r for r in applier.refused if r.reason != Reason.INGEST_FAILED])
        refusals.record(box, [*sorted_.refused, *lost, *applier.refused], received_at)
        for hook in INSIDE_TRANSACTION_HOOKS:
            hook()
        lost_ids = {r.ev.event_id for r in lost}
        held = [ev.seq or 0 for ev in sorted_.fresh if ev.event_id not in lost_ids]
        missing = seqs.advance(box, max([0, *held, *(r.ev.seq or 0 for r in consumed)]))
    return Outcome(sorted_, applier, lost, missing)


def _apply_derived(
    applier: Applier, fresh: list[IncomingEvent], seen: derived.Reads | None
) -> None:
    """Run the derived effects of the accepted events; an event they refuse (a
    `customer.enrolled` with a taken id) is refused like any other: seq consumed, quarantined."""
    accepted = set(applier.accepted)
    by_id = {ev.event_id: ev for ev in fresh if ev.event_id in accepted}
    envelopes = [ev.envelope for ev in by_id.values() if ev.envelope is not None]
    bodies = applier.rules.bodies
    found = derived.apply_derived(applier.box, envelopes, bodies, seen, applier.late)
    for event_id, err in found:
        applier.accepted.remove(event_id)
        applier.refuse(by_id[event_id], err)


def _locked(box_id: str) -> Box:
    """The box row, locked for the batch on PostgreSQL (one batch of a box at a time)."""
    query = Box.select().where(Box.box_id == box_id)
    box: Box = (query.for_update() if is_postgres() else query).get()
    return box


def _ack(head: BatchHead, box: Box, out: Outcome) -> BatchAck:
    # an event sent twice in one batch is answered once, under its id
    refused = [*out.triaged.refused, *out.lost, *out.applier.refused, *out.triaged.again]
    return BatchAck(
        batch_id=head.batch_id,
        box_id=box.box_id,
        acked_through=box.last_contiguous_seq,
        missing_seqs=out.missing,
        accepted=[uuid.UUID(e) for e in out.applier.accepted],
        duplicates=[uuid.UUID(e) for e in out.triaged.duplicates],
        rejected=[r.ack_entry() for r in refused],
    )


def apply_events(head: BatchHead, events: list[IncomingEvent], topic_box_id: str) -> BatchAck:
    """Apply a decoded batch in one tenant transaction; return the ack to publish after the
    commit (ValidationError: the whole message is refused; a transient error propagates)."""
    box = enrolled_box(head, topic_box_id)
    try:
        out = _pass(box, head, events, careful=False)
    except Exception as err:  # classified: transient re-raised, else per event
        if is_transient(err):
            raise
        log_event(
            log,
            "batch failed as a whole, applying it event by event",
            logging.WARNING,
            box_id=box.box_id,
            error=repr(err)[:500],
        )
        out = _pass(box, head, events, careful=True)
    out.applier.log_applied()  # committed: only what the final pass applied
    return _ack(head, out.applier.box, out)


def apply_batch(batch: EventBatch, topic_box_id: str) -> BatchAck:
    """Apply an already parsed EventBatch (tools and tests; the worker decodes raw bytes)."""
    head = BatchHead.model_construct(
        batch_id=batch.batch_id, box_id=batch.box_id, sent_at=batch.sent_at, events=[]
    )
    events = [incoming_event(ev.model_dump(mode="json"), deep=False) for ev in batch.events]
    return apply_events(head, events, topic_box_id)
