"""The report catalog (FR-600) over generated data: formulas and cross-checks of
report_catalog.md, business days in the branch's zone (DST), the Z report to the cent."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hub.core import db as hub_db
from hub.core.db import tenant_tx
from hub.reports.days import day_bounds, day_hours
from hub.reports.models import ReportDoc
from posdomain.pricing import ProductPrice
from posdomain.sale_pricing import SaleInputs, SaleLineInput, price_sale
from posdomain.tax import parse_tax_config
from scripts.testkit.crafted import T
from tests.hub.conftest import enrol_box, login
from tests.hub.ingest_helpers import envelope, send
from tests.hub.report_helpers import (
    at_local,
    generate_day,
    item,
    new_products,
    priced_sale,
    zoned_branch,
)
from tests.posdomain.test_mixed_documents import wire as multi_tax_wire

pytestmark = [pytest.mark.pg]
D = Decimal


def report(client: Any, rid: str, **args: Any) -> dict[str, Any]:
    """Every row of a report (one big page) as the API answers it."""
    args.setdefault("page_size", 200)
    resp = client.get(f"/api/v1/reports/{rid}", query_string=args)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def col(body: dict[str, Any], key: str) -> Decimal:
    """Σ of a money column over the rows."""
    return sum((D(r[key]) for r in body["items"] if r[key] is not None), D(0))


@pytest.fixture(scope="module")
def prods(_session_app: Any, hub_urls: tuple[str, str]) -> Any:
    hub_db.bind(hub_urls[1])
    return new_products()


@pytest.mark.req("FR-600")
def test_cross_checks_hold_over_generated_day(app, client, prods):
    """REP-T-01 total = Σ REP-T-09 net + cash rounding; REP-T-10 tax = REP-T-01 tax;
    Σ REP-T-06 net = REP-T-01 net; and the figures equal the payloads' own sums."""
    branch = zoned_branch("Europe/Berlin")
    day = generate_day(branch, prods, at_local("Europe/Berlin", "2026-06-10T08:00:00"))
    login(client, "owner")
    f = {"branches": branch, "date_from": "2026-06-10", "date_to": "2026-06-10"}
    t01 = report(client, "REP-T-01", **f)
    (row,) = t01["items"]
    assert row["day"] == "2026-06-10"
    assert row["transactions"] == len(day.kept())
    assert D(row["total"]) == day.total()
    assert D(row["tax"]) == day.tax()
    assert D(row["net"]) == day.total() - day.tax()
    assert D(row["cash_rounding"]) == day.rounding() != 0
    assert D(row["net"]) == D(row["gross"]) - D(row["discounts"]) - D(row["refunds"])
    assert D(row["discounts"]) > 0
    assert D(row["refunds"]) > 0
    assert D(row["margin"]) == D(row["net"]) - D(row["cost"])
    t09 = report(client, "REP-T-09", **f)
    assert {r["tender"] for r in t09["items"]} == {"cash", "card"}
    assert D(row["total"]) == col(t09, "net") + D(row["cash_rounding"])
    assert D(t09["totals"]["net"]) == col(t09, "net")
    t10 = report(client, "REP-T-10", **f)
    assert {(r["tax_class"], r["tax_rate"]) for r in t10["items"]} == {
        ("REDUCED", "0.05"),
        ("STD", "0.20"),
        ("ZERO", "0.00"),
    }
    assert col(t10, "tax") == D(row["tax"])
    t06 = report(client, "REP-T-06", **f)
    assert col(t06, "net") == D(row["net"])
    # the daily product rollup (no box/cashier filter) equals the line facts (a cashier filter)
    facts = report(client, "REP-T-06", cashier_id="u-rep-cashier", **f)
    assert facts["items"] == t06["items"]
    assert report(client, "REP-T-10", cashier_id="u-rep-cashier", **f)["items"] == t10["items"]
    assert col(t06, "cost") == D(row["cost"])
    t07 = report(client, "REP-T-07", **f)
    assert col(t07, "net") == D(row["net"])
    assert sum(D(r["share_pct"]) for r in t07["items"]) == pytest.approx(D(100), abs=D("0.05"))
    t02 = report(client, "REP-T-02", **f)
    assert col(t02, "net") == D(row["net"])
    assert sum(r["transactions"] for r in t02["items"]) == row["transactions"]
    t11 = report(client, "REP-T-11", **f)
    promos = sum(
        (D(d["amount"]) for s in day.kept() for ln in s["lines"] for d in ln["discounts"]),
        D(0),
    )
    assert col(t11, "value") == promos
    t12 = report(client, "REP-T-12", **f)
    assert len(t12["items"]) == len(day.refunds)
    assert col(t12, "value") == D(row["refunds"])
    t16 = report(client, "REP-T-16", **f)
    assert all(r["required_age"] == 18 for r in t16["items"])
    # the rollup (REP-T-01) equals the documents it was built from
    with tenant_tx(T):
        docs = list(ReportDoc.select().where(ReportDoc.branch_id == branch))
    voided = day.voided
    assert sum(d.total for d in docs if d.doc_id not in voided) == int(D(row["total"]) * 100)


