"""Customer facts of box events, applied inside the ingest batch (FR-400).

* `customer.enrolled` (a card handed out at the till, offline too): creates the customer
  with the box-made id. The same enrolment again is a no-op; a malformed one is refused
  (its seq is held, nothing written); a card that is already another customer's keeps the
  new customer without the card and queues `CUSTOMER_CARD_CONFLICT`.
* `sale.completed` with a known customer, and its refunds and post-void: one
  `customer_activity` row each (purchase history, REP-T-15), unique per event id. A refund
  or void that reached the hub before its sale is linked when the sale arrives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic import ValidationError as PydanticValidationError

from hub.core.bulk import insert_rows
from hub.core.models import utcnow
from hub.customers import directory
from hub.customers.models import Customer, CustomerActivity
from hub.customers.service import search_text
from hub.identity.models import Box
from hub.loyalty import conflicts
from hub.sales.models import BoxRefund, HubSaleVoid
from posdomain.contract import EventType, field_details
from posdomain.customer_fields import normalize_card
from posdomain.envelope import EventEnvelope
from posdomain.errors import PosError, Reason, ValidationError
from posdomain.money import parse_minor

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class EnrolledIn(BaseModel):
    """customer.enrolled payload (docs/CONTRACT.md "customer.enrolled")."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(pattern=UUID)
    card: str = Field(min_length=8, max_length=20)
    display_name: str = Field(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")
    enrolled_at: datetime
    enrolled_by: str = Field(min_length=1, max_length=64)
    consent_marketing: StrictBool = False
    consent_email_receipts: StrictBool = False


def _enrol(box: Box, ev: EventEnvelope) -> None:
    try:
        body = EnrolledIn.model_validate(ev.payload)
    except PydanticValidationError as err:
        raise ValidationError(
            "bad customer.enrolled payload", Reason.MALFORMED_MESSAGE, field_details(err)
        ) from err
    card = normalize_card(body.card)
    existing = Customer.get_or_none(Customer.id == body.customer_id)
    if existing is not None:
        if existing.tenant_id == box.tenant_id and existing.card in (card, None):
            return  # the same enrolment sent again
        raise ValidationError("that customer id is already taken", Reason.DUPLICATE)
    holder = Customer.get_or_none(Customer.tenant_id == box.tenant_id, Customer.card == card)
    if holder is not None:
        conflicts.raise_item(
            box,
            str(ev.event_id),
            None,
            "CUSTOMER_CARD_CONFLICT",
            {"customer_id": body.customer_id, "card_holder": holder.id, "card": f"…{card[-4:]}"},
        )
    Customer.create(
        id=body.customer_id,
        tenant_id=box.tenant_id,
        display_name=body.display_name,
        card=None if holder is not None else card,
        search_text=search_text(body.display_name, None),
        consent_marketing=body.consent_marketing,
        consent_email_receipts=body.consent_email_receipts,
        home_branch_id=box.branch_id,
        source="box",
        created_by=f"staff:{body.enrolled_by}",
        created_at=body.enrolled_at,
        updated_at=utcnow(),
    )
    directory.stamp(box.tenant_id, [body.customer_id])


def _activity(
    box: Box,
    ev_id: str,
    customer_id: str,
    kind: str,
    doc_id: str,
    sale_id: str | None,
    money: tuple[int, int, int],
    receipt_no: Any,
    at: datetime,
) -> dict[str, Any]:
    total, tax, exp = money
    return {
        "tenant_id": box.tenant_id,
        "customer_id": customer_id,
        "doc_kind": kind,
        "doc_id": doc_id,
        "sale_id": sale_id,
        "event_id": ev_id,
        "branch_id": box.branch_id,
        "box_id": box.box_id,
        "receipt_no": receipt_no if isinstance(receipt_no, int) else None,
        "total_minor": total,
        "net_minor": total - tax,
        "exponent": exp,
        "occurred_at": at,
    }


def _sale_customer(tenant_id: str, payload: dict[str, Any]) -> str | None:
    found = payload.get("loyalty") or payload.get("customer")
    cid = found.get("customer_id") if isinstance(found, dict) else None
    if not isinstance(cid, str):
        return None
    known = Customer.get_or_none(Customer.tenant_id == tenant_id, Customer.id == cid)
    return known.id if known else None


def _link_sale(box: Box, ev: EventEnvelope) -> list[dict[str, Any]]:
    p = ev.payload
    customer_id = _sale_customer(box.tenant_id, p)
    if customer_id is None:
        return []
    exp = int(p.get("exponent", 2))
    money = (parse_minor(p["total"], exp, "total"), parse_minor(p.get("tax_total", "0"), exp), exp)
    sale_id = str(p["sale_id"])
    rows = [
        _activity(
            box,
            str(ev.event_id),
            customer_id,
            "sale",
            sale_id,
            sale_id,
            money,
            p.get("receipt_no"),
            ev.occurred_at,
        )
    ]
    for refund in BoxRefund.select().where(
        BoxRefund.tenant_id == box.tenant_id, BoxRefund.sale_id == sale_id
    ):
        rows.append(
            _activity(
                box,
                refund.event_id,
                customer_id,
                "refund",
                refund.id,
                sale_id,
                (refund.total_minor, refund.tax_minor, refund.exponent),
                refund.receipt_no,
                refund.completed_at,
            )
        )
    void = HubSaleVoid.get_or_none(
        HubSaleVoid.tenant_id == box.tenant_id, HubSaleVoid.sale_id == sale_id
    )
    if void is not None:
        rows.append(
            _activity(
                box,
                void.event_id,
                customer_id,
                "void",
                sale_id,
                sale_id,
                (-money[0], -money[1], exp),
                void.receipt_no,
                void.voided_at,
            )
        )
    return rows


def _sale_row(tenant_id: str, sale_id: Any) -> CustomerActivity | None:
    if not isinstance(sale_id, str):
        return None
    row: CustomerActivity | None = CustomerActivity.get_or_none(
        CustomerActivity.tenant_id == tenant_id,
        CustomerActivity.sale_id == sale_id,
        CustomerActivity.doc_kind == "sale",
    )
    return row


def _link_document(box: Box, ev: EventEnvelope) -> list[dict[str, Any]]:
    p = ev.payload
    sale = _sale_row(box.tenant_id, p.get("sale_id"))
    if sale is None:
        return []
    exp = int(p.get("exponent", sale.exponent))
    if ev.type == EventType.REFUND_COMPLETED:
        money = (
            parse_minor(p["total"], exp, "total"),
            parse_minor(p.get("tax_total", "0"), exp),
            exp,
        )
        return [
            _activity(
                box,
                str(ev.event_id),
                sale.customer_id,
                "refund",
                str(p["refund_id"]),
                sale.sale_id,
                money,
                p.get("receipt_no"),
                ev.occurred_at,
            )
        ]
    tax = sale.total_minor - sale.net_minor
    return [
        _activity(
            box,
            str(ev.event_id),
            sale.customer_id,
            "void",
            str(sale.sale_id),
            sale.sale_id,
            (-sale.total_minor, -tax, sale.exponent),
            p.get("receipt_no"),
            ev.occurred_at,
        )
    ]


def apply_event(box: Box, ev: EventEnvelope) -> None:
    """Customer effect of one accepted event (raises ValidationError to refuse an enrolment)."""
    if ev.type == EventType.CUSTOMER_ENROLLED:
        _enrol(box, ev)
        return
    try:
        if ev.type == EventType.SALE_COMPLETED:
            rows = _link_sale(box, ev)
        elif ev.type in (EventType.REFUND_COMPLETED, EventType.SALE_VOIDED):
            rows = _link_document(box, ev)
        else:
            return
    except (PosError, KeyError, TypeError, ValueError):
        return  # the document's own validation decides about bad money; history skips it
    insert_rows(CustomerActivity, rows, suffix="ON CONFLICT (event_id) DO NOTHING")
