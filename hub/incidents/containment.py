"""Containment actions run from an incident's RESPOND step (FR-702).

Each action runs through the service that owns it (so it is authorised, validated and
audited exactly as when done directly) and returns what it did; the incident step then
links that result and its own audit entry as evidence. An action a principal may not run is
403 (audited by the web handler) and nothing is recorded on the incident.

* `flag_disable`: emergency-disable a tenant feature flag (hub.governance.flags);
* `risk_mode`: change the risk mode of a scope (hub.risk.modes);
* `policy_lock`: propose to end a pricing policy now: a promotion is a business rule, so the
  retirement is a decision-log entry (change reference: the incident) that takes effect when a
  second person approves it (hub.governance.rule_changes, FR-901); the step links the entry.
  For an immediate brake without a second person, `flag_disable` `advanced_discounts` stops
  every advanced discount at once;
* `box_release_rollback`: cancel a box rollout (`rollout_id`) if still running or halted and
  offer the boxes that took it the release before, as a new rollout of exactly those boxes
  without a canary wait (hub.releases.rollback; the releases permission `release.rollout`);
* `note`: a response without a containment action.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.governance import flags, rule_changes
from hub.releases import rollback
from hub.risk import modes
from posdomain.contract import RiskMode
from posdomain.errors import Reason, ValidationError
from posdomain.permissions import Action, Principal, authorize

ActionKind = Literal["note", "flag_disable", "risk_mode", "policy_lock", "box_release_rollback"]


class RespondIn(BaseModel):
    """Body of a RESPOND step."""

    model_config = ConfigDict(extra="forbid")

    action: ActionKind
    note: str = Field(min_length=1, max_length=2000)
    flag: str | None = Field(default=None, max_length=64)
    policy_id: str | None = Field(default=None, max_length=64)
    scope: Literal["tenant", "branch", "box"] | None = None
    scope_id: str | None = Field(default=None, max_length=64)
    mode: RiskMode | None = None
    rollout_id: str | None = Field(default=None, max_length=64)


def _need(value: str | None, name: str, action: str) -> str:
    if not value:
        raise ValidationError(f"{action} needs {name}", Reason.VALIDATION_FAILED)
    return value


def run(
    principal: Principal, tenant_id: str, incident_id: str, body: RespondIn, env: str
) -> dict[str, Any]:
    """Run the containment action of a RESPOND step; what it did (empty for a note)."""
    reason = f"incident {incident_id}: {body.note}"[:500]
    if body.action == "note":
        return {}
    if body.action == "box_release_rollback":
        authorize(principal, Action.ROLLOUT_MANAGE, tenant_id=tenant_id)
        rollout_id = _need(body.rollout_id, "rollout_id", body.action)
        done = rollback.rollback(principal, tenant_id, rollout_id, reason, env)
        return {"release_rollback": done}
    if body.action == "flag_disable":
        authorize(principal, Action.FLAG_FLIP, tenant_id=tenant_id)
        name = _need(body.flag, "flag", body.action)
        change = {"enabled": False, "reason": reason, "emergency": True}
        return {"flag": flags.set_flag(principal, tenant_id, name, change, env)}
    if body.action == "policy_lock":
        authorize(principal, Action.CONFIG_EDIT, tenant_id=tenant_id)
        policy_id = _need(body.policy_id, "policy_id", body.action)
        evidence = rule_changes.Evidence(
            impact=f"policy {policy_id} stops applying at every till once approved",
            change_ref=f"incident:{incident_id}",
        )
        proposed = rule_changes.propose_retire(principal, tenant_id, policy_id, reason, evidence)
        return {"rule_change": proposed}
    authorize(principal, Action.RISK_MODE, tenant_id=tenant_id)
    if body.scope is None or body.mode is None:
        raise ValidationError("risk_mode needs scope and mode", Reason.VALIDATION_FAILED)
    change_in = modes.ModeIn(
        scope=body.scope, scope_id=body.scope_id, mode=body.mode, reason=reason
    )
    return {"risk_mode": modes.set_mode(principal, tenant_id, change_in)}
