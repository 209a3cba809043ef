"""Apply hub → box down messages: ordered, idempotent, audited, validated before writing.

* `staff`, `config`, `pricing`, `flags`, `risk`, `resend`, `refusals`: applied if `version` >
  the held version, in one transaction with its audit entry; the body is kept in config_doc. A
  `risk` body's `mode_state` must parse (the till enforces it: appliance.risk); a `resend`
  records the hub's restore for the sync agent (appliance.sync.resend).
* `catalog`: a head or a catch-up chunk, applied by `catalog.catch_up`; `cards` (the loyalty
  card directory) likewise by `customers.directory`.
* `refusals`: refused events head office resolved; their outbox rows are marked resolved
  (`sync.refusals`), and the body is kept to settle a refusal that arrives after it.
* A message for another tenant or branch is ignored (logged, TENANT_MISMATCH).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from appliance.audit import log as audit_log
from appliance.audit.models import AuditLog
from appliance.catalog import catch_up
from appliance.catalog.config_docs import config_body, exponent_of, store_body
from appliance.catalog.policy_rejections import record_rejections
from appliance.catalog.wire import (
    CatalogHead,
    PricingBody,
    StaffBody,
    parse_body,
    till_rules,
)
from appliance.core.context import BoxContext
from appliance.core.db import write_txn
from appliance.customers import directory
from appliance.customers.wire import CardsChunk, CardsHead
from appliance.identity import session_store
from appliance.identity.models import Staff
from appliance.sync import refusals, resend
from appliance.sync.box_state import held_versions, set_held_version
from posdomain.audit_chain import Severity
from posdomain.barcodes import parse_barcode_formats
from posdomain.contract import ResendRequest, RiskModeState
from posdomain.envelope import DownMessage, utcnow
from posdomain.errors import Reason, ValidationError
from posdomain.obs import log_event
from posdomain.policy import verify_policies
from posdomain.rule_approvals import unapproved
from posdomain.tax import parse_tax_config

log = logging.getLogger(__name__)


def _staff_facts(ctx: BoxContext) -> dict[str, session_store.StaffFacts]:
    return {
        s.id: session_store.StaffFacts(
            pin_hash=s.pin_hash,
            active=bool(s.active),
            in_branch=ctx.config.branch_id in json.loads(s.branch_ids),
        )
        for s in Staff.select()
    }


def _apply_staff(ctx: BoxContext, body: dict[str, Any]) -> dict[str, str]:
    """Replace the staff list; end the sessions of whoever it removed, deactivated or gave a
    new PIN (FR-001); who and why."""
    parsed = parse_body(StaffBody, body)
    before = _staff_facts(ctx)
    Staff.delete().execute()
    for s in parsed.staff:
        Staff.insert(
            id=s.id,
            name=s.name,
            role=s.role,
            pin_hash=s.pin_hash,
            active=int(s.active),
            branch_ids=json.dumps(s.branch_ids),
            badge_digest=s.badge_digest,
        ).execute()
    return session_store.revoke_changed(before, _staff_facts(ctx), ctx.clock())


def _check_config(body: dict[str, Any]) -> None:
    """Refuse a config whose tax, exponent, barcode formats or till rules would not parse."""
    exponent = exponent_of(body)
    till_rules(body)
    tax = body.get("tax") or {}
    if tax.get("classes"):
        parse_tax_config(tax, exponent)
    parse_barcode_formats(body.get("barcode_formats") or [])


def _check_pricing(ctx: BoxContext, body: dict[str, Any]) -> None:
    """Validate the shape and audit every policy that does not verify now (once per version)."""
    parsed = parse_body(PricingBody, body)
    key = (config_body("config") or {}).get("policy_key")
    if isinstance(key, str) and key:
        _, rejected = verify_policies(parsed.policies, key, utcnow())
        record_rejections(ctx, rejected)


def _check_risk(body: dict[str, Any]) -> None:
    """Refuse a risk body whose mode state would not parse (the till would not know it)."""
    raw = body.get("mode_state")
    if raw is not None:
        if not isinstance(raw, dict):
            raise ValidationError("risk.mode_state must be an object", Reason.MALFORMED_MESSAGE)
        parse_body(RiskModeState, raw)


def _applied_details(msg: DownMessage, held: int) -> dict[str, Any]:
    details: dict[str, Any] = {"version": msg.version, "previous": held}
    if msg.kind == "risk" and isinstance(msg.body.get("mode_state"), dict):
        details["mode_state"] = msg.body["mode_state"]  # the mode the till now enforces
    return details


def _mismatch(ctx: BoxContext, msg: DownMessage) -> bool:
    cfg = ctx.config
    if (msg.tenant_id, msg.branch_id) == (cfg.tenant_id, cfg.branch_id):
        return False
    log_event(
        log,
        "down message for another tenant/branch ignored",
        logging.WARNING,
        kind=msg.kind,
        version=msg.version,
        reason=str(Reason.TENANT_MISMATCH),
    )
    return True


def _refused_before(msg: DownMessage) -> bool:
    """True if this kind's latest refusal was of this very version (a redelivery)."""
    last = (
        AuditLog.select(AuditLog.details)
        .where(AuditLog.action == f"down.{msg.kind}.refused")
        .order_by(AuditLog.seq.desc())
        .first()
    )
    return last is not None and json.loads(last.details).get("version") == msg.version


