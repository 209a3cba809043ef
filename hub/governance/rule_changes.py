"""The business-rule decision log and its two-person rule (FR-901).

A change to a business rule — the `tax`, `pricing`, `risk` or `loyalty` config of a tenant
(config.RULE_KINDS), or a promotion (a pricing policy: new, next version, retirement) — is
*proposed* with a reason, its impact and a change reference. It is validated then exactly as
storing it would be (the same 400/404 answers), numbered in the tenant's log (`seq`) and
audited, and has no effect yet.

`activate` is the one function that makes a rule version: it refuses the proposer as the
approver, whatever their role (APPLICATION_OWNER included: 409 SAME_PERSON, audited), and
only it passes the change id the writers need (`config.write_version` refuses a rule kind
without one, PostgreSQL CHECKs refuse a rule version without `change_id` and a decision by
the proposer). Nothing else in the hub checks the rule: there is nothing else to check.

Bootstrap: `activate(None, ...)` activates without a second person only while the tenant
has no box (409 TENANT_LIVE afterwards): the demo seed and a new tenant's defaults, audited
WARN `rule.bootstrap_activated`, marked `bootstrap` in the log and on the portal.

Boxes accept only approved rule versions: the down messages carry each rule's approval
(`approvals`, `approval_for`), and a box refuses a rule without one
(posdomain.rule_approvals).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NoReturn

from peewee import fn
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from hub.core.db import db, is_postgres, tenant_tx
from hub.core.models import utcnow
from hub.governance import audit, config
from hub.governance.models import RuleChange
from hub.identity.models import Box
from hub.pricing import policies
from posdomain.audit_chain import Severity
from posdomain.contract import field_details
from posdomain.errors import Conflict, HubReason, NotFound, Reason, ValidationError
from posdomain.permissions import Action, Principal, authorize

LOG_KINDS = (*config.RULE_KINDS, "promotion")
BOOTSTRAP = "bootstrap"
CHANGE_REF = r"^[A-Za-z0-9._/#:-]+$"


class Evidence(BaseModel):
    """Why, what it does, and the change reference of a rule change."""

    model_config = ConfigDict(extra="forbid")

    impact: str = Field(min_length=1, max_length=1000)
    change_ref: str = Field(min_length=1, max_length=100, pattern=CHANGE_REF)


def evidence_of(impact: str | None, change_ref: str | None) -> Evidence:
    """The evidence of a proposal from optional body fields (400 VALIDATION_FAILED naming the
    missing or malformed field)."""
    try:
        return Evidence(impact=(impact or "").strip(), change_ref=(change_ref or "").strip())
    except PydanticValidationError as err:
        raise ValidationError(
            "a business-rule change needs its impact and a change reference",
            Reason.VALIDATION_FAILED,
            field_details(err),
        ) from err


class DecideIn(BaseModel):
    """The second person's note on approving or rejecting a change."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=1000)


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def change_dict(row: RuleChange) -> dict[str, Any]:
    """JSON form of a log entry."""
    return {
        "id": row.id,
        "seq": int(row.seq),
        "kind": row.kind,
        "operation": row.operation,
        "target": row.target,
        "branch_id": row.branch_id,
        "payload": row.payload,
        "reason": row.reason,
        "impact": row.impact,
        "change_ref": row.change_ref,
        "state": row.state,
        "proposed_by": row.proposed_by,
        "proposed_at": row.proposed_at.isoformat(),
        "decided_by": row.decided_by,
        "decided_at": _iso(row.decided_at),
        "effective_at": _iso(row.effective_at),
        "bootstrap": bool(row.bootstrap),
        "note": row.note,
        "result": row.result,
    }


def _next_seq(tenant_id: str) -> int:
    if is_postgres():  # one proposal at a time per tenant takes the next number
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"rule_changes:{tenant_id}",))
    top = RuleChange.select(fn.MAX(RuleChange.seq)).where(RuleChange.tenant_id == tenant_id)
    return int(top.scalar() or 0) + 1


def _create(
    actor: str,
    tenant_id: str,
    kind: str,
    operation: str,
    target: str,
    payload: dict[str, Any],
    reason: str,
    evidence: Evidence,
    branch_id: str | None = None,
) -> RuleChange:
    """Insert a PROPOSED entry, audited (caller's tenant transaction)."""
    row: RuleChange = RuleChange.create(
        id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        seq=_next_seq(tenant_id),
        kind=kind,
        branch_id=branch_id,
        operation=operation,
        target=target,
        payload=payload,
        reason=reason,
        impact=evidence.impact.strip(),
        change_ref=evidence.change_ref,
        state="PROPOSED",
        proposed_by=actor,
        proposed_at=utcnow(),
    )
    audit.append(
        tenant_id,
        actor,
        "rule.proposed",
        f"rule_change:{row.id}",
        details={
            "seq": row.seq,
            "kind": kind,
            "operation": operation,
            "target": target,
            "branch_id": branch_id,
            "reason": reason,
            "impact": row.impact,
            "change_ref": row.change_ref,
            "payload": payload,
        },
    )
    return row


