"""The domain rules as ingest applies them to one batch (FR-303, NFR-005).

`posdomain.sale_checks` holds the pure rules; this adds what only the hub knows, looked up
once per batch (set-wise): the tenant's currency and exponent, the unit of every product the
batch names, sale ids already stored in the tenant, the box's audit seqs already held. Each
`check_*` returns the parsed payload or raises a ValidationError whose reason is the first
broken rule (all of them in `details.violations`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from hub.catalog.models import Product
from hub.core.bulk import any_text
from hub.customers.models import CustomerActivity
from hub.governance import config
from hub.governance.box_chains import AuditIn
from hub.governance.models import BoxAudit
from hub.identity.models import Box
from hub.inventory.box_events import BoxMovementIn
from hub.sales import till_documents
from hub.sales.models import Sale
from hub.sync.triage import window
from posdomain.contract import field_details
from posdomain.envelope import EventEnvelope, IncomingEvent
from posdomain.errors import Reason, ValidationError
from posdomain.money import parse_minor, to_minor
from posdomain.payloads import (
    BankDeposit,
    CashMovement,
    LineVoided,
    NoSaleOpened,
    RefundCompleted,
    SaleCompleted,
    SaleVoided,
    ShiftClosed,
    ShiftSnapshot,
)
from posdomain.refund_checks import check_refund
from posdomain.refund_checks import check_void as void_rules
from posdomain.sale_checks import Context, Violation, check_sale, check_times
from posdomain.shift_checks import (
    check_bank_deposit,
    check_cash_movement,
    check_line_void,
    check_no_sale,
    check_snapshot,
)

M = TypeVar("M", bound=BaseModel)
MAX_IDS_PER_QUERY = 5000


def parsed(model: type[M], ev: EventEnvelope) -> M:
    """The payload as `model` (MALFORMED_MESSAGE with the field problems if it is not)."""
    try:
        return model.model_validate(ev.payload)
    except PydanticValidationError as err:
        raise ValidationError(
            f"bad {ev.type} payload", Reason.MALFORMED_MESSAGE, field_details(err)
        ) from err


def refuse(violations: list[Violation], **details: Any) -> None:
    """Raise the first violation as a ValidationError (no-op for an empty list)."""
    if violations:
        first = violations[0]
        every = [v.as_dict() for v in violations]
        raise ValidationError(first.message, first.reason, {"violations": every, **details})


def _product_ids(events: list[IncomingEvent]) -> set[str]:
    """Product ids named by the lines of the batch's events (raw, bounded by the schemas)."""
    ids: set[str] = set()
    for ev in events:
        lines = ev.envelope.payload.get("lines") if ev.envelope else None
        for line in lines if isinstance(lines, list) else []:
            pid = line.get("product_id") if isinstance(line, dict) else None
            if isinstance(pid, str) and len(pid) <= 64:
                ids.add(pid)
    return ids


