"""Tax engine: inclusive/exclusive, line/document rounding, cash rounding, refunds (FR-302)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.errors import Reason, ValidationError
from posdomain.tax import (
    TaxConfig,
    TaxLine,
    TaxResult,
    compute_tax,
    parse_tax_config,
    refund_tax,
)

pytestmark = pytest.mark.req("FR-302")

D = Decimal
CLASSES = {
    "STD": {"rate": "0.20", "inclusive": True},
    "DE19": {"rate": "0.19", "inclusive": True},
    "DE7": {"rate": "0.07", "inclusive": True},
    "NET20": {"rate": "0.20", "inclusive": False},
    "NET10": {"rate": "0.10", "inclusive": False},
    "ZERO": {"rate": "0", "inclusive": True},
}


def cfg(level: str = "document", rounding: str = "HALF_UP", **extra: Any) -> TaxConfig:
    """A tax config with every test class."""
    return parse_tax_config({"rounding": rounding, "level": level, "classes": CLASSES, **extra})


def lines(*specs: tuple[str, str] | tuple[str, str, int]) -> list[TaxLine]:
    """TaxLines numbered 1.. from (class, amount[, qty])."""
    return [
        TaxLine(str(i), s[0], D(s[1]), D(s[2] if len(s) == 3 else 1))
        for i, s in enumerate(specs, start=1)
    ]


def rows(result: TaxResult) -> list[tuple[str, str, str, str]]:
    """The breakdown as strings (class, net, tax, gross)."""
    return [(r.tax_class, str(r.net), str(r.tax), str(r.gross)) for r in result.breakdown]


def line_taxes(result: TaxResult) -> list[str]:
    """Per-line taxes as strings."""
    return [str(ln.tax) for ln in result.lines]


BOTH_MODES = pytest.mark.parametrize("rounding", ["HALF_UP", "HALF_EVEN"])


def test_contract_example_single_line() -> None:
    result = compute_tax(lines(("STD", "1.99")), cfg())
    assert rows(result) == [("STD", "1.66", "0.33", "1.99")]
    assert (result.total, result.tax_total, result.payable) == (D("1.99"), D("0.33"), D("1.99"))


@pytest.mark.parametrize(
    ("level", "rounding", "taxes", "row"),
    [
        # 3 x 0.99 at 20 % incl.: each line holds exactly 0.165 tax, a rounding tie.
        ("line", "HALF_UP", ["0.17", "0.17", "0.17"], ("STD", "2.46", "0.51", "2.97")),
        ("line", "HALF_EVEN", ["0.16", "0.16", "0.16"], ("STD", "2.49", "0.48", "2.97")),
        # per document: 0.495 -> 0.50 in both modes, allocated by largest remainder
        ("document", "HALF_UP", ["0.17", "0.17", "0.16"], ("STD", "2.47", "0.50", "2.97")),
        ("document", "HALF_EVEN", ["0.17", "0.17", "0.16"], ("STD", "2.47", "0.50", "2.97")),
    ],
)
def test_three_times_099_at_20_percent_inclusive(
    level: str, rounding: str, taxes: list[str], row: tuple[str, ...]
) -> None:
    result = compute_tax(lines(*[("STD", "0.99")] * 3), cfg(level, rounding))
    assert line_taxes(result) == taxes
    assert rows(result) == [row]
    assert result.total == D("2.97")


@BOTH_MODES
def test_erpnext_10217_style_one_cent_drift_documented_per_mode(rounding: str) -> None:
    # 10 x 0.10 at 19 % incl.: per line 0.0160 -> 0.02 (x10 = 0.20); per document 0.1597 -> 0.16
    basket = lines(*[("DE19", "0.10")] * 10)
    by_line = compute_tax(basket, cfg("line", rounding))
    by_doc = compute_tax(basket, cfg("document", rounding))
    assert rows(by_line) == [("DE19", "0.80", "0.20", "1.00")]
    assert rows(by_doc) == [("DE19", "0.84", "0.16", "1.00")]
    assert sum(D(t) for t in line_taxes(by_doc)) == D("0.16")
    assert by_line.total == by_doc.total == D("1.00")


@pytest.mark.parametrize(
    ("level", "std_row", "std_taxes"),
    [
        ("line", ("DE19", "7.77", "1.49", "9.26"), ["0.40", "0.21", "0.16", "0.72"]),
        ("document", ("DE19", "7.78", "1.48", "9.26"), ["0.40", "0.20", "0.16", "0.72"]),
    ],
)
@BOTH_MODES
def test_mixed_7_and_19_percent_basket(
    level: str, std_row: tuple[str, ...], std_taxes: list[str], rounding: str
) -> None:
    basket = lines(
        ("DE7", "1.99"), ("DE7", "0.59"), ("DE7", "3.49"),
        ("DE19", "2.49"), ("DE19", "1.29"), ("DE19", "0.99"), ("DE19", "4.49"),
    )  # fmt: skip
    result = compute_tax(basket, cfg(level, rounding))
    assert rows(result) == [std_row, ("DE7", "5.67", "0.40", "6.07")]
    assert line_taxes(result)[3:] == std_taxes
    assert result.total == D("15.33")
    assert result.tax_total == D(std_row[2]) + D("0.40")


@pytest.mark.parametrize(
    ("level", "row"),
    [("line", ("NET20", "2.97", "0.60", "3.57")), ("document", ("NET20", "2.97", "0.59", "3.56"))],
)
def test_tax_exclusive_adds_tax_on_top(level: str, row: tuple[str, ...]) -> None:
    result = compute_tax(lines(*[("NET20", "0.99")] * 3), cfg(level))
    assert rows(result) == [row]
    assert result.total == D(row[3])
    assert result.net_total == D("2.97")


@pytest.mark.parametrize(("rounding", "tax"), [("HALF_UP", "0.13"), ("HALF_EVEN", "0.12")])
def test_rounding_mode_decides_ties(rounding: str, tax: str) -> None:
    result = compute_tax(lines(("NET10", "1.25")), cfg("document", rounding))
    assert str(result.tax_total) == tax


def test_inclusive_and_exclusive_classes_in_one_basket() -> None:
    result = compute_tax(lines(("STD", "1.20"), ("NET10", "1.00"), ("ZERO", "0.50")), cfg())
    assert rows(result) == [
        ("NET10", "1.00", "0.10", "1.10"),
        ("STD", "1.00", "0.20", "1.20"),
        ("ZERO", "0.50", "0.00", "0.50"),
    ]
    assert (result.net_total, result.tax_total, result.total) == (D("2.50"), D("0.30"), D("2.80"))


@pytest.mark.parametrize(
    ("rounding", "total", "adjust", "payable"),
    [
        ("HALF_UP", "2.97", "-0.02", "2.95"),
        ("HALF_UP", "2.98", "0.02", "3.00"),
        ("HALF_EVEN", "2.97", "-0.02", "2.95"),
    ],
)
def test_cash_rounding_is_its_own_line(
    rounding: str, total: str, adjust: str, payable: str
) -> None:
    config = cfg(rounding=rounding, cash_rounding="0.05")
    result = compute_tax(lines(("STD", total)), config, cash=True)
    assert (str(result.total), str(result.cash_rounding), str(result.payable)) == (
        total, adjust, payable,
    )  # fmt: skip
    assert sum(ln.gross for ln in result.lines) == D(total)  # never folded into a line
    card = compute_tax(lines(("STD", total)), config, cash=False)
    assert (card.cash_rounding, card.payable) == (D("0.00"), D(total))


@pytest.mark.parametrize(("rounding", "payable"), [("HALF_UP", "2.90"), ("HALF_EVEN", "2.80")])
def test_cash_rounding_tie_follows_rounding_mode(rounding: str, payable: str) -> None:
    config = cfg(rounding=rounding, cash_rounding="0.10")
    assert str(compute_tax(lines(("STD", "2.85")), config, cash=True).payable) == payable


def test_no_cash_step_means_no_cash_rounding() -> None:
    result = compute_tax(lines(("STD", "2.97")), cfg(), cash=True)
    assert (result.cash_rounding, result.payable) == (D("0.00"), D("2.97"))


def test_deposit_lines_use_the_deposit_tax_class() -> None:
    config = cfg(deposit_tax_class="ZERO")
    basket = [TaxLine("1", "STD", D("1.20")), TaxLine("2", "STD", D("0.25"), is_deposit=True)]
    result = compute_tax(basket, config)
    assert rows(result) == [("STD", "1.00", "0.20", "1.20"), ("ZERO", "0.25", "0.00", "0.25")]


@pytest.mark.parametrize(
    "body",
    [
        {"rounding": "BANKERS", "classes": CLASSES},
        {"level": "basket", "classes": CLASSES},
        {"classes": {}},
        {"classes": {"X": {"rate": 0.2}}},
        {"classes": {"X": {"rate": "-0.1"}}},
        {"classes": {"X": {"rate": "0.2", "inclusive": "yes"}}},
        {"classes": CLASSES, "cash_rounding": "0"},
        {"classes": CLASSES, "cash_rounding": "0.001"},
        {"classes": CLASSES, "deposit_tax_class": "NOPE"},
    ],
)
def test_malformed_tax_config_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse_tax_config(body)


def test_bad_lines_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown tax class"):
        compute_tax(lines(("NOPE", "1.00")), cfg())
    with pytest.raises(ValidationError, match="unique"):
        compute_tax([TaxLine("1", "STD", D(1)), TaxLine("1", "STD", D(1))], cfg())
    with pytest.raises(ValidationError, match="minor units") as err:
        compute_tax(lines(("STD", "1.001")), cfg())
    assert err.value.reason is Reason.INVALID_MONEY
    with pytest.raises(ValidationError, match="qty"):
        compute_tax([TaxLine("1", "STD", D(1), D(0))], cfg())


def test_partial_refunds_reverse_to_the_cent_and_then_exactly() -> None:
    config = cfg(cash_rounding="0.05")
    sale = compute_tax(lines(("STD", "2.97", 3)), config, cash=True)
    assert (str(sale.tax_total), str(sale.cash_rounding), str(sale.payable)) == (
        "0.50", "-0.02", "2.95",
    )  # fmt: skip
    first = refund_tax(sale, {"1": D(1)})
    assert (str(first.total), str(first.tax_total)) == ("-0.99", "-0.17")
    assert (str(first.cash_rounding), str(first.payable)) == ("-0.01", "-1.00")
    rest = refund_tax(sale, {"1": D(2)}, previously_returned={"1": D(1)})
    assert (str(rest.total), str(rest.tax_total)) == ("-1.98", "-0.33")
    assert (str(rest.cash_rounding), str(rest.payable)) == ("0.03", "-1.95")
    assert first.payable + rest.payable == -sale.payable
    assert first.cash_rounding + rest.cash_rounding == -sale.cash_rounding


def test_refund_more_than_sold_or_unknown_line_is_refused() -> None:
    sale = compute_tax(lines(("STD", "2.97", 3)), cfg())
    with pytest.raises(ValidationError) as err:
        refund_tax(sale, {"1": D(2)}, previously_returned={"1": D(2)})
    assert err.value.reason is Reason.REFUND_EXCEEDS_SALE
    with pytest.raises(ValidationError) as err:
        refund_tax(sale, {"9": D(1)})
    assert err.value.reason is Reason.LINE_NOT_FOUND


# --- properties -------------------------------------------------------------------------

configs = st.builds(
    cfg,
    level=st.sampled_from(["line", "document"]),
    rounding=st.sampled_from(["HALF_UP", "HALF_EVEN"]),
    cash_rounding=st.sampled_from([None, "0.05", "0.10"]),
)
baskets = st.lists(
    st.tuples(
        st.sampled_from(sorted(CLASSES)),
        st.integers(min_value=0, max_value=50_000),
        st.integers(min_value=1, max_value=6),
    ),
    min_size=1,
    max_size=8,
).map(lambda specs: [TaxLine(f"L{i}", c, D(m) / 100, D(q)) for i, (c, m, q) in enumerate(specs)])


def negated(result: TaxResult) -> list[tuple[str, ...]]:
    """The result's numbers, negated, for comparing a full refund against its sale."""
    out: list[tuple[str, ...]] = [
        (ln.line_id, str(-ln.qty), str(-ln.net), str(-ln.tax), str(-ln.gross))
        for ln in result.lines
    ]
    out += [(r.tax_class, str(-r.net), str(-r.tax), str(-r.gross)) for r in result.breakdown]
    return [*out, (str(-result.total), str(-result.cash_rounding), str(-result.payable))]


