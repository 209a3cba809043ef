"""The catalog import's fast row checks (hub.catalog.csv_rows._FastRules) give exactly what the
full path gives (the API input model, then rules.normalize) on every row, hostile ones too."""

from __future__ import annotations

import random

import pytest

from hub.catalog.csv_rows import COLUMNS, parse_csv, render_row
from hub.catalog.rules import CatalogContext
from posdomain.barcodes import check_digit

CTX = CatalogContext(
    tenant_id="t-fast",
    exponent=2,
    tax_classes=frozenset({"STD", "ZERO", " PAD"}),
    categories=frozenset({"BENCH", "DAIRY"}),
)
EAN = "400638133393"
UPCA = "03600029145"
VARIANTS: dict[str, list[str]] = {
    "sku": ["A1", "a.b/c-d_e", " A1", "A1 ", "-A1", "A" * 40, "A" * 41, "", "Ä1", "A1\n"],
    "name": [
        "Tea",
        " Tea",
        "Tea ",
        "T" * 120,
        "T" * 121,
        "",
        "Tee\u00a0",
        "Käse",
        "a\tb",
        "\u2003x",
    ],
    "barcodes": [
        "",
        EAN + check_digit(EAN),
        EAN + "0",
        UPCA + check_digit(UPCA),
        "0" + UPCA + check_digit(UPCA),
        "96385074",
        "01234565",
        f"{EAN + check_digit(EAN)}|{EAN + check_digit(EAN)}",
        f"{EAN + check_digit(EAN)}| 0{EAN + check_digit(EAN)}",
        "4006-3813-3393-1",
        "\u0664\u0660\u0660\u0666\u0663\u0668\u0661\u0663\u0663\u0663\u0669\u0663\u0661",
        "|".join([EAN + check_digit(EAN)] * 21),
        "abc",
    ],
    "category": ["", "BENCH", " BENCH ", "bench", "NOPE", "D" * 41],
    "tax_class": ["STD", " STD", "STD ", "std", "", " PAD", "X" * 21],
    "unit": ["", "each", "weight", " weight ", "kg", "EACH"],
    "price": [
        "1.99",
        "0",
        "1",
        "1.9",
        "1.",
        ".5",
        "1.999",
        "1.990",
        "-1",
        "1e2",
        " 2.00",
        "\u0661\u066b\u0665",
        "9999999999.99",
        "10000000000.00",
        "10000000000.01",
        "0012.30",
        "NaN",
        "123456789012345678901",
    ],
    "cost": ["", "0.50", "x", " 1.00 ", "-0.01"],
    "wholesale_tiers": [
        "",
        "10:0.99",
        "10:0.99|50:0.89",
        "50:0.89|10:0.99",
        "10:1|10:2",
        "0:1",
        "0.001:1",
        "0.0001:1",
        "1e1:1",
        "10",
        " 5 : 1.00 ",
        "10:-1",
        "|".join(f"{n}:1" for n in range(1, 12)),
        "1.5:0.10|",
    ],
    "age_restriction": ["", "18", "0", "99", "100", "\u0663", " 16 ", "1.5"],
    "is_deposit": ["", "true", "false", "YES", "0", "maybe"],
    "deposit_sku": ["", "DEP-1", " "],
    "active": ["", "true", "n", "1", "off"],
}


def _rows(count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    base = {"sku": "A1", "name": "Tea", "barcodes": "", "category": "", "tax_class": "STD",
            "unit": "", "price": "1.99", "cost": "", "wholesale_tiers": "",
            "age_restriction": "", "is_deposit": "", "deposit_sku": "", "active": ""}  # fmt: skip
    out = []
    for n in range(count):
        row = dict(base)
        for column in rng.sample(COLUMNS, rng.randint(1, 4)):
            row[column] = rng.choice(VARIANTS[column])
        if row["sku"] == "A1":
            row["sku"] = f"A{n}"
        out.append(row)
    return out


@pytest.mark.req("FR-200")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_rows_equal_the_full_path(seed: int) -> None:
    text = "".join([render_row({c: c for c in COLUMNS}), *map(render_row, _rows(3000, seed))])
    text += "B1,Short row\nB2,Long,,,STD,each,1.00,,,,,,,extra\n\nB3,Tea,,,STD,,2.00,,,,,,\n"
    fast, full = parse_csv(text, CTX), parse_csv(text, CTX, fast=False)
    assert [(r.line, r.values, r.deposit_sku) for r in fast.rows] == [
        (r.line, r.values, r.deposit_sku) for r in full.rows
    ]
    assert [e.to_dict() for e in fast.errors] == [e.to_dict() for e in full.errors]
    assert fast.rows  # both kinds were exercised
    assert fast.errors


@pytest.mark.req("FR-200")
def test_a_reordered_header_with_fewer_columns_parses_the_same() -> None:
    text = "price,tax_class,name,sku\n1.50,STD,Tea,T1\n2,ZERO, Coffee ,T2\n"
    fast, full = parse_csv(text, CTX), parse_csv(text, CTX, fast=False)
    assert [r.values for r in fast.rows] == [r.values for r in full.rows]
    assert [r.values.price_minor for r in fast.rows] == [150, 200]
