"""Staged box rollouts (FR-703): a canary cohort, then the rest; halts by itself.

A tenant's rollout of one artifact picks its canary cohort by branch (every box of the
named branches) or by percentage (a stable hash order of the boxes, at least one box); the
rest wait. States: CANARY (the canary boxes are offered the release) → CANARY_OK (every
canary box reported GOOD) → ROLLING after `advance` (the rest are offered) → DONE; HALTED as
soon as `max_failures` boxes rolled back, CANCELLED by hand. One running rollout per tenant.

A box is never offered a release while it has an open shift: its check-in says so and the
box stays DEFERRED until a check-in without one (the box's updater refuses too). A hub in
PROD rolls out only artifacts promoted to PROD; in STAGING, STAGING or PROD ones.
Create, advance, cancel, every box result and the halt are audited on the tenant's chain;
a halt also raises a CRITICAL alert (which opens an incident).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from hub.alerting.store import AlertSpec, raise_alert
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.governance import audit
from hub.identity.models import Box, Branch
from hub.releases.models import Artifact, Rollout, RolloutBox
from posdomain.audit_chain import Severity
from posdomain.contract import field_details
from posdomain.errors import Conflict, HubReason, NotFound, Reason, ValidationError
from posdomain.permissions import Principal
from posdomain.releases import ENVIRONMENTS

RUNNING = ("CANARY", "CANARY_OK", "ROLLING")


class RolloutIn(BaseModel):
    """A new staged rollout."""

    model_config = ConfigDict(extra="forbid")

    artifact: str = Field(min_length=1, max_length=64)
    strategy: Literal["branch", "percent"]
    canary_branches: list[str] = Field(default_factory=list, max_length=50)
    canary_percent: int | None = Field(default=None, ge=1, le=100)
    max_failures: int = Field(default=1, ge=1, le=1000)
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _cohort(self) -> RolloutIn:
        if self.strategy == "branch" and not self.canary_branches:
            raise ValueError("a branch canary names at least one branch")
        if self.strategy == "percent" and self.canary_percent is None:
            raise ValueError("a percentage canary needs canary_percent")
        return self


class BoxReportIn(BaseModel):
    """What a box's updater reports: the release is good, or it switched back and why
    (REFUSED: not installed, an open shift; the box stays offered)."""

    model_config = ConfigDict(extra="forbid")

    artifact: str = Field(min_length=1, max_length=64)
    outcome: Literal["GOOD", "ROLLED_BACK", "REFUSED"]
    reason: str | None = Field(default=None, max_length=200)
    checks: dict[str, Any] = Field(default_factory=dict)


def rollout_dict(r: Rollout, boxes: list[RolloutBox] | None = None) -> dict[str, Any]:
    """JSON form of a rollout (with its boxes when given)."""
    out: dict[str, Any] = {
        "id": r.id,
        "artifact": r.artifact,
        "strategy": r.strategy,
        "canary_branches": r.canary_branches,
        "canary_percent": r.canary_percent,
        "max_failures": r.max_failures,
        "state": r.state,
        "halted_reason": r.halted_reason,
        "reason": r.reason,
        "created_by": r.created_by,
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
    }
    if boxes is not None:
        out["boxes"] = [
            {
                "box_id": b.box_id,
                "branch_id": b.branch_id,
                "cohort": b.cohort,
                "state": b.state,
                "reason": b.reason,
                "detail": b.detail,
                "updated_at": b.updated_at.isoformat(),
            }
            for b in sorted(boxes, key=lambda b: (b.cohort, b.box_id))
        ]
        out["failed"] = sum(1 for b in boxes if b.state == "ROLLED_BACK")
    return out


def _allowed_env(artifact_env: str, hub_env: str) -> bool:
    return ENVIRONMENTS.index(artifact_env) >= ENVIRONMENTS.index(hub_env)


def _stable_order(rollout_id: str, boxes: list[Box]) -> list[Box]:
    return sorted(boxes, key=lambda b: hashlib.sha256(f"{rollout_id}:{b.box_id}".encode()).digest())


def _canary(rollout_id: str, body: RolloutIn, boxes: list[Box]) -> set[str]:
    if body.strategy == "branch":
        return {b.box_id for b in boxes if b.branch_id in body.canary_branches}
    count = max(1, math.ceil(len(boxes) * (body.canary_percent or 0) / 100))
    return {b.box_id for b in _stable_order(rollout_id, boxes)[:count]}


def create(principal: Principal, tenant_id: str, body: RolloutIn, hub_env: str) -> dict[str, Any]:
    """Start a rollout: cohorts chosen, canary boxes PENDING, the rest WAITING."""
    with tenant_tx(tenant_id):
        artifact = Artifact.get_or_none(Artifact.name == body.artifact)
        if artifact is None or artifact.pruned_at is not None:
            raise NotFound("no such artifact", Reason.NOT_FOUND)
        if not _allowed_env(artifact.environment, hub_env):
            raise Conflict(
                f"a {hub_env} hub rolls out {hub_env} artifacts; this one is "
                f"{artifact.environment}",
                HubReason.PROMOTION_NOT_ONE_WAY,
            )
        if (
            Rollout.select()
            .where(Rollout.tenant_id == tenant_id, Rollout.state.in_(RUNNING))
            .exists()
        ):
            raise Conflict("another rollout is running", Reason.INVALID_TRANSITION)
        known = {b.id for b in Branch.select().where(Branch.tenant_id == tenant_id)}
        if set(body.canary_branches) - known:
            raise ValidationError("unknown canary branch", Reason.UNKNOWN_BRANCH)
        boxes = list(Box.select().where(Box.tenant_id == tenant_id, Box.status == "active"))
        rollout_id = uuid.uuid4().hex
        canary = _canary(rollout_id, body, boxes)
        if not canary:
            raise ValidationError("the canary cohort has no box", Reason.VALIDATION_FAILED)
        now = utcnow()
        row = Rollout.create(
            id=rollout_id,
            tenant_id=tenant_id,
            artifact=body.artifact,
            strategy=body.strategy,
            canary_branches=body.canary_branches,
            canary_percent=body.canary_percent,
            max_failures=body.max_failures,
            state="CANARY",
            reason=body.reason,
            created_by=principal.actor,
            created_at=now,
            updated_at=now,
        )
        for b in boxes:
            RolloutBox.insert(
                rollout_id=rollout_id,
                tenant_id=tenant_id,
                box_id=b.box_id,
                branch_id=b.branch_id,
                cohort="canary" if b.box_id in canary else "rest",
                state="PENDING" if b.box_id in canary else "WAITING",
                updated_at=now,
            ).execute()
        audit.append(
            tenant_id,
            principal.actor,
            "release.rollout_created",
            f"rollout:{rollout_id}",
            Severity.WARN,
            {
                "artifact": body.artifact,
                "strategy": body.strategy,
                "canary": sorted(canary),
                "rest": len(boxes) - len(canary),
                "max_failures": body.max_failures,
            },
        )
        return rollout_dict(
            row, list(RolloutBox.select().where(RolloutBox.rollout_id == rollout_id))
        )


def _rollout(tenant_id: str, rollout_id: str) -> Rollout:
    row = Rollout.get_or_none(Rollout.id == rollout_id, Rollout.tenant_id == tenant_id)
    if row is None:
        raise NotFound("no such rollout", Reason.NOT_FOUND)
    return row


def _boxes(rollout_id: str) -> list[RolloutBox]:
    return list(RolloutBox.select().where(RolloutBox.rollout_id == rollout_id))


def get(tenant_id: str, rollout_id: str) -> dict[str, Any]:
    """One rollout with every box."""
    with tenant_tx(tenant_id):
        return rollout_dict(_rollout(tenant_id, rollout_id), _boxes(rollout_id))


def list_rollouts(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's rollouts, newest first, with their boxes."""
    with tenant_tx(tenant_id):
        rows = (
            Rollout.select()
            .where(Rollout.tenant_id == tenant_id)
            .order_by(Rollout.created_at.desc())
        )
        return [rollout_dict(r, _boxes(r.id)) for r in rows]


