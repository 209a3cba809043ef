"""Till shifts (FR-300, REP-T-03/04): open with a float, drops, paid-outs, X report, close + Z.

One open shift per till (the box's till; a partial unique index enforces it). Money is taken
only into an open shift (`for_takings`): where the tenant's config counts drawers (the default)
a cashier must have opened one with the float, else checkout is refused SHIFT_NOT_OPEN; where
it does not (`config.till.drawer_counting` false), the box opens a 'day' shift at the first
sale of the business day (the box's local date) and the day's Z closes it; a day shift still
open from an earlier day is closed with its Z first. Cashiers open,
close and see the X report of their own shift only (scope S); supervisors and managers act on
any shift of the branch and are the only ones shown the expected figures of a Z (blind count
for cashiers). Closing writes the numbered, immutable Z report and a `shift.closed` event;
every X report shown or printed is sent up as a `shift.snapshot` event (REP-T-03 on the hub).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from peewee import IntegrityError, PeeweeException

from appliance.audit import log as audit_log
from appliance.catalog.config_docs import config_body, current_exponent
from appliance.catalog.wire import till_rules
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import select_one, write_txn
from appliance.devices.documents import enqueue_document
from appliance.identity import auth
from appliance.identity.models import Staff
from appliance.sync import outbox
from appliance.till import xz_reports
from appliance.till.models import CashMovement, Shift, ZReport
from posdomain.contract import EventType
from posdomain.errors import Conflict, Forbidden, Reason, ValidationError
from posdomain.money import format_minor, parse_minor
from posdomain.obs import log_event
from posdomain.permissions import Action, Scope, authorize
from posdomain.till_codes import PaidOutReason

log = logging.getLogger(__name__)


def current(ctx: BoxContext) -> Shift | None:
    """The open shift of this till, if any."""
    return select_one(Shift, _OPEN_SQL, (ctx.config.till_name,))


# asked by every payment: a constant statement (issue 15), what get_or_none would read
_OPEN_SQL = "SELECT * FROM shifts WHERE till = ? AND state = 'open' LIMIT 1"


def require_open(ctx: BoxContext) -> Shift:
    """The open shift of this till (409 SHIFT_NOT_OPEN)."""
    shift = current(ctx)
    if shift is None:
        raise Conflict("no shift is open on this till", Reason.SHIFT_NOT_OPEN)
    return shift


def drawer_counting() -> bool:
    """Whether this store counts drawers per shift (tenant/branch config, default yes)."""
    return till_rules(config_body("config") or {}).drawer_counting


def business_day(ctx: BoxContext) -> str:
    """Today's date where the box stands (its configured time zone)."""
    return datetime.now(ZoneInfo(ctx.config.timezone)).date().isoformat()


def _stale_day_shift(ctx: BoxContext, shift: Shift) -> bool:
    return bool(shift.kind == "day" and shift.business_day != business_day(ctx))


def for_takings(ctx: BoxContext, staff: Staff) -> Shift:
    """The shift money taken now lands in (inside the caller's write transaction): the open
    shift; in day mode a new day shift, closing one left open from an earlier day with its Z.
    Refused 409 SHIFT_NOT_OPEN where drawers are counted and no shift is open."""
    shift = current(ctx)
    if shift is not None and not _stale_day_shift(ctx, shift):
        return shift
    if drawer_counting():
        raise Conflict(
            "no shift is open on this till: open one with the counted float first",
            Reason.SHIFT_NOT_OPEN,
            {"till": ctx.config.till_name, "drawer_counting": True},
        )
    if shift is not None:
        _close_stale(ctx, shift)
    return _open(ctx, staff, 0, "day")


def _close_stale(ctx: BoxContext, shift: Shift) -> None:
    """Close a day shift of an earlier business day with its (uncounted) Z."""
    body = _store_z(ctx, shift, "system:day-close", None)
    log_event(log, "day shift closed at the next day's first sale", z_no=body["z_no"])


def scope_on(ctx: BoxContext, staff: Staff, action: Action, shift: Shift) -> Scope:
    """Authorise `action` on `shift`; scope S (cashier) only for their own shift."""
    scope = authorize(
        auth.principal_for(ctx, staff),
        action,
        tenant_id=ctx.config.tenant_id,
        branch_id=ctx.config.branch_id,
    )
    if scope is Scope.SELF and shift.staff_id != staff.id:
        raise Forbidden("this is another cashier's shift", Reason.FORBIDDEN_ROLE)
    return scope


