"""Tax engine edges (FR-302): what each line and breakdown row says about its rate and
inclusiveness, weighed quantities, empty documents. Written against mutants of
posdomain.tax_engine that survived (`just mutate`). The tax memo (issue 15) never answers
from an entry made for other inputs, is bounded and is used at both rounding levels."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from posdomain.errors import Reason, ValidationError
from posdomain.tax import TaxConfig, TaxLine, compute_tax, parse_tax_config, refund_tax
from posdomain.tax_engine import TaxMemo

pytestmark = pytest.mark.req("FR-302")

D = Decimal
CFG = parse_tax_config(
    {"classes": {"STD": {"rate": "0.08875", "inclusive": False}, "INC": {"rate": "0.19"}}}
)


def test_each_line_and_row_carries_its_rate_and_whether_it_is_inclusive() -> None:
    sale = compute_tax([TaxLine("1", "STD", D("10.00")), TaxLine("2", "INC", D("11.90"))], CFG)
    assert [(p.code, p.rate) for ln in sale.lines for p in ln.parts] == [
        ("STD", D("0.08875")),
        ("INC", D("0.19")),
    ]
    rows = {r.tax_class: (r.rate, r.inclusive, r.net, r.tax) for r in sale.breakdown}
    assert rows == {
        "STD": (D("0.08875"), False, D("10.00"), D("0.89")),
        "INC": (D("0.19"), True, D("10.00"), D("1.90")),
    }


def test_a_stored_line_without_parts_is_one_tax_of_its_class() -> None:
    # the till rebuilds a sold single-rate line without parts (appliance/till/refunds.py)
    sale = compute_tax([TaxLine("1", "STD", D("10.00"))], CFG)
    stored = replace(sale.lines[0], parts=())
    (part,) = stored.taxes()
    assert (part.code, part.rate, part.per_unit, part.tax) == ("STD", D("0.08875"), None, D("0.89"))


def test_a_weighed_sale_is_no_return() -> None:
    sale = compute_tax([TaxLine("1", "INC", D("3.45"), D("0.455"))], CFG)
    assert sale.return_breakdown == ()
    back = refund_tax(sale, {"1": D("0.455")})
    assert [r.tax for r in back.return_breakdown] == [-sale.tax_total]


def test_an_empty_document_totals_zero_in_the_currency_unit() -> None:
    empty = compute_tax([], CFG)
    assert [str(v) for v in (empty.net_total, empty.tax_total, empty.total, empty.payable)] == [
        "0.00"
    ] * 4


def test_a_line_of_an_unknown_class_names_the_class() -> None:
    with pytest.raises(ValidationError) as err:
        compute_tax([TaxLine("1", "NOPE", D("1.00"))], CFG)
    assert (err.value.reason, err.value.details) == (
        Reason.UNKNOWN_TAX_CLASS,
        {"tax_class": "NOPE"},
    )


def test_cash_rounding_applies_only_to_a_cash_sale() -> None:
    cfg = parse_tax_config({"cash_rounding": "0.05", "classes": {"INC": {"rate": "0.19"}}})
    card = compute_tax([TaxLine("1", "INC", D("1.03"))], cfg)
    assert (card.cash, card.cash_rounding, card.payable) == (False, D("0.00"), D("1.03"))
    cash = compute_tax([TaxLine("1", "INC", D("1.03"))], cfg, cash=True)
    assert (cash.cash_rounding, cash.payable) == (D("0.02"), D("1.05"))


MULTI = parse_tax_config(
    {
        "cash_rounding": "0.05",
        "classes": {
            "ON": {
                "inclusive": False,
                "taxes": [
                    {"code": "GST", "name": "GST", "rate": "0.05"},
                    {"code": "QST", "name": "QST", "rate": "0.09975", "on": ["GST"]},
                    {"code": "BTL", "name": "Container levy", "per_unit": "0.10"},
                ],
            },
        },
    }
)


def test_a_partial_refund_keeps_each_taxs_rate_levy_class_and_rate() -> None:
    sale = compute_tax([TaxLine("1", "ON", D("2.99"), D(3))], MULTI)
    sold = sale.lines[0]
    for back in (
        refund_tax(sale, {"1": D(1)}),  # the first unit (scaled parts)
        refund_tax(sale, {"1": D(1)}, previously_returned={"1": D(1)}),  # a difference
    ):
        (line,) = back.lines
        assert (line.tax_class, line.rate) == (sold.tax_class, sold.rate)
        assert [(p.code, p.rate, p.per_unit) for p in line.parts] == [
            (p.code, p.rate, p.per_unit) for p in sold.parts
        ]
        assert [p.per_unit for p in line.parts] == [None, None, D("0.10")]
        assert line.qty == D(-1)


def test_card_refunds_completing_a_cash_sale_pay_back_exactly_what_was_paid() -> None:
    sale = compute_tax([TaxLine("1", "ON", D("3.01"), D(3))], MULTI, cash=True)
    assert (sale.total, sale.cash_rounding, sale.payable) == (D("3.78"), D("0.02"), D("3.80"))
    part = refund_tax(sale, {"1": D(1)}, cash=False)
    rest = refund_tax(sale, {"1": D(2)}, previously_returned={"1": D(1)}, cash=False)
    assert part.cash_rounding == 0
    # the last refund completes the return: together they pay back what the customer paid
    assert part.payable + rest.payable == -sale.payable
    assert part.total + rest.total == -sale.total


def test_a_partial_refund_of_a_stored_line_without_parts_scales_its_tax() -> None:
    sale = compute_tax([TaxLine("1", "STD", D("10.00"), D(3))], CFG)
    stored = replace(sale, lines=(replace(sale.lines[0], parts=()),))
    (line,) = refund_tax(stored, {"1": D(2)}).lines
    assert (line.qty, line.gross, line.tax, line.net) == (D(-2), D("-7.26"), D("-0.59"), D("-6.67"))
    assert (line.tax_class, line.rate) == ("STD", D("0.08875"))


def test_a_returned_line_of_the_sale_cannot_be_refunded_again() -> None:
    # returned empties are a negative line of the sale: nothing of it goes back once more
    sale = compute_tax(
        [TaxLine("1", "STD", D("10.00"), D(3)), TaxLine("2", "INC", D("-0.25"), D(-1))], CFG
    )
    for qty in (D(1), D(-1)):
        with pytest.raises(ValidationError) as err:
            refund_tax(sale, {"2": qty})
        assert err.value.reason is Reason.REFUND_EXCEEDS_SALE
        assert err.value.details == {"line_id": "2"}
        assert err.value.message == f"line 2: cannot return {qty} of -1"
    back = refund_tax(sale, {"1": D(3)})
    assert [ln.line_id for ln in back.lines] == ["1"]


def test_lines_after_returned_empties_are_refunded_and_unknown_lines_named() -> None:
    sale = compute_tax(
        [TaxLine("1", "INC", D("-0.25"), D(-1)), TaxLine("2", "STD", D("10.00"), D(2))], CFG
    )
    back = refund_tax(sale, {"2": D(1)})
    assert [(ln.line_id, ln.qty) for ln in back.lines] == [("2", D(-1))]
    assert back.cash is False
    with pytest.raises(ValidationError) as err:
        refund_tax(sale, {"9": D(1), "8": D(1)})
    assert err.value.reason is Reason.LINE_NOT_FOUND
    assert err.value.details == {"line_id": "8"}
    assert err.value.message == "no such sale line: 8"


def test_returned_empties_take_no_part_in_the_cash_rounding_of_a_refund() -> None:
    cfg = parse_tax_config({"cash_rounding": "0.05", "classes": {"INC": {"rate": "0.19"}}})
    sale = compute_tax(
        [TaxLine("1", "INC", D("10.02")), TaxLine("2", "INC", D("-0.02"), D(-1))], cfg, cash=True
    )
    back = refund_tax(sale, {"1": D(1)})
    assert back.cash is True
    assert (back.total, back.cash_rounding, back.payable) == (D("-10.02"), D("0.02"), D("-10.00"))
    card = refund_tax(sale, {"1": D(1)}, cash=False)
    assert card.cash is False
    assert card.cash_rounding == 0


# The tax memo: mutants that survived the mutation run of branch mutmoney (the memo
# property of test_incremental_pricing.py did not find them under the mutation profile)
# a percentage tax and a levy per unit, rounded once per document
LEVY_DOC = parse_tax_config(
    {
        "level": "document",
        "classes": {
            "BTL": {
                "inclusive": False,
                "taxes": [
                    {"code": "VAT", "name": "VAT", "rate": "0.10"},
                    {"code": "DEP", "name": "Bottle levy", "per_unit": "0.25"},
                ],
            }
        },
    }
)


def test_the_same_amount_at_another_quantity_is_taxed_afresh() -> None:
    """Document level: a line's exact taxes are memoised by amount *and* quantity (a levy is
    per unit): 2 bottles for 2.00 pay twice the levy of 1 bottle for 2.00."""
    memo = TaxMemo()
    one = compute_tax([TaxLine("1", "BTL", D("2.00"), D(1))], LEVY_DOC, memo=memo)
    two = compute_tax([TaxLine("1", "BTL", D("2.00"), D(2))], LEVY_DOC, memo=memo)
    assert [p.tax for p in one.lines[0].parts] == [D("0.20"), D("0.25")]
    assert [p.tax for p in two.lines[0].parts] == [D("0.20"), D("0.50")]
    assert two == compute_tax([TaxLine("1", "BTL", D("2.00"), D(2))], LEVY_DOC)


DOC = parse_tax_config({"level": "document", "classes": {"STD": {"rate": "0.10"}}})
LINE = parse_tax_config({"level": "line", "classes": {"STD": {"rate": "0.10"}}})
NET = parse_tax_config({"classes": {"STD": {"rate": "0.10", "inclusive": False}}})


def test_a_line_shares_the_document_rounding_it_is_given_each_time() -> None:
    """Document level: 0.05 net at 10 % alone gets the rounded cent; beside another 0.05 line with
    a smaller id it gets none (the tie goes to the smallest id). The memo keeps a line's
    LineTax by its allocated shares too, so the second document is not answered from the
    first."""
    memo = TaxMemo()
    alone = compute_tax([TaxLine("1", "STD", D("0.05"))], NET, memo=memo)
    pair = [TaxLine("0", "STD", D("0.05")), TaxLine("1", "STD", D("0.05"))]
    beside = compute_tax(pair, NET, memo=memo)
    assert alone.lines[0].tax == D("0.01")
    assert [ln.tax for ln in beside.lines] == [D("0.01"), D("0.00")]
    assert beside == compute_tax(pair, NET)


def test_a_memo_used_with_another_config_starts_over() -> None:
    """The memo's keys do not hold the config: one memo used with another config (a tenant's
    new rates) must not answer from what the first config computed."""
    other = parse_tax_config({"level": "line", "classes": {"STD": {"rate": "0.20"}}})
    memo = TaxMemo()
    lines = [TaxLine("1", "STD", D("10.00"))]
    assert compute_tax(lines, LINE, memo=memo).tax_total == D("0.91")
    assert compute_tax(lines, other, memo=memo) == compute_tax(lines, other)
    assert compute_tax(lines, other, memo=memo).tax_total == D("1.67")
    assert compute_tax(lines, LINE, memo=memo).tax_total == D("0.91")


@pytest.mark.parametrize("cfg", [LINE, DOC], ids=["line", "document"])
def test_the_memo_is_used(cfg: TaxConfig) -> None:
    """Pricing the same document again reuses the memo's per-line results (the same
    objects), at either rounding level: at line level each line's whole LineTax, at
    document level each line's exact taxes and its LineTax for its shares."""
    memo = TaxMemo()
    lines = [TaxLine("1", "STD", D("2.00")), TaxLine("2", "STD", D("3.00"))]
    first = compute_tax(lines, cfg, memo=memo)
    exact = dict(memo.exact)
    again = compute_tax(lines, cfg, memo=memo)
    assert again == first == compute_tax(lines, cfg)
    assert all(a is b for a, b in zip(again.lines, first.lines, strict=True))
    assert len(memo.valid) == 2
    if cfg.level == "line":
        assert (len(memo.lines), memo.exact, memo.shared) == (2, {}, {})
    else:
        assert (len(memo.exact), len(memo.shared), memo.lines) == (2, 2, {})
        assert all(memo.exact[k] is v for k, v in exact.items())