def _set(row: Rollout, state: str, actor: str, action: str, **details: Any) -> None:
    before = row.state
    row.state, row.updated_at = state, utcnow()
    row.save()
    audit.append(
        row.tenant_id,
        actor,
        action,
        f"rollout:{row.id}",
        Severity.WARN,
        {"from": before, "to": state, "artifact": row.artifact, **details},
    )


def advance(principal: Principal, tenant_id: str, rollout_id: str) -> dict[str, Any]:
    """CANARY_OK → ROLLING: offer the release to the rest (DONE if there is no rest)."""
    with tenant_tx(tenant_id):
        row = _rollout(tenant_id, rollout_id)
        if row.state != "CANARY_OK":
            raise Conflict(f"rollout is {row.state}, not CANARY_OK", Reason.INVALID_TRANSITION)
        RolloutBox.update(state="PENDING", updated_at=utcnow()).where(
            RolloutBox.rollout_id == rollout_id, RolloutBox.state == "WAITING"
        ).execute()
        boxes = _boxes(rollout_id)
        done = all(b.state == "GOOD" for b in boxes)
        _set(row, "DONE" if done else "ROLLING", principal.actor, "release.rollout_advanced")
        return rollout_dict(row, boxes)


def cancel(principal: Principal, tenant_id: str, rollout_id: str) -> dict[str, Any]:
    """Stop a running or halted rollout: nothing more is offered."""
    with tenant_tx(tenant_id):
        row = _rollout(tenant_id, rollout_id)
        if row.state not in (*RUNNING, "HALTED"):
            raise Conflict(f"rollout is {row.state}", Reason.INVALID_TRANSITION)
        _set(row, "CANCELLED", principal.actor, "release.rollout_cancelled")
        return rollout_dict(row, _boxes(rollout_id))


