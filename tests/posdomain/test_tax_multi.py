"""Several taxes per line, compound taxes, levies, exempt classes, modes, currencies (FR-302).

Known cases are named after the system or authority whose documentation gives them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.errors import Reason, ValidationError
from posdomain.money import quantum, round_money
from posdomain.tax import (
    TaxConfig,
    TaxLine,
    TaxResult,
    compute_tax,
    exact_tax,
    parse_tax_config,
    refund_tax,
)
from posdomain.tax_engine import class_for, exact_parts

pytestmark = pytest.mark.req("FR-302")
D = Decimal


def config(classes: dict[str, Any], exponent: int = 2, **extra: Any) -> TaxConfig:
    """A parsed tax config of these classes."""
    return parse_tax_config({"rounding": "HALF_UP", "classes": classes, **extra}, exponent)


def one(cls: str, amount: str, qty: str = "1") -> list[TaxLine]:
    """A single line."""
    return [TaxLine("1", cls, D(amount), D(qty))]


def rows(result: TaxResult) -> dict[str, str]:
    """Breakdown as code -> tax."""
    return {r.tax_class: str(r.tax) for r in result.breakdown}


QUEBEC_2012 = {
    "QC": {
        "inclusive": False,
        "taxes": [
            {"code": "GST", "name": "GST", "rate": "0.05"},
            {"code": "QST", "name": "QST", "rate": "0.095", "compound": True},
        ],
    }
}


def test_revenu_quebec_2012_qst_compounded_on_price_plus_gst() -> None:
    # Revenu Québec (2012): QST 9.5 % on the price including GST; 100.00 -> 5.00 + 9.98
    result = compute_tax(one("QC", "100.00"), config(QUEBEC_2012))
    assert rows(result) == {"GST": "5.00", "QST": "9.98"}
    assert result.total == D("114.98")


def test_revenu_quebec_2013_qst_9975_on_price_alone_gives_the_same_total() -> None:
    # Revenu Québec (2013): QST 9.975 % on the price alone, chosen to keep 114.98 on 100.00
    classes = {
        "QC": {
            "inclusive": False,
            "taxes": [{"code": "GST", "rate": "0.05"}, {"code": "QST", "rate": "0.09975"}],
        }
    }
    result = compute_tax(one("QC", "100.00"), config(classes))
    assert rows(result) == {"GST": "5.00", "QST": "9.98"}
    assert result.total == D("114.98")


NYC = {
    "NYC": {
        "inclusive": False,
        "taxes": [
            {"code": "NYS", "name": "NY State", "rate": "0.04"},
            {"code": "NYC", "name": "NYC", "rate": "0.045"},
            {"code": "MCTD", "name": "MCTD", "rate": "0.00375"},
        ],
    }
}


@pytest.mark.parametrize(("level", "mctd"), [("line", "0.04"), ("document", "0.04")])
def test_ny_publication_718_new_york_city_8875_percent_on_ten_dollars(
    level: str, mctd: str
) -> None:
    # NY State Publication 718: New York City 8.875 % = 4 % state + 4.5 % city + 0.375 % MCTD
    result = compute_tax(one("NYC", "10.00"), config(NYC, level=level))
    assert rows(result) == {"MCTD": mctd, "NYC": "0.45", "NYS": "0.40"}
    assert result.tax_total == D("0.89")


def test_single_rate_8875_percent_keeps_all_its_decimals() -> None:
    cfg = config({"NYC": {"rate": "0.08875", "inclusive": False}})
    assert cfg.classes["NYC"].rate == D("0.08875")
    assert compute_tax(one("NYC", "100.00"), cfg).tax_total == D("8.88")  # 8.875 half up


def test_odoo_fixed_tax_affecting_the_base_of_vat() -> None:
    # Odoo docs (Taxes, "Affect base of subsequent taxes"): 100 + ecotax 5.00 + 21 % VAT on 105
    classes = {
        "ECO": {
            "inclusive": False,
            "taxes": [
                {"code": "ECO", "name": "Ecotax", "per_unit": "5.00"},
                {"code": "VAT21", "rate": "0.21", "on": ["ECO"]},
            ],
        }
    }
    result = compute_tax(one("ECO", "100.00"), config(classes))
    assert rows(result) == {"ECO": "5.00", "VAT21": "22.05"}
    assert result.total == D("127.05")


CONTAINER = {
    "BEV": {
        "inclusive": False,
        "taxes": [
            {"code": "GST", "name": "GST", "rate": "0.05"},
            {"code": "PST", "name": "PST", "rate": "0.07"},
            {"code": "CRF", "name": "Container fee", "per_unit": "0.10"},
        ],
    },
    "FOOD": {"exempt": True},
}


def test_bc_container_levy_per_unit_on_its_own_row() -> None:
    # BC: GST 5 % + PST 7 %, a 0.10 container fee per can on its own row, basic food exempt
    basket = [TaxLine("1", "BEV", D("5.94"), D(6)), TaxLine("2", "FOOD", D("3.00"))]
    result = compute_tax(basket, config(CONTAINER))
    assert rows(result) == {"CRF": "0.60", "FOOD": "0.00", "GST": "0.30", "PST": "0.42"}
    levy = next(r for r in result.breakdown if r.tax_class == "CRF")
    assert (levy.net, levy.name, levy.per_unit) == (D("0.00"), "Container fee", D("0.10"))
    assert result.total == D("5.94") + D("3.00") + D("1.32")


def test_inclusive_two_taxes_and_a_levy_split_the_gross_exactly() -> None:
    classes = {"IN": {**CONTAINER["BEV"], "inclusive": True}}
    result = compute_tax(one("IN", "11.40", "2"), config(classes))
    net, exact = exact_parts(D("11.40"), D(2), config(classes).classes["IN"])
    assert net == D("10.00")  # (11.40 - 0.20) / 1.12
    assert exact == [D("0.50"), D("0.70"), D("0.20")]
    assert (result.total, result.tax_total, result.net_total) == (D("11.40"), D("1.40"), net)


def test_japan_zero_decimal_yen_8_percent_reduced_rate_inclusive() -> None:
    # National Tax Agency Japan: reduced 8 % rate, prices shown tax included, no sen
    result = compute_tax(one("JP8", "1080"), config({"JP8": {"rate": "0.08"}}, exponent=0))
    assert (str(result.tax_total), str(result.net_total)) == ("80", "1000")


def test_bahrain_three_decimal_dinar_10_percent_vat() -> None:
    # NBR Bahrain: VAT 10 % since 2022; the dinar has 3 decimals (fils)
    cfg = config({"VAT": {"rate": "0.10", "inclusive": False}}, exponent=3)
    result = compute_tax(one("VAT", "1.255"), cfg)
    assert (str(result.tax_total), str(result.total)) == ("0.126", "1.381")


@pytest.mark.parametrize(
    ("mode", "tax"), [("HALF_UP", "0.13"), ("HALF_EVEN", "0.12"), ("UP", "0.13"), ("DOWN", "0.12")]
)
def test_rounding_modes_on_a_half_cent(mode: str, tax: str) -> None:
    cfg = parse_tax_config(
        {"rounding": mode, "classes": {"T": {"rate": "0.05", "inclusive": False}}}
    )
    assert str(compute_tax(one("T", "2.50"), cfg).tax_total) == tax  # exact 0.125


@pytest.mark.parametrize(
    ("step", "mode", "total", "rounding"),
    [
        ("0.05", "HALF_UP", "1.02", "-0.02"),  # Swiss Rappenrundung / Canada penny rounding
        ("0.05", "HALF_UP", "1.03", "0.02"),
        ("0.10", "HALF_UP", "1.05", "0.05"),
        ("1", "HALF_UP", "10.50", "0.50"),  # Sweden's öresavrundning to whole kronor
        ("1", "HALF_EVEN", "10.50", "-0.50"),
        ("0.05", "DOWN", "1.04", "-0.04"),
        ("0.05", "UP", "1.01", "0.04"),
    ],
)
def test_cash_rounding_steps_and_modes(step: str, mode: str, total: str, rounding: str) -> None:
    cfg = config(
        {"Z": {"rate": "0", "inclusive": True}}, cash_rounding=step, cash_rounding_mode=mode
    )
    result = compute_tax(one("Z", total), cfg, cash=True)
    assert str(result.cash_rounding) == rounding
    assert result.payable == D(total) + D(rounding)


@pytest.mark.parametrize(
    ("classes", "reason"),
    [
        ({"X": {"inclusive": True}}, Reason.TAX_CLASS_NO_RATES),
        ({"X": {"taxes": []}}, Reason.TAX_CLASS_NO_RATES),
        ({"X": {"rate": "1.5"}}, Reason.TAX_RATE_OUT_OF_RANGE),
        ({"X": {"rate": "-0.01"}}, Reason.TAX_RATE_OUT_OF_RANGE),
        ({"X": {"taxes": [{"code": "A", "rate": "1.01"}]}}, Reason.TAX_RATE_OUT_OF_RANGE),
        (
            {
                "X": {
                    "taxes": [
                        {"code": "A", "rate": "0.05", "on": ["B"]},
                        {"code": "B", "rate": "0.05", "on": ["A"]},
                    ]
                }
            },
            Reason.TAX_COMPOUND_LOOP,
        ),
        ({"X": {"taxes": [{"code": "A", "rate": "0.05", "on": ["A"]}]}}, Reason.TAX_COMPOUND_LOOP),
        ({"X": {"taxes": [{"code": "A", "rate": "0.05", "on": ["Q"]}]}}, Reason.VALIDATION_FAILED),
        ({"X": {"rate": "0.0000001"}}, Reason.VALIDATION_FAILED),
        ({"X": {"exempt": True, "rate": "0.1"}}, Reason.VALIDATION_FAILED),
        (
            {
                "X": {"rate": "0.05", "inclusive": True},
                "Y": {"taxes": [{"code": "X", "rate": "0.06"}]},
            },
            Reason.VALIDATION_FAILED,
        ),
        (
            {"X": {"taxes": [{"code": "L", "per_unit": "0.10", "rate": "0.1"}]}},
            Reason.VALIDATION_FAILED,
        ),
    ],
)
def test_bad_tax_config_is_refused_with_its_reason(classes: dict[str, Any], reason: Reason) -> None:
    with pytest.raises(ValidationError) as err:
        parse_tax_config({"rounding": "HALF_UP", "classes": classes})
    assert err.value.reason == reason


# --- properties over random configurations and baskets ------------------------------------

MODES = st.sampled_from(["HALF_UP", "HALF_EVEN", "UP", "DOWN"])
RATES = st.decimals(min_value=0, max_value=D("0.3"), places=5)


@st.composite
def classes(draw: st.DrawFn) -> dict[str, Any]:
    """1-3 classes: single rate, multi-tax with compound and levies, or exempt."""
    out: dict[str, Any] = {}
    for i in range(draw(st.integers(1, 3))):
        inclusive = draw(st.booleans())
        kind = draw(st.sampled_from(["single", "multi", "exempt"]))
        if kind == "single":
            out[f"C{i}"] = {"rate": str(draw(RATES)), "inclusive": inclusive}
        elif kind == "exempt":
            out[f"C{i}"] = {"exempt": True, "inclusive": inclusive}
        else:
            taxes: list[dict[str, Any]] = []
            for j in range(draw(st.integers(1, 3))):
                code = f"T{i}{j}"
                if draw(st.integers(0, 3)) == 0:
                    levy = draw(st.decimals(min_value=0, max_value=D("0.5"), places=2))
                    taxes.append({"code": code, "per_unit": str(levy)})
                else:
                    on = [t["code"] for t in taxes if draw(st.booleans())]
                    taxes.append({"code": code, "rate": str(draw(RATES)), "on": on})
            out[f"C{i}"] = {"inclusive": inclusive, "taxes": taxes}
    return out


@st.composite
def setups(draw: st.DrawFn) -> tuple[TaxConfig, list[TaxLine]]:
    """A config and a basket of 1-8 lines (some returned: negative qty and amount)."""
    exponent = draw(st.sampled_from([0, 2, 3]))
    body = {
        "rounding": draw(MODES),
        "level": draw(st.sampled_from(["line", "document"])),
        "classes": draw(classes()),
        "cash_rounding": draw(st.sampled_from([None, "0.05", "0.10", "1"]))
        if exponent == 2
        else None,
        "cash_rounding_mode": draw(MODES),
    }
    cfg = parse_tax_config(body, exponent)
    unit = quantum(exponent)
    basket = []
    for n in range(draw(st.integers(1, 8))):
        code = draw(st.sampled_from(sorted(cfg.classes)))
        qty = D(draw(st.integers(1, 12)))
        levies = sum((p.per_unit or 0) * qty for p in cfg.classes[code].parts)
        # inclusive: the gross must hold the levies and the taxes compounded on them (< 3x)
        floor = (3 * levies).quantize(unit, "ROUND_CEILING") if cfg.classes[code].inclusive else 0
        amount = floor + draw(st.integers(0, 500_000)) * unit
        sign = -1 if draw(st.integers(0, 4)) == 0 else 1
        basket.append(TaxLine(f"L{n}", code, amount * sign, qty * sign))
    return cfg, basket


def _check_adds_up(cfg: TaxConfig, basket: list[TaxLine], result: TaxResult) -> None:
    unit = quantum(cfg.exponent)
    assert sum((r.tax for r in result.breakdown), D(0)) == result.tax_total
    assert result.net_total + result.tax_total == result.total
    assert sum((ln.gross for ln in result.lines), D(0)) == result.total
    assert result.payable == result.total + result.cash_rounding
    for line, given_line in zip(result.lines, basket, strict=True):
        assert line.net + line.tax == line.gross
        assert sum((p.tax for p in line.parts), D(0)) == line.tax
        assert (line.gross if cfg.classes[line.tax_class].inclusive else line.net) == (
            given_line.amount
        )
        tc = cfg.classes[line.tax_class]
        exact = exact_tax(abs(given_line.amount), tc, abs(given_line.qty))
        assert abs(abs(line.tax) - exact) < 2 * unit * len(tc.parts)
    for row in result.breakdown:
        parts = [p.tax for ln in result.lines for p in ln.parts if p.code == row.tax_class]
        assert sum(parts, D(0)) == row.tax
        assert row.net + row.tax == row.gross
    if result.cash and cfg.cash_rounding is not None:
        assert result.payable % cfg.cash_rounding == 0


@settings(max_examples=300, deadline=None)
@given(setups(), st.booleans())
def test_breakdown_sums_exactly_to_the_document_in_every_configuration(
    setup: tuple[TaxConfig, list[TaxLine]], cash: bool
) -> None:
    cfg, basket = setup
    _check_adds_up(cfg, basket, compute_tax(basket, cfg, cash=cash))


@settings(max_examples=200, deadline=None)
@given(setups())
def test_document_rounding_rounds_each_tax_once(setup: tuple[TaxConfig, list[TaxLine]]) -> None:
    cfg, basket = setup
    sold = [ln for ln in basket if ln.qty > 0]
    if not sold:
        return
    cfg = parse_tax_config(
        {"rounding": cfg.rounding, "level": "document", "classes": _raw(cfg)}, cfg.exponent
    )
    result = compute_tax(sold, cfg)
    exact: dict[str, Decimal] = {}
    for ln in sold:
        tc = class_for(ln, cfg)
        for part, tax in zip(tc.parts, exact_parts(ln.amount, ln.qty, tc)[1], strict=True):
            exact[part.code] = exact.get(part.code, D(0)) + tax
    for row in result.breakdown:
        assert row.tax == round_money(exact[row.tax_class], cfg.exponent, cfg.rounding)


def _raw(cfg: TaxConfig) -> dict[str, Any]:
    """A config body with the same classes (to re-parse with other settings)."""
    out: dict[str, Any] = {}
    for code, tc in cfg.classes.items():
        if tc.exempt:
            out[code] = {"exempt": True, "inclusive": tc.inclusive}
        elif not tc.components:
            out[code] = {"rate": str(tc.rate), "inclusive": tc.inclusive}
        else:
            out[code] = {
                "inclusive": tc.inclusive,
                "taxes": [
                    {"code": c.code, "per_unit": str(c.per_unit)}
                    if c.per_unit is not None
                    else {"code": c.code, "rate": str(c.rate), "on": list(c.on)}
                    for c in tc.components
                ],
            }
    return out


@settings(max_examples=200, deadline=None)
@given(setups(), st.booleans(), st.data())
def test_refunds_in_pieces_reverse_every_tax_exactly(
    setup: tuple[TaxConfig, list[TaxLine]], cash: bool, data: st.DataObject
) -> None:
    cfg, basket = setup
    sold = [ln for ln in basket if ln.qty > 0]
    if not sold:
        return
    sale = compute_tax(sold, cfg, cash=cash)
    first = {ln.line_id: D(data.draw(st.integers(0, int(ln.qty)))) for ln in sold}
    rest = {ln.line_id: ln.qty - first[ln.line_id] for ln in sold}
    one_refund = refund_tax(sale, first)
    two_refund = refund_tax(sale, rest, previously_returned=first)
    for code in {r.tax_class for r in sale.breakdown}:
        parts = [
            p.tax
            for res in (one_refund, two_refund)
            for ln in res.lines
            for p in ln.parts
            if p.code == code
        ]
        want = next(r.tax for r in sale.breakdown if r.tax_class == code)
        assert -sum(parts, D(0)) == want
    assert -(one_refund.payable + two_refund.payable) == sale.payable
    assert -(one_refund.tax_total + two_refund.tax_total) == sale.tax_total