def _minor(amount: str, field: str) -> int:
    value = parse_minor(amount, current_exponent(), field)
    if value < 0:
        raise ValidationError(f"{field} cannot be negative", Reason.INVALID_MONEY)
    return value


def shift_dict(shift: Shift) -> dict[str, Any]:
    """API form of a shift."""
    return {
        "id": shift.id,
        "till": shift.till,
        "staff_id": shift.staff_id,
        "opening_float": format_minor(shift.opening_float_minor, current_exponent()),
        "opened_at": shift.opened_at,
        "state": shift.state,
        "closed_at": shift.closed_at,
        "kind": shift.kind,
        "business_day": shift.business_day,
    }


def open_shift(ctx: BoxContext, staff: Staff, opening_float: str) -> dict[str, Any]:
    """Open this till's shift with the counted opening float (409 if one is open)."""
    ctx.require_chain_intact()
    float_minor = _minor(opening_float, "opening_float")
    try:
        with write_txn():
            shift = current(ctx)
            if shift is not None and _stale_day_shift(ctx, shift):
                _close_stale(ctx, shift)
            elif shift is not None:
                raise Conflict("a shift is already open", Reason.SHIFT_ALREADY_OPEN)
            opened = _open(ctx, staff, float_minor, "counted")
    except IntegrityError as err:
        raise Conflict("a shift is already open", Reason.SHIFT_ALREADY_OPEN) from err
    return shift_dict(opened)


def _open(ctx: BoxContext, staff: Staff, float_minor: int, kind: str) -> Shift:
    """Insert and audit an open shift (inside the caller's write transaction)."""
    shift_id = str(uuid.uuid4())
    Shift.insert(
        id=shift_id,
        till=ctx.config.till_name,
        staff_id=staff.id,
        opening_float_minor=float_minor,
        opened_at=now_iso(),
        kind=kind,
        business_day=business_day(ctx) if kind == "day" else None,
    ).execute()
    audit_log.append(
        ctx,
        actor=f"staff:{staff.id}",
        action="shift.opened",
        target=f"shift:{shift_id}",
        details={"opening_float": format_minor(float_minor, current_exponent()), "kind": kind},
    )
    return Shift.get_by_id(shift_id)


def cash_movement(
    ctx: BoxContext, staff: Staff, kind: str, amount: str, reason_code: str | None, note: str
) -> dict[str, Any]:
    """Record a cash drop (to the safe) or a paid-out (needs a reason code) on the open shift,
    with its `drawer.cash_movement` event and the audit entry in one transaction."""
    ctx.require_chain_intact()
    if kind == "paid_out" and reason_code not in {r.value for r in PaidOutReason}:
        raise ValidationError(
            "a paid-out needs a reason code",
            Reason.REASON_REQUIRED,
            {"allowed": [r.value for r in PaidOutReason]},
        )
    value = _minor(amount, "amount")
    if value == 0:
        raise ValidationError("amount must be positive", Reason.INVALID_MONEY)
    move_id = str(uuid.uuid4())
    with write_txn():
        shift = require_open(ctx)
        scope_on(ctx, staff, Action.SHIFT, shift)
        at = now_iso()
        CashMovement.insert(
            id=move_id,
            shift_id=shift.id,
            kind=kind,
            amount_minor=value,
            reason_code=reason_code,
            note=note[:200],
            staff_id=staff.id,
            created_at=at,
        ).execute()
        # up to the hub in the same transaction (REP-T-05 subtracts the day's paid-outs)
        exp = current_exponent()
        outbox.enqueue(
            ctx,
            EventType.CASH_MOVEMENT,
            {
                "movement_id": move_id,
                "kind": kind,
                "amount": format_minor(value, exp),
                "currency": (config_body("config") or {}).get("currency", ""),
                "exponent": exp,
                "reason_code": reason_code,
                "shift_id": shift.id,
                "cashier_id": staff.id,
                "business_day": business_day(ctx),
                "note": note[:200],
                "moved_at": at,
            },
        )
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action=f"shift.{kind}",
            target=f"shift:{shift.id}",
            details={"amount": amount, "reason_code": reason_code},
        )
    return {"id": move_id, "shift_id": shift.id, "kind": kind, "amount": amount}


