"""The open basket, held by the box per till and cashier (a browser reload loses nothing).

Lines keep the product, quantity (thousandths) and, for price-embedded labels, the printed
price. A weighed product scanned by its plain GTIN needs its weight: typed by the cashier or a
stable reading of the attached scale (through the device service), never a guessed 1 kg.
Prices, promotions and tax are worked out in one posdomain call each time the basket is shown
or paid (`till.pricing.price_lines`). A product with a deposit brings its deposit
line along, linked to it; voiding the product voids its deposit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from appliance.audit import log as audit_log
from appliance.catalog import products
from appliance.catalog.models import Product
from appliance.catalog.policy_rejections import record_rejections
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import execute, select_models, select_one, write_txn
from appliance.devices.scale_reading import read_scale
from appliance.identity.models import Staff
from appliance.sync import outbox
from appliance.till import pricing, shifts
from appliance.till.models import Basket, BasketLine
from appliance.till.money_setup import MoneySetup, money_setup
from appliance.till.pricing import BasketTotals
from appliance.till.promotion_names import promotion_labels
from posdomain.audit_chain import Severity
from posdomain.contract import EventType
from posdomain.envelope import utcnow
from posdomain.errors import Conflict, Forbidden, NotFound, Reason, ValidationError
from posdomain.money import to_minor
from posdomain.permissions import Action, Principal, Scope, authorize
from posdomain.pricing import PriceList

MAX_LINES = 500
MILLI = Decimal(1000)


@dataclass(frozen=True)
class NewLine:
    """A line about to be written: product, qty and (price label) the printed price."""

    product: Product
    barcode: str
    unit: str
    qty: Decimal
    label_price_minor: int | None = None


def basket_key(ctx: BoxContext, staff_id: str) -> str:
    """One open basket per till and cashier."""
    return f"{ctx.config.till_name}:{staff_id}"


def find_basket(ctx: BoxContext, staff_id: str) -> Basket | None:
    """The cashier's open basket, if any."""
    return select_one(Basket, "SELECT * FROM basket WHERE key = ?", (basket_key(ctx, staff_id),))


def open_basket(ctx: BoxContext, staff_id: str) -> Basket:
    """The cashier's basket, created (empty) if needed (inside a write transaction)."""
    basket = find_basket(ctx, staff_id)
    if basket is None:
        Basket.insert(
            key=basket_key(ctx, staff_id), staff_id=staff_id, opened_at=now_iso()
        ).execute()
        basket = find_basket(ctx, staff_id)
        assert basket is not None
    return basket


def active_lines(basket: Basket | None) -> list[BasketLine]:
    """Non-voided lines in line order."""
    if basket is None:
        return []
    return select_models(BasketLine, _ACTIVE_SQL, (basket.id,))


# the statements of every scan, written once (issue 15: building them cost more than running)
_ACTIVE_SQL = "SELECT * FROM basket_lines WHERE basket_id = ? AND voided = 0 ORDER BY line_no"
_COUNT_SQL = "SELECT count(*) FROM basket_lines WHERE basket_id = ?"
_LINE_COLUMNS = (
    "basket_id", "line_no", "product_id", "barcode", "sku", "name", "tax_class", "unit",
    "qty_milli", "label_price_minor", "parent_line_no", "voided", "returned", "return_sale_id",
    "return_line_no", "age_verified_by",
)  # fmt: skip
_INSERT_LINE_SQL = (
    f"INSERT INTO basket_lines ({', '.join(_LINE_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_LINE_COLUMNS))})"
)
_BUMP_SQL = "UPDATE basket SET next_line_no = next_line_no + ? WHERE id = ?"


def line_count(basket: Basket) -> int:
    """All lines of a basket, voided ones too (the MAX_LINES bound)."""
    return int(execute(_COUNT_SQL, (basket.id,)).fetchone()[0])


def _full(basket: Basket) -> Conflict | None:
    if line_count(basket) >= MAX_LINES:
        return Conflict(f"a basket holds at most {MAX_LINES} lines", Reason.CONFLICT)
    return None