def _units(tenant_id: str, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    query = Product.select(Product.id, Product.unit).where(
        Product.tenant_id == tenant_id, any_text(Product.id, sorted(ids)[:MAX_IDS_PER_QUERY])
    )
    return {p.id: p.unit for p in query}


def _payload_values(events: list[IncomingEvent], kind: str, key: str) -> list[str]:
    out = []
    for ev in events:
        if ev.envelope is not None and ev.envelope.type == kind:
            value = ev.envelope.payload.get(key)
            if isinstance(value, str) and len(value) <= 64:
                out.append(value)
    return out


@dataclass(frozen=True)
class _Original:
    """What a refund or exchange is checked against (minor units of the tenant's currency)."""

    total: int
    voided: bool
    lines: dict[int, tuple[str, Decimal]]  # line no -> (product id, quantity sold)
    returned: dict[int, Decimal]  # line no -> quantity stored exchanges brought back
    refunded: int  # credited back by stored refunds (positive)
    exchanged: int  # credited back by stored exchanges (positive)
    customer: bool = False  # a loyalty customer was attached (its points are settled by refunds)


@dataclass
class Rules:
    """One batch's rule context (caller's tenant transaction)."""

    box: Box
    ctx: Context
    sale_ids: set[str] = field(default_factory=set)  # already stored in the tenant
    audit_seqs: set[tuple[str, int]] = field(default_factory=set)  # held for this box
    # event id -> its checked payload, handed to the derived effects (parsed once per batch)
    bodies: dict[str, BaseModel] = field(default_factory=dict)
    # sale id -> the sale as checked earlier in this batch (an exchange or refund may follow it)
    batch_sales: dict[str, SaleCompleted] = field(default_factory=dict)
    # sale id -> minor units refunds and exchanges earlier in this batch credited back
    credited: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # (sale id, line no) -> quantity exchanges earlier in this batch brought back
    brought_back: dict[tuple[str, int], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )

    @classmethod
    def load(cls, box: Box, events: list[IncomingEvent]) -> Rules:
        """Look up, once, everything the batch's events are checked against."""
        pricing = config.current(box.tenant_id, "pricing")
        body = pricing.body if pricing else {}
        earliest, latest = window()
        ctx = Context(
            body.get("currency"),
            body.get("exponent"),
            earliest,
            latest,
            _units(box.tenant_id, _product_ids(events)),
        )
        wanted = _payload_values(events, "sale.completed", "sale_id")[:MAX_IDS_PER_QUERY]
        taken = Sale.select(Sale.id).where(
            Sale.tenant_id == box.tenant_id, any_text(Sale.id, wanted)
        )
        seqs = [
            ev.envelope.payload.get("seq")
            for ev in events
            if ev.envelope is not None and ev.envelope.type == "audit.entry"
        ]
        held = BoxAudit.select(BoxAudit.chain, BoxAudit.seq).where(
            BoxAudit.box_id == box.box_id, BoxAudit.seq.in_([s for s in seqs if type(s) is int])
        )
        return cls(
            box,
            ctx,
            {s.id for s in taken} if wanted else set(),
            {(a.chain, int(a.seq)) for a in held} if seqs else set(),
        )

    def check_sale(self, ev: EventEnvelope, body: SaleCompleted | None = None) -> SaleCompleted:
        """A sale that adds up and whose id is not used yet (in the tenant or the batch);
        `body`: its payload already parsed where the batch was decoded."""
        sale = body if body is not None else parsed(SaleCompleted, ev)
        refuse(check_sale(sale, self.ctx), sale_id=sale.sale_id)
        if sale.sale_id in self.sale_ids:
            raise ValidationError(
                "sale id already used", Reason.DOCUMENT_ID_CONFLICT, {"sale_id": sale.sale_id}
            )
        self._check_returns(sale)
        self.sale_ids.add(sale.sale_id)
        self.batch_sales[str(sale.sale_id)] = sale
        self.bodies[str(ev.event_id)] = sale
        return sale

    def _original(self, sale_id: str, exponent: int, lines: bool = False) -> _Original | None:
        """The sale a refund or an exchange credits back: stored, or earlier in this batch.
        Its lines, what exchanges brought back and its customer are read only for an
        exchange (`lines`); a refund needs the money only (fewer queries on ingest)."""
        tenant = self.box.tenant_id
        in_batch = self.batch_sales.get(sale_id)
        if in_batch is not None:
            exp = in_batch.exponent
            sold_lines = {
                ln.line_no: (str(ln.product_id), Decimal(ln.qty))
                for ln in in_batch.lines
                if Decimal(ln.qty) > 0
            }
            total = parse_minor(in_batch.total, exp, "total")
            return _Original(total, False, sold_lines, {}, 0, 0, in_batch.customer is not None)
        sold = till_documents.sold(tenant, sale_id)
        if sold is None:
            return None
        customer = lines and (
            CustomerActivity.select()
            .where(
                CustomerActivity.tenant_id == tenant,
                CustomerActivity.sale_id == sale_id,
                CustomerActivity.doc_kind == "sale",
            )
            .exists()
        )
        return _Original(
            to_minor(sold.total, exponent),
            sold.voided,
            till_documents.sold_lines(tenant, sale_id) if lines else {},
            till_documents.returned_qty(tenant, sale_id) if lines else {},
            -till_documents.refunded_minor(tenant, sale_id),
            till_documents.exchanged_minor(tenant, sale_id),
            bool(customer),
        )

    def _check_returns(self, sale: SaleCompleted) -> None:
        """An exchange's returned lines bring back lines of a sale the hub knows, never more
        of a line than was sold, never more money than the sale took (with its refunds)."""
        by_sale: dict[str, list[Any]] = defaultdict(list)
        for ln in sale.lines:
            if ln.return_of is not None:
                by_sale[str(ln.return_of.sale_id)].append(ln)
        for sale_id, lines in by_sale.items():
            original = self._original(sale_id, sale.exponent, lines=True)
            if original is None:
                raise ValidationError(
                    "an exchange returns lines of a sale the hub does not hold",
                    Reason.UNMATCHED_RETURN,
                    {"sale_id": sale.sale_id, "return_of": sale_id},
                )
            if original.customer:
                raise ValidationError(
                    "an exchange returns lines of a sale with a loyalty customer: a refund "
                    "settles its points",
                    Reason.RETURN_BY_REFUND,
                    {"sale_id": sale.sale_id, "return_of": sale_id},
                )
            if original.voided:
                raise ValidationError(
                    "an exchange returns lines of a voided sale",
                    Reason.REFUND_EXCEEDS_SALE,
                    {"sale_id": sale.sale_id, "return_of": sale_id},
                )
            for ln in lines:
                line_no = ln.return_of.line_no
                sold = original.lines.get(line_no)
                if sold is None or sold[0] != str(ln.product_id):
                    raise ValidationError(
                        "a returned line does not match the line of its sale",
                        Reason.UNMATCHED_RETURN,
                        {"sale_id": sale.sale_id, "line_no": ln.line_no, "return_of": sale_id},
                    )
                key = (sale_id, line_no)
                back = original.returned.get(line_no, Decimal(0)) + self.brought_back[key]
                if back - Decimal(ln.qty) > sold[1]:
                    raise ValidationError(
                        "a line is returned more often than it was sold",
                        Reason.REFUND_EXCEEDS_SALE,
                        {"sale_id": sale.sale_id, "line_no": ln.line_no, "return_of": sale_id},
                    )
                self.brought_back[key] += -Decimal(ln.qty)
            amount = -sum(parse_minor(ln.line_total, sale.exponent, "line_total") for ln in lines)
            self._credit(original, sale_id, amount, sale.sale_id)

    def _credit(self, original: _Original, sale_id: str, amount: int, doc_id: Any) -> None:
        """Book `amount` (minor, positive) credited back against a sale, or refuse it."""
        done = original.refunded + original.exchanged + self.credited[sale_id]
        if done + amount > original.total:
            raise ValidationError(
                "the refunds and exchanges exceed the sale",
                Reason.REFUND_EXCEEDS_SALE,
                {"sale_id": str(doc_id), "return_of": sale_id},
            )
        self.credited[sale_id] += amount

    def check_audit(self, ev: EventEnvelope) -> AuditIn:
        """An audit entry whose (chain, seq) the box has not sent before."""
        entry = parsed(AuditIn, ev)
        if (entry.chain, entry.seq) in self.audit_seqs:
            raise ValidationError(
                f"audit seq {entry.seq} of chain {entry.chain} is held", Reason.AUDIT_SEQ_CONFLICT
            )
        self.audit_seqs.add((entry.chain, entry.seq))
        return entry

    def check_refund(self, ev: EventEnvelope) -> RefundCompleted:
        """A refund that adds up and, against a stored sale, never exceeds it."""
        body = parsed(RefundCompleted, ev)
        refuse(check_refund(body, self.ctx))
        original = self._original(str(body.sale_id), body.exponent) if body.sale_id else None
        if original is not None:
            if original.voided:
                raise ValidationError(
                    "the refunds exceed the sale",
                    Reason.REFUND_EXCEEDS_SALE,
                    {"sale_id": body.sale_id},
                )
            total = parse_minor(body.total, body.exponent, "total")
            self._credit(original, str(body.sale_id), -total, body.sale_id)
        self.bodies[str(ev.event_id)] = body
        return body

    def check_void(self, ev: EventEnvelope) -> SaleVoided:
        """A post-void of a stored, not yet voided sale of this box (receipt and total)."""
        body = parsed(SaleVoided, ev)
        original = till_documents.sold(self.box.tenant_id, body.sale_id)
        refuse(void_rules(body, original, self.box.box_id, self.ctx), sale_id=body.sale_id)
        self.bodies[str(ev.event_id)] = body
        return body

    def check_shift(self, ev: EventEnvelope) -> ShiftClosed:
        """A Z report with sane times."""
        body = parsed(ShiftClosed, ev)
        refuse(check_times([body.opened_at, body.as_of], self.ctx))
        return body

    def check_snapshot(self, ev: EventEnvelope) -> ShiftSnapshot:
        """An X report whose figures add up by its own formulas (posdomain.shift_checks)."""
        body = parsed(ShiftSnapshot, ev)
        refuse(check_snapshot(body, self.ctx), shift_id=body.shift_id)
        return body

    def check_line_void(self, ev: EventEnvelope) -> LineVoided:
        """A line void with a sane quantity, value and time."""
        body = parsed(LineVoided, ev)
        refuse(check_line_void(body, self.ctx))
        return body

    def check_no_sale(self, ev: EventEnvelope) -> NoSaleOpened:
        """A no-sale drawer opening with a sane time and reason."""
        body = parsed(NoSaleOpened, ev)
        refuse(check_no_sale(body, self.ctx))
        return body

    def check_bank_deposit(self, ev: EventEnvelope) -> BankDeposit:
        """A bank deposit in the tenant's money, positive and in range, on a sane day."""
        body = parsed(BankDeposit, ev)
        refuse(check_bank_deposit(body, self.ctx), deposit_id=body.deposit_id)
        return body

    def check_cash_movement(self, ev: EventEnvelope) -> CashMovement:
        """A drop or paid-out in the tenant's money, positive, with its reason, on a sane day."""
        body = parsed(CashMovement, ev)
        refuse(check_cash_movement(body, self.ctx), movement_id=body.movement_id)
        return body

    def check_movement(self, ev: EventEnvelope) -> BoxMovementIn:
        """A box stock movement with a sane time (sign rules: hub.inventory.box_events)."""
        body = parsed(BoxMovementIn, ev)
        refuse(check_times([body.occurred_at], self.ctx))
        return body
