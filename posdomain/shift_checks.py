"""Domain rules of the till's shift documents, pure (FR-303): the X report snapshot
(`shift.snapshot`, REP-T-03), a line void (`sale.line_voided`) and a no-sale drawer opening
(`drawer.no_sale`, both REP-T-13).

The box builds the X report with `appliance.till.xz_reports` and sends it as it showed it;
the hub refuses one whose figures do not add up by the report's own formulas
(docs/CONTRACT.md "Till operations"), each broken rule with its stable reason code:

* the tenant's currency and exponent (CURRENCY_MISMATCH), money that parses (INVALID_MONEY),
  times inside the window and opened_at <= as_of (TIMESTAMP_OUT_OF_RANGE);
* expected cash = opening + cash sales - cash refunds - change given - paid-outs - drops
  - bank deposits + cash rounding, the cash tender row's expected = it, drawer lines never
  negative except the rounding, one row per tender kind (TOTALS_MISMATCH / TENDER_MISMATCH /
  INVALID_MONEY);
* net total = sales total - refunds total, `net_total_minor` = `net_total`, every tax row
  net + tax = gross and Σ tax rows gross = net total (TOTALS_MISMATCH / TAX_MISMATCH).

A line void: the tenant's exponent (CURRENCY_MISMATCH), a positive quantity with at most 3
decimals (INVALID_QUANTITY), a value that is money (INVALID_MONEY; negative for a returned
line), the
voided line among `voided_lines` (LINE_ARITHMETIC), a sane time. A no-sale: a sane time, and
a reason code from the till's list when one is given (VALIDATION_FAILED). A bank deposit
(`drawer.bank_deposit`, REP-T-05): the tenant's currency and exponent (CURRENCY_MISMATCH), an
amount that is money, above 0 and at most MAX_DEPOSIT_MINOR (INVALID_MONEY), a business day
that is a real date within a day of the deposit's time (DEPOSIT_DAY_OUT_OF_RANGE), a sane
time and reason code. A drop or paid-out (`drawer.cash_movement`, REP-T-05): the tenant's
currency and exponent, an amount that is money above 0 (INVALID_MONEY), a paid-out with a
reason from the till's list (REASON_REQUIRED; a drop needs none: it stays the store's cash),
a business day within a day of its time (DEPOSIT_DAY_OUT_OF_RANGE), a
sane time.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from posdomain.doc_checks import (
    Broken,
    Context,
    Violation,
    check_times,
    money,
    quantity,
    violation,
)
from posdomain.errors import Reason
from posdomain.money import MAX_ABS_MINOR
from posdomain.payloads import (
    BankDeposit,
    CashMovement,
    LineVoided,
    NoSaleOpened,
    ShiftSnapshot,
)
from posdomain.till_codes import OverrideReason, PaidOutReason, TenderKind

_DRAWER = (
    "opening_float", "cash_sales", "cash_refunds", "change_given", "paid_outs", "drops",
    "deposits",
)  # fmt: skip
#: the largest bank deposit one event may carry, in minor units (far above any store's day)
MAX_DEPOSIT_MINOR = MAX_ABS_MINOR


def _cash(body: ShiftSnapshot, exp: int) -> list[Violation]:
    c = {name: money(getattr(body.cash, name), exp, f"cash.{name}") for name in _DRAWER}
    rounding = money(body.cash.cash_rounding, exp, "cash.cash_rounding")
    expected = money(body.cash.expected, exp, "cash.expected")
    out = [
        violation(Reason.INVALID_MONEY, "drawer_sign", f"cash.{name} is negative")
        for name, value in c.items()
        if value < 0
    ]
    formula = (
        c["opening_float"] + c["cash_sales"] - c["cash_refunds"] - c["change_given"]
        - c["paid_outs"] - c["drops"] - c["deposits"] + rounding
    )  # fmt: skip
    if formula != expected:
        out.append(
            violation(Reason.TOTALS_MISMATCH, "expected_cash", f"expected {expected} != {formula}")
        )
    kinds = [t.kind for t in body.tenders]
    known = {k.value for k in TenderKind}
    if len(set(kinds)) != len(kinds) or not set(kinds) <= known:
        out.append(violation(Reason.UNKNOWN_TENDER, "tender_rows", f"tender rows {kinds}"))
    for row in body.tenders:
        row_expected = money(row.expected, exp, f"tenders.{row.kind}.expected")
        if row.kind != "cash":
            continue
        if row_expected != expected:
            out.append(
                violation(
                    Reason.TENDER_MISMATCH,
                    "cash_row",
                    f"cash row expected {row_expected} != cash.expected {expected}",
                )
            )
        opening = money(row.opening_float, exp, "tenders.cash.opening_float")
        if opening != c["opening_float"]:
            out.append(
                violation(
                    Reason.TENDER_MISMATCH,
                    "cash_row",
                    f"cash row opening float {opening} != cash.opening_float {c['opening_float']}",
                )
            )
    return out


def _totals(body: ShiftSnapshot, exp: int) -> list[Violation]:
    out = []
    sales = money(body.sales.total, exp, "sales.total")
    refunds = money(body.refunds.total, exp, "refunds.total")
    net = money(body.net_total, exp, "net_total")
    if min(sales, refunds, money(body.voids.total, exp, "voids.total")) < 0:
        out.append(violation(Reason.INVALID_MONEY, "count_sign", "a total is negative"))
    if net != sales - refunds:
        out.append(
            violation(
                Reason.TOTALS_MISMATCH, "net_total", f"net total {net} != {sales} - {refunds}"
            )
        )
    if Decimal(body.net_total_minor).scaleb(-exp) != net:
        out.append(
            violation(Reason.TOTALS_MISMATCH, "net_total_minor", "net_total_minor != net_total")
        )
    gross = Decimal(0)
    for row in body.tax:
        r_net, r_tax = money(row.net, exp, "tax.net"), money(row.tax, exp, "tax.tax")
        r_gross = money(row.gross, exp, "tax.gross")
        gross += r_gross
        if r_net + r_tax != r_gross:
            out.append(
                violation(
                    Reason.TAX_MISMATCH,
                    "tax_row",
                    f"{row.tax_class} {row.rate}: {r_net} + {r_tax} != {r_gross}",
                )
            )
    if body.tax and gross != net:
        out.append(violation(Reason.TAX_MISMATCH, "tax_rows", f"Σ gross {gross} != {net}"))
    return out


def check_snapshot(body: ShiftSnapshot, ctx: Context) -> list[Violation]:
    """Every rule the X report snapshot breaks (empty: it adds up)."""
    # an old box's snapshot has no exponent: the tenant's (0 for JPY), else 2
    exp = next(e for e in (body.exponent, ctx.exponent, 2) if e is not None)
    wrong_money = _in_tenant_money(body.currency, exp, ctx)
    if wrong_money:
        return wrong_money
    out = check_times([body.opened_at, body.as_of], ctx)
    if body.opened_at > body.as_of:
        out.append(violation(Reason.TIMESTAMP_OUT_OF_RANGE, "as_of", "as_of before opened_at"))
    try:
        out += _cash(body, exp)
        out += _totals(body, exp)
    except Broken as err:
        out.append(err.violation)
    return out


def check_line_void(body: LineVoided, ctx: Context) -> list[Violation]:
    """Every rule the line void breaks (empty: it is sane)."""
    if ctx.exponent is not None and body.exponent != ctx.exponent:
        return [violation(Reason.CURRENCY_MISMATCH, "exponent", f"exponent {body.exponent}")]
    out = check_times([body.voided_at], ctx)
    if body.line_no not in body.voided_lines:
        out.append(
            violation(Reason.LINE_ARITHMETIC, "voided_lines", f"line {body.line_no} not listed")
        )
    try:
        quantity(body.qty, "qty")
        money(body.value, body.exponent, "value")  # signed: a returned line's value is < 0
    except Broken as err:
        out.append(err.violation)
    return out


def check_no_sale(body: NoSaleOpened, ctx: Context) -> list[Violation]:
    """Every rule the no-sale breaks (empty: it is sane)."""
    out = check_times([body.opened_at], ctx)
    if body.reason_code is not None and body.reason_code not in {r.value for r in OverrideReason}:
        out.append(
            violation(Reason.VALIDATION_FAILED, "reason_code", f"unknown {body.reason_code!r}")
        )
    return out


def _deposit_day(body: BankDeposit) -> list[Violation]:
    # a deposit of yesterday's takings may be booked the next morning: one more day back
    return _business_day(body.business_day, body.deposited_at.date(), back=2)


def _business_day(business_day: str, at: date, back: int) -> list[Violation]:
    """The branch's local date of an instant is at most a day off its UTC date `at`."""
    try:
        day = date.fromisoformat(business_day)
    except ValueError:
        return [violation(Reason.DEPOSIT_DAY_OUT_OF_RANGE, "business_day", "not a date")]
    if not at - timedelta(days=back) <= day <= at + timedelta(days=1):
        return [
            violation(
                Reason.DEPOSIT_DAY_OUT_OF_RANGE,
                "business_day",
                f"business day {day} is not the day of its time ({at})",
            )
        ]
    return []


