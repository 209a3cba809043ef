"""Manual points adjustments and the points read side (FR-401; matrix "loyalty manual
adjustment": TENANT_OWNER tenant-wide, BRANCH_MANAGER for customers of their branches).

An adjustment is one more immutable ledger row (kind `adjust`) with a reason code, an
optional note and the actor, audited on the tenant chain. It may not take the balance below
zero (a debt comes only from real redemptions at a till). A repeated `idempotency_key`
returns the first adjustment instead of booking a second one.
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.customers.models import Customer
from hub.governance import audit
from hub.loyalty import ledger
from hub.loyalty.ledger import Entry
from hub.loyalty.models import LedgerRow
from posdomain.audit_chain import Severity
from posdomain.errors import Forbidden, NotFound, Reason, ValidationError
from posdomain.permissions import Principal, Scope


def _customer(principal: Principal, scope: Scope, tenant_id: str, customer_id: str) -> Customer:
    customer = Customer.get_or_none(Customer.id == customer_id, Customer.tenant_id == tenant_id)
    if customer is None:
        raise NotFound("no such customer", Reason.UNKNOWN_CUSTOMER)
    if scope is Scope.BRANCH and customer.home_branch_id not in principal.branch_ids:
        raise Forbidden("that customer is not enrolled at your branches", Reason.FORBIDDEN_BRANCH)
    return customer


def adjust(
    principal: Principal,
    tenant_id: str,
    scope: Scope,
    customer_id: str,
    change: dict[str, Any],
) -> dict[str, Any]:
    """Book a manual adjustment of `change["points"]` (signed, whole, not 0) with its reason."""
    points, reason = int(change["points"]), str(change["reason_code"])
    key = change.get("idempotency_key") or uuid.uuid4().hex
    source = f"adjust:{key}"
    with tenant_tx(tenant_id):
        customer = _customer(principal, scope, tenant_id, customer_id)
        done = LedgerRow.get_or_none(
            LedgerRow.tenant_id == tenant_id, LedgerRow.source == source, LedgerRow.kind == "adjust"
        )
        if done is not None:
            if done.customer_id != customer_id or int(done.points) != points:
                raise ValidationError(
                    "idempotency key already used for another adjustment",
                    Reason.IDEMPOTENCY_KEY_REUSED,
                )
            return _result(done, ledger.balance(tenant_id, customer_id), True)
        before = ledger.balance(tenant_id, customer_id, lock=True)
        if before + points < 0:
            raise ValidationError(
                f"the balance is {before}: an adjustment may not take it below zero",
                Reason.INVALID_POINTS,
                {"balance": before},
            )
        entry = Entry(
            customer_id=customer.id,
            source=source,
            kind="adjust",
            points=points,
            occurred_at=utcnow(),
            branch_id=customer.home_branch_id,
            reason_code=reason,
            note=change.get("note") or None,
            actor=principal.actor,
        )
        ledger.book(tenant_id, [entry])
        row = LedgerRow.get(LedgerRow.tenant_id == tenant_id, LedgerRow.source == source)
        audit.record(
            principal,
            "loyalty.adjusted",
            f"customer:{customer_id}",
            Severity.WARN if points < 0 else Severity.INFO,
            {"points": points, "reason_code": reason, "before": before, "after": before + points},
        )
        return _result(row, before + points, False)


def _result(row: LedgerRow, balance: int, replayed: bool) -> dict[str, Any]:
    return {"entry": ledger.entry_dict(row), "balance": balance, "replayed": replayed}


def points_page(
    tenant_id: str, customer_id: str, page: int, page_size: int = PAGE_SIZE
) -> dict[str, Any]:
    """The balance and one page of a customer's ledger (newest first)."""
    page = max(page, 1)
    with tenant_tx(tenant_id):
        customer = Customer.get_or_none(Customer.id == customer_id, Customer.tenant_id == tenant_id)
        if customer is None:
            raise NotFound("no such customer", Reason.UNKNOWN_CUSTOMER)
        query = ledger.rows_of(tenant_id, customer_id)
        total = query.count()
        rows = query.order_by(LedgerRow.id.desc()).paginate(page, page_size)
        items = [ledger.entry_dict(r) for r in rows]
        body = paged(items, page, total, page_size)
        body.update(
            customer_id=customer_id,
            balance=ledger.balance(tenant_id, customer_id),
            tier=customer.tier,
        )
    return body
