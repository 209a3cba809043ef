"""Wire schemas of the box's business-event payloads (docs/CONTRACT.md), bounded at the edge.

Box and hub read the same models: money and quantities stay decimal strings here (parsed
exactly by `posdomain.money` / `posdomain.sale_checks`), every text, integer and list is
bounded (`posdomain.wire`). Unknown fields are ignored, so adding an optional field stays a
compatible change.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from posdomain.wire import MAX_LINES, MAX_SEQ, Code, Counter, Id, Name, Number, Seq, WireTime

MAX_DISCOUNTS = 20
MAX_TENDERS = 16
MAX_TAX_ROWS = 32
MAX_LINE_TAXES = 8


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Discount(_Wire):
    """One promotion's share of discount on a line."""

    policy_id: Id
    policy_version: Counter = 0
    kind: Code = ""
    amount: Number


class PriceOverride(_Wire):
    """A supervisor-approved manual unit price of a line."""

    unit_price: Number
    approver_id: Id
    reason_code: Code


class LineTaxPart(_Wire):
    """One tax code's share of a line (multi-tax classes): a rate, compound `on` earlier
    codes of the line, or a levy `per_unit` of quantity."""

    code: Code
    rate: Number = "0"
    per_unit: Number | None = None
    on: list[Code] = Field(default_factory=list, max_length=MAX_LINE_TAXES)
    tax: Number


class ReturnOf(_Wire):
    """The sale line an exchange's returned line brings back (a sale of the same box)."""

    sale_id: Id
    line_no: int = Field(ge=1, le=10 * MAX_LINES)
    receipt_no: int | None = Field(default=None, ge=1, le=MAX_SEQ)


class SaleLine(_Wire):
    """A sale.completed line: qty x unit_price = extended; - discounts = the line amount."""

    line_no: int = Field(ge=1, le=10 * MAX_LINES)
    product_id: Id
    sku: Code
    name: Name
    barcode: Code = ""
    qty: Number
    unit: Literal["each", "weight"] | None = None
    unit_price: Number
    extended: Number | None = None
    discounts: list[Discount] = Field(default_factory=list, max_length=MAX_DISCOUNTS)
    line_total: Number
    tax_class: Code
    tax_rate: Number
    tax: Number
    taxes: list[LineTaxPart] = Field(default_factory=list, max_length=MAX_LINE_TAXES)
    deposit_for_line: int | None = Field(default=None, ge=1, le=10 * MAX_LINES)
    price_override: PriceOverride | None = None
    return_of: ReturnOf | None = None
    age_verified_by: Id | None = None  # who checked the customer's age (REP-T-16)


class Tender(_Wire):
    """One payment: cash, or an external card terminal's reference (never a card number)."""

    kind: Code
    amount: Number
    reference: Code | None = None


class TaxRow(_Wire):
    """One tax breakdown row: net + tax = gross."""

    tax_class: Code
    rate: Number
    inclusive: bool | None = None
    net: Number
    tax: Number
    gross: Number
    name: Name = ""
    per_unit: Number | None = None


class Customer(_Wire):
    """The customer attached to a sale."""

    customer_id: Id
    customer_name: Name = ""


class SaleCompleted(_Wire):
    """A sale.completed payload."""

    sale_id: Id
    receipt_no: int = Field(ge=1, le=MAX_SEQ)
    cashier_id: Id
    cashier_name: Name
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exponent: int = Field(ge=0, le=3)
    price_list: Literal["retail", "wholesale"] = "retail"
    lines: list[SaleLine] = Field(min_length=1, max_length=MAX_LINES)
    subtotal: Number
    discount_total: Number | None = None
    tax_total: Number
    total: Number
    cash_rounding: Number = "0"
    payable: Number | None = None
    tax_breakdown: list[TaxRow] = Field(default_factory=list, max_length=MAX_TAX_ROWS)
    # none only when nothing is paid either way (an even exchange)
    tenders: list[Tender] = Field(max_length=MAX_TENDERS)
    change: Number = "0"
    customer: Customer | None = None
    completed_at: WireTime


class RefundLine(_Wire):
    """A refund.completed line: returned qty positive, money negative."""

    line_no: int = Field(ge=1, le=10 * MAX_LINES)
    sale_line_no: int | None = Field(default=None, ge=1, le=10 * MAX_LINES)
    product_id: Id
    sku: Code = ""
    name: Name = ""
    qty: Number
    line_total: Number
    tax_class: Code
    tax_rate: Number
    tax: Number
    taxes: list[LineTaxPart] = Field(default_factory=list, max_length=MAX_LINE_TAXES)


class RefundCompleted(_Wire):
    """A refund.completed payload (its own document; money negative)."""

    refund_id: Id
    receipt_no: int = Field(ge=1, le=MAX_SEQ)
    sale_id: Id | None = None
    original_receipt_no: int | None = Field(default=None, ge=1, le=MAX_SEQ)
    with_receipt: bool
    cashier_id: Id
    approver_id: Id
    reason_code: Code
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exponent: int = Field(ge=0, le=3)
    lines: list[RefundLine] = Field(min_length=1, max_length=MAX_LINES)
    tax_total: Number
    total: Number
    cash_rounding: Number
    payable: Number | None = None
    tax_breakdown: list[TaxRow] = Field(default_factory=list, max_length=MAX_TAX_ROWS)
    tenders: list[Tender] = Field(min_length=1, max_length=MAX_TENDERS)
    completed_at: WireTime