@pytest.mark.req("FR-600")
def test_hub_shift_report_equals_the_box_z_to_the_cent(app, client, prods):
    branch = zoned_branch("America/New_York")
    start = at_local("America/New_York", "2026-06-11T09:00:00")
    day = generate_day(branch, prods, start, n_sales=12, seed=3)
    shift_id = str(uuid.uuid4())
    z = {
        "shift_id": shift_id,
        "z_no": 1,
        "till": "Till 1",
        "cashier_id": "u-rep-cashier",
        "opened_at": (start - timedelta(minutes=5)).isoformat(),
        "as_of": (start + timedelta(hours=4)).isoformat(),
        "net_total_minor": int(day.total() * 100),
        "net_total": str(day.total()),
        "sales": {"count": len(day.kept()), "total": "0"},
    }
    ack = send(day.box, [envelope(day.box, 100, z, "shift.closed", branch_id=branch)])
    assert ack is not None
    assert ack.rejected == [], ack
    login(client, "owner")
    body = report(
        client,
        "REP-T-01",
        branches=branch,
        shift_id=shift_id,
        date_from="2026-06-11",
        date_to="2026-06-11",
    )
    assert D(body["totals"]["total"]) * 100 == z["net_total_minor"]
    zs = report(client, "REP-T-04", branches=branch, date_from="2026-06-11", date_to="2026-06-11")
    assert [r["net_total"] for r in zs["items"]] == [str(day.total())]


@pytest.mark.req("FR-600")
@pytest.mark.parametrize(
    ("zone", "short", "long"),
    [
        ("Europe/Berlin", "2026-03-29", "2026-10-25"),
        ("America/New_York", "2026-03-08", "2026-11-01"),
    ],
)
def test_business_days_are_cut_at_local_midnight_across_dst(app, client, prods, zone, short, long):

    tz = __import__("zoneinfo").ZoneInfo(zone)
    assert day_hours(date.fromisoformat(short), tz) == 23
    assert day_hours(date.fromisoformat(long), tz) == 25
    branch = zoned_branch(zone)

    box = enrol_box(T, branch)
    events = []
    times = []
    for d in (short, long):
        prev = (date.fromisoformat(d) - timedelta(days=1)).isoformat()
        nxt = (date.fromisoformat(d) + timedelta(days=1)).isoformat()
        times += [
            f"{prev}T23:59:59",
            f"{d}T00:00:00",
            f"{d}T23:59:59",
            f"{nxt}T00:00:00",
        ]
    for n, local in enumerate(times, start=1):
        body = priced_sale(n, [item(prods[2], 1)], at_local(zone, local), cash=False)
        events.append(envelope(box, n, body, branch_id=branch))
    ack = send(box, events)
    assert ack is not None
    assert ack.rejected == []
    login(client, "owner")
    for d in (short, long):
        body = report(client, "REP-T-01", branches=branch, date_from=d, date_to=d)
        (row,) = body["items"]
        assert row["transactions"] == 2  # 00:00:00 and 23:59:59 of that day, not its neighbours
        start, end = day_bounds(date.fromisoformat(d), tz)
        assert (end - start) == timedelta(hours=23 if d == short else 25)
        hours = report(client, "REP-T-02", branches=branch, date_from=d, date_to=d)
        assert sorted(r["hour"] for r in hours["items"]) == [0, 23]