def check_bank_deposit(body: BankDeposit, ctx: Context) -> list[Violation]:
    """Every rule the bank deposit breaks (empty: it is sane)."""
    wrong_money = _in_tenant_money(body.currency, body.exponent, ctx)
    if wrong_money:
        return wrong_money
    out = check_times([body.deposited_at], ctx) + _deposit_day(body)
    if body.reason_code is not None and body.reason_code not in {r.value for r in OverrideReason}:
        out.append(
            violation(Reason.VALIDATION_FAILED, "reason_code", f"unknown {body.reason_code!r}")
        )
    try:
        amount = money(body.amount, body.exponent, "amount")
    except Broken as err:
        return [*out, err.violation]
    if not 0 < amount.scaleb(body.exponent) <= MAX_DEPOSIT_MINOR:
        out.append(
            violation(Reason.INVALID_MONEY, "deposit_range", f"amount {amount} out of range")
        )
    return out


def _in_tenant_money(currency: str, exponent: int, ctx: Context) -> list[Violation]:
    if (ctx.currency is not None and currency != ctx.currency) or (
        ctx.exponent is not None and exponent != ctx.exponent
    ):
        return [
            violation(
                Reason.CURRENCY_MISMATCH, "currency", f"{currency}/{exponent} is not the tenant's"
            )
        ]
    return []


def check_cash_movement(body: CashMovement, ctx: Context) -> list[Violation]:
    """Every rule the drop or paid-out breaks (empty: it is sane)."""
    wrong_money = _in_tenant_money(body.currency, body.exponent, ctx)
    if wrong_money:
        return wrong_money
    out = check_times([body.moved_at], ctx) + _business_day(
        body.business_day, body.moved_at.date(), back=1
    )
    reasons = {r.value for r in PaidOutReason}
    if body.kind == "paid_out" and body.reason_code not in reasons:
        out.append(
            violation(Reason.REASON_REQUIRED, "reason_code", "a paid-out needs a reason code")
        )
    try:
        amount = money(body.amount, body.exponent, "amount")
    except Broken as err:
        return [*out, err.violation]
    if not 0 < amount.scaleb(body.exponent) <= MAX_DEPOSIT_MINOR:
        out.append(violation(Reason.INVALID_MONEY, "amount", f"amount {amount} out of range"))
    return out
