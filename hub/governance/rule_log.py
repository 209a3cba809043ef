"""Reading the business-rule decision log (FR-901): the portal's pages and the auditors' CSV
export, and the approvals the down messages carry so that boxes accept only approved rule
versions (posdomain.rule_approvals). Writing the log (propose, activate, reject) is
hub.governance.rule_changes."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.core.db import tenant_tx
from hub.core.paging import paged
from hub.governance import audit, config
from hub.governance.models import RuleChange
from hub.governance.rule_changes import change_dict
from hub.pricing.models import PricingPolicy
from posdomain.permissions import Principal

PAGE_SIZE = 50
CSV_COLUMNS = (
    "seq",
    "id",
    "kind",
    "operation",
    "target",
    "branch_id",
    "state",
    "reason",
    "impact",
    "change_ref",
    "proposed_by",
    "proposed_at",
    "decided_by",
    "decided_at",
    "effective_at",
    "bootstrap",
    "note",
)


class ListQuery(BaseModel):
    """?page=, ?state= and ?kind= of the log."""

    page: int = Field(default=1, ge=1, le=1_000_000)
    state: Literal["PROPOSED", "ACTIVE", "REJECTED"] | None = None
    kind: Literal["tax", "pricing", "risk", "loyalty", "promotion"] | None = None


def _filtered(tenant_id: str, state: str | None, kind: str | None) -> Any:
    query = RuleChange.select().where(RuleChange.tenant_id == tenant_id)
    if state:
        query = query.where(RuleChange.state == state)
    if kind:
        query = query.where(RuleChange.kind == kind)
    return query.order_by(RuleChange.seq.desc())


def list_changes(
    tenant_id: str, page: int = 1, state: str | None = None, kind: str | None = None
) -> dict[str, Any]:
    """One page of the tenant's log, newest first."""
    with tenant_tx(tenant_id):
        config.require_tenant(tenant_id)
        query = _filtered(tenant_id, state, kind)
        total = query.count()
        rows = list(query.paginate(page, PAGE_SIZE))
    return paged([change_dict(r) for r in rows], page, total, PAGE_SIZE)


def export_csv(
    principal: Principal, tenant_id: str, state: str | None = None, kind: str | None = None
) -> str:
    """The whole log as CSV (oldest first), for auditors; the export is audited with the
    SHA-256 of what was handed out."""
    with tenant_tx(tenant_id):
        config.require_tenant(tenant_id)
        rows = list(_filtered(tenant_id, state, kind))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in reversed(rows):
            item = change_dict(row)
            writer.writerow([_cell(item[c]) for c in CSV_COLUMNS])
        text = out.getvalue()
        audit.append(
            tenant_id,
            principal.actor,
            "rule_changes.exported",
            "rule_changes",
            details={
                "rows": len(rows),
                "state": state,
                "kind": kind,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
            },
        )
    return text


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # no spreadsheet formula injection from a reason or a note
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def approval_for(change_id: str | None) -> dict[str, Any] | None:
    """Who proposed and who approved the change behind a rule version (caller's tx), as the
    down messages carry it; None when there is none (the box then refuses the rule)."""
    if change_id is None:
        return None
    row: RuleChange | None = RuleChange.get_or_none(RuleChange.id == change_id)
    if row is None or row.state != "ACTIVE":
        return None
    return {
        "change_id": row.id,
        "seq": int(row.seq),
        "proposed_by": row.proposed_by,
        "approved_by": row.decided_by,
        "bootstrap": bool(row.bootstrap),
        "effective_at": row.effective_at.isoformat() if row.effective_at else None,
    }


def policy_approvals(tenant_id: str, wire: list[dict[str, Any]]) -> dict[str, Any]:
    """{"<policy_id>@<version>": approval} of the published policies (caller's tx)."""
    out: dict[str, Any] = {}
    for item in wire:
        pid, version = item["policy_id"], item["policyVersion"]
        row = PricingPolicy.get_or_none(
            PricingPolicy.tenant_id == tenant_id,
            PricingPolicy.policy_id == pid,
            PricingPolicy.policy_version == version,
        )
        approval = approval_for(row.change_id if row else None)
        if approval is not None:
            out[f"{pid}@{version}"] = approval
    return out
