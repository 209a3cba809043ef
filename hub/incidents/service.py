"""The incident lifecycle (FR-702): open, classify, respond, resolve; MTTA and MTTR.

DETECTED (from a CRITICAL alert automatically, or by hand) → CLASSIFIED (severity, module,
scope) → RESPONDING (one or more containment steps) → RESOLVED (root cause, verification).
A step out of order is 409 INVALID_TRANSITION. Every step is audited on the tenant chain
and the audit entry (chain, seq, hash) is stored with the step as its evidence. Branch
roles see and act on the incidents of their branches only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.alerting.models import Alert
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.governance import audit, config
from hub.incidents import containment
from hub.incidents.models import Incident, IncidentStep
from hub.integrations import events as webhooks
from hub.releases import artifacts as releases
from posdomain.audit_chain import AuditRecord, Severity
from posdomain.errors import Conflict, Forbidden, HubReason, NotFound, Reason, ValidationError
from posdomain.permissions import Principal

SEVERITIES = ("INFO", "WARN", "CRITICAL")
STATES = ("DETECTED", "CLASSIFIED", "RESPONDING", "RESOLVED")
ScopeKind = Literal["tenant", "branch", "box"]
SeverityName = Literal["INFO", "WARN", "CRITICAL"]
SYSTEM = "system:alerting"


class OpenIn(BaseModel):
    """Body of an incident opened by hand."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    branch_id: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=2000)


class ClassifyIn(BaseModel):
    """Body of the CLASSIFY step."""

    model_config = ConfigDict(extra="forbid")

    severity: SeverityName
    module: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_.-]*$")
    scope: ScopeKind
    scope_id: str | None = Field(default=None, max_length=64)


class ResolveIn(BaseModel):
    """Body of the RESOLVE step."""

    model_config = ConfigDict(extra="forbid")

    root_cause: str = Field(min_length=1, max_length=4000)
    verification: str = Field(min_length=1, max_length=4000)


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def incident_dict(i: Incident, steps: list[IncidentStep] | None = None) -> dict[str, Any]:
    """JSON form of an incident (with its steps when given)."""
    out: dict[str, Any] = {
        k: getattr(i, k)
        for k in (
            "id",
            "title",
            "state",
            "severity",
            "module",
            "scope_kind",
            "scope_id",
            "branch_id",
            "source",
            "alert_id",
            "detected_by",
            "classified_by",
            "resolved_by",
            "root_cause",
            "verification",
        )
    }
    for k in ("detected_at", "classified_at", "first_response_at", "resolved_at"):
        out[k] = _iso(getattr(i, k))
    if steps is not None:
        out["steps"] = [
            {
                "step": s.step,
                "actor": s.actor,
                "at": s.at.isoformat(),
                "details": s.details,
                "evidence": {"chain": s.audit_chain, "seq": s.audit_seq, "hash": s.audit_hash},
            }
            for s in steps
        ]
    return out


_WEBHOOK_STEPS = {"DETECT": webhooks.INCIDENT_OPENED, "RESOLVE": webhooks.INCIDENT_RESOLVED}


def _step(
    incident: Incident, step: str, actor: str, rec: AuditRecord, details: dict[str, Any]
) -> None:
    IncidentStep.create(
        tenant_id=incident.tenant_id,
        incident_id=incident.id,
        step=step,
        actor=actor,
        at=utcnow(),
        details=details,
        audit_chain=rec.chain,
        audit_seq=rec.seq,
        audit_hash=rec.hash,
    )
    kind = _WEBHOOK_STEPS.get(step)
    if kind is not None:  # outbound business webhook (FR-P7-1010), same transaction
        webhooks.emit(incident.tenant_id, kind, f"{incident.id}_{step}", incident_dict(incident))


def _audit(
    who: Principal | None, incident: Incident, action: str, details: dict[str, Any]
) -> AuditRecord:
    severity = Severity.WARN if incident.severity == "CRITICAL" else Severity.INFO
    body = {**details, "incident_id": incident.id, "branch_id": incident.branch_id}
    if who is None:
        return audit.append(
            incident.tenant_id, SYSTEM, action, f"incident:{incident.id}", severity, body
        )
    return audit.record(who, action, f"incident:{incident.id}", severity, body)


