"""The release decision log and its two-person rule (FR-901, Release Governance section 7).

`just gate` evaluates the GO/NO-GO rules and its report is *proposed* as a decision on an
artifact and a target environment, with a reason and a change reference. The decision takes
effect only when a second person approves it: `approve` is the one function that sets
APPROVED, and it refuses the proposer (409 SAME_PERSON) whatever their role; the table's
CHECK (approved_by <> proposed_by) refuses it again underneath. A NO-GO report cannot be
approved as a GO. Proposal, approval and rejection are audited on the platform chain
(hash-chained); `hub.releases.artifacts.promote` to PROD needs an APPROVED GO.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.core.db import platform_tx
from hub.core.models import utcnow
from hub.governance import audit
from hub.releases.models import Artifact, Decision
from posdomain.audit_chain import Severity
from posdomain.errors import Conflict, HubReason, NotFound, Reason
from posdomain.permissions import Principal


class ProposeIn(BaseModel):
    """A gate report proposed as a decision."""

    model_config = ConfigDict(extra="forbid")

    target: Literal["DEV", "STAGING", "PROD"]
    decision: Literal["GO", "NO-GO"]
    report: dict[str, Any]
    reason: str = Field(min_length=1, max_length=1000)
    change_ref: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._/#:-]+$")


class ApproveIn(BaseModel):
    """The second person's verdict on a proposed decision."""

    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str = Field(default="", max_length=1000)


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def decision_dict(d: Decision) -> dict[str, Any]:
    """JSON form of a decision."""
    return {
        "id": d.id,
        "artifact": d.artifact,
        "target": d.target,
        "decision": d.decision,
        "state": d.state,
        "reason": d.reason,
        "change_ref": d.change_ref,
        "report": d.report,
        "proposed_by": d.proposed_by,
        "proposed_at": d.proposed_at.isoformat(),
        "approved_by": d.approved_by,
        "approved_at": _iso(d.approved_at),
    }


def propose(principal: Principal, artifact: str, body: ProposeIn) -> dict[str, Any]:
    """Record a proposed decision on an artifact (audited); it has no effect yet."""
    if body.decision == "GO" and body.report.get("decision") != "GO":
        raise Conflict(
            "the gate report says NO-GO; it cannot be proposed as GO", HubReason.GATE_NO_GO
        )
    with platform_tx():
        if Artifact.get_or_none(Artifact.name == artifact) is None:
            raise NotFound("no such artifact", Reason.NOT_FOUND)
        row = Decision.create(
            id=uuid.uuid4().hex,
            artifact=artifact,
            target=body.target,
            decision=body.decision,
            report=body.report,
            reason=body.reason,
            change_ref=body.change_ref,
            state="PROPOSED",
            proposed_by=principal.actor,
            proposed_at=utcnow(),
        )
        audit.record(
            principal,
            "release.decision_proposed",
            f"decision:{row.id}",
            Severity.INFO,
            {
                "artifact": artifact,
                "target": body.target,
                "decision": body.decision,
                "change_ref": body.change_ref,
                "reason": body.reason,
            },
        )
        return decision_dict(row)


def approve(principal: Principal, decision_id: str, body: ApproveIn) -> dict[str, Any]:
    """The second person approves or rejects; the proposer never can (409 SAME_PERSON)."""
    with platform_tx():
        row = Decision.get_or_none(Decision.id == decision_id)
        if row is None:
            raise NotFound("no such decision", Reason.NOT_FOUND)
        if row.state != "PROPOSED":
            raise Conflict(f"decision is {row.state}", Reason.INVALID_TRANSITION)
        if row.proposed_by == principal.actor:
            raise Conflict(
                "a decision needs a second person: the proposer cannot approve it",
                HubReason.SAME_PERSON,
            )
        row.state = "APPROVED" if body.approve else "REJECTED"
        row.approved_by, row.approved_at = principal.actor, utcnow()
        row.save()
        audit.record(
            principal,
            "release.decision_approved" if body.approve else "release.decision_rejected",
            f"decision:{row.id}",
            Severity.WARN,
            {
                "artifact": row.artifact,
                "target": row.target,
                "decision": row.decision,
                "proposed_by": row.proposed_by,
                "note": body.note,
            },
        )
        return decision_dict(row)


def list_decisions(artifact: str | None = None) -> list[dict[str, Any]]:
    """The decision log, newest first (optionally of one artifact)."""
    with platform_tx():
        query = Decision.select().order_by(Decision.proposed_at.desc())
        if artifact:
            query = query.where(Decision.artifact == artifact)
        return [decision_dict(d) for d in query]
