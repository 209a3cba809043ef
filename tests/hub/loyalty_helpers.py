"""Shared setup of the loyalty tests: rules and flag on the demo tenant, a customer, and box
events that carry customers and loyalty facts (docs/CONTRACT.md "Loyalty")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.core.db import tenant_tx
from hub.customers.models import Customer
from hub.governance import config, versions
from hub.governance.models import FeatureFlag
from hub.loyalty import ledger
from hub.loyalty.models import LedgerRow
from hub.sync.apply import apply_batch
from hub.sync.models import ReconciliationItem
from posdomain.envelope import BatchAck
from scripts.testkit.crafted import Item, T, batch_of, sale_event, sale_payload
from tests.hub.rule_helpers import set_rule

RULES = {
    "earn": {
        "points_per_unit": "10",
        "basis": "net",
        "category_multipliers": {"PRODUCE": "2"},
        "excluded_categories": ["ALCOHOL"],
        "exclude_deposits": True,
    },
    "redeem": {"points_per_unit": "100", "min_balance": 100, "max_share": "0.5"},
    "tiers": {
        "basis": "spend",
        "window_days": 365,
        "levels": [{"name": "GOLD", "threshold": "10.00", "multiplier": "2"}],
    },
    "expiry": {"months": 12},
}


def enable_loyalty(tenant_id: str = T) -> int:
    """Rules (as a versioned config) and the flag on; return the rules version."""
    with tenant_tx(tenant_id):
        row = config.current(tenant_id, "loyalty")
    if row is None or row.body != RULES:  # proposed and approved by two people (FR-901)
        set_rule(tenant_id, "loyalty", RULES, "loyalty tests")
    with tenant_tx(tenant_id):
        row = config.current(tenant_id, "loyalty")
        assert row is not None
        flag = FeatureFlag.get_or_none(
            FeatureFlag.tenant_id == tenant_id, FeatureFlag.name == "loyalty_rules"
        )
        if flag is None:
            FeatureFlag.create(
                id=uuid.uuid4().hex,
                tenant_id=tenant_id,
                name="loyalty_rules",
                enabled=True,
                version=1,
                updated_by="test",
            )
        elif not flag.enabled:
            FeatureFlag.update(enabled=True).where(FeatureFlag.id == flag.id).execute()
        versions.bump(tenant_id, "flags")
        return int(row.version)


def new_customer(tenant_id: str = T, **fields: Any) -> str:
    """A customer row (through the model: the API is tested on its own)."""
    cid = str(uuid.uuid4())
    with tenant_tx(tenant_id):
        Customer.create(
            id=cid,
            tenant_id=tenant_id,
            display_name=fields.pop("display_name", "Test C."),
            search_text="test c.",
            source="hub",
            created_by="test",
            **fields,
        )
    return cid


def customer_sale(
    box_id: str,
    seq: int,
    customer_id: str,
    *,
    total: str = "2.98",
    tax: str = "0.14",
    qty: str = "2",
    loyalty: dict[str, Any] | None = None,
    product_id: str = "p-001",
    when: datetime | None = None,
) -> dict[str, Any]:
    """A sale.completed envelope with a customer (and loyalty facts if given) whose figures add
    up like a real box's (the hub refuses any that do not): `qty` of one product for `total`,
    tax inclusive; tax "0.00" sells it at a zero rate."""
    ev = sale_event(box_id, seq, product_id=product_id, occurred_at=when or datetime.now(UTC))
    default = (total, tax, qty) == ("2.98", "0.14", "2")
    item = Item(
        product_id=product_id,
        qty=qty,
        unit="weight" if product_id == "p-001" else "each",
        unit_price=str(Decimal(total) / Decimal(qty)),
        rate="0.05" if default or Decimal(tax) else "0.00",
    )
    p = sale_payload(seq, items=[item]) | {"completed_at": ev["payload"]["completed_at"]}
    assert (p["total"], p["tax_total"]) == (total, tax), "customer_sale: figures do not add up"
    ev["payload"] = p
    p["customer"] = {"customer_id": customer_id, "customer_name": "Test C."}
    if loyalty is not None:
        p["loyalty"] = {"customer_id": customer_id, **loyalty}
    return ev


def refund_event(
    box_id: str, seq: int, sale: dict[str, Any], qty: str, total: str, **loyalty: Any
) -> dict[str, Any]:
    """A refund.completed envelope returning `qty` of line 1 of `sale` (its tax class and rate;
    the loyalty tests sell at a zero rate, so the refund's tax is zero too)."""
    sp = sale["payload"]
    sold = sp["lines"][0]
    now = datetime.now(UTC).isoformat()
    payload: dict[str, Any] = {
        "refund_id": str(uuid.uuid4()),
        "receipt_no": 10_000 + seq,
        "sale_id": sp["sale_id"],
        "original_receipt_no": sp["receipt_no"],
        "with_receipt": True,
        "idempotency_key": uuid.uuid4().hex,
        "cashier_id": "u-cashier",
        "cashier_name": "Carl",
        "approver_id": "u-manager",
        "reason_code": "DEFECTIVE",
        "currency": "EUR",
        "exponent": 2,
        "lines": [
            {
                "line_no": 1,
                "sale_line_no": 1,
                "product_id": "p-001",
                "sku": "GB-0001",
                "name": "Bananas",
                "qty": qty,
                "line_total": f"-{total}",
                "tax_class": sold["tax_class"],
                "tax_rate": sold["tax_rate"],
                "tax": str(_returned_tax(sold, qty)),
            }
        ],
        "tax_total": str(_returned_tax(sold, qty)),
        "total": f"-{total}",
        "cash_rounding": "0.00",
        "payable": f"-{total}",
        "tax_breakdown": [],
        "tenders": [{"kind": "cash", "amount": f"-{total}"}],
        "completed_at": now,
    }
    if loyalty:
        payload["loyalty"] = loyalty
    return _envelope(box_id, seq, "refund.completed", payload)


def _returned_tax(sold: dict[str, Any], qty: str) -> Decimal:
    """The tax of returning `qty` of a sold line, proportional to the quantity (negative)."""
    share = Decimal(sold["tax"]) * Decimal(qty) / Decimal(sold["qty"])
    return -share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def void_event(box_id: str, seq: int, sale: dict[str, Any]) -> dict[str, Any]:
    """A sale.voided envelope of `sale`."""
    sp = sale["payload"]
    payload = {
        "sale_id": sp["sale_id"],
        "receipt_no": sp["receipt_no"],
        "cashier_id": "u-cashier",
        "approver_id": "u-manager",
        "reason_code": "CASHIER_ERROR",
        "exponent": 2,
        "total": sp["total"],
        "voided_at": datetime.now(UTC).isoformat(),
    }
    return _envelope(box_id, seq, "sale.voided", payload)


def _envelope(box_id: str, seq: int, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "box_id": box_id,
        "tenant_id": T,
        "branch_id": "b-downtown",
        "seq": seq,
        "type": kind,
        "occurred_at": datetime.now(UTC).isoformat(),
        "correlation_id": uuid.uuid4().hex,
        "payload": payload,
    }


def send(box_id: str, events: list[dict[str, Any]]) -> BatchAck:
    """Apply one batch through the real ingest apply (no broker)."""
    return apply_batch(batch_of(box_id, events), box_id)


def balance(customer_id: str, tenant_id: str = T) -> tuple[int, int]:
    """(running balance, ledger sum) of a customer."""
    with tenant_tx(tenant_id):
        return ledger.balance(tenant_id, customer_id), ledger.ledger_sum(tenant_id, customer_id)


def rows(customer_id: str, tenant_id: str = T) -> list[tuple[str, int, int]]:
    """(kind, line_no, points) of a customer's ledger in booking order."""
    with tenant_tx(tenant_id):
        query = (
            LedgerRow.select().where(LedgerRow.customer_id == customer_id).order_by(LedgerRow.id)
        )
        return [(r.kind, int(r.line_no), int(r.points)) for r in query]


def items(kind: str, tenant_id: str = T) -> list[ReconciliationItem]:
    """Open reconciliation items of a kind."""
    with tenant_tx(tenant_id):
        return list(ReconciliationItem.select().where(ReconciliationItem.kind == kind))