def _typed_qty(product: Product, qty: Decimal | None, weight: Decimal | None) -> Decimal:
    """A counted product's quantity: whole units, 1 when none was typed; never a weight."""
    if weight is not None:
        raise ValidationError(
            f"{product.name} is sold per item: give a quantity, not a weight",
            Reason.INVALID_QUANTITY,
            {"unit": "each", "field": "weight"},
        )
    if qty is None:
        return Decimal(1)
    if qty != qty.to_integral_value():
        raise ValidationError(
            f"{product.name} is sold per item: the quantity must be whole",
            Reason.INVALID_QUANTITY,
            {"unit": "each"},
        )
    return qty


def _weighed_qty(
    ctx: BoxContext, product: Product, qty: Decimal | None, weight: Decimal | None
) -> Decimal:
    """A weighed product's weight in kg: typed by the cashier, else a stable reading of the
    attached scale; never guessed (400 WEIGHT_REQUIRED naming what the scale said)."""
    if qty is not None:
        raise ValidationError(
            f"{product.name} is sold by weight: give its weight in kg, not a quantity",
            Reason.INVALID_QUANTITY,
            {"unit": "weight", "field": "qty"},
        )
    if weight is not None:
        if weight <= 0:
            raise ValidationError(
                "the weight must be more than 0 kg", Reason.INVALID_QUANTITY, {"unit": "weight"}
            )
        return weight
    problem = "NO_SCALE"
    if ctx.config.devices.scale.kind != "none":
        reading = read_scale(ctx.config.database_path)
        if reading.weight is not None:
            return reading.weight
        problem = reading.problem or "DEVICE_ERROR"
    raise ValidationError(
        f"{product.name} is sold by weight: weigh it or enter the weight in kg",
        Reason.WEIGHT_REQUIRED,
        {"unit": "weight", "product_id": product.id, "name": product.name, "scale": problem},
    )


def _scanned_line(
    ctx: BoxContext,
    setup: MoneySetup,
    barcode: str,
    qty: Decimal | None,
    weight: Decimal | None,
) -> NewLine:
    """Resolve a scan into the line to add (weight and price labels carry their quantity)."""
    hit = products.resolve_scan(barcode, setup.formats)
    measure, product = hit.measure, hit.product
    if measure is None:
        if product.unit == "weight":
            return NewLine(product, barcode, "weight", _weighed_qty(ctx, product, qty, weight))
        return NewLine(product, barcode, product.unit, _typed_qty(product, qty, weight))
    if (qty is not None and qty != 1) or weight is not None:
        raise ValidationError(
            "a weight/price label carries its own quantity", Reason.INVALID_QUANTITY
        )
    if measure.kind == "weight":
        return NewLine(product, barcode, "weight", measure.value)
    label = to_minor(measure.value, setup.exponent)
    if product.unit == "weight" and product.price_minor > 0:
        weight = (label / Decimal(product.price_minor)).quantize(Decimal("0.001"))
        return NewLine(product, barcode, "weight", max(weight, Decimal("0.001")), label)
    return NewLine(product, barcode, "each", Decimal(1), label)


@dataclass(frozen=True)
class ReturnOf:
    """The sale line an exchange's returned line brings back."""

    sale_id: str
    line_no: int


def insert_line(
    basket: Basket,
    line: NewLine,
    line_no: int,
    parent: int | None = None,
    returned: bool = False,
    return_of: ReturnOf | None = None,
    verified_by: str | None = None,
) -> None:
    """Write one basket line (inside a write transaction); quantities checked first."""
    if line.qty <= 0 or line.qty * MILLI != (line.qty * MILLI).to_integral_value():
        raise ValidationError(
            "quantity must be positive with at most 3 decimals", Reason.INVALID_QUANTITY
        )
    p = line.product
    execute(
        _INSERT_LINE_SQL,
        (
            basket.id, line_no, p.id, line.barcode, p.sku, p.name, p.tax_class, line.unit,
            int(line.qty * MILLI), line.label_price_minor, parent, 0, int(returned),
            None if return_of is None else return_of.sale_id,
            None if return_of is None else return_of.line_no,
            verified_by,
        ),
    )  # fmt: skip


