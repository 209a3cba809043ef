"""Reconciliation queue (FR-303): what a manager must look at after ingest.

A box sells offline on the master data it holds, so by the time a sale reaches the hub the
hub may disagree. Such a sale is always stored; each disagreement becomes one
`reconciliation_items` row (severity WARN), written in the batch's transaction (unique per
event and kind, so a redelivered event never doubles it):

* `STOCK_BELOW_ZERO` — on hand at the branch is below zero after the sale's movements.
* `CASHIER_UNKNOWN` — the hub has no user with the sale's `cashier_id` in this tenant.
* `CASHIER_INACTIVE` — the cashier was deactivated at or before the sale time (deactivated
  later is not a conflict: the box rightly let them sell).
* `CATALOG_VERSION_UNKNOWN` — the event's `versions.catalog` is above the tenant's catalog
  version (a box ahead of the hub: a restored hub, or forged data).
* `POLICY_VERSION_UNKNOWN` — a line's discount names a (`policy_id`, `policy_version`) the
  hub's `pricing_policies` table does not hold for the tenant.
* `POLICY_EXPIRED` — the policy version exists but the sale time lies outside its
  half-open window `[effective_from, effective_to)`.

An event the hub refused at ingest (hub.sync.refusals) is raised here too, with the
quarantine's reason in `details`: `SEQ_CONFLICT`, `EVENT_ID_CONFLICT` and `SEQ_OUT_OF_RANGE`
(CRITICAL: a sale may be forged or at stake) and `EVENT_QUARANTINED` (a document that broke
a domain rule or could not be applied: CRITICAL for money and audit documents, else WARN).

A manager resolves an item with a note; the resolution is audited on the tenant chain. Resolving
an item of a refused event (the four kinds above) also bumps the `refusals` down kind in the
same transaction; the view publishes it after the commit, and the box marks its refused row
resolved (docs/sync-protocol.md "Refused events on the box").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import Case

from hub.catalog.store import current_version
from hub.core.bulk import insert_rows
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.governance import audit, versions
from hub.identity.models import Box, User
from hub.inventory import ledger
from hub.loyalty import conflicts as loyalty_conflicts
from hub.pricing.models import PricingPolicy
from hub.sync import refusals
from hub.sync.models import ReconciliationItem
from posdomain.contract import DownKind
from posdomain.errors import Conflict, NotFound, Reason, ValidationError
from posdomain.permissions import Principal

KINDS = (
    "STOCK_BELOW_ZERO",
    "CASHIER_UNKNOWN",
    "CASHIER_INACTIVE",
    "CATALOG_VERSION_UNKNOWN",
    "POLICY_VERSION_UNKNOWN",
    "POLICY_EXPIRED",
    *loyalty_conflicts.KINDS,  # raised by hub.loyalty at ingest (see that module)
    "SEQ_CONFLICT",
    "EVENT_ID_CONFLICT",
    "SEQ_OUT_OF_RANGE",
    "EVENT_QUARANTINED",
)
STATES = ("open", "resolved")
SEVERITIES = ("INFO", "WARN", "CRITICAL")
MAX_NOTE = 500


@dataclass(frozen=True)
class SaleFacts:
    """What the conflict checks need to know about one applied sale."""

    event_id: str
    sale_id: str
    cashier_id: str
    occurred_at: datetime
    catalog_version: int
    policies: list[tuple[str, int]]  # (policy_id, policy_version) of the line discounts


Found = list[tuple[str, dict[str, Any]]]


def _stock_conflicts(stock_after: dict[str, int]) -> Found:
    below = [
        {"product_id": pid, "on_hand": ledger.format_qty(milli)}
        for pid, milli in sorted(stock_after.items())
        if milli < 0
    ]
    return [("STOCK_BELOW_ZERO", {"products": below})] if below else []


def _cashier_conflicts(user: User | None, facts: SaleFacts) -> Found:
    if user is None:
        return [("CASHIER_UNKNOWN", {"cashier_id": facts.cashier_id})]
    if not user.active and user.updated_at <= facts.occurred_at:
        details = {"cashier_id": facts.cashier_id, "deactivated_at": user.updated_at.isoformat()}
        return [("CASHIER_INACTIVE", details)]
    return []


def _version_conflicts(
    hub_catalog: int, policies: dict[tuple[str, int], PricingPolicy], facts: SaleFacts
) -> Found:
    out: Found = []
    if facts.catalog_version > hub_catalog:
        out.append(
            (
                "CATALOG_VERSION_UNKNOWN",
                {"box_version": facts.catalog_version, "hub_version": hub_catalog},
            )
        )
    for policy_id, version in sorted(set(facts.policies)):
        policy = policies.get((policy_id, version))
        details: dict[str, Any] = {"policy_id": policy_id, "policy_version": version}
        if policy is None:
            out.append(("POLICY_VERSION_UNKNOWN", details))
        elif facts.occurred_at < policy.effective_from or (
            policy.effective_to is not None and facts.occurred_at >= policy.effective_to
        ):
            details["effective_to"] = policy.effective_to and policy.effective_to.isoformat()
            out.append(("POLICY_EXPIRED", details))
    return out


def _users(tenant_id: str, ids: set[str]) -> dict[str, User]:
    if not ids:
        return {}
    query = User.select().where(User.tenant_id == tenant_id, User.id.in_(sorted(ids)))
    return {u.id: u for u in query}


def _policies(tenant_id: str, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], Any]:
    if not wanted:
        return {}
    query = PricingPolicy.select().where(
        PricingPolicy.tenant_id == tenant_id,
        PricingPolicy.policy_id.in_(sorted({p for p, _v in wanted})),
    )
    return {
        (p.policy_id, int(p.policy_version)): p
        for p in query
        if (p.policy_id, int(p.policy_version)) in wanted
    }


@dataclass(frozen=True)
class Known:
    """What the hub holds that sales are reconciled against: their cashiers, the catalog
    version and their discount policies (read by `known`, three queries)."""

    users: dict[str, User]
    catalog: int
    policies: dict[tuple[str, int], Any]


def known(tenant_id: str, sales: list[SaleFacts]) -> Known:
    """Read what `check_sales` compares `sales` with (before the run's first insert)."""
    return Known(
        _users(tenant_id, {f.cashier_id for f in sales}),
        current_version(tenant_id),
        _policies(tenant_id, {p for f in sales for p in f.policies}),
    )


def check_sales(
    box: Box, sales: list[tuple[SaleFacts, dict[str, int]]], seen: Known | None = None
) -> list[list[str]]:
    """Queue every conflict of applied sales (caller's transaction); return each one's kinds.

    `sales` pairs each sale's facts with on hand (thousandths) of its products at the branch
    right after its own movements. The cashiers, the catalog version and the policy versions
    of all the sales are read once (`seen`, or read here), and every item is written in one
    multi-row insert.
    """
    if not sales:
        return []
    seen = seen or known(box.tenant_id, [f for f, _s in sales])
    users, hub_catalog, policies = seen.users, seen.catalog, seen.policies
    kinds: list[list[str]] = []
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for facts, stock_after in sales:
        found = [
            *_stock_conflicts(stock_after),
            *_cashier_conflicts(users.get(facts.cashier_id), facts),
            *_version_conflicts(hub_catalog, policies, facts),
        ]
        rows += [_item_row(box, facts, kind, details, now) for kind, details in found]
        kinds.append([kind for kind, _details in found])
    # unique (event_id, kind): a redelivered event never doubles an item
    insert_rows(ReconciliationItem, rows, suffix="ON CONFLICT DO NOTHING")
    return kinds


def _item_row(
    box: Box, facts: SaleFacts, kind: str, details: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "box_id": box.box_id,
        "event_id": facts.event_id,
        "sale_id": facts.sale_id,
        "kind": kind,
        "severity": "WARN",
        "details": details,
        "state": "open",
        "created_at": now,
    }


def item_dict(item: ReconciliationItem) -> dict[str, Any]:
    """JSON form of a reconciliation item."""
    return {
        "id": item.id,
        "branch_id": item.branch_id,
        "box_id": item.box_id,
        "event_id": item.event_id,
        "sale_id": item.sale_id,
        "kind": item.kind,
        "severity": item.severity,
        "details": item.details,
        "state": item.state,
        "created_at": item.created_at.isoformat(),
        "resolved_by": item.resolved_by,
        "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
        "resolution_note": item.resolution_note,
    }


def _check_filter(kind: str | None, state: str | None, severity: str | None) -> None:
    if kind and kind not in KINDS:
        raise ValidationError(f"unknown kind {kind}", Reason.VALIDATION_FAILED, {"kinds": KINDS})
    if state and state not in STATES:
        raise ValidationError(f"unknown state {state}", Reason.VALIDATION_FAILED)
    if severity and severity not in SEVERITIES:
        raise ValidationError(f"unknown severity {severity}", Reason.VALIDATION_FAILED)


def list_items(
    tenant_id: str,
    branches: list[str] | None,
    page: int,
    *,
    kind: str | None = None,
    state: str | None = None,
    severity: str | None = None,
    page_size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """One page of the tenant's items (newest first), filtered by kind/state/severity/branch."""
    _check_filter(kind, state, severity)
    page = max(page, 1)
    with tenant_tx(tenant_id):
        query = ReconciliationItem.select().where(ReconciliationItem.tenant_id == tenant_id)
        if branches is not None:
            query = query.where(ReconciliationItem.branch_id.in_(branches))
        if kind:
            query = query.where(ReconciliationItem.kind == kind)
        if state:
            query = query.where(ReconciliationItem.state == state)
        if severity:
            query = query.where(ReconciliationItem.severity == severity)
        total = query.count()
        critical_first = Case(None, [(ReconciliationItem.severity == "CRITICAL", 0)], 1)
        rows = query.order_by(
            critical_first, ReconciliationItem.created_at.desc(), ReconciliationItem.id
        ).paginate(page, page_size)
        items = [item_dict(r) for r in rows]
    return paged(items, page, total, page_size)


def resolve(
    principal: Principal, tenant_id: str, branches: list[str] | None, item_id: str, note: str
) -> dict[str, Any]:
    """Close an open item with a note (404 outside the caller's scope, 409 if already closed)."""
    note = note.strip()
    if not note or len(note) > MAX_NOTE:
        raise ValidationError(
            f"a resolution note of 1-{MAX_NOTE} characters is required", Reason.REASON_REQUIRED
        )
    with tenant_tx(tenant_id):
        item = ReconciliationItem.get_or_none(
            ReconciliationItem.id == item_id, ReconciliationItem.tenant_id == tenant_id
        )
        if item is None or (branches is not None and item.branch_id not in branches):
            raise NotFound("no such reconciliation item")
        now = utcnow()
        changed = (
            ReconciliationItem.update(
                state="resolved", resolved_by=principal.actor, resolved_at=now, resolution_note=note
            )
            .where(ReconciliationItem.id == item_id, ReconciliationItem.state == "open")
            .execute()
        )
        if changed != 1:  # the conditional update makes two concurrent resolvers safe
            raise Conflict("the item is already resolved", Reason.INVALID_TRANSITION)
        audit.record(
            principal,
            "reconciliation.resolve",
            f"reconciliation:{item_id}",
            details={"kind": item.kind, "sale_id": item.sale_id, "note": note},
        )
        if refusals.reaches_box(item.kind):  # the box learns it: its refused row is settled
            versions.bump(tenant_id, DownKind.REFUSALS.value)
        item.state, item.resolved_by, item.resolved_at = "resolved", principal.actor, now
        item.resolution_note = note
        return item_dict(item)