@pytest.mark.req("FR-600")
def test_a_later_post_void_moves_its_sale_out_of_the_rollup(app, client, prods):
    branch = zoned_branch("Europe/London")
    box = enrol_box(T, branch)
    at = at_local("Europe/London", "2026-07-01T10:00:00")
    sold = [priced_sale(n, [item(prods[1], 2)], at, cash=True) for n in (1, 2)]
    ack = send(box, [envelope(box, n, s, branch_id=branch) for n, s in enumerate(sold, 1)])
    assert ack is not None
    assert ack.rejected == []
    login(client, "owner")
    f = {"branches": branch, "date_from": "2026-07-01", "date_to": "2026-07-01"}
    (before,) = report(client, "REP-T-01", **f)["items"]
    assert before["transactions"] == 2
    void = {
        "sale_id": sold[1]["sale_id"],
        "receipt_no": 2,
        "cashier_id": "u-rep-cashier",
        "approver_id": "u-manager",
        "reason_code": "CASHIER_ERROR",
        "exponent": 2,
        "total": sold[1]["total"],
        "voided_at": (at + timedelta(minutes=3)).isoformat(),
    }
    ack = send(box, [envelope(box, 3, void, "sale.voided", branch_id=branch)])  # a later batch
    assert ack is not None
    assert ack.rejected == []
    (after,) = report(client, "REP-T-01", **f)["items"]
    assert after["transactions"] == 1
    assert D(after["total"]) == D(sold[0]["total"])
    assert D(after["cash_rounding"]) == -D(sold[0]["cash_rounding"])
    assert col(report(client, "REP-T-06", **f), "net") == D(after["net"])
    facts = report(client, "REP-T-06", cashier_id="u-rep-cashier", **f)
    assert facts["items"] == report(client, "REP-T-06", **f)["items"]
    # the tender and tax rollups took the voided sale out too
    t09 = report(client, "REP-T-09", **f)
    assert D(after["total"]) == col(t09, "net") + D(after["cash_rounding"])
    assert col(report(client, "REP-T-10", **f), "tax") == D(after["tax"])


MULTI_TAX = parse_tax_config(
    {
        "rounding": "HALF_UP",
        "cash_rounding": "0.05",
        "classes": {
            "BEV": {  # compound: QST on GST, plus a per-container levy
                "inclusive": False,
                "taxes": [
                    {"code": "GST", "name": "GST", "rate": "0.05"},
                    {"code": "QST", "name": "QST", "rate": "0.09975", "on": ["GST"]},
                    {"code": "CRF", "name": "Container fee", "per_unit": "0.10"},
                ],
            },
            "TWO": {  # two taxes side by side
                "inclusive": False,
                "taxes": [
                    {"code": "GST", "name": "GST", "rate": "0.05"},
                    {"code": "PST", "name": "PST", "rate": "0.07"},
                ],
            },
            "STD": {"rate": "0.19"},
        },
    }
)


def multi_tax_sale(receipt: int, qty: dict[str, str], at: Any) -> dict[str, Any]:
    """A cash sale priced by the real engine over the multi-tax classes (issue 14 rows)."""
    prices = {
        "BEV": ("p-mt-cola", "1.49"),
        "TWO": ("p-mt-soap", "3.99"),
        "STD": ("p-mt-tea", "2.50"),
    }
    lines = tuple(
        SaleLineInput(str(n), ProductPrice(prices[cls][0], D(prices[cls][1])), D(q), "each", cls)
        for n, (cls, q) in enumerate(qty.items(), start=1)
    )
    inputs = SaleInputs(lines, "retail", MULTI_TAX, 2, at, True)  # type: ignore[arg-type]
    body = multi_tax_wire(price_sale(inputs))
    body.update(
        sale_id=str(uuid.uuid4()), receipt_no=receipt, currency="EUR",
        cashier_id="u-rep-cashier", completed_at=at.isoformat(),
    )  # fmt: skip
    return body


