"""Refunds (FR-300, FR-304): with receipt lookup (partial, cumulative, never more than sold)
or without receipt (branch-manager approval only).

Amounts come from `posdomain.tax.refund_tax` over the original sale's stored lines, so line
discounts (promotions) and the cash-rounding line reverse proportionally, and all refunds of
a sale together reverse it to the cent. Each refund is its own document: the next gap-free
receipt number of the box, a `refund.completed` event, stock movements back (kind `refund`),
an audit entry and the override that approved it, all in one transaction. Money on the refund
document is negative.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from typing import Any

from peewee import PeeweeException

from appliance.approvals import override_tokens
from appliance.audit import log as audit_log
from appliance.catalog.models import Product
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import write_txn
from appliance.customers import returns
from appliance.devices.documents import enqueue_refund_slip
from appliance.devices.hook import kick_drawer
from appliance.devices.receipt_layout import print_settings
from appliance.identity.models import Staff
from appliance.inventory import stock_ledger
from appliance.inventory.stock_ledger import qty_text
from appliance.sync import outbox
from appliance.sync.box_state import allocate_receipt_no
from appliance.till import shifts
from appliance.till.line_rows import qty_of
from appliance.till.models import Refund, RefundLine, Sale, SaleLine, SaleVoid, Tender
from appliance.till.money_setup import money_setup
from appliance.till.tenders import card_reference, tender_kind
from posdomain.contract import EventType
from posdomain.errors import NotFound, Reason, ValidationError
from posdomain.money import from_minor, quantum, to_minor
from posdomain.obs import log_event
from posdomain.tax import (
    LineTax,
    PartTax,
    TaxClass,
    TaxComponent,
    TaxConfig,
    TaxLine,
    TaxResult,
    compute_tax,
    refund_tax,
)
from posdomain.tax_wire import breakdown_json, line_taxes_json
from posdomain.till_codes import OverrideAction, TenderKind

log = logging.getLogger(__name__)


def find_sale(code: str) -> Sale:
    """A sale by receipt number ("12" or the receipt barcode "R12") or by sale id (QR)."""
    text = code.strip()
    number = text[1:] if text[:1] in ("R", "r") else text
    sale = None
    if number.isdigit() and len(number) < 12:
        sale = Sale.get_or_none(Sale.receipt_no == int(number))
    if sale is None:
        sale = Sale.get_or_none(Sale.id == text)
    if sale is None:
        raise NotFound("no sale with that receipt on this box", Reason.NOT_FOUND)
    return sale


def returned_so_far(sale_id: str) -> dict[str, Decimal]:
    """Quantity already refunded per sale line (line_no as text), counting the lines
    exchanges brought back (a returned line of a later sale that names this sale's line)."""
    done: dict[str, Decimal] = defaultdict(Decimal)
    query = (
        RefundLine.select(RefundLine.sale_line_no, RefundLine.qty_milli)
        .join(Refund, on=(RefundLine.refund_id == Refund.id))
        .where(Refund.sale_id == sale_id)
    )
    for row in query:
        done[str(row.sale_line_no)] += Decimal(row.qty_milli).scaleb(-3)
    exchanged = SaleLine.select(SaleLine.return_line_no, SaleLine.qty_milli).where(
        SaleLine.return_sale_id == sale_id
    )
    for line in exchanged:
        done[str(line.return_line_no)] -= Decimal(line.qty_milli).scaleb(-3)  # stored negative
    return dict(done)


def _sold_class(wire: dict[str, Any], ln: SaleLine, cfg: TaxConfig) -> TaxClass:
    """The class a line was sold in, with its taxes as sold (the sale's wire line)."""
    inclusive = cfg.classes[ln.tax_class].inclusive if ln.tax_class in cfg.classes else True
    parts = tuple(
        TaxComponent(
            p["code"],
            cfg.components[p["code"]].name if p["code"] in cfg.components else "",
            Decimal(p["rate"]),
            None if p.get("per_unit") is None else Decimal(p["per_unit"]),
            tuple(p.get("on") or ()),
        )
        for p in wire.get("taxes") or []
    )
    return TaxClass(ln.tax_class, Decimal(ln.tax_rate), inclusive, parts)


def _sold_line(wire: dict[str, Any], ln: SaleLine, exp: int) -> LineTax:
    parts = tuple(
        PartTax(
            p["code"],
            Decimal(p["rate"]),
            None if p.get("per_unit") is None else Decimal(p["per_unit"]),
            Decimal(p["tax"]),
        )
        for p in wire.get("taxes") or []
    )
    return LineTax(
        str(ln.line_no),
        ln.tax_class,
        Decimal(ln.tax_rate),
        qty_of(ln),
        from_minor(ln.line_total_minor - ln.tax_minor, exp),
        from_minor(ln.tax_minor, exp),
        from_minor(ln.line_total_minor, exp),
        parts,
    )


def original_tax(sale: Sale, lines: list[SaleLine], cfg: TaxConfig) -> TaxResult:
    """The sale's tax result rebuilt from its stored lines (rates and taxes as sold)."""
    exp = sale.exponent
    wires = {w["line_no"]: w for w in json.loads(sale.payload)["lines"]}
    classes = {ln.tax_class: _sold_class(wires.get(ln.line_no, {}), ln, cfg) for ln in lines}
    taxed = tuple(_sold_line(wires.get(ln.line_no, {}), ln, exp) for ln in lines)
    kinds = {t.kind for t in Tender.select().where(Tender.sale == sale.id)}
    total, rounding = from_minor(sale.total_minor, exp), from_minor(sale.cash_rounding_minor, exp)
    return TaxResult(
        lines=taxed,
        breakdown=(),
        net_total=sum((t.net for t in taxed), Decimal(0)),
        tax_total=from_minor(sale.tax_minor, exp),
        total=total,
        cash_rounding=rounding,
        payable=total + rounding,
        cash="cash" in kinds,
        config=replace(cfg, classes=classes, exponent=exp),
    )


def lookup(code: str) -> dict[str, Any]:
    """The sale behind a receipt with what is still refundable per line."""
    sale = find_sale(code)
    payload: dict[str, Any] = json.loads(sale.payload)
    done = returned_so_far(sale.id)
    voided = SaleVoid.get_or_none(SaleVoid.sale_id == sale.id) is not None
    lines = SaleLine.select().where(SaleLine.sale == sale.id).order_by(SaleLine.line_no)
    left = {ln.line_no: qty_of(ln) - done.get(str(ln.line_no), Decimal(0)) for ln in lines}
    for wire in payload["lines"]:
        remaining = Decimal(0) if voided else max(left.get(wire["line_no"], Decimal(0)), Decimal(0))
        wire["refundable_qty"] = qty_text(int(remaining * 1000))
    payload["voided"] = voided
    return payload


def _refund_line_json(
    ln: LineTax, sale_lines: dict[str, SaleLine | Product], cfg: TaxConfig
) -> dict[str, Any]:
    src = sale_lines[ln.line_id]
    product_id = src.product_id if isinstance(src, SaleLine) else src.id
    return {
        "sale_line_no": int(ln.line_id) if isinstance(src, SaleLine) else None,
        "product_id": product_id,
        "sku": src.sku,
        "name": src.name,
        "qty": str(-ln.qty),  # refund_tax lines carry the returned qty negated
        "line_total": str(ln.gross),
        "tax_class": ln.tax_class,
        "tax_rate": str(ln.rate),
        "tax": str(ln.tax),
        "taxes": line_taxes_json(ln, cfg),
    }


def _tender_wire(kind: TenderKind, reference: str | None, payable: Decimal) -> dict[str, Any]:
    wire: dict[str, Any] = {"kind": kind.value, "amount": str(payable)}
    if kind is TenderKind.CARD:
        wire["reference"] = card_reference(reference)
    return wire


def _payload(
    head: dict[str, Any], result: TaxResult, sources: dict[str, SaleLine | Product], tender: Any
) -> dict[str, Any]:
    lines = [_refund_line_json(ln, sources, result.config) for ln in result.lines]
    for no, line in enumerate(lines, start=1):
        line["line_no"] = no
    return {
        **head,
        "lines": lines,
        "tax_total": str(result.tax_total),
        "total": str(result.total),
        "cash_rounding": str(result.cash_rounding),
        "payable": str(result.payable),
        "tax_breakdown": breakdown_json(result.breakdown),
        "tenders": [tender],
        "completed_at": now_iso(),
    }


def parse_qty(raw: str) -> Decimal:
    """A positive return quantity with at most 3 decimals (400 INVALID_QUANTITY)."""
    try:
        qty = Decimal(str(raw).strip())
    except ArithmeticError as err:
        raise ValidationError("qty must be a number", Reason.INVALID_QUANTITY) from err
    if not qty.is_finite() or qty <= 0 or qty != qty.quantize(Decimal("0.001")):
        raise ValidationError(
            "qty must be positive with at most 3 decimals", Reason.INVALID_QUANTITY
        )
    return qty.normalize() if qty == qty.to_integral() else qty


def _with_receipt(
    sale: Sale, wanted: list[tuple[str, str]], cfg: TaxConfig, cash: bool
) -> tuple[TaxResult, dict[str, SaleLine | Product]]:
    if SaleVoid.get_or_none(SaleVoid.sale_id == sale.id) is not None:
        raise ValidationError("this sale was voided", Reason.REFUND_EXCEEDS_SALE, {"voided": True})
    lines = list(SaleLine.select().where(SaleLine.sale == sale.id).order_by(SaleLine.line_no))
    returned: dict[str, Decimal] = defaultdict(Decimal)
    for line_no, qty in wanted:
        returned[str(line_no)] += parse_qty(qty)
    result = refund_tax(
        original_tax(sale, lines, cfg),
        dict(returned),
        previously_returned=returned_so_far(sale.id),
        cash=cash,
    )
    return result, {str(ln.line_no): ln for ln in lines}


def _without_receipt(
    wanted: list[tuple[str, str]], cfg: TaxConfig, cash: bool
) -> tuple[TaxResult, dict[str, SaleLine | Product]]:
    sources: dict[str, SaleLine | Product] = {}
    tax_lines = []
    for no, (product_id, raw) in enumerate(wanted, start=1):
        product = Product.get_or_none(Product.id == product_id)
        if product is None:
            raise NotFound(f"unknown product {product_id}", Reason.UNKNOWN_PRODUCT)
        qty = parse_qty(raw)
        amount = (from_minor(product.price_minor, cfg.exponent) * qty).quantize(
            quantum(cfg.exponent)
        )
        sources[str(no)] = product
        tax_lines.append(TaxLine(str(no), product.tax_class, amount, qty, bool(product.is_deposit)))
    original = compute_tax(tax_lines, cfg, cash=cash)
    result = refund_tax(original, {t.line_id: t.qty for t in tax_lines}, cash=cash)
    return result, sources


def _store(
    ctx: BoxContext, staff: Staff, payload: dict[str, Any], shift_id: str, event_id: str
) -> None:
    exp = payload["exponent"]
    Refund.insert(
        id=payload["refund_id"],
        receipt_no=payload["receipt_no"],
        sale_id=payload["sale_id"],
        shift_id=shift_id,
        staff_id=staff.id,
        approver_id=payload["approver_id"],
        reason_code=payload["reason_code"],
        tender=payload["tenders"][0]["kind"],
        card_reference=payload["tenders"][0].get("reference"),
        total_minor=to_minor(Decimal(payload["total"]), exp),
        tax_minor=to_minor(Decimal(payload["tax_total"]), exp),
        cash_rounding_minor=to_minor(Decimal(payload["cash_rounding"]), exp),
        idempotency_key=payload["idempotency_key"],
        event_id=event_id,
        payload=json.dumps(payload, sort_keys=True),
        completed_at=payload["completed_at"],
    ).execute()
    for line in payload["lines"]:
        milli = int(Decimal(line["qty"]) * 1000)
        RefundLine.insert(
            refund_id=payload["refund_id"],
            sale_line_no=line["sale_line_no"],
            product_id=line["product_id"],
            qty_milli=milli,
            gross_minor=to_minor(Decimal(line["line_total"]), exp),
            tax_minor=to_minor(Decimal(line["tax"]), exp),
            tax_class=line["tax_class"],
            tax_rate=line["tax_rate"],
        ).execute()
        stock_ledger.record_return(
            ctx, staff, line["product_id"], milli, f"refund:{payload['refund_id']}"
        )


def existing(key: str) -> dict[str, Any] | None:
    """The refund already recorded under an idempotency key, if any."""
    row = Refund.get_or_none(Refund.idempotency_key == key)
    return None if row is None else dict(json.loads(row.payload))


def _head(
    staff: Staff, sale: Sale | None, approval: override_tokens.Approval, key: str, setup: Any
) -> dict[str, Any]:
    return {
        "refund_id": str(uuid.uuid4()),
        "receipt_no": allocate_receipt_no(),
        "sale_id": None if sale is None else sale.id,
        "original_receipt_no": None if sale is None else sale.receipt_no,
        "with_receipt": sale is not None,
        "idempotency_key": key,
        "cashier_id": staff.id,
        "cashier_name": staff.name,
        "approver_id": approval.approver_id,
        "reason_code": approval.reason_code,
        "currency": setup.currency,
        "exponent": setup.exponent if sale is None else sale.exponent,
    }


def refund(
    ctx: BoxContext, staff: Staff, request: dict[str, Any], correlation_id: str
) -> dict[str, Any]:
    """Record a refund document, then (new ones only) queue its slip and open the drawer for
    cash. `request` = {sale_code?, lines: [(line_no|product_id, qty)], tender,
    card_reference?, reason_code?, override_token?, idempotency_key}."""
    done = existing(request["idempotency_key"])
    if done is not None:
        return done
    payload = _record(ctx, staff, request, correlation_id)
    if payload.get("replayed"):
        return existing(request["idempotency_key"]) or payload
    try:
        enqueue_refund_slip(payload, ctx.config.till_name, print_settings(ctx.config))
    except (PeeweeException, KeyError, ValueError) as err:  # committed; printing is retried
        log_event(log, "refund slip not queued", logging.WARNING, error=str(err))
    if payload["tenders"][0]["kind"] == "cash":
        return {**payload, "drawer": kick_drawer(ctx, payload["refund_id"], "refund")}
    return payload


def _record(
    ctx: BoxContext, staff: Staff, request: dict[str, Any], correlation_id: str
) -> dict[str, Any]:
    """Check, approve and write the refund in one transaction."""
    ctx.require_chain_intact()
    kind = tender_kind(request["tender"])
    code = request.get("sale_code")
    action = OverrideAction.REFUND if code else OverrideAction.REFUND_NO_RECEIPT
    approval = override_tokens.require(
        ctx, staff, action, request.get("override_token"), request.get("reason_code")
    )
    setup = money_setup()
    with write_txn():
        if existing(request["idempotency_key"]) is not None:
            return {"replayed": True}
        shift = shifts.for_takings(ctx, staff)
        sale = find_sale(code) if code else None
        cash = kind is TenderKind.CASH
        result, sources = (
            _with_receipt(sale, request["lines"], setup.tax, cash)
            if sale is not None
            else _without_receipt(request["lines"], setup.tax, cash)
        )
        tender = _tender_wire(kind, request.get("card_reference"), result.payable)
        head = _head(staff, sale, approval, request["idempotency_key"], setup)
        payload = _payload(head, result, sources, tender)
        if sale is not None:  # points the sale was paid with come back as points
            back = returns.share(sale, to_minor(result.total, setup.exponent))
            returns.round_cash_part(payload, sale, back, setup.tax)
            returns.apply(payload, back)
        envelope = outbox.enqueue(ctx, EventType.REFUND_COMPLETED, payload, correlation_id)
        _store(ctx, staff, payload, shift.id, str(envelope.event_id))
        override_tokens.use(ctx, approval, staff, f"refund:{payload['refund_id']}")
        _audit(ctx, staff, payload)
    return payload


def _audit(ctx: BoxContext, staff: Staff, payload: dict[str, Any]) -> None:
    """The refund's audit entry (who, approver, reason, amount)."""
    audit_log.append(
        ctx,
        actor=f"staff:{staff.id}",
        action="refund.completed",
        target=f"refund:{payload['refund_id']}",
        details={
            "receipt_no": payload["receipt_no"],
            "sale_id": payload["sale_id"],
            "total": payload["total"],
            "approver_id": payload["approver_id"],
            "reason_code": payload["reason_code"],
        },
    )
