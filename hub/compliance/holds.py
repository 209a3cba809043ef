"""Legal holds (FR-P7-1015): on the tenant, a branch, a customer or a date range.

A live hold (not released) blocks customer erasure and retention purges of what it covers,
and is shown on every record it covers: `holds_for_customer` and `holds_for_record` answer
which holds apply, for the customer and sale answers of the API and the portal. Placing and
releasing a hold are audited (WARN), with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from peewee import fn
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.compliance.models import LegalHold
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.customers.models import Customer, CustomerActivity
from hub.governance import audit
from hub.identity.models import Branch
from posdomain.audit_chain import Severity
from posdomain.errors import Conflict, HubReason, NotFound, Reason
from posdomain.permissions import Principal

Scope = Literal["tenant", "branch", "customer", "date_range"]


class HoldIn(BaseModel):
    """Body of a new legal hold: `target` names the branch or customer; a date range names
    `starts_at` and `ends_at` (records of that period are held)."""

    model_config = ConfigDict(extra="forbid")

    scope: Scope
    target: str | None = Field(default=None, min_length=1, max_length=64)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    reason: str = Field(min_length=3, max_length=500)

    @model_validator(mode="after")
    def _shape(self) -> HoldIn:
        needs_target = self.scope in ("branch", "customer")
        if needs_target != (self.target is not None):
            raise ValueError("target is required for branch and customer holds, else omitted")
        if self.scope == "date_range":
            if self.starts_at is None or self.ends_at is None:
                raise ValueError("a date-range hold needs starts_at and ends_at")
            if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
                raise ValueError("starts_at and ends_at need a time zone")
            if self.ends_at <= self.starts_at:
                raise ValueError("ends_at must be after starts_at")
        elif self.starts_at is not None or self.ends_at is not None:
            raise ValueError("only a date-range hold has starts_at/ends_at")
        return self


def hold_dict(h: LegalHold) -> dict[str, Any]:
    """JSON form of a hold."""
    return {
        "id": h.id,
        "scope": h.scope,
        "target": h.target,
        "starts_at": h.starts_at.isoformat() if h.starts_at else None,
        "ends_at": h.ends_at.isoformat() if h.ends_at else None,
        "reason": h.reason,
        "created_by": h.created_by,
        "created_at": h.created_at.isoformat(),
        "released_at": h.released_at.isoformat() if h.released_at else None,
        "released_by": h.released_by,
        "live": h.released_at is None,
    }


def named(tenant_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Holds with `target_name`: the branch's or customer's name (caller's transaction), so
    pages and answers name what is held instead of showing its id."""
    branches = {h["target"] for h in items if h["scope"] == "branch"}
    people = {h["target"] for h in items if h["scope"] == "customer"}
    names: dict[str, str] = {}
    if branches:
        rows = Branch.select().where(Branch.tenant_id == tenant_id, Branch.id.in_(sorted(branches)))
        names |= {b.id: b.name for b in rows}
    if people:
        found = Customer.select().where(
            Customer.tenant_id == tenant_id, Customer.id.in_(sorted(people))
        )
        names |= {c.id: c.display_name for c in found}
    return [{**h, "target_name": names.get(h["target"]) if h["target"] else None} for h in items]


def _check_target(tenant_id: str, body: HoldIn) -> None:
    if body.scope == "branch" and not Branch.get_or_none(
        Branch.id == body.target, Branch.tenant_id == tenant_id
    ):
        raise NotFound("no such branch", Reason.UNKNOWN_BRANCH)
    if body.scope == "customer" and not Customer.get_or_none(
        Customer.id == body.target, Customer.tenant_id == tenant_id
    ):
        raise NotFound("no such customer", Reason.UNKNOWN_CUSTOMER)


def place(principal: Principal, tenant_id: str, body: HoldIn) -> dict[str, Any]:
    """Place a hold (audited)."""
    with tenant_tx(tenant_id):
        _check_target(tenant_id, body)
        hold = LegalHold.create(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            scope=body.scope,
            target=body.target,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            reason=body.reason,
            created_by=principal.actor,
        )
        details = hold_dict(hold)  # ids only: a name in the append-only log would outlive erasure
        audit.record(
            principal, "legal_hold.placed", f"legal_hold:{hold.id}", Severity.WARN, details
        )
        return named(tenant_id, [details])[0]


def release(principal: Principal, tenant_id: str, hold_id: str) -> dict[str, Any]:
    """Release a live hold (audited); releasing twice is a conflict."""
    with tenant_tx(tenant_id):
        hold = LegalHold.get_or_none(LegalHold.id == hold_id, LegalHold.tenant_id == tenant_id)
        if hold is None:
            raise NotFound("no such legal hold")
        if hold.released_at is not None:
            raise Conflict("that hold is already released", Reason.INVALID_TRANSITION)
        hold.released_at, hold.released_by = utcnow(), principal.actor
        hold.save()
        details = hold_dict(hold)  # ids only: a name in the append-only log would outlive erasure
        audit.record(
            principal, "legal_hold.released", f"legal_hold:{hold.id}", Severity.WARN, details
        )
        return named(tenant_id, [details])[0]