def propose_config(
    principal: Principal,
    tenant_id: str,
    kind: str,
    body: dict[str, Any],
    reason: str,
    evidence: Evidence,
    branch_id: str | None = None,
) -> dict[str, Any]:
    """Propose the next version of a rule config kind (validated now; no effect yet)."""
    reason = config.check_change(kind, reason, branch_id)
    if kind not in config.RULE_KINDS:
        raise NotFound(f"{kind} is not a business rule", Reason.UNKNOWN_CONFIG_KIND)
    with tenant_tx(tenant_id):
        clean = config.clean_change(tenant_id, kind, body, branch_id)
        target = f"config:{kind}" + (f"@{branch_id}" if branch_id else "")
        row = _create(
            principal.actor,
            tenant_id,
            kind,
            "set",
            target,
            {"body": clean},
            reason,
            evidence,
            branch_id,
        )
        return change_dict(row)


def propose_policy(
    principal: Principal, tenant_id: str, body: policies.PolicyIn, evidence: Evidence
) -> dict[str, Any]:
    """Propose a promotion: a new pricing policy or the next version of one."""
    with tenant_tx(tenant_id):
        ready = policies.prepare_policy(tenant_id, body)
        payload = {"policy": ready.model_dump(mode="json")}
        row = _create(
            principal.actor,
            tenant_id,
            "promotion",
            "upsert",
            f"policy:{ready.policy_id}",
            payload,
            ready.reason.strip(),
            evidence,
        )
        return change_dict(row)


def propose_retire(
    principal: Principal, tenant_id: str, policy_id: str, reason: str, evidence: Evidence
) -> dict[str, Any]:
    """Propose to end a promotion now (404 unknown, 409 already ended)."""
    reason = policies.require_reason(reason)
    with tenant_tx(tenant_id):
        policies.check_retire(tenant_id, policy_id)
        row = _create(
            principal.actor,
            tenant_id,
            "promotion",
            "retire",
            f"policy:{policy_id}",
            {"policy_id": policy_id},
            reason,
            evidence,
        )
        return change_dict(row)


def _live(tenant_id: str) -> bool:
    """A tenant is live once it has a box (caller's tenant transaction)."""
    return bool(Box.select(Box.box_id).where(Box.tenant_id == tenant_id).exists())


def _refuse_same_person(approver: Principal, tenant_id: str, row: RuleChange) -> NoReturn:
    """Audit the refused self-approval (own transaction: the caller's rolls back)."""
    with tenant_tx(tenant_id):
        audit.append(
            tenant_id,
            approver.actor,
            "rule.approval_refused",
            f"rule_change:{row.id}",
            Severity.WARN,
            {"seq": row.seq, "reason": str(HubReason.SAME_PERSON), "role": approver.role.value},
        )
    raise Conflict(
        "a rule change needs a second person: the proposer cannot approve it",
        HubReason.SAME_PERSON,
        {"proposed_by": row.proposed_by},
    )


def _apply(row: RuleChange, now: datetime) -> dict[str, Any]:
    """Write the rule version the change describes (caller's tenant transaction)."""
    tenant_id, payload = row.tenant_id, dict(row.payload)
    if row.kind != "promotion":
        version = config.write_version(
            None,
            tenant_id,
            row.kind,
            dict(payload["body"]),
            row.reason,
            row.branch_id,
            change_id=row.id,
            actor=row.proposed_by,
        )
        return {"config_version": int(version.version)}
    if row.operation == "retire":
        done = policies.apply_retire(
            row.proposed_by, tenant_id, str(payload["policy_id"]), row.reason, row.id, now
        )
    else:
        body = policies.PolicyIn.model_validate(payload["policy"])
        done = policies.apply_policy(row.proposed_by, tenant_id, body, row.id, now)
    wire = done["policy"]
    return {"policy_id": wire["policy_id"], "policy_version": wire["policyVersion"]}