def _refused_unapproved(ctx: BoxContext, msg: DownMessage) -> bool:
    """True (audited once per version, WARN) if a new message carries a business rule
    without its two-person approval (FR-901): the held version stays in force."""
    missing = unapproved(msg.kind, msg.body)
    if not missing:
        return False
    with write_txn():
        if msg.version <= held_versions().get(msg.kind, 0) or _refused_before(msg):
            return True
        audit_log.append(
            ctx,
            actor="hub",
            action=f"down.{msg.kind}.refused",
            target=msg.kind,
            severity=Severity.WARN,
            details={
                "version": msg.version,
                "reason": str(Reason.RULE_NOT_APPROVED),
                "rules": missing,
            },
        )
    log_event(
        log,
        "down message refused: rule not approved",
        logging.WARNING,
        kind=msg.kind,
        version=msg.version,
        reason=str(Reason.RULE_NOT_APPROVED),
        rules=missing,
    )
    return True


def apply_down(ctx: BoxContext, msg: DownMessage) -> bool:
    """Apply a down message if it is new (catalog: a head or a chunk); True if applied."""
    if _mismatch(ctx, msg):
        return False
    if msg.kind == "catalog":
        if msg.body.get("head") is True:
            return catch_up.apply_head(ctx, parse_body(CatalogHead, msg.body))
        return catch_up.apply_chunk(ctx, *catch_up.chunk_of(msg.body))
    if msg.kind == "cards":
        if msg.body.get("head") is True:
            return directory.apply_head(ctx, parse_body(CardsHead, msg.body))
        return directory.apply_chunk(ctx, parse_body(CardsChunk, msg.body))
    if _refused_unapproved(ctx, msg):
        return False
    with write_txn():
        held = held_versions().get(msg.kind, 0)
        if msg.version <= held:
            return False
        details = _applied_details(msg, held)
        if msg.kind == "staff":
            ended = _apply_staff(ctx, msg.body)
            if ended:
                details["sessions_ended"] = ended
        elif msg.kind == "config":
            _check_config(msg.body)
        elif msg.kind == "pricing":
            _check_pricing(ctx, msg.body)
        elif msg.kind == "resend":
            resend.record(ctx, parse_body(ResendRequest, msg.body))
        elif msg.kind == "risk":
            _check_risk(msg.body)
        elif msg.kind == "refusals":
            refusals.apply_resolutions(ctx, msg.body)
        store_body(msg.kind, msg.version, msg.body)
        set_held_version(msg.kind, msg.version)
        audit_log.append(
            ctx,
            actor="hub",
            action=f"down.{msg.kind}.applied",
            target=msg.kind,
            details=details,
        )
    log_event(log, "down message applied", kind=msg.kind, version=msg.version)
    return True
