"""Approved manual prices of open basket lines, as the pricing engine's `PriceOverride`s.

Kept apart from the actions (`line_overrides`) so the pricing setup can read them without
importing the basket service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from appliance.models import BasketLine
from appliance.models_till import BasketPriceOverride
from posdomain.money import from_minor
from posdomain.pricing import PriceOverride


def basket_of(line: BasketLine) -> int:
    """The basket id of a line without loading the basket (peewee's `basket_id` accessor)."""
    return int(cast(Any, line).basket_id)


def overrides_for(lines: Sequence[BasketLine], exponent: int) -> list[PriceOverride]:
    """The price overrides of these basket lines (line id = line number as text)."""
    if not lines:
        return []
    basket_ids = {basket_of(ln) for ln in lines}
    numbers = {ln.line_no for ln in lines}
    rows = BasketPriceOverride.select().where(
        BasketPriceOverride.basket_id.in_(list(basket_ids)),
        BasketPriceOverride.line_no.in_(list(numbers)),
    )
    return [
        PriceOverride(
            line_id=str(row.line_no),
            unit_price=from_minor(row.unit_price_minor, exponent),
            approver_id=row.approver_id,
            reason_code=row.reason_code,
        )
        for row in rows
    ]
