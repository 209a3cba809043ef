"""Bank deposits at the till (REP-T-05; FR-300 cash handling, FR-303 sync).

A supervisor or branch manager takes cash to the bank: from the drawer of the open shift
(whose X/Z report then shows it under "Bank deposits" and expects that much less cash), or,
with no shift open, from the safe (the day's takings after the Z). A cashier may start it;
it completes only with a supervisor's PIN (an override, like the no-sale open the permission
matrix names: cash leaves the drawer without a sale). Each deposit names its deposit slip /
bag number (once per business day) and the business day it belongs to (today, or yesterday's
takings banked the next morning), and is written with its `drawer.bank_deposit` event and
the audit entry in one transaction; the drawer opens afterwards (never queued), and a
voucher is printed for the bag.

Refusals: amount not money or <= 0 (INVALID_MONEY), more than the open drawer's expected
cash (DEPOSIT_EXCEEDS_CASH), no or a malformed slip number (DEPOSIT_SLIP_REQUIRED), a business
day other than today or yesterday (DEPOSIT_DAY_OUT_OF_RANGE), a slip number used that day
already (DUPLICATE).
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import date, timedelta
from typing import Any

from peewee import IntegrityError, PeeweeException

from appliance.approvals import override_tokens
from appliance.audit import log as audit_log
from appliance.catalog.config_docs import config_body, current_exponent
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import write_txn
from appliance.devices.documents import enqueue_document
from appliance.devices.hook import kick_drawer
from appliance.i18n import formats
from appliance.i18n.messages import catalog_for
from appliance.identity.models import Staff
from appliance.sync import outbox
from appliance.till import shifts, xz_reports
from appliance.till.models import BankDeposit, Shift
from posdomain.contract import EventType
from posdomain.errors import Conflict, Reason, ValidationError
from posdomain.money import MAX_ABS_MINOR, format_minor, parse_minor
from posdomain.obs import log_event
from posdomain.payloads import SLIP_PATTERN
from posdomain.till_codes import OverrideAction, OverrideReason

log = logging.getLogger(__name__)
_SLIP = re.compile(SLIP_PATTERN)


def _amount(amount: str) -> int:
    value = parse_minor(amount, current_exponent(), "amount")
    if not 0 < value <= MAX_ABS_MINOR:
        raise ValidationError("a deposit is a positive amount", Reason.INVALID_MONEY)
    return value


def _slip(slip_no: str) -> str:
    slip = slip_no.strip()
    if not _SLIP.match(slip):
        raise ValidationError(
            "enter the deposit slip or bag number (letters, digits, space . / -; at most 32)",
            Reason.DEPOSIT_SLIP_REQUIRED,
        )
    return slip


def _day(ctx: BoxContext, business_day: str | None) -> str:
    today = date.fromisoformat(shifts.business_day(ctx))
    try:
        day = date.fromisoformat(business_day) if business_day else today
    except ValueError:
        day = None
    if day is None or not today - timedelta(days=1) <= day <= today:
        raise ValidationError(
            "a deposit belongs to today's or yesterday's takings",
            Reason.DEPOSIT_DAY_OUT_OF_RANGE,
            {"today": today.isoformat()},
        )
    return day.isoformat()


def _check_drawer(shift_id: str | None, value: int, at: str) -> None:
    """Refuse more than the open shift's drawer is expected to hold now."""
    if shift_id is None:
        return  # from the safe: the box does not know what the safe holds
    shift = Shift.get_by_id(shift_id)
    expected = xz_reports.compute(shift, at)["cash"]["expected"]
    if value > expected:
        raise ValidationError(
            "the deposit is more than the cash the drawer should hold",
            Reason.DEPOSIT_EXCEEDS_CASH,
        )