def list_holds(tenant_id: str, live_only: bool = False) -> list[dict[str, Any]]:
    """The tenant's holds, newest first."""
    with tenant_tx(tenant_id):
        query = LegalHold.select().where(LegalHold.tenant_id == tenant_id)
        if live_only:
            query = query.where(LegalHold.released_at.is_null())
        return named(tenant_id, [hold_dict(h) for h in query.order_by(LegalHold.created_at.desc())])


def _live(tenant_id: str) -> list[LegalHold]:
    query = LegalHold.select().where(
        LegalHold.tenant_id == tenant_id, LegalHold.released_at.is_null()
    )
    return list(query.order_by(LegalHold.created_at))


def _in_range(h: LegalHold, at: datetime | None) -> bool:
    return at is not None and h.starts_at <= at < h.ends_at


def holds_for_record(
    tenant_id: str,
    *,
    branch_id: str | None = None,
    customer_ids: Iterable[str] = (),
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Live holds covering one record (a sale, a ledger row...) of a branch, customers and a
    time (caller's tenant transaction)."""
    customers = set(customer_ids)
    out = []
    for h in _live(tenant_id):
        covered = (
            h.scope == "tenant"
            or (h.scope == "branch" and h.target == branch_id)
            or (h.scope == "customer" and h.target in customers)
            or (h.scope == "date_range" and _in_range(h, at))
        )
        if covered:
            out.append(hold_dict(h))
    return named(tenant_id, out)


def held_docs(tenant_id: str, docs: list[dict[str, Any]], key: str, kind: str) -> set[str]:
    """The ids (`key`) among listed documents of a kind ("sale"/"refund"; with `branch_id`
    and `completed_at` ISO) that a live hold covers: one query for the holds and one for the
    customers on them (the list pages' marker)."""
    with tenant_tx(tenant_id):
        live = _live(tenant_id)
        if not live or not docs:
            return set()
        ids = [d[key] for d in docs]
        buyers: dict[str, set[str]] = {}
        for a in CustomerActivity.select(
            CustomerActivity.doc_id, CustomerActivity.customer_id
        ).where(
            CustomerActivity.tenant_id == tenant_id,
            CustomerActivity.doc_kind == kind,
            CustomerActivity.doc_id.in_(ids),
        ):
            buyers.setdefault(str(a.doc_id), set()).add(a.customer_id)
    out = set()
    for d in docs:
        at = datetime.fromisoformat(d["completed_at"])
        people = buyers.get(d[key], set())
        if any(
            h.scope == "tenant"
            or (h.scope == "branch" and h.target == d["branch_id"])
            or (h.scope == "customer" and h.target in people)
            or (h.scope == "date_range" and _in_range(h, at))
            for h in live
        ):
            out.add(d[key])
    return out


def holds_for_customer(tenant_id: str, customer: Customer) -> list[dict[str, Any]]:
    """Live holds covering a customer (caller's tenant transaction): the tenant, the customer,
    the home branch or a branch they bought at, or a period with their activity."""
    live = _live(tenant_id)
    if not live:
        return []
    activity = CustomerActivity.select(
        CustomerActivity.branch_id, fn.MIN(CustomerActivity.occurred_at).alias("first")
    ).where(CustomerActivity.tenant_id == tenant_id, CustomerActivity.customer_id == customer.id)
    branches = {customer.home_branch_id} | {
        r.branch_id for r in activity.group_by(CustomerActivity.branch_id)
    }
    out = []
    for h in live:
        if h.scope == "date_range":
            covered = (
                CustomerActivity.select()
                .where(
                    CustomerActivity.tenant_id == tenant_id,
                    CustomerActivity.customer_id == customer.id,
                    CustomerActivity.occurred_at >= h.starts_at,
                    CustomerActivity.occurred_at < h.ends_at,
                )
                .exists()
            )
        else:
            covered = (
                h.scope == "tenant"
                or (h.scope == "customer" and h.target == customer.id)
                or (h.scope == "branch" and h.target in branches)
            )
        if covered:
            out.append(hold_dict(h))
    return named(tenant_id, out)


def refuse_if_held(holds: list[dict[str, Any]], what: str) -> None:
    """409 LEGAL_HOLD naming the holds, if there are any."""
    if holds:
        raise Conflict(
            f"{what} is refused: under legal hold ({holds[0]['reason']})",
            HubReason.LEGAL_HOLD,
            {"holds": [{"id": h["id"], "scope": h["scope"], "reason": h["reason"]} for h in holds]},
        )