def open_incident(
    principal: Principal, tenant_id: str, body: OpenIn, branches: list[str] | None
) -> dict[str, Any]:
    """Open an incident by hand (DETECT step); branch roles must name one of their branches."""
    if branches is not None and body.branch_id not in branches:
        raise Forbidden("name one of your branches", Reason.FORBIDDEN_BRANCH)
    with tenant_tx(tenant_id):
        if body.branch_id is not None:  # another tenant's branch is as unknown as a made-up one
            config.require_branch(tenant_id, body.branch_id)
        incident = Incident.create(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            title=body.title,
            branch_id=body.branch_id,
            source="manual",
            detected_at=utcnow(),
            detected_by=principal.actor,
        )
        details = {"title": body.title, "note": body.note}
        rec = _audit(principal, incident, "incident.detected", details)
        _step(incident, "DETECT", principal.actor, rec, details)
        return incident_dict(incident)


def detect_from_alerts(tenant_id: str) -> int:
    """Open one incident per live CRITICAL alert that has none (idempotent); how many."""
    opened = 0
    with tenant_tx(tenant_id):
        linked = Incident.select(Incident.alert_id).where(Incident.alert_id.is_null(False))
        alerts = Alert.select().where(
            Alert.tenant_id == tenant_id,
            Alert.severity == "CRITICAL",
            Alert.state.in_(("OPEN", "ACKED")),
            Alert.id.not_in(linked),
        )
        for alert in alerts.order_by(Alert.opened_at):
            incident = Incident.create(
                id=uuid.uuid4().hex,
                tenant_id=tenant_id,
                title=alert.summary[:200],
                severity="CRITICAL",
                branch_id=alert.branch_id,
                source="alert",
                alert_id=alert.id,
                detected_at=alert.opened_at,
                detected_by=SYSTEM,
            )
            details = {"alert_id": alert.id, "rule": alert.rule, "key": alert.key}
            rec = _audit(None, incident, "incident.detected", details)
            _step(incident, "DETECT", SYSTEM, rec, details)
            opened += 1
    return opened


def _get(tenant_id: str, branches: list[str] | None, incident_id: str) -> Incident:
    incident = Incident.get_or_none(Incident.id == incident_id, Incident.tenant_id == tenant_id)
    if incident is None or (branches is not None and incident.branch_id not in branches):
        raise NotFound("no such incident")
    return incident


def _expect(incident: Incident, allowed: tuple[str, ...], step: str) -> None:
    if incident.state not in allowed:
        raise Conflict(
            f"cannot {step} an incident in state {incident.state}",
            Reason.INVALID_TRANSITION,
            {"state": incident.state, "allowed_from": list(allowed)},
        )


def classify(
    principal: Principal, tenant_id: str, incident_id: str, body: ClassifyIn
) -> dict[str, Any]:
    """CLASSIFY: severity, module and scope (TENANT_OWNER / APPLICATION_OWNER)."""
    with tenant_tx(tenant_id):
        incident = _get(tenant_id, None, incident_id)
        _expect(incident, ("DETECTED", "CLASSIFIED"), "classify")
        scope_id = tenant_id if body.scope == "tenant" else body.scope_id
        incident.state, incident.severity, incident.module = (
            "CLASSIFIED",
            body.severity,
            body.module,
        )
        incident.scope_kind, incident.scope_id = body.scope, scope_id
        if incident.classified_at is None:
            incident.classified_at, incident.classified_by = utcnow(), principal.actor
        incident.save()
        details = body.model_dump()
        rec = _audit(principal, incident, "incident.classified", details)
        _step(incident, "CLASSIFY", principal.actor, rec, details)
        return incident_dict(incident)


def respond(
    principal: Principal,
    tenant_id: str,
    branches: list[str] | None,
    incident_id: str,
    body: containment.RespondIn,
    env: str,
) -> dict[str, Any]:
    """RESPOND: run a containment action and record it with its evidence."""
    with tenant_tx(tenant_id):
        _expect(_get(tenant_id, branches, incident_id), ("CLASSIFIED", "RESPONDING"), "respond")
    result = containment.run(principal, tenant_id, incident_id, body, env)
    with tenant_tx(tenant_id):
        incident = _get(tenant_id, branches, incident_id)
        incident.state = "RESPONDING"
        incident.first_response_at = incident.first_response_at or utcnow()
        incident.save()
        details = {"action": body.action, "note": body.note, "result": result}
        rec = _audit(principal, incident, "incident.responded", details)
        _step(incident, "RESPOND", principal.actor, rec, details)
        return incident_dict(incident)