def numbers(result: TaxResult) -> list[tuple[str, ...]]:
    """The result's numbers as strings."""
    out: list[tuple[str, ...]] = [
        (ln.line_id, str(ln.qty), str(ln.net), str(ln.tax), str(ln.gross)) for ln in result.lines
    ]
    out += [(r.tax_class, str(r.net), str(r.tax), str(r.gross)) for r in result.breakdown]
    return [*out, (str(result.total), str(result.cash_rounding), str(result.payable))]


@settings(max_examples=150, deadline=None)
@given(configs, baskets, st.booleans())
def test_breakdown_sums_exactly_to_total(
    config: TaxConfig, basket: list[TaxLine], cash: bool
) -> None:
    result = compute_tax(basket, config, cash=cash)
    assert sum(r.gross for r in result.breakdown) == result.total
    assert result.net_total + result.tax_total == result.total
    assert sum(ln.gross for ln in result.lines) == result.total
    assert result.payable == result.total + result.cash_rounding
    for row in result.breakdown:
        members = [ln for ln in result.lines if ln.tax_class == row.tax_class]
        assert row.net + row.tax == row.gross
        assert sum(ln.tax for ln in members) == row.tax
        assert sum(ln.net for ln in members) == row.net
    assert all(ln.net + ln.tax == ln.gross for ln in result.lines)
    if cash and config.cash_rounding is not None:
        assert result.payable % config.cash_rounding == 0