def _running_for(box: Box) -> tuple[Rollout, RolloutBox] | None:
    for row in Rollout.select().where(
        Rollout.tenant_id == box.tenant_id, Rollout.state.in_(RUNNING)
    ):
        member = RolloutBox.get_or_none(
            RolloutBox.rollout_id == row.id, RolloutBox.box_id == box.box_id
        )
        if member is not None:
            return row, member
    return None


def check_in(box: Box, running: str | None, shift_open: bool) -> dict[str, Any] | None:
    """What a box should install now: {rollout_id, artifact, checksum} or None.

    Never while the box has an open shift (it is DEFERRED until a check-in without one).
    """
    with tenant_tx(box.tenant_id):
        found = _running_for(box)
        if found is None:
            return None
        row, member = found
        if member.state not in ("PENDING", "OFFERED", "DEFERRED"):
            return None
        if running == row.artifact:
            return None
        state = "DEFERRED" if shift_open else "OFFERED"
        if member.state != state:
            RolloutBox.update(
                state=state, reason="open shift" if shift_open else None, updated_at=utcnow()
            ).where(RolloutBox.rollout_id == row.id, RolloutBox.box_id == box.box_id).execute()
        if shift_open:
            return None
        artifact = Artifact.get(Artifact.name == row.artifact)
        return {"rollout_id": row.id, "artifact": row.artifact, "checksum": artifact.checksum}