@pytest.mark.parametrize("cfg", [LINE, DOC], ids=["line", "document"])
def test_a_full_memo_starts_over(cfg: TaxConfig) -> None:
    """Bounded: once any of its tables holds `limit` entries, the next call empties it. Three
    lines of the same amount are one validated input but three LineTaxes (by line id)."""
    memo = TaxMemo(limit=3)
    compute_tax([TaxLine(str(i), "STD", D("1.00")) for i in range(3)], cfg, memo=memo)
    compute_tax([TaxLine("9", "STD", D("1.00"))], cfg, memo=memo)
    kept = memo.lines if cfg.level == "line" else memo.shared
    assert (len(memo.valid), len(kept)) == (1, 1)


def test_refused_documents_fill_the_memo_no_further_than_its_limit() -> None:
    """A refused document leaves its good lines' validation in the memo and nothing else:
    those entries count toward the limit too."""
    memo = TaxMemo(limit=2)
    for i in range(4):
        bad = [TaxLine("1", "STD", D(f"{i + 1}.00")), TaxLine("2", "NONE", D("1.00"))]
        with pytest.raises(ValidationError):
            compute_tax(bad, LINE, memo=memo)
        assert len(memo.valid) <= 2
    assert (memo.lines, memo.exact, memo.shared) == ({}, {}, {})


