"""Customer PII export and erasure (FR-P7-1017, FR-P7-1018).

Export: everything the hub holds about one customer (the record, purchase history, points
ledger and balance, tier history, the holds on them, an earlier erasure record), audited.

Erasure keeps what the law and the ledgers need and removes the person from it: names,
phone, e-mail and card are removed, the consents cleared, the record deactivated, so sales,
points and audit entries keep only the customer id — a random UUID that names nobody once
the row holding the PII is gone (the pseudonym). The points ledger and the hash-chained
audit log are never rewritten, so both still verify afterwards. The change is stamped into
the card directory, so every box drops the card and the name at its next catch-up. Refused
(409 LEGAL_HOLD, saying which hold) under a hold; the refusal is audited too. The erasure
record says what was erased and what was kept under which rule.
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.compliance import holds
from hub.compliance.models import CustomerErasure
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.customers import directory
from hub.customers.models import Customer, CustomerActivity
from hub.customers.service import balance_of, customer_dict, find
from hub.governance import audit
from hub.governance.models import AuditLog
from hub.loyalty.ledger import entry_dict, ledger_sum, rows_of
from hub.loyalty.models import TierChange
from posdomain.audit_chain import Severity
from posdomain.errors import Conflict, HubReason, NotFound, PosError
from posdomain.permissions import Principal

ERASED_NAME = "Erased customer"
ERASABLE = ("display_name", "full_name", "phone", "email", "card")
KEEP_RULES = {
    "customer_activity": "sales and refunds are tax records: kept for the tax law's period, "
    "linked by the pseudonymous customer id only",
    "loyalty_ledger": "the points ledger is immutable (append-only); kept with the "
    "pseudonymous id so balances still equal the ledger",
    "loyalty_tier_changes": "append-only tier history, pseudonymous id only",
    "audit_log": "the hash-chained audit log is never rewritten (FR-600); customer entries "
    "name fields, never phone or e-mail, and a card by its last four digits only",
}


def _erasure_dict(row: CustomerErasure) -> dict[str, Any]:
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "erased_by": row.erased_by,
        "erased_at": row.erased_at.isoformat(),
        "erased": row.erased,
        "kept": row.kept,
    }


def _record(tenant_id: str, customer_id: str) -> dict[str, Any] | None:
    row = CustomerErasure.get_or_none(
        CustomerErasure.tenant_id == tenant_id, CustomerErasure.customer_id == customer_id
    )
    return None if row is None else _erasure_dict(row)


def pii_export(principal: Principal, tenant_id: str, customer_id: str) -> dict[str, Any]:
    """Everything held about one customer (audited as `customer.pii_exported`)."""
    with tenant_tx(tenant_id):
        customer = find(tenant_id, customer_id)
        activity = CustomerActivity.select().where(
            CustomerActivity.tenant_id == tenant_id, CustomerActivity.customer_id == customer_id
        )
        tiers = TierChange.select().where(
            TierChange.tenant_id == tenant_id, TierChange.customer_id == customer_id
        )
        doc = {
            "customer": customer_dict(customer, balance_of(tenant_id, customer_id)),
            "purchases": [
                {
                    "kind": a.doc_kind,
                    "doc_id": a.doc_id,
                    "sale_id": a.sale_id,
                    "branch_id": a.branch_id,
                    "receipt_no": a.receipt_no,
                    "total_minor": int(a.total_minor),
                    "exponent": a.exponent,
                    "occurred_at": a.occurred_at.isoformat(),
                }
                for a in activity.order_by(CustomerActivity.occurred_at)
            ],
            "points_ledger": [entry_dict(r) for r in rows_of(tenant_id, customer_id)],
            "tier_changes": [
                {"from": t.from_tier, "to": t.to_tier, "at": t.changed_at.isoformat()}
                for t in tiers.order_by(TierChange.changed_at)
            ],
            "legal_holds": holds.holds_for_customer(tenant_id, customer),
            "erasure": _record(tenant_id, customer_id),
            "exported_at": utcnow().isoformat(),
        }
        counts = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
        audit.record(
            principal,
            "customer.pii_exported",
            f"customer:{customer_id}",
            Severity.WARN,
            {"counts": counts},
        )
    return doc


def _kept(tenant_id: str, customer_id: str) -> dict[str, Any]:
    target = f"customer:{customer_id}"
    counts = {
        "customer_activity": CustomerActivity.select()
        .where(CustomerActivity.tenant_id == tenant_id, CustomerActivity.customer_id == customer_id)
        .count(),
        "loyalty_ledger": rows_of(tenant_id, customer_id).count(),
        "loyalty_tier_changes": TierChange.select()
        .where(TierChange.tenant_id == tenant_id, TierChange.customer_id == customer_id)
        .count(),
        "audit_log": AuditLog.select()
        .where(AuditLog.chain == tenant_id, AuditLog.target == target)
        .count(),
    }
    kept = {k: {"rows": int(n), "rule": KEEP_RULES[k]} for k, n in counts.items()}
    kept["points_balance"] = {
        "points": ledger_sum(tenant_id, customer_id),
        "rule": "the balance stays (it equals the ledger); nobody can redeem it without the card",
    }
    return kept


def _refuse(principal: Principal, tenant_id: str, customer_id: str, err: PosError) -> None:
    with tenant_tx(tenant_id):  # the refusal is evidence too (its own transaction)
        details = {"reason": str(err.reason), **err.details}
        audit.record(
            principal, "customer.erasure_refused", f"customer:{customer_id}", Severity.WARN, details
        )
    raise err


def erase(principal: Principal, tenant_id: str, customer_id: str, reason: str) -> dict[str, Any]:
    """Erase one customer's PII (see the module docstring); the erasure record."""
    refusal: PosError | None = None
    record: dict[str, Any] = {}
    with tenant_tx(tenant_id):
        customer = find(tenant_id, customer_id)  # 404 UNKNOWN_CUSTOMER
        try:
            if customer.erased_at is not None:
                raise Conflict("that customer is already erased", HubReason.CUSTOMER_ERASED)
            holds.refuse_if_held(holds.holds_for_customer(tenant_id, customer), "erasure")
        except Conflict as err:
            refusal = err
        else:
            record = _erase(principal, tenant_id, customer, reason)
    if refusal is not None:
        _refuse(principal, tenant_id, customer_id, refusal)
    return record


