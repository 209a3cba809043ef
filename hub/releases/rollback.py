"""Box release rollback (FR-702 containment, FR-703): back to the release the boxes ran before.

`rollback(principal, tenant_id, rollout_id, reason, hub_env)` stops a rollout if it is still
running or halted (`rollouts.cancel`'s transition, audited `release.rollout_cancelled`) and
offers every box that already took it (state GOOD, or OFFERED: it may be installed and not
reported yet) the previous release, as a new rollout that targets exactly those boxes and
starts ROLLING (no canary wait). The tables do not record which release a box ran before a
rollout, so "previous" is the last PROD artifact (not pruned) promoted before the rolled-out
one (before the rollout started, when that artifact never reached PROD). The new rollout is
stored with strategy `branch` and the branches of those boxes as `canary_branches` (the
schema's strategies), but only the named boxes are in it; it is audited
`release.rollback_created` with the rollout it undoes.

Refusals write nothing: an unknown rollout or another tenant's is 404 `NOT_FOUND`; boxes to
roll back with no previous PROD artifact is 409 `NO_PREVIOUS_RELEASE`; another rollout
running is 409 `INVALID_TRANSITION`. With no box to roll back only the cancel happens
(`rollback: null`).
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.governance import audit, versions
from hub.releases.models import Artifact, Rollout, RolloutBox
from hub.releases.rollouts import RUNNING, _boxes, _rollout, _set, rollout_dict
from posdomain.audit_chain import Severity
from posdomain.errors import Conflict, HubReason, Reason
from posdomain.permissions import Principal

TOOK_IT = ("GOOD", "OFFERED")


def previous_artifact(row: Rollout) -> Artifact | None:
    """The last PROD artifact promoted before the one `row` rolled out (see the docstring)."""
    current = Artifact.get_or_none(Artifact.name == row.artifact)
    before = current.prod_at if current is not None and current.prod_at else row.created_at
    found: Artifact | None = (
        Artifact.select()
        .where(
            Artifact.prod_at.is_null(False),
            Artifact.prod_at < before,
            Artifact.pruned_at.is_null(True),
            Artifact.name != row.artifact,
        )
        .order_by(Artifact.prod_at.desc())
        .first()
    )
    return found


def rollback(
    principal: Principal, tenant_id: str, rollout_id: str, reason: str, hub_env: str
) -> dict[str, Any]:
    """Cancel the rollout (if running or halted) and roll its boxes back; what was done."""
    del hub_env  # the previous release is a PROD artifact: every hub may roll it out
    with tenant_tx(tenant_id):
        row = _rollout(tenant_id, rollout_id)
        targets = [b for b in _boxes(rollout_id) if b.state in TOOK_IT]
        previous = previous_artifact(row) if targets else None
        if targets and previous is None:
            raise Conflict(
                f"no PROD artifact before {row.artifact} to roll back to",
                HubReason.NO_PREVIOUS_RELEASE,
            )
        running = (
            Rollout.select()
            .where(
                Rollout.tenant_id == tenant_id,
                Rollout.state.in_(RUNNING),
                Rollout.id != rollout_id,
            )
            .exists()
        )
        if targets and running:
            raise Conflict("another rollout is running", Reason.INVALID_TRANSITION)
        cancelled = row.state in (*RUNNING, "HALTED")
        if cancelled:
            _set(row, "CANCELLED", principal.actor, "release.rollout_cancelled", reason=reason)
        out: dict[str, Any] = {
            "rollout_id": rollout_id,
            "artifact": row.artifact,
            "cancelled": cancelled,
            "rollback": None,
        }
        if previous is None:
            return out
        new_id = uuid.uuid4().hex
        now = utcnow()
        made = Rollout.create(
            id=new_id,
            tenant_id=tenant_id,
            artifact=previous.name,
            strategy="branch",
            canary_branches=sorted({b.branch_id for b in targets}),
            canary_percent=None,
            max_failures=max(1, len(targets)),
            state="ROLLING",
            reason=f"rollback of rollout {rollout_id}: {reason}"[:500],
            created_by=principal.actor,
            created_at=now,
            updated_at=now,
        )
        for b in targets:
            RolloutBox.insert(
                rollout_id=new_id,
                tenant_id=tenant_id,
                box_id=b.box_id,
                branch_id=b.branch_id,
                cohort="canary",
                state="PENDING",
                updated_at=now,
            ).execute()
        versions.bump(tenant_id, "release")
        audit.append(
            tenant_id,
            principal.actor,
            "release.rollback_created",
            f"rollout:{new_id}",
            Severity.WARN,
            {
                "undoes": rollout_id,
                "from_artifact": row.artifact,
                "to_artifact": previous.name,
                "boxes": sorted(b.box_id for b in targets),
                "reason": reason,
            },
        )
        out["rollback"] = rollout_dict(made, _boxes(new_id))
        return out
