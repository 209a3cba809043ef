"""Customers (FR-400): create, edit, search, read, purchase history — tenant-isolated by RLS,
every change audited (field names only for PII, never the phone or e-mail itself).

Scope (permission matrix "customer create/search"): customers belong to the tenant, so every
role allowed to search sees the tenant's customers (a customer shops at any branch); branch
roles create customers at their branches, edit only customers whose home branch is theirs,
and see purchase history of their branches only.
"""

from __future__ import annotations

import uuid
from typing import Any

from peewee import IntegrityError, fn

from hub.compliance import holds
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import PAGE_SIZE, paged
from hub.customers import directory
from hub.customers.models import Customer, CustomerActivity
from hub.customers.schemas import CustomerFields, CustomerIn
from hub.governance import audit
from hub.identity.models import Branch
from hub.loyalty.models import Balance, LedgerRow
from posdomain.customer_fields import new_card, normalize_card, normalize_email, normalize_phone
from posdomain.errors import Conflict, Forbidden, HubReason, NotFound, Reason
from posdomain.money import format_minor
from posdomain.permissions import Principal, Scope

PII_FIELDS = ("full_name", "phone", "email")
MAX_QUERY = 80


def search_text(display_name: str, full_name: str | None) -> str:
    """What name search matches: both names, lower-cased."""
    return f"{display_name} {full_name or ''}".strip().lower()


def customer_dict(c: Customer, points: int) -> dict[str, Any]:
    """API view of a customer."""
    return {
        "id": c.id,
        "display_name": c.display_name,
        "full_name": c.full_name,
        "phone": c.phone,
        "email": c.email,
        "card": c.card,
        "consent_marketing": bool(c.consent_marketing),
        "consent_email_receipts": bool(c.consent_email_receipts),
        "home_branch_id": c.home_branch_id,
        "active": bool(c.active),
        "tier": c.tier,
        "points": points,
        "source": c.source,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
        "erased_at": c.erased_at.isoformat() if c.erased_at else None,
    }


def balance_of(tenant_id: str, customer_id: str) -> int:
    """Running points balance of a customer (0 before the first movement; caller's tx)."""
    row = Balance.get_or_none(Balance.tenant_id == tenant_id, Balance.customer_id == customer_id)
    return int(row.points) if row else 0


def _normalised(fields: CustomerFields) -> dict[str, Any]:
    """The set fields with phone, e-mail and card normalised (INVALID_* reason codes)."""
    data = fields.model_dump(exclude_unset=True, exclude={"new_card"})
    for name, check in (("phone", normalize_phone), ("email", normalize_email)):
        if data.get(name):
            data[name] = check(data[name])
        elif name in data:
            data[name] = None
    if data.get("card"):
        data["card"] = normalize_card(data["card"])
    elif "card" in data:
        data["card"] = None
    if "full_name" in data and not data["full_name"]:
        data["full_name"] = None
    return data


def _check_branch(principal: Principal, scope: Scope, tenant_id: str, branch: str | None) -> None:
    if (
        branch is not None
        and Branch.get_or_none(Branch.id == branch, Branch.tenant_id == tenant_id) is None
    ):
        raise NotFound(f"no branch {branch}", Reason.UNKNOWN_BRANCH)
    if scope is Scope.BRANCH and (branch is None or branch not in principal.branch_ids):
        raise Forbidden("that branch is not assigned to you", Reason.FORBIDDEN_BRANCH)


def _card_free(tenant_id: str, card: str | None, customer_id: str | None = None) -> None:
    if card is None:
        return
    other = Customer.get_or_none(Customer.tenant_id == tenant_id, Customer.card == card)
    if other is not None and other.id != customer_id:
        raise Conflict("that loyalty card belongs to another customer", Reason.CARD_TAKEN)


def _audit_details(data: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in data.items() if k not in PII_FIELDS}
    if shown.get("card"):
        shown["card"] = f"…{shown['card'][-4:]}"
    return {"fields": sorted(data), **shown}