def _settle(row: Rollout, boxes: list[RolloutBox]) -> None:
    failed = [b for b in boxes if b.state == "ROLLED_BACK"]
    if len(failed) >= row.max_failures:
        row.halted_reason = (
            f"{len(failed)} box(es) rolled back: "
            + "; ".join(f"{b.box_id}: {b.reason}" for b in failed)[:400]
        )
        _set(row, "HALTED", "system:rollout", "release.rollout_halted", failed=len(failed))
        raise_alert(
            row.tenant_id,
            AlertSpec(
                rule="release.rollout_halted",
                key=f"rollout:{row.id}",
                severity="CRITICAL",
                summary=f"rollout of {row.artifact} halted: {row.halted_reason}",
                details={"rollout_id": row.id, "artifact": row.artifact, "failed": len(failed)},
            ),
        )
        return
    cohort = [b for b in boxes if b.cohort == "canary"] if row.state == "CANARY" else boxes
    pending = [b for b in cohort if b.state not in ("GOOD", "ROLLED_BACK", "WAITING")]
    if row.state == "CANARY" and not pending and all(b.state == "GOOD" for b in cohort):
        _set(row, "CANARY_OK", "system:rollout", "release.rollout_canary_ok")
    elif row.state == "ROLLING" and all(b.state == "GOOD" for b in boxes):
        _set(row, "DONE", "system:rollout", "release.rollout_done")


def report_event(box: Box, payload: dict[str, Any]) -> str | None:
    """A `release.reported` event at ingest (caller's transaction): the rollout it settles,
    if the box is in a running or halted rollout of that artifact; else only audited."""
    try:
        body = BoxReportIn.model_validate(payload)
    except PydanticValidationError as err:
        raise ValidationError(
            "bad release.reported payload", Reason.MALFORMED_MESSAGE, field_details(err)
        ) from err
    with tenant_tx(box.tenant_id):
        rows = Rollout.select().where(
            Rollout.tenant_id == box.tenant_id,
            Rollout.artifact == body.artifact,
            Rollout.state.in_((*RUNNING, "HALTED")),
        )
        for row in rows.order_by(Rollout.created_at.desc()):
            member = RolloutBox.get_or_none(
                RolloutBox.rollout_id == row.id, RolloutBox.box_id == box.box_id
            )
            if member is not None:
                if body.outcome == "REFUSED":
                    _defer(row.id, box.box_id, body.reason or "refused")
                    return str(row.id)
                report(box, row.id, body)
                return str(row.id)
        audit.append(
            box.tenant_id,
            f"box:{box.box_id}",
            "release.box_reported",
            f"box:{box.box_id}",
            Severity.INFO if body.outcome == "GOOD" else Severity.WARN,
            {"artifact": body.artifact, "outcome": body.outcome, "reason": body.reason,
             "rollout": None},
        )  # fmt: skip
        return None


def _defer(rollout_id: str, box_id: str, reason: str) -> None:
    RolloutBox.update(state="DEFERRED", reason=reason[:200], updated_at=utcnow()).where(
        RolloutBox.rollout_id == rollout_id, RolloutBox.box_id == box_id
    ).execute()


def report(box: Box, rollout_id: str, body: BoxReportIn) -> dict[str, Any]:
    """A box's result: GOOD, or ROLLED_BACK with its reason; halts the rollout at N failures."""
    with tenant_tx(box.tenant_id):
        row = _rollout(box.tenant_id, rollout_id)
        member = RolloutBox.get_or_none(
            RolloutBox.rollout_id == rollout_id, RolloutBox.box_id == box.box_id
        )
        if member is None or body.artifact != row.artifact or body.outcome == "REFUSED":
            raise NotFound("this box is not in that rollout", Reason.NOT_FOUND)
        RolloutBox.update(
            state=body.outcome, reason=body.reason, detail=body.checks, updated_at=utcnow()
        ).where(RolloutBox.rollout_id == rollout_id, RolloutBox.box_id == box.box_id).execute()
        audit.append(
            box.tenant_id,
            f"box:{box.box_id}",
            "release.box_reported",
            f"rollout:{rollout_id}",
            Severity.INFO if body.outcome == "GOOD" else Severity.WARN,
            {"artifact": row.artifact, "outcome": body.outcome, "reason": body.reason},
        )
        if row.state in RUNNING:
            _settle(row, _boxes(rollout_id))
        return rollout_dict(row, _boxes(rollout_id))
