"""Response bodies of the till API as documented in the OpenAPI document (the `@api` source).

The services build these answers as dicts; the models name every key the till screen relies
on with its type, so schemathesis checks each answer against them
(tests/appliance/web/test_openapi_fuzz.py). Fields the hub's contract may grow stay open
(`extra` allowed): a new key is no drift, a missing or retyped one is.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

Decimal = str  # money, quantities and rates travel as decimal strings


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class TaxRowOut(_Out):
    """One row of the tax breakdown."""

    tax_class: str
    rate: Decimal
    inclusive: bool
    net: Decimal
    tax: Decimal
    gross: Decimal


class BasketLineOut(_Out):
    """A basket or sale line as priced."""

    line_no: int
    product_id: str
    sku: str
    name: str
    barcode: str | None
    qty: Decimal
    unit: str
    weight: Decimal | None
    unit_price: Decimal
    extended: Decimal
    line_total: Decimal
    discounts: list[dict[str, Any]]
    price_override: dict[str, Any] | None


class _Totals(_Out):
    currency: str
    price_list: str
    lines: list[BasketLineOut]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    tax_breakdown: list[TaxRowOut]
    cash_rounding: Decimal
    payable: Decimal


class BasketOut(_Totals):
    """The open basket with running totals (what every basket operation answers)."""

    item_count: int


class SaleOut(_Totals):
    """A completed sale (the sale.completed payload of docs/CONTRACT.md)."""

    sale_id: str
    receipt_no: int
    idempotency_key: str
    change: Decimal
    tenders: list[dict[str, Any]]
    versions: dict[str, int]
    shift_id: str | None
    completed_at: str
    cashier_id: str


class ShiftOut(_Out):
    """A till shift."""

    id: str
    till: str
    staff_id: str
    opening_float: Decimal
    opened_at: str
    state: str
    closed_at: str | None
    kind: str
    business_day: str | None


class CurrentShiftOut(_Out):
    """GET /shifts/current: the open shift (null when none), whether drawers are counted."""

    shift: ShiftOut | None
    drawer_counting: bool


class SuspendedOut(_Out):
    """GET /basket/suspended."""

    suspended: list[dict[str, Any]]