def create_customer(
    principal: Principal, tenant_id: str, scope: Scope, body: CustomerIn
) -> dict[str, Any]:
    """Create a customer (409 CARD_TAKEN if the card is in use); audited, sent to boxes."""
    data = _normalised(body)
    if body.new_card and not data.get("card"):
        data["card"] = new_card()
    if (
        scope is Scope.BRANCH
        and data.get("home_branch_id") is None
        and len(principal.branch_ids) == 1
    ):
        data["home_branch_id"] = next(iter(principal.branch_ids))
    customer_id = str(uuid.uuid4())
    try:
        with tenant_tx(tenant_id):
            _check_branch(principal, scope, tenant_id, data.get("home_branch_id"))
            _card_free(tenant_id, data.get("card"))
            customer = Customer.create(
                id=customer_id,
                tenant_id=tenant_id,
                source="hub",
                created_by=principal.actor,
                search_text=search_text(data["display_name"], data.get("full_name")),
                **data,
            )
            directory.stamp(tenant_id, [customer_id])
            audit.record(
                principal,
                "customer.created",
                f"customer:{customer_id}",
                details=_audit_details(data),
            )
            customer = Customer.get(Customer.id == customer_id)
    except IntegrityError as err:  # two writers took the same card at once
        raise Conflict("that loyalty card belongs to another customer", Reason.CARD_TAKEN) from err
    return customer_dict(customer, 0)


def _editable(principal: Principal, scope: Scope, tenant_id: str, customer_id: str) -> Customer:
    customer = find(tenant_id, customer_id)
    if customer.erased_at is not None:  # its PII is gone for good: nothing to edit back in
        raise Conflict("that customer was erased", HubReason.CUSTOMER_ERASED)
    if scope is Scope.BRANCH and customer.home_branch_id not in principal.branch_ids:
        raise Forbidden("that customer is not enrolled at your branches", Reason.FORBIDDEN_BRANCH)
    return customer


def update_customer(
    principal: Principal, tenant_id: str, scope: Scope, customer_id: str, body: CustomerFields
) -> dict[str, Any]:
    """Change some fields of a customer; audited (consents with before/after), sent to boxes."""
    data = _normalised(body)
    try:
        with tenant_tx(tenant_id):
            customer = _editable(principal, scope, tenant_id, customer_id)
            if "home_branch_id" in data:
                _check_branch(principal, scope, tenant_id, data["home_branch_id"])
            _card_free(tenant_id, data.get("card"), customer_id)
            before = {k: getattr(customer, k) for k in data}
            changed = {k: v for k, v in data.items() if before[k] != v}
            if changed:
                for key, value in changed.items():
                    setattr(customer, key, value)
                customer.search_text = search_text(customer.display_name, customer.full_name)
                customer.updated_at = utcnow()
                customer.save()
                directory.stamp(tenant_id, [customer_id])
                details = _audit_details(changed)
                details["before"] = {k: before[k] for k in changed if k.startswith("consent_")}
                audit.record(
                    principal, "customer.updated", f"customer:{customer_id}", details=details
                )
            result = customer_dict(
                Customer.get(Customer.id == customer_id), balance_of(tenant_id, customer_id)
            )
    except IntegrityError as err:
        raise Conflict("that loyalty card belongs to another customer", Reason.CARD_TAKEN) from err
    return result


def find(tenant_id: str, customer_id: str) -> Customer:
    """The tenant's customer (404 UNKNOWN_CUSTOMER, also for another tenant's id; caller's tx)."""
    customer = Customer.get_or_none(Customer.id == customer_id, Customer.tenant_id == tenant_id)
    if customer is None:
        raise NotFound("no such customer", Reason.UNKNOWN_CUSTOMER)
    return customer


def get_customer(tenant_id: str, customer_id: str) -> dict[str, Any]:
    """One customer with their balance and the legal holds covering them."""
    with tenant_tx(tenant_id):
        customer = find(tenant_id, customer_id)
        out = customer_dict(customer, balance_of(tenant_id, customer_id))
        out["legal_holds"] = holds.holds_for_customer(tenant_id, customer)
        return out