def _deposit_line(line: NewLine) -> NewLine | None:
    """The automatic deposit line of a product that carries one (same count of items)."""
    if not line.product.deposit_product_id:
        return None
    deposit = products.get_product(line.product.deposit_product_id)
    if deposit is None:
        raise Conflict(
            f"deposit item {line.product.deposit_product_id} is not in the catalog",
            Reason.CONFLICT,
        )
    qty = line.qty if line.unit == "each" else Decimal(1)
    return NewLine(deposit, "", "each", qty)


def add_returned(
    ctx: BoxContext, staff: Staff, barcode: str, qty: Decimal | None
) -> dict[str, Any]:
    """Returned empties: the deposit of the scanned item (or the scanned deposit item itself),
    as a returned line; anything else brought back needs its receipt (UNMATCHED_RETURN)."""
    setup = money_setup()
    scanned = _scanned_line(ctx, setup, barcode, qty, None)
    deposit = scanned if scanned.product.is_deposit else _deposit_line(scanned)
    if deposit is None:
        raise ValidationError(
            f"{scanned.product.name} has no deposit: a return needs its receipt",
            Reason.UNMATCHED_RETURN,
            {"product_id": scanned.product.id},
        )
    with write_txn():
        basket = open_basket(ctx, staff.id)
        full = _full(basket)
        if full is not None:
            raise full
        line_no = basket.next_line_no
        insert_line(basket, deposit, line_no, returned=True)
        Basket.update(next_line_no=Basket.next_line_no + 1).where(Basket.id == basket.id).execute()
        audit_log.append(ctx, actor=f"staff:{staff.id}", action="basket.empties_returned",
                         target=f"product:{deposit.product.id}",
                         details={"line_no": line_no, "qty": str(deposit.qty)})  # fmt: skip
    return view(ctx, staff.id)


def add_line(
    ctx: BoxContext,
    staff: Staff,
    barcode: str,
    qty: Decimal | None,
    age_confirmed: bool = False,
    weight: Decimal | None = None,
) -> dict[str, Any]:
    """Add a scanned product (and its deposit); errors write nothing. A weighed product needs
    its weight (typed, or read from the scale); an age-restricted one the cashier's
    confirmation that they checked the customer's age (audited, REP-T-16 "verified by")."""
    setup = money_setup()
    new = _scanned_line(ctx, setup, barcode, qty, weight)
    age = new.product.age_restriction
    if age and not age_confirmed:
        raise Conflict(
            f"{new.product.name} is for {age}+ only: check ID and confirm",
            Reason.AGE_CONFIRMATION_REQUIRED,
            {"age": age, "product_id": new.product.id},
        )
    deposit = _deposit_line(new)
    for item in (new, deposit):
        if item is not None and item.product.tax_class not in setup.tax.classes:
            raise Conflict(
                f"product {item.product.sku} has unknown tax class {item.product.tax_class}",
                Reason.CONFLICT,
                {"tax_class": item.product.tax_class},
            )
    with write_txn():
        basket = open_basket(ctx, staff.id)
        full = _full(basket)
        if full is not None:
            raise full
        line_no = basket.next_line_no
        insert_line(basket, new, line_no, verified_by=staff.id if age else None)
        if age:
            audit_log.append(ctx, actor=f"staff:{staff.id}", action="basket.age_verified",
                         target=f"product:{new.product.id}",
                         details={"age": age, "line_no": line_no})  # fmt: skip
        if deposit is not None:
            insert_line(basket, deposit, line_no + 1, parent=line_no)
        used = 2 if deposit is not None else 1
        execute(_BUMP_SQL, (used, basket.id))
        totals = price_open(setup, basket)
        record_rejections(ctx, totals.sale.rejections)
    return render(ctx, setup, totals)


