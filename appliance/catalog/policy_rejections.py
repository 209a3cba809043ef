"""Pricing policy versions the box refused: each audited once, its reason kept."""

from __future__ import annotations

from collections.abc import Sequence

from appliance.audit import log as audit_log
from appliance.catalog.models import PolicyRejection
from appliance.core.context import BoxContext, now_iso
from posdomain.audit_chain import Severity
from posdomain.policy import PolicyRejection as Rejection


def record_rejections(ctx: BoxContext, rejections: Sequence[Rejection]) -> int:
    """Audit each rejected policy version once (inside the caller's write transaction)."""
    recorded = 0
    for rej in rejections:
        version = rej.policy_version if rej.policy_version is not None else 0
        seen = PolicyRejection.get_or_none(
            PolicyRejection.policy_id == rej.policy_id, PolicyRejection.policy_version == version
        )
        if seen is not None:
            continue
        PolicyRejection.insert(
            policy_id=rej.policy_id,
            policy_version=version,
            reason=str(rej.reason),
            first_seen=now_iso(),
        ).execute()
        recorded += 1
        audit_log.append(
            ctx,
            actor="box",
            action="pricing.policy_rejected",
            target=f"policy:{rej.policy_id}",
            severity=Severity.WARN,
            details={"policy_version": version, "reason": str(rej.reason), "message": rej.message},
        )
    return recorded