def test_an_inclusive_amount_below_its_levies_is_refused_with_its_reason() -> None:
    """Two bottles at 0.25 levy each cannot cost 0.40 including the levy."""
    cfg = parse_tax_config(
        {
            "classes": {
                "BTL": {
                    "taxes": [
                        {"code": "VAT", "name": "VAT", "rate": "0.10"},
                        {"code": "DEP", "name": "Bottle levy", "per_unit": "0.25"},
                    ]
                }
            }
        }
    )
    with pytest.raises(ValidationError) as err:
        compute_tax([TaxLine("7", "BTL", D("0.40"), D(2))], cfg)
    assert (str(err.value), err.value.reason) == (
        "line 7: amount 0.40 is less than its levies",
        Reason.INVALID_MONEY,
    )


@pytest.mark.parametrize(
    "bad",
    [
        TaxLine("2", "STD", D("1.005")),  # not whole minor units
        TaxLine("2", "STD", D("1.00"), D(-1)),  # the amount's sign is not the qty's
    ],
    ids=["three-decimals", "wrong-sign"],
)
def test_a_memo_never_lets_an_invalid_line_through(bad: TaxLine) -> None:
    """Validation is memoised per (class, deposit, amount, qty): a line like a valid one
    but for its amount or its qty is checked again, also after a line already known valid."""
    memo = TaxMemo()
    good = TaxLine("1", "STD", D("1.00"))
    compute_tax([good], LINE, memo=memo)
    for doc in ([bad], [good, bad]):
        with pytest.raises(ValidationError) as err:
            compute_tax(doc, LINE, memo=memo)
        assert err.value.reason == Reason.INVALID_MONEY
    assert len(memo.valid) == 1


def test_cash_rounding_to_five_units_in_a_currency_without_decimals() -> None:
    """JPY-like (0 decimals), cash to 5: 101 is paid 100, 103 is paid 105."""
    cfg = parse_tax_config({"cash_rounding": "5", "classes": {"STD": {"rate": "0.10"}}}, 0)
    for amount, rounding in (("101", D(-1)), ("103", D(2))):
        got = compute_tax([TaxLine("1", "STD", D(amount))], cfg, cash=True)
        assert (got.cash_rounding, got.payable) == (rounding, D(amount) + rounding)


def test_a_returned_line_is_kept_in_the_memo_too() -> None:
    memo = TaxMemo()
    lines = [TaxLine("1", "STD", D("2.00")), TaxLine("2", "STD", D("-0.50"), D(-2))]
    first = compute_tax(lines, LINE, memo=memo)
    assert len(memo.lines) == 2
    assert compute_tax(lines, LINE, memo=memo) == first == compute_tax(lines, LINE)