@pytest.mark.req("FR-600")
def test_tax_report_splits_multi_tax_lines_and_equals_the_summary_tax(app, client):
    """REP-T-10 tax = REP-T-01 tax with a line of two taxes, a compound tax and a per-unit
    levy: one row per tax code, each equal to the receipts' breakdown of that code."""
    branch = zoned_branch("America/Toronto")
    box = enrol_box(T, branch)
    at = at_local("America/Toronto", "2026-06-14T10:00:00")
    mixes = [{"BEV": "6", "TWO": "1"}, {"BEV": "2", "STD": "3"}, {"TWO": "2", "STD": "1"}]
    sold = [multi_tax_sale(n, mix, at + timedelta(minutes=n)) for n, mix in enumerate(mixes, 1)]
    ack = send(box, [envelope(box, n, s, branch_id=branch) for n, s in enumerate(sold, 1)])
    assert ack is not None
    assert ack.rejected == [], ack.rejected
    login(client, "owner")
    f = {"branches": branch, "date_from": "2026-06-14", "date_to": "2026-06-14"}

    def check(kept: list[dict[str, Any]]) -> None:
        (t01,) = report(client, "REP-T-01", **f)["items"]
        t10 = report(client, "REP-T-10", **f)
        assert col(t10, "tax") == D(t01["tax"]) == sum(D(s["tax_total"]) for s in kept)
        per_code: dict[tuple[str, str], Decimal] = {}
        for r in t10["items"]:
            key = (r["tax_class"], r["tax_code"])
            per_code[key] = per_code.get(key, D(0)) + D(r["tax"])
        want: dict[str, Decimal] = {}
        for s in kept:
            for row in s["tax_breakdown"]:
                want[row["tax_class"]] = want.get(row["tax_class"], D(0)) + D(row["tax"])
        got: dict[str, Decimal] = {}
        for (_cls, code), tax in per_code.items():
            got[code] = got.get(code, D(0)) + tax
        assert got == {k: v for k, v in want.items() if v or k in got}
        levy = [r for r in t10["items"] if r["tax_code"] == "CRF"]
        assert [(D(r["per_unit"]), r["base"]) for r in levy] == [(D("0.10"), "0.00")]

    check(sold)
    (t10_classes,) = {frozenset((r["tax_class"], r["tax_code"]) for r in
                                report(client, "REP-T-10", **f)["items"])}  # fmt: skip
    assert t10_classes == {
        ("BEV", "GST"), ("BEV", "QST"), ("BEV", "CRF"), ("TWO", "GST"), ("TWO", "PST"),
        ("STD", "STD"),
    }  # fmt: skip
    by_cashier = report(client, "REP-T-10", cashier_id="u-rep-cashier", **f)["items"]
    assert by_cashier == report(client, "REP-T-10", **f)["items"]
    void = {
        "sale_id": sold[0]["sale_id"], "receipt_no": 1, "cashier_id": "u-rep-cashier",
        "approver_id": "u-manager", "reason_code": "CASHIER_ERROR", "exponent": 2,
        "total": sold[0]["total"], "voided_at": (at + timedelta(minutes=9)).isoformat(),
    }  # fmt: skip
    ack = send(box, [envelope(box, 4, void, "sale.voided", branch_id=branch)])  # a later batch
    assert ack is not None
    assert ack.rejected == []
    check(sold[1:])  # the voided sale's tax parts left the tax rollup
    (t01,) = report(client, "REP-T-01", **f)["items"]
    t09 = report(client, "REP-T-09", **f)
    assert D(t01["total"]) == col(t09, "net") + D(t01["cash_rounding"])