def by_card(tenant_id: str, card: str) -> dict[str, Any]:
    """The customer holding a loyalty card (404 UNKNOWN_CARD)."""
    card = normalize_card(card)
    with tenant_tx(tenant_id):
        customer = Customer.get_or_none(Customer.tenant_id == tenant_id, Customer.card == card)
        if customer is None:
            raise NotFound("no customer holds that card", Reason.UNKNOWN_CARD)
        return customer_dict(customer, balance_of(tenant_id, customer.id))


def _matching(tenant_id: str, q: str) -> Any:
    query = Customer.select().where(Customer.tenant_id == tenant_id)
    q = q.strip()[:MAX_QUERY]
    if not q:
        return query
    like = "%" + q.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
    conds = Customer.search_text**like | (Customer.email**like)
    digits = "".join(ch for ch in q if ch.isdigit())
    if digits and len(digits) >= 4 and len(digits) >= len(q.replace(" ", "")) - 2:
        conds = conds | (Customer.phone ** f"%{digits}%") | (Customer.card == digits)
    return query.where(conds)


def search(tenant_id: str, q: str, page: int, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """Customers whose name, e-mail, phone or card matches `q` (server-side paged)."""
    page = max(page, 1)
    with tenant_tx(tenant_id):
        query = _matching(tenant_id, q)
        total = query.count()
        rows = list(query.order_by(Customer.display_name, Customer.id).paginate(page, page_size))
        ids = [c.id for c in rows]
        points = {
            b.customer_id: int(b.points)
            for b in Balance.select().where(
                Balance.tenant_id == tenant_id, Balance.customer_id.in_(ids)
            )
        }
        items = [customer_dict(c, points.get(c.id, 0)) for c in rows]
    return paged(items, page, total, page_size)


def _history_item(row: CustomerActivity, points: int) -> dict[str, Any]:
    link = f"/api/v1/sales/{row.sale_id}" if row.sale_id else None
    return {
        "doc_kind": row.doc_kind,
        "doc_id": row.doc_id,
        "sale_id": row.sale_id,
        "branch_id": row.branch_id,
        "box_id": row.box_id,
        "receipt_no": row.receipt_no,
        "total": format_minor(row.total_minor, row.exponent),
        "net": format_minor(row.net_minor, row.exponent),
        "occurred_at": row.occurred_at.isoformat(),
        "link": link,
        "points": points,
    }


def history(
    principal: Principal,
    tenant_id: str,
    scope: Scope,
    customer_id: str,
    page: int,
    page_size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """Sales, refunds and post-voids of a customer (newest first; branch roles: theirs)."""
    page = max(page, 1)
    with tenant_tx(tenant_id):
        find(tenant_id, customer_id)
        query = CustomerActivity.select().where(
            CustomerActivity.tenant_id == tenant_id, CustomerActivity.customer_id == customer_id
        )
        if scope is Scope.BRANCH:
            query = query.where(CustomerActivity.branch_id.in_(sorted(principal.branch_ids)))
        total = query.count()
        rows = list(
            query.order_by(
                CustomerActivity.occurred_at.desc(), CustomerActivity.id.desc()
            ).paginate(page, page_size)
        )
        points = _points_by_event(tenant_id, customer_id, [r.event_id for r in rows])
        items = [_history_item(r, points.get(r.event_id, 0)) for r in rows]
    return paged(items, page, total, page_size)


def _points_by_event(tenant_id: str, customer_id: str, event_ids: list[str]) -> dict[str, int]:
    if not event_ids:
        return {}
    rows = (
        LedgerRow.select(LedgerRow.source, fn.SUM(LedgerRow.points).alias("total"))
        .where(
            LedgerRow.tenant_id == tenant_id,
            LedgerRow.customer_id == customer_id,
            LedgerRow.source.in_(event_ids),
        )
        .group_by(LedgerRow.source)
    )
    pairs: Any = rows.tuples()
    return {str(source): int(total) for source, total in pairs}


def customers_by_id(tenant_id: str, ids: list[str]) -> list[Customer]:
    """The tenant's customers with these ids (caller's transaction)."""
    if not ids:
        return []
    return list(Customer.select().where(Customer.tenant_id == tenant_id, Customer.id.in_(ids)))
