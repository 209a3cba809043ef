"""The report facts of a sale (hub/reports/ingest.py) against the rules of its docstring,
computed here the plain way, on many generated sales (issue 15 item 2, branch ingestcpu: the
builder caches its Decimal steps and reads products as tuples; the figures must not move).

A tax-inclusive sale (its lines' totals add up to its total): a line's net is its amount
minus its tax, its discounts are divided by (1 + rate) and rounded half-even; an exclusive
one: net = amount, discounts as given, total = amount + tax; gross = net + discounts; the
document's net is total - tax, and the residue between that and its lines' nets goes to its
last line (net and gross); quantities in thousandths and cost = qty x unit cost, half-even."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hub.reports import ingest
from hub.reports.fact_reads import Known
from posdomain.errors import ValidationError
from posdomain.money import parse_minor
from posdomain.payloads import SaleCompleted
from scripts.testkit.crafted import Item, realistic_sale, sale_payload

BOX: Any = SimpleNamespace(tenant_id="t-1", branch_id="b-1", box_id="x-1")
ZONE = ZoneInfo("Europe/Berlin")
PRODUCTS = {
    "p-1": Known("S1", "One", "fruit", 37, None, 149),
    "p-2": Known("S2", "Two", None, None, 18, 250),
    "p-3": Known("S3", "Three", "drinks", 1_234_567, 16, 99),
}
ITEMS = st.builds(
    Item,
    product_id=st.sampled_from(["p-1", "p-2", "p-3", "p-unknown"]),
    qty=st.sampled_from(["1", "2", "3", "0.734", "1.005", "10", "0.001", "2.5"]),
    unit=st.sampled_from(["each", "weight"]),
    unit_price=st.sampled_from(["0.01", "0.99", "1.49", "2.50", "19.99", "0.05", "123.45"]),
    tax_class=st.sampled_from(["STD", "REDUCED", "ZERO"]),
    rate=st.sampled_from(["0.19", "0.07", "0.05", "0", "0.2", "0.0825"]),
    inclusive=st.booleans(),
    discount=st.sampled_from(["0.00", "0.00", "0.01", "0.10", "0.15", "0.33"]),
)


def _even(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _reference(body: SaleCompleted) -> list[dict[str, Any]]:
    """(line_no, qty_milli, gross, discounts, net, tax, total, cost, category) per line."""
    exp = body.exponent
    total, tax = parse_minor(body.total, exp), parse_minor(body.tax_total, exp)
    amounts = [parse_minor(ln.line_total, exp) for ln in body.lines]
    inclusive = sum(amounts) == total
    out = []
    for ln, amount in zip(body.lines, amounts, strict=True):
        line_tax = parse_minor(ln.tax, exp)
        given = sum(parse_minor(d.amount, exp) for d in ln.discounts)
        discount = _even(Decimal(given) / (1 + Decimal(ln.tax_rate))) if inclusive else given
        net = amount - line_tax if inclusive else amount
        qty = _even(Decimal(ln.qty) * 1000)
        product = PRODUCTS.get(ln.product_id)
        unit_cost = product.cost_minor if product else None
        out.append(
            {
                "line_no": ln.line_no,
                "qty_milli": qty,
                "gross": net + discount,
                "discounts": discount,
                "net": net,
                "tax": line_tax,
                "total": amount if inclusive else amount + line_tax,
                "cost": 0 if unit_cost is None else _even(Decimal(qty) * unit_cost / 1000),
                "category": product.category if product else None,
            }
        )
    residue = (total - tax) - sum(ln["net"] for ln in out)
    out[-1]["net"] += residue
    out[-1]["gross"] += residue
    return out


def _built(body: SaleCompleted) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    builder = ingest._Builder(BOX, PRODUCTS, ZONE)
    builder.sale(body, False)
    names = ("line_no", "qty_milli", "gross", "discounts", "net", "tax", "total", "cost")
    lines = [{n: ln[n] for n in (*names, "category")} for ln in builder.rows.lines]
    return lines, builder.rows.docs[0]


def _check(body: SaleCompleted) -> None:
    lines, doc = _built(body)
    want = _reference(body)
    assert lines == want
    exp = body.exponent
    assert doc["net"] == parse_minor(body.total, exp) - parse_minor(body.tax_total, exp)
    for name in ("gross", "discounts", "net", "cost", "qty_milli"):
        assert sum(ln[name] for ln in lines) == doc["items_milli" if name == "qty_milli" else name]
    assert doc["gross"] - doc["discounts"] - doc["refunds"] == doc["net"]


@pytest.mark.req("FR-600", "NFR-003")
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    items=st.lists(ITEMS, min_size=1, max_size=12),
    receipt=st.integers(1, 10**6),
    residue=st.sampled_from([0, 0, 1, -1, 3]),
)
def test_sale_facts_follow_the_documented_rules(
    items: list[Item], receipt: int, residue: int
) -> None:
    """`residue`: minor units the document's tax differs from its lines' (rounding of the
    whole document, allocated back by the box), which the last line takes."""
    classes: dict[str, tuple[str, bool]] = {}  # one rate and form per class, as a tenant has
    kept = [i for i in items if classes.setdefault(i.tax_class, (i.rate, i.inclusive)) == (
        i.rate, i.inclusive)]  # fmt: skip
    try:
        payload = sale_payload(receipt, items=kept)
    except ValidationError:  # a discount over its line: no box prices such a sale
        assume(False)
    for line in payload["lines"]:
        for d in line["discounts"]:
            d.update(policy_id="pol", kind="percent")
    payload["tax_total"] = str(Decimal(payload["tax_total"]) + Decimal(residue) / 100)
    _check(SaleCompleted.model_validate(payload))


@pytest.mark.req("FR-600", "NFR-003")
@pytest.mark.parametrize("lines", [1, 2, 7, 30, 41])
def test_realistic_sale_facts_follow_the_documented_rules(lines: int) -> None:
    _check(SaleCompleted.model_validate(realistic_sale(lines, lines)))


@pytest.mark.req("FR-600")
def test_an_inclusive_discount_is_divided_by_one_plus_the_rate_half_even() -> None:
    """0.15 off a 19 % inclusive line: 15 / 1.19 = 12.605 -> 13; 0.10 off at 5 %: 9.524 -> 10;
    and a half exactly (0.21 at 5 %: 21 / 1.05 = 20) stays exact."""
    assert ingest._net_discount(15, "0.19") == 13
    assert ingest._net_discount(10, "0.05") == 10
    assert ingest._net_discount(21, "0.05") == 20
    assert ingest._net_discount(5, "1") == 2  # 2.5 -> 2: half to even
    assert ingest._net_discount(7, "1") == 4  # 3.5 -> 4
    assert ingest._cost_of(500, 3) == 2  # 1.5 -> 2
    assert ingest._cost_of(500, 5) == 2  # 2.5 -> 2
    assert ingest.milli("0.0005") == 0
    assert ingest.milli("0.0015") == 2