@settings(max_examples=100, deadline=None)
@given(configs, baskets, st.booleans())
def test_full_refund_negates_the_sale(config: TaxConfig, basket: list[TaxLine], cash: bool) -> None:
    sale = compute_tax(basket, config, cash=cash)
    refund = refund_tax(sale, {ln.line_id: ln.qty for ln in basket})
    assert numbers(refund) == negated(sale)


@settings(max_examples=100, deadline=None)
@given(configs, baskets, st.booleans(), st.randoms(use_true_random=False))
def test_partial_refunds_sum_to_the_full_refund(
    config: TaxConfig, basket: list[TaxLine], cash: bool, rnd: Any
) -> None:
    sale = compute_tax(basket, config, cash=cash)
    steps = [(ln.line_id, D(1)) for ln in basket for _ in range(int(ln.qty))]
    rnd.shuffle(steps)
    returned: dict[str, Decimal] = {}
    refunds = []
    for line_id, qty in steps:
        refunds.append(refund_tax(sale, {line_id: qty}, previously_returned=dict(returned)))
        returned[line_id] = returned.get(line_id, D(0)) + qty
    for attr in ("total", "tax_total", "net_total", "cash_rounding", "payable"):
        assert sum(getattr(r, attr) for r in refunds) == -getattr(sale, attr)
    for ln in sale.lines:
        parts = [p for r in refunds for p in r.lines if p.line_id == ln.line_id]
        assert sum(p.tax for p in parts) == -ln.tax
        assert sum(p.gross for p in parts) == -ln.gross
        assert all(p.tax <= 0 and p.gross <= 0 for p in parts)
    if cash and config.cash_rounding is not None:
        assert all(r.payable % config.cash_rounding == 0 for r in refunds)