def record(ctx: BoxContext, staff: Staff, request: dict[str, Any]) -> dict[str, Any]:
    """Record a bank deposit (`request`: amount, slip_no, business_day, note, override_token,
    reason_code); emits `drawer.bank_deposit`, opens the drawer when it came from it."""
    ctx.require_chain_intact()
    value = _amount(request["amount"])
    slip = _slip(request.get("slip_no") or "")
    day = _day(ctx, request.get("business_day"))
    approval = override_tokens.require(
        ctx,
        staff,
        OverrideAction.BANK_DEPOSIT,
        request.get("override_token"),
        request.get("reason_code") or OverrideReason.BANK_DEPOSIT.value,
    )
    exp, ref = current_exponent(), str(uuid.uuid4())
    try:
        with write_txn():
            shift = shifts.current(ctx)
            at = now_iso()
            _check_drawer(None if shift is None else shift.id, value, at)
            payload = {
                "deposit_id": ref,
                "amount": format_minor(value, exp),
                "currency": (config_body("config") or {}).get("currency", ""),
                "exponent": exp,
                "slip_no": slip,
                "business_day": day,
                "cashier_id": staff.id,
                "approver_id": approval.approver_id,
                "reason_code": approval.reason_code,
                "shift_id": None if shift is None else shift.id,
                "note": (request.get("note") or "").strip()[:200],
                "deposited_at": at,
            }
            envelope = outbox.enqueue(ctx, EventType.BANK_DEPOSIT, payload)
            BankDeposit.insert(
                id=ref,
                shift_id=payload["shift_id"],
                business_day=day,
                amount_minor=value,
                slip_no=slip,
                staff_id=staff.id,
                approver_id=approval.approver_id,
                reason_code=approval.reason_code,
                note=payload["note"],
                event_id=str(envelope.event_id),
                created_at=at,
            ).execute()
            override_tokens.use(ctx, approval, staff, f"deposit:{ref}")
            audit_log.append(
                ctx,
                actor=f"staff:{staff.id}",
                action="drawer.bank_deposit",
                target=f"deposit:{ref}",
                details={k: payload[k] for k in ("amount", "slip_no", "business_day",
                                                 "approver_id", "shift_id")},
            )  # fmt: skip
    except IntegrityError as err:
        raise Conflict(
            "this slip number was already used today", Reason.DUPLICATE, {"slip_no": slip}
        ) from err
    out = {**payload, "id": ref, "drawer": None, "printed": _print(ctx, payload)}
    if shift is not None:  # the cash comes out of the drawer now, never later
        out["drawer"] = kick_drawer(ctx, f"deposit:{ref}", "bank_deposit")
    return out


def _print(ctx: BoxContext, payload: dict[str, Any]) -> bool:
    """Queue the deposit voucher for the bag (the deposit is committed: a failure is logged)."""
    try:
        enqueue_document(f"deposit:{payload['deposit_id']}", "report", voucher_lines(ctx, payload))
    except (PeeweeException, KeyError, ValueError) as err:
        log_event(log, "deposit voucher not queued", logging.WARNING, error=str(err))
        return False
    return True


def voucher_lines(ctx: BoxContext, payload: dict[str, Any]) -> list[str]:
    """The printed deposit voucher in the box's language and the branch's time zone."""
    locale = ctx.config.locale
    t = catalog_for(locale)
    amount = xz_reports.money_text(payload["amount"], locale)
    return [
        t["ui.deposit.title"],
        f"{ctx.config.till_name}  {payload['business_day']}",
        f"{t['ui.deposit.slip']}: {payload['slip_no']}",
        f"{t['ui.deposit.amount']}: {amount} {payload['currency']}".rstrip(),
        f"{t['ui.deposit.at']}: "
        + formats.moment(payload["deposited_at"], ctx.config.timezone, locale, "short"),
        f"{t['ui.deposit.by']}: {payload['cashier_id']} / {payload['approver_id']}",
        *([f"{t['ui.deposit.note']}: {payload['note']}"] if payload["note"] else []),
        t["ui.deposit.from_drawer"] if payload["shift_id"] else t["ui.deposit.from_safe"],
    ]


def listing(ctx: BoxContext, business_day: str | None = None) -> dict[str, Any]:
    """The deposits of a business day (default today), newest first, with their sum."""
    day = _day(ctx, business_day)
    exp = current_exponent()
    rows = list(
        BankDeposit.select()
        .where(BankDeposit.business_day == day)
        .order_by(BankDeposit.created_at.desc())
    )
    return {
        "business_day": day,
        "total": format_minor(sum(r.amount_minor for r in rows), exp),
        "deposits": [
            {
                "id": r.id,
                "amount": format_minor(r.amount_minor, exp),
                "slip_no": r.slip_no,
                "shift_id": r.shift_id,
                "staff_id": r.staff_id,
                "approver_id": r.approver_id,
                "note": r.note,
                "created_at": r.created_at,
            }
            for r in rows
        ],
    }
