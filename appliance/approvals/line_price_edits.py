"""Manual price override and line discount on the open basket (FR-300, FR-301).

* Price override: always a privileged action (cashiers need a supervisor override token;
  supervisors/managers approve themselves with a reason code); it may cross the floor.
* Discount (percent of the line amount at the price actually charged, wholesale tier
  included; `posdomain.pricing` applies it to qty x price, rounded once): within the
  configured threshold (`risk.discount_override_percent`) a cashier applies it
  themselves, but never below the product's floor; above it, it needs a `discount`
  override. No threshold configured means every manual discount needs an override.
The approved price is stored per basket line and fed to the pricing engine as a
`PriceOverride` (so the line leaves promotions); the sale line carries approver and reason.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from appliance.approvals import override_tokens
from appliance.audit import log as audit_log
from appliance.catalog.models import Product
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import write_txn
from appliance.identity.models import Staff
from appliance.till.basket import find_basket, view
from appliance.till.line_rows import product_price
from appliance.till.models import BasketLine, BasketPriceOverride
from appliance.till.money_setup import money_setup
from appliance.till.pricing import basket_of, charged_unit_price
from posdomain.errors import NotFound, Reason, ValidationError
from posdomain.money import parse_money, to_minor
from posdomain.pricing import check_floor
from posdomain.till_codes import OverrideAction


def _line(ctx: BoxContext, staff: Staff, line_no: int) -> tuple[BasketLine, Product]:
    basket = find_basket(ctx, staff.id)
    line = None if basket is None else BasketLine.get_or_none(
        BasketLine.basket == basket.id, BasketLine.line_no == line_no, BasketLine.voided == 0
    )  # fmt: skip
    if line is None:
        raise NotFound("that line is not in the basket", Reason.LINE_NOT_FOUND)
    if line.parent_line_no is not None or line.label_price_minor is not None:
        raise ValidationError("deposit and price-label lines keep their price",
                              Reason.VALIDATION_FAILED)  # fmt: skip
    return line, Product.get_by_id(line.product_id)


def _record(
    ctx: BoxContext,
    staff: Staff,
    line: BasketLine,
    approval: override_tokens.Approval,
    price: tuple[int, str | None],
) -> None:
    """Store the manual price of a line and consume/audit its approval (caller's txn)."""
    unit_minor, percent = price
    kind = "discount" if percent is not None else "price"
    BasketPriceOverride.insert(
        basket_id=basket_of(line), line_no=line.line_no, kind=kind, unit_price_minor=unit_minor,
        percent=percent, approver_id=approval.approver_id, reason_code=approval.reason_code,
        created_at=now_iso(),
    ).on_conflict_replace().execute()  # fmt: skip
    override_tokens.use(ctx, approval, staff, f"basket_line:{basket_of(line)}:{line.line_no}")
    audit_log.append(
        ctx,
        actor=f"staff:{staff.id}",
        action=f"basket.{kind}",
        target=f"product:{line.product_id}",
        details={"line_no": line.line_no, "unit_price_minor": unit_minor, "percent": percent,
                 "approver_id": approval.approver_id},
    )  # fmt: skip


def override_price(
    ctx: BoxContext, staff: Staff, line_no: int, unit_price: str, token: str | None,
    reason_code: str | None,
) -> dict[str, Any]:  # fmt: skip
    """Set a line's unit price with a supervisor's approval."""
    ctx.require_chain_intact()
    setup = money_setup()
    price = parse_money(unit_price, setup.exponent, "unit_price")
    if price < 0:
        raise ValidationError("a price cannot be negative", Reason.INVALID_MONEY)
    approval = override_tokens.require(
        ctx, staff, OverrideAction.PRICE_OVERRIDE, token, reason_code
    )
    with write_txn():
        line, _ = _line(ctx, staff, line_no)
        _record(ctx, staff, line, approval, (to_minor(price, setup.exponent), None))
    return view(ctx, staff.id)


def _percent(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation as err:
        raise ValidationError("percent must be a number", Reason.VALIDATION_FAILED) from err
    if not value.is_finite() or not 0 < value <= 100 or value != value.quantize(Decimal("0.01")):
        raise ValidationError("percent must be in (0, 100] with 2 decimals at most")
    return value


def discount_line(
    ctx: BoxContext, staff: Staff, line_no: int, percent: str, token: str | None,
    reason_code: str | None,
) -> dict[str, Any]:  # fmt: skip
    """Discount a line by a percent of its amount (override above the threshold)."""
    ctx.require_chain_intact()
    setup = money_setup()
    pct = _percent(percent)
    needs = override_tokens.discount_needs_override(pct)
    approval = (
        override_tokens.require(ctx, staff, OverrideAction.DISCOUNT, token, reason_code)
        if needs
        else override_tokens.Approval(OverrideAction.DISCOUNT, staff.id,
                                override_tokens.parse_reason(reason_code or "").value, None)
    )  # fmt: skip
    with write_txn():
        line, product = _line(ctx, staff, line_no)
        price = product_price(product, setup.exponent)
        listed = charged_unit_price(line, price)
        if approval.token is None and staff.id == approval.approver_id and not needs:
            check_floor(price, listed * (100 - pct) / 100)  # cashier: floor holds
        _record(ctx, staff, line, approval, (to_minor(listed, setup.exponent), str(pct)))
    return view(ctx, staff.id)