def _erase(principal: Principal, tenant_id: str, customer: Customer, reason: str) -> dict[str, Any]:
    erased = sorted(f for f in ERASABLE if getattr(customer, f))
    now = utcnow()
    Customer.update(
        display_name=ERASED_NAME,
        full_name=None,
        phone=None,
        email=None,
        card=None,
        search_text="",
        consent_marketing=False,
        consent_email_receipts=False,
        active=False,
        erased_at=now,
        updated_at=now,
    ).where(Customer.tenant_id == tenant_id, Customer.id == customer.id).execute()
    version = directory.stamp(tenant_id, [customer.id])  # boxes drop card and name
    row = CustomerErasure.create(
        id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        customer_id=customer.id,
        erased_by=principal.actor,
        erased_at=now,
        erased={
            "fields": erased,
            "consents": "cleared",
            "card_directory_version": version,
            "rule": "PII removed on the customer's request (FR-P7-1017)",
        },
        kept=_kept(tenant_id, customer.id),
    )
    audit.record(
        principal,
        "customer.erased",
        f"customer:{customer.id}",
        Severity.WARN,
        {"fields": erased, "reason": reason, "erasure_id": row.id},
    )
    return _erasure_dict(row)


def erasure_record(tenant_id: str, customer_id: str) -> dict[str, Any]:
    """The erasure record of a customer (404 if never erased)."""
    with tenant_tx(tenant_id):
        find(tenant_id, customer_id)
        record = _record(tenant_id, customer_id)
    if record is None:
        raise NotFound("that customer was never erased")
    return record
