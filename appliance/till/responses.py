"""Response bodies of the till API as documented in the OpenAPI document (the `@api` source).

The services build these answers as dicts; the models name every key the till screen relies
on with its type, so schemathesis checks each answer against them
(tests/appliance/web/test_openapi_fuzz.py, and every box test through
tests/appliance/conftest.py). Bodies the hub's contract may grow (sale, refund and void
payloads, reports) stay open (`extra` allowed): a new key is no drift, a missing or retyped
one is. Answers only the box makes are closed (`_Closed`): an undeclared key is drift too.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, RootModel

from appliance.devices.schemas import DrawerOut

Decimal = str  # money, quantities and rates travel as decimal strings


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    """An answer the box alone makes (no event payload, nothing the contract grows): every
    key is named, an undeclared one is drift too."""

    model_config = ConfigDict(extra="forbid")


class TaxRowOut(_Out):
    """One row of the tax breakdown."""

    tax_class: str
    rate: Decimal
    inclusive: bool
    net: Decimal
    tax: Decimal
    gross: Decimal


class ReturnOfOut(_Out):
    """The sale line an exchange's returned line brings back."""

    sale_id: str
    line_no: int
    receipt_no: int | None


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
    return_of: ReturnOfOut | None = None


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


class SuspendedBasketOut(_Closed):
    """A parked basket (POST /basket/suspend answers the one just parked)."""

    id: int
    label: str
    staff_id: str
    lines: int
    suspended_at: str


class BasketCustomerOut(_Closed):
    """The customer attached to the open basket (`card` when attached by loyalty card)."""

    customer_id: str
    customer_name: str | None
    card: str | None = None


class RefundableLineOut(BasketLineOut):
    """A sale line as sold, with what is still refundable of it."""

    refundable_qty: Decimal


class RefundLookupOut(SaleOut):
    """GET /refunds/lookup: the sale as sold, refundable quantity per line, voided or not."""

    lines: list[RefundableLineOut]  # type: ignore[assignment]
    voided: bool


class RefundLineOut(_Out):
    """A refund line (`sale_line_no` null for a refund without a receipt; qty positive)."""

    line_no: int
    sale_line_no: int | None
    product_id: str
    sku: str
    name: str
    qty: Decimal
    line_total: Decimal
    tax_class: str
    tax_rate: Decimal
    tax: Decimal


class RefundTaxRowOut(_Out):
    """One row of a refund's tax breakdown."""

    tax_class: str
    rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


class RefundOut(_Out):
    """A recorded refund (the refund.completed payload of docs/CONTRACT.md); a cash refund
    also carries the drawer kick's outcome. Amounts are negative decimal strings. Open like
    the sale: it is the event payload the contract grows (loyalty points given back, tax)."""

    refund_id: str
    receipt_no: int
    sale_id: str | None
    original_receipt_no: int | None
    with_receipt: bool
    idempotency_key: str
    cashier_id: str
    cashier_name: str
    approver_id: str
    reason_code: str
    currency: str
    exponent: int
    lines: list[RefundLineOut]
    tax_total: Decimal
    total: Decimal
    cash_rounding: Decimal
    payable: Decimal
    tax_breakdown: list[RefundTaxRowOut]
    tenders: list[dict[str, Any]]
    completed_at: str
    drawer: DrawerOut | None = None


class VoidOut(_Out):
    """A post-voided sale (the sale.voided payload) with the drawer kick's outcome."""

    sale_id: str
    receipt_no: int
    cashier_id: str
    approver_id: str
    reason_code: str
    exponent: int
    total: Decimal
    voided_at: str
    drawer: DrawerOut


class NoSaleOut(_Closed):
    """A no-sale drawer open: its reference, who approved it, the kick's outcome."""

    id: str
    approver_id: str
    drawer: DrawerOut


class CashMoveOut(_Closed):
    """A cash drop or paid-out on the open shift (amount as given)."""

    id: str
    shift_id: str
    kind: str
    amount: Decimal


class BankDepositOut(_Closed):
    """A recorded bank deposit (the `drawer.bank_deposit` payload), the drawer kick's
    outcome (None: from the safe, the drawer stays shut) and whether the voucher printed."""

    id: str
    deposit_id: str
    amount: Decimal
    currency: str
    exponent: int
    slip_no: str
    business_day: str
    cashier_id: str
    approver_id: str
    reason_code: str
    shift_id: str | None
    note: str
    deposited_at: str
    drawer: DrawerOut | None
    printed: bool


class DepositRowOut(_Closed):
    """One bank deposit of the day."""

    id: str
    amount: Decimal
    slip_no: str
    shift_id: str | None
    staff_id: str
    approver_id: str
    note: str
    created_at: str


class BankDepositsOut(_Closed):
    """The bank deposits of one business day, newest first, and their sum."""

    business_day: str
    total: Decimal
    deposits: list[DepositRowOut]


class PrintJobOut(_Closed):
    """A queued printout."""

    job_id: int
    state: str


class CountOut(_Closed):
    """A count with its total."""

    count: int
    total: Decimal


class TenderRowOut(_Closed):
    """Expected (and on a counted Z, counted and difference) amount per tender."""

    kind: str
    opening_float: Decimal
    expected: Decimal
    counted: Decimal | None
    difference: Decimal | None


class ReportTaxRowOut(_Out):
    """Net, tax and gross per tax class and rate over the shift."""

    tax_class: str
    rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


class XReportOut(_Out):
    """The X report of the open shift (also the body of a Z, see ZReportOut); `cash` holds
    the drawer lines (opening_float, cash_sales, ..., expected) as decimal strings. Open: a
    stored Z keeps the keys of the release that wrote it, and reports grow new figures."""

    kind: str
    shift_id: str
    shift_kind: str
    business_day: str | None
    till: str
    cashier_id: str
    opened_at: str
    as_of: str
    currency: str
    cash: dict[str, Decimal]
    tenders: list[TenderRowOut]
    sales: CountOut
    refunds: CountOut
    voids: CountOut
    no_sale_opens: int
    overrides: int
    refused_sales: int
    tax: list[ReportTaxRowOut]
    net_total: Decimal
    net_total_minor: int
    grand_total: Decimal


class ZReportOut(XReportOut):
    """A numbered Z report: the report at close, its number and who closed it."""

    z_no: int
    closed_by: str


class BlindCloseOut(_Closed):
    """A blind close (a cashier is not shown the expected figures): number, shift, time."""

    z_no: int
    shift_id: str
    closed_at: str


class CloseShiftOut(RootModel[ZReportOut | BlindCloseOut]):
    """POST /shifts/current/close: the Z report, or only its number for a blind close."""


class ResumedOut(_Closed):
    """A parked basket resumed as the open basket: its id and label (the basket itself is
    read with GET /basket)."""

    resumed: int
    label: str