def void_line(ctx: BoxContext, staff: Staff, line_no: int) -> dict[str, Any]:
    """Void one line and its deposit line (audited); refused while the audit chain is broken."""
    ctx.require_chain_intact()
    with write_txn():
        basket = find_basket(ctx, staff.id)
        lines = {ln.line_no: ln for ln in active_lines(basket)}
        line = lines.get(line_no)
        if basket is None or line is None:
            raise NotFound(
                f"no open line {line_no} in your basket",
                Reason.LINE_NOT_FOUND,
                {"line_no": line_no},
            )
        if line.parent_line_no in lines:
            raise Conflict(
                "a deposit line goes with its item: void the item instead",
                Reason.CONFLICT,
                {"line_no": line_no, "parent_line_no": line.parent_line_no},
            )
        voided = [ln for ln in lines.values() if line_no in (ln.line_no, ln.parent_line_no)]
        setup = money_setup()
        shown = {p.line.line_no: p.sold.tax.gross for p in price_open(setup, basket).lines}
        value = sum((shown.get(ln.line_no, Decimal(0)) for ln in voided), Decimal(0))
        BasketLine.update(voided=1).where(BasketLine.id.in_([ln.id for ln in voided])).execute()
        shift = shifts.current(ctx)
        outbox.enqueue(
            ctx,
            EventType.LINE_VOIDED,
            {
                "line_void_id": str(uuid.uuid4()),
                "basket_id": str(basket.id),
                "line_no": line_no,
                "voided_lines": [ln.line_no for ln in voided],
                "product_id": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "qty": str(Decimal(line.qty_milli) / MILLI),
                "value": str(value.quantize(Decimal(1).scaleb(-setup.exponent))),
                "exponent": setup.exponent,
                "cashier_id": staff.id,
                "shift_id": None if shift is None else shift.id,
                "voided_at": now_iso(),
            },
        )
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="sale.line_void",
            target=f"basket:{basket.id}",
            severity=Severity.INFO,
            details={
                "line_no": line_no,
                "sku": line.sku,
                "qty_milli": line.qty_milli,
                "voided_lines": [ln.line_no for ln in voided],
            },
        )
    return view(ctx, staff.id)


def set_price_list(
    ctx: BoxContext, staff: Staff, principal: Principal, price_list: PriceList
) -> dict[str, Any]:
    """Switch the basket between retail and wholesale prices (supervisor or manager, audited)."""
    scope = authorize(
        principal,
        Action.PRIVILEGED_SALE_OP,
        tenant_id=ctx.config.tenant_id,
        branch_id=ctx.config.branch_id,
    )
    if scope is Scope.OVERRIDE:
        raise Forbidden(
            "only a supervisor or manager may change the price list", Reason.FORBIDDEN_ROLE
        )
    setup = money_setup()  # refuses before writing if the box has no tax/currency config yet
    with write_txn():
        basket = open_basket(ctx, staff.id)
        Basket.update(price_list=price_list).where(Basket.id == basket.id).execute()
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="sale.price_list",
            target=f"basket:{basket.id}",
            details={"from": basket.price_list, "to": price_list},
        )
    return render(ctx, setup, price_open(setup, find_basket(ctx, staff.id)))


def price_open(
    setup: MoneySetup, basket: Basket | None, *, cash: bool = True, paying: bool = False
) -> BasketTotals:
    """Price the basket's active lines (a missing basket prices as empty, retail)."""
    price_list: PriceList = "wholesale" if basket and basket.price_list == "wholesale" else "retail"
    kind: Literal["sale", "open"] = "sale" if paying else "open"
    if basket is None:
        return pricing.price_lines(setup, [], price_list, cash=cash, now=utcnow(), kind=kind)
    return pricing.price_basket(setup, basket.id, price_list, cash=cash, now=utcnow(), kind=kind)


def view(ctx: BoxContext, staff_id: str) -> dict[str, Any]:
    """API form of the cashier's basket: per-line prices, discounts, tax, and the totals."""
    setup = money_setup()
    return render(ctx, setup, price_open(setup, find_basket(ctx, staff_id)))


def labels_for(ctx: BoxContext, setup: MoneySetup) -> dict[str, str]:
    """Display names of the promotions in force, in the box's language."""
    return promotion_labels(setup.policies, setup.promotion_names, ctx.config.locale)


def render(ctx: BoxContext, setup: MoneySetup, totals: BasketTotals) -> dict[str, Any]:
    """API form of a priced basket."""
    labels = labels_for(ctx, setup)
    return {
        "currency": setup.currency,
        "lines": pricing.lines_json(totals, totals.sale.tax.config, labels),
        **pricing.totals_json(totals),
    }
