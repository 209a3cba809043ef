"""The wire form of a line's taxes and of the tax breakdown (FR-302, FR-304): every field the
hub re-checks and the receipt prints, exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from posdomain.tax import TaxLine, compute_tax, parse_tax_config
from posdomain.tax_wire import breakdown_json, line_taxes_json

pytestmark = pytest.mark.req("FR-302", "FR-304")

CFG = parse_tax_config(
    {"classes": {
        "QC": {"inclusive": False, "taxes": [
            {"code": "GST", "name": "GST", "rate": "0.05"},
            {"code": "QST", "rate": "0.09975", "on": ["GST"]},
            {"code": "BTL", "name": "Bottle levy", "per_unit": "0.10"}]},
        "STD": {"rate": "0.19"}}}
)  # fmt: skip


def test_a_multi_tax_line_in_wire_form() -> None:
    sale = compute_tax([TaxLine("1", "QC", Decimal("10.00"), Decimal(2))], CFG)
    got = line_taxes_json(sale.lines[0], CFG)
    parts = {p.code: str(p.tax) for p in sale.lines[0].parts}
    assert got == [
        {"code": "GST", "rate": "0.05", "per_unit": None, "on": [], "tax": parts["GST"]},
        {"code": "QST", "rate": "0.09975", "per_unit": None, "on": ["GST"], "tax": parts["QST"]},
        {"code": "BTL", "rate": "0", "per_unit": "0.10000", "on": [], "tax": parts["BTL"]},
    ]
    single = compute_tax([TaxLine("1", "STD", Decimal("1.19"))], CFG)
    assert line_taxes_json(single.lines[0], CFG) == []


def test_the_breakdown_in_wire_form() -> None:
    sale = compute_tax(
        [TaxLine("1", "QC", Decimal("10.00"), Decimal(2)), TaxLine("2", "STD", Decimal("1.19"))],
        CFG,
    )
    rows = {r["tax_class"]: r for r in breakdown_json(sale.breakdown)}
    by_code = {r.tax_class: r for r in sale.breakdown}
    for code, row in rows.items():
        src = by_code[code]
        assert row == {
            "tax_class": code,
            "name": src.name or code,
            "rate": str(src.rate),
            "per_unit": None if src.per_unit is None else str(src.per_unit),
            "inclusive": src.inclusive,
            "net": str(src.net),
            "tax": str(src.tax),
            "gross": str(src.gross),
        }
    assert rows["BTL"]["name"] == "Bottle levy"
    assert rows["BTL"]["per_unit"] == "0.10000"
    assert rows["GST"]["per_unit"] is None
    assert rows["QST"]["name"] == "QST"  # no name: the code
    assert rows["STD"]["rate"] == "0.19"
    assert rows["STD"]["inclusive"] is True
    assert rows["GST"]["inclusive"] is False
