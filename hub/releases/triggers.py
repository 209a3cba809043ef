"""Rollback triggers seen by the gate become CRITICAL alerts and incidents (Release
Governance section 3, FR-900; docs/releases.md "The gate").

`just gate` evaluates the triggers (tenant isolation evidence, risk enforcement bypass,
audit pipeline integrity, P0 smoke failure, offline replay evidence; `scripts.gate_rules`).
For every trigger it sees, each tenant the artifact is deployed to (a rollout of it that was
not cancelled) gets a CRITICAL alert `release.rollback_trigger` keyed by trigger and
artifact (deduplicated while live, like every alert) and an incident opened from it at once;
the platform chain records what was raised. The artifact is the one the gate names, else the
PROD artifact live now. No deployed tenant: nothing to roll back, the gate's NO-GO stands.
"""

from __future__ import annotations

import re
from typing import Any

from hub.alerting.store import AlertSpec, raise_alert
from hub.core.db import platform_tx, tenant_tx
from hub.governance import audit
from hub.incidents.service import detect_from_alerts
from hub.releases.models import Artifact, Rollout
from posdomain.audit_chain import Severity

RULE = "release.rollback_trigger"
RUNBOOK = "docs/runbook-release.md"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def target_artifact(artifact: str | None) -> str | None:
    """The artifact the triggers are about: the named one, else the PROD one live now."""
    if artifact:
        return artifact
    with platform_tx():
        live = (
            Artifact.select()
            .where(Artifact.prod_at.is_null(False), Artifact.pruned_at.is_null())
            .order_by(Artifact.prod_at.desc())
            .first()
        )
    return None if live is None else str(live.name)


def deployed_tenants(artifact: str) -> list[str]:
    """Tenants with a rollout of the artifact that was not cancelled."""
    with platform_tx():
        rows = Rollout.select(Rollout.tenant_id).where(
            Rollout.artifact == artifact, Rollout.state != "CANCELLED"
        )
        return sorted({r.tenant_id for r in rows})


def raise_for(seen: dict[str, str], artifact: str | None) -> dict[str, Any]:
    """Raise a CRITICAL alert (and incident) per trigger seen and deployed tenant."""
    name = target_artifact(artifact)
    tenants = deployed_tenants(name) if name else []
    raised: list[dict[str, str]] = []
    if not seen or not tenants or name is None:
        return {"artifact": name, "tenants": tenants, "raised": raised}
    for tenant_id in tenants:
        with tenant_tx(tenant_id):
            for trigger, why in sorted(seen.items()):
                spec = AlertSpec(
                    rule=RULE,
                    key=f"rollback:{_slug(trigger)}:{name}",
                    severity="CRITICAL",
                    summary=f"rollback trigger on {name}: {trigger}: {why}",
                    details={"trigger": trigger, "why": why, "artifact": name,
                             "runbook": RUNBOOK},
                )  # fmt: skip
                if raise_alert(tenant_id, spec) is not None:
                    raised.append({"tenant_id": tenant_id, "trigger": trigger})
        detect_from_alerts(tenant_id)
    if raised:
        with platform_tx():
            audit.append(
                audit.PLATFORM_CHAIN,
                "system:gate",
                "release.rollback_triggered",
                f"artifact:{name}",
                Severity.CRITICAL,
                {"triggers": sorted(seen), "tenants": tenants, "raised": len(raised)},
            )
    return {"artifact": name, "tenants": tenants, "raised": raised}