def resolve(
    principal: Principal, tenant_id: str, incident_id: str, body: ResolveIn
) -> dict[str, Any]:
    """RESOLVE: root cause and verification evidence close the incident. After a box release
    rollback, the release it went back to needs a passing smoke run (trigger `rollback`,
    `just smoke HUB BOX --artifact X --trigger rollback`) taken since: 409 SMOKE_REQUIRED."""
    with tenant_tx(tenant_id):
        rolled_back = _rollbacks(_get(tenant_id, None, incident_id))
    smoke = _rollback_smokes(rolled_back)
    with tenant_tx(tenant_id):
        incident = _get(tenant_id, None, incident_id)
        _expect(incident, ("CLASSIFIED", "RESPONDING"), "resolve")
        incident.state, incident.resolved_at, incident.resolved_by = (
            "RESOLVED",
            utcnow(),
            principal.actor,
        )
        incident.root_cause, incident.verification = body.root_cause, body.verification
        incident.save()
        details = {**body.model_dump(), **({"rollback_smoke_runs": smoke} if smoke else {})}
        rec = _audit(principal, incident, "incident.resolved", details)
        _step(incident, "RESOLVE", principal.actor, rec, details)
        return incident_dict(incident)


def _rollbacks(incident: Incident) -> list[tuple[str, datetime]]:
    """(artifact gone back to, when) of each box release rollback of the incident."""
    steps = IncidentStep.select().where(
        IncidentStep.incident_id == incident.id, IncidentStep.step == "RESPOND"
    )
    out = []
    for step in steps:
        done = ((step.details or {}).get("result") or {}).get("release_rollback") or {}
        made = done.get("rollback") or {}
        if made.get("artifact"):
            out.append((str(made["artifact"]), step.at))
    return out


def _rollback_smokes(rolled_back: list[tuple[str, datetime]]) -> dict[str, str]:
    """artifact -> passing rollback smoke run id; 409 SMOKE_REQUIRED naming what lacks one."""
    found = {a: releases.passing_smoke_since(a, "rollback", at) for a, at in rolled_back}
    missing = sorted(a for a, run in found.items() if run is None)
    if missing:
        raise Conflict(
            "a box release rollback needs a passing smoke run of the release it went back to: "
            "just smoke HUB BOX --artifact NAME --trigger rollback",
            HubReason.SMOKE_REQUIRED,
            {"artifacts": missing},
        )
    return {a: str(run) for a, run in found.items()}


def detail(tenant_id: str, branches: list[str] | None, incident_id: str) -> dict[str, Any]:
    """One incident with every step."""
    with tenant_tx(tenant_id):
        incident = _get(tenant_id, branches, incident_id)
        steps = IncidentStep.select().where(IncidentStep.incident_id == incident.id)
        return incident_dict(incident, list(steps.order_by(IncidentStep.id)))


def list_incidents(
    tenant_id: str, branches: list[str] | None, page: int, state: str | None = None
) -> dict[str, Any]:
    """One page of incidents, newest first, with the tenant's MTTA and MTTR."""
    if state is not None and state not in STATES:
        raise ValidationError(f"unknown state {state!r}", Reason.VALIDATION_FAILED)
    with tenant_tx(tenant_id):
        query = Incident.select().where(Incident.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(Incident.branch_id.in_(branches))
        if state:
            query = query.where(Incident.state == state)
        total = query.count()
        rows = query.order_by(Incident.detected_at.desc()).paginate(max(page, 1), PAGE_SIZE)
        out = paged([incident_dict(i) for i in rows], max(page, 1), total, PAGE_SIZE)
        out["stats"] = stats(tenant_id, branches)
    return out


def stats(tenant_id: str, branches: list[str] | None) -> dict[str, Any]:
    """MTTA (detect → classify) and MTTR (detect → resolve) in seconds (caller's transaction)."""
    query = Incident.select().where(Incident.tenant_id == tenant_id)
    if branches is not None:
        query = query.where(Incident.branch_id.in_(branches))
    acked = [(i.classified_at - i.detected_at).total_seconds() for i in query if i.classified_at]
    fixed = [(i.resolved_at - i.detected_at).total_seconds() for i in query if i.resolved_at]
    by_state = {s: 0 for s in STATES}
    for i in query:
        by_state[i.state] += 1
    return {
        "mtta_seconds": round(sum(acked) / len(acked), 1) if acked else None,
        "mttr_seconds": round(sum(fixed) / len(fixed), 1) if fixed else None,
        "by_state": by_state,
    }