def x_report(ctx: BoxContext, staff: Staff) -> dict[str, Any]:
    """The X report of the open shift: nothing is reset; the snapshot goes up to the hub as a
    `shift.snapshot` event in the same transaction (REP-T-03 on the hub shows the latest)."""
    with write_txn():
        shift = require_open(ctx)
        scope_on(ctx, staff, Action.X_REPORT, shift)
        body = xz_reports.report_body(shift, now_iso(), "X")
        outbox.enqueue(ctx, EventType.SHIFT_SNAPSHOT, {**body, "exponent": current_exponent()})
    return body


def print_x(ctx: BoxContext, staff: Staff) -> dict[str, Any]:
    """Queue the X report on the receipt printer (a new printout each time)."""
    body = x_report(ctx, staff)
    job = enqueue_document(f"x:{body['shift_id']}:{body['as_of']}", "report", _lines(ctx, body))
    return {"job_id": job["id"], "state": job["state"]}


def _lines(ctx: BoxContext, body: dict[str, Any]) -> list[str]:
    """The printed X/Z in the box's language and the branch's time zone."""
    return xz_reports.print_lines(body, ctx.config.locale, ctx.config.timezone)


def print_z(ctx: BoxContext, z_no: int) -> dict[str, Any]:
    """Reprint a stored Z report on the receipt printer (marked COPY)."""
    body = xz_reports.get_z(z_no)
    job = enqueue_document(f"z:{z_no}", "report", _lines(ctx, body), copy=True)
    return {"job_id": job["id"], "state": job["state"]}


def _counted_minor(counted: dict[str, str]) -> dict[str, int]:
    unknown = sorted(set(counted) - {"cash", "card"})
    if unknown:
        raise ValidationError(f"unknown tender {unknown[0]!r}", Reason.UNKNOWN_TENDER)
    return {k: _minor(v, f"counted.{k}") for k, v in counted.items()}


def _store_z(
    ctx: BoxContext, shift: Shift, closer: str, counted: dict[str, int] | None
) -> dict[str, Any]:
    """Number, store and announce the Z (inside the close transaction); `closer` is the staff
    id, or `system:day-close` for a day shift the box closed itself."""
    closed_at = now_iso()
    body = xz_reports.report_body(shift, closed_at, "Z", counted)
    last = ZReport.select().order_by(ZReport.z_no.desc()).first()
    body["z_no"] = 1 if last is None else last.z_no + 1
    body["closed_by"] = closer
    ZReport.insert(
        z_no=body["z_no"],
        shift_id=shift.id,
        till=shift.till,
        body=json.dumps(body, sort_keys=True),
        grand_total_minor=xz_reports.previous_grand_total() + body["net_total_minor"],
        closed_at=closed_at,
    ).execute()
    Shift.update(state="closed", closed_at=closed_at, closed_by=closer).where(
        Shift.id == shift.id
    ).execute()
    envelope = outbox.enqueue(ctx, EventType.SHIFT_CLOSED, body)
    audit_log.append(
        ctx,
        actor=closer if closer.startswith("system:") else f"staff:{closer}",
        action="shift.closed",
        target=f"shift:{shift.id}",
        details={"z_no": body["z_no"], "event_id": str(envelope.event_id)},
    )
    return body


def close_shift(ctx: BoxContext, staff: Staff, counted: dict[str, str]) -> dict[str, Any]:
    """Close the open shift with the counted amounts per tender; write and print the Z. A day
    shift (drawers not counted) closed without counts has an uncounted Z."""
    ctx.require_chain_intact()
    amounts = _counted_minor(counted)
    with write_txn():
        shift = require_open(ctx)
        scope = scope_on(ctx, staff, Action.SHIFT, shift)
        uncounted = shift.kind == "day" and not amounts
        body = _store_z(ctx, shift, staff.id, None if uncounted else amounts)
    log_event(log, "shift closed", z_no=body["z_no"], shift_id=shift.id)
    try:
        enqueue_document(f"z:{body['z_no']}", "report", _lines(ctx, body))
    except (PeeweeException, KeyError, ValueError) as err:  # the Z is committed; only logged
        log_event(log, "Z report not queued", logging.WARNING, error=str(err))
    if scope is Scope.SELF:  # blind close: a cashier is not shown the expected figures
        return {"z_no": body["z_no"], "shift_id": shift.id, "closed_at": body["as_of"]}
    return body