class SaleVoided(_Wire):
    """A sale.voided payload: the post-void of one earlier sale of the same box."""

    sale_id: Id
    receipt_no: int = Field(ge=1, le=MAX_SEQ)
    cashier_id: Id
    approver_id: Id
    reason_code: Code
    exponent: int = Field(default=2, ge=0, le=3)
    total: Number
    voided_at: WireTime


class ShiftClosed(_Wire):
    """A shift.closed payload (the Z report body; stored as sent)."""

    shift_id: Id
    z_no: Seq
    till: Name
    cashier_id: Id
    opened_at: WireTime
    as_of: WireTime
    net_total_minor: int = Field(ge=-(10**12), le=10**12)


class SnapshotCash(_Wire):
    """The cash drawer lines of an X report (docs/CONTRACT.md "Till operations")."""

    opening_float: Number
    cash_sales: Number
    cash_refunds: Number
    change_given: Number
    paid_outs: Number
    drops: Number
    deposits: Number = "0"  # bank deposits taken from the drawer (boxes before 0018: none)
    cash_rounding: Number
    expected: Number


class SnapshotTender(_Wire):
    """One tender row of an X report: nothing is counted on an open shift."""

    kind: Code
    opening_float: Number
    expected: Number
    counted: None = None
    difference: None = None


class SnapshotCount(_Wire):
    """A count and its value (sales, refunds, post-voids of the shift so far)."""

    count: Counter
    total: Number


class SnapshotTax(_Wire):
    """One tax row of an X report (sales minus refunds): net + tax = gross."""

    tax_class: Code
    rate: Number
    net: Number
    tax: Number
    gross: Number


class ShiftSnapshot(_Wire):
    """A shift.snapshot payload: the X report of the open shift (REP-T-03), sent whenever
    the till shows or prints one; the hub shows the latest per open shift."""

    kind: Literal["X"]
    shift_id: Id
    shift_kind: Literal["counted", "day"] = "counted"
    till: Name
    cashier_id: Id
    opened_at: WireTime
    as_of: WireTime
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exponent: int | None = Field(default=None, ge=0, le=3)
    cash: SnapshotCash
    tenders: list[SnapshotTender] = Field(min_length=1, max_length=MAX_TENDERS)
    sales: SnapshotCount
    refunds: SnapshotCount
    voids: SnapshotCount
    no_sale_opens: Counter
    overrides: Counter
    refused_sales: Counter = 0
    tax: list[SnapshotTax] = Field(default_factory=list, max_length=MAX_TAX_ROWS)
    net_total: Number
    net_total_minor: int = Field(ge=-(10**12), le=10**12)
    grand_total: Number


class LineVoided(_Wire):
    """A sale.line_voided payload: a line (with its deposit lines) taken off an open basket,
    its value the line total (tax included) the basket showed just before."""

    line_void_id: Id
    basket_id: Id
    line_no: int = Field(ge=1, le=10 * MAX_LINES)
    voided_lines: list[int] = Field(min_length=1, max_length=MAX_LINES)
    product_id: Id
    sku: Code
    name: Name
    qty: Number
    value: Number
    exponent: int = Field(ge=0, le=3)
    cashier_id: Id
    approver_id: Id | None = None
    reason_code: Code | None = None
    shift_id: Id | None = None
    voided_at: WireTime


class NoSaleOpened(_Wire):
    """A drawer.no_sale payload: the drawer opened without a sale (with the override's
    approver and reason when the till asked for one)."""

    no_sale_id: Id
    cashier_id: Id
    approver_id: Id | None = None
    reason_code: Code | None = None
    shift_id: Id | None = None
    drawer_ok: bool | None = None
    opened_at: WireTime


#: the longest deposit slip / bag number a till accepts (printed on the bank's slip)
MAX_SLIP_NO = 32
SLIP_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ./-]{0,31}$"


class BankDeposit(_Wire):
    """A drawer.bank_deposit payload: cash a supervisor or manager took from the drawer (or,
    with no shift open, from the safe) to the bank, with the deposit slip / bag number; the
    business day is the branch's local date it belongs to (REP-T-05)."""

    deposit_id: Id
    amount: Number
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exponent: int = Field(ge=0, le=3)
    slip_no: str = Field(pattern=SLIP_PATTERN, max_length=MAX_SLIP_NO)
    business_day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    cashier_id: Id
    approver_id: Id
    reason_code: Code | None = None
    shift_id: Id | None = None
    note: Name = ""
    deposited_at: WireTime


class CashMovement(_Wire):
    """A drawer.cash_movement payload: cash taken out of the open shift's drawer during the
    day, either dropped to the safe (`drop`, still the store's cash) or paid out (`paid_out`,
    with its reason: supplier, petty cash, deposit return...), on the branch's business day
    it happened (REP-T-05 subtracts paid-outs from the cash the day has to bank)."""

    movement_id: Id
    kind: Literal["drop", "paid_out"]
    amount: Number
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exponent: int = Field(ge=0, le=3)
    reason_code: Code | None = None
    shift_id: Id
    cashier_id: Id
    business_day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    note: Name = ""
    moved_at: WireTime