def activate(
    approver: Principal | None, tenant_id: str, change_id: str, note: str = ""
) -> dict[str, Any]:
    """THE one function that makes a business-rule version take effect (FR-901).

    `approver` must hold `rule.approve` for the tenant and must not be the proposer (409
    SAME_PERSON, for every role). `approver=None` is the bootstrap path: only while the
    tenant has no box (409 TENANT_LIVE), audited WARN. 409 INVALID_TRANSITION unless the
    change is PROPOSED; a change that no longer applies (its policy ended meanwhile) answers
    as storing it would and stays PROPOSED.
    """
    if approver is not None:
        authorize(approver, Action.RULE_APPROVE, tenant_id=tenant_id)
    with tenant_tx(tenant_id):
        row = _get(tenant_id, change_id, for_update=True)
        if row.state != "PROPOSED":
            raise Conflict(f"rule change is {row.state}", Reason.INVALID_TRANSITION)
        if approver is None and _live(tenant_id):
            raise Conflict(
                "the tenant has boxes: a rule change needs a second person's approval",
                HubReason.TENANT_LIVE,
            )
        if approver is None or approver.actor != row.proposed_by:
            return _activate(row, approver, note)
    _refuse_same_person(approver, tenant_id, row)


def _activate(row: RuleChange, approver: Principal | None, note: str) -> dict[str, Any]:
    """Write the version and mark the change ACTIVE, audited (activate's transaction)."""
    now = utcnow()
    row.result = _apply(row, now)
    row.state = "ACTIVE"
    row.decided_by = approver.actor if approver else BOOTSTRAP
    row.decided_at = row.effective_at = now
    row.note = note.strip()
    row.bootstrap = approver is None
    row.save()
    audit.append(
        row.tenant_id,
        row.decided_by,
        "rule.activated" if approver else "rule.bootstrap_activated",
        f"rule_change:{row.id}",
        Severity.WARN,
        {
            "seq": row.seq,
            "kind": row.kind,
            "target": row.target,
            "proposed_by": row.proposed_by,
            "change_ref": row.change_ref,
            "result": row.result,
            "note": row.note,
        },
    )
    return change_dict(row)


def reject(principal: Principal, tenant_id: str, change_id: str, note: str) -> dict[str, Any]:
    """A second person turns a proposal down (the proposer cannot decide it either way)."""
    authorize(principal, Action.RULE_APPROVE, tenant_id=tenant_id)
    with tenant_tx(tenant_id):
        row = _get(tenant_id, change_id, for_update=True)
        if row.state != "PROPOSED":
            raise Conflict(f"rule change is {row.state}", Reason.INVALID_TRANSITION)
        if row.proposed_by == principal.actor:
            raise Conflict(
                "the proposer cannot decide their own rule change", HubReason.SAME_PERSON
            )
        row.state, row.decided_by, row.decided_at = "REJECTED", principal.actor, utcnow()
        row.note = note.strip()
        row.save()
        audit.append(
            tenant_id,
            principal.actor,
            "rule.rejected",
            f"rule_change:{row.id}",
            Severity.INFO,
            {"seq": row.seq, "kind": row.kind, "target": row.target, "note": row.note},
        )
        return change_dict(row)


def bootstrap_config(
    tenant_id: str, kind: str, body: dict[str, Any], reason: str, actor: str = "system:seed"
) -> dict[str, Any]:
    """Seed a rule config of a tenant without boxes: propose + bootstrap activation (audited;
    409 TENANT_LIVE once the tenant has a box)."""
    evidence = Evidence(impact="initial rules of a new tenant", change_ref="bootstrap")
    with tenant_tx(tenant_id):
        config.require_tenant(tenant_id)
        clean = config.validate_body(kind, body)
        row = _create(
            actor, tenant_id, kind, "set", f"config:{kind}", {"body": clean}, reason, evidence
        )
        return activate(None, tenant_id, row.id)


def bootstrap_policy(
    tenant_id: str, body: policies.PolicyIn, actor: str = "system:seed"
) -> dict[str, Any]:
    """Seed a promotion of a tenant without boxes (as `bootstrap_config`)."""
    evidence = Evidence(impact="initial promotions of a new tenant", change_ref="bootstrap")
    with tenant_tx(tenant_id):
        ready = policies.prepare_policy(tenant_id, body)
        row = _create(
            actor,
            tenant_id,
            "promotion",
            "upsert",
            f"policy:{ready.policy_id}",
            {"policy": ready.model_dump(mode="json")},
            ready.reason.strip(),
            evidence,
        )
        return activate(None, tenant_id, row.id)


def _get(tenant_id: str, change_id: str, for_update: bool = False) -> RuleChange:
    query = RuleChange.select().where(RuleChange.tenant_id == tenant_id, RuleChange.id == change_id)
    if for_update and is_postgres():  # SQLite (dev demo) serialises writers anyway
        query = query.for_update()
    row: RuleChange | None = query.first()
    if row is None:
        raise NotFound("no such rule change", Reason.NOT_FOUND)
    return row


def get_change(tenant_id: str, change_id: str) -> dict[str, Any]:
    """One entry of the log (404 unknown)."""
    with tenant_tx(tenant_id):
        return change_dict(_get(tenant_id, change_id))
