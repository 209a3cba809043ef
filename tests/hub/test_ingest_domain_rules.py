"""Finding 2 (P0): the hub never trusts a box's arithmetic. Every sale is checked against the
domain rules (posdomain.sale_checks); one that fails is quarantined with its reason, raised in
the reconciliation queue and its seq consumed, and never reaches sales, stock or reports."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from scripts.testkit.crafted import B, Item, T, sale_payload
from tests.hub.conftest import enrol_box
from tests.hub.ingest_helpers import (
    acked_ids,
    envelope,
    items,
    lines_and_moves,
    quarantined,
    rejected,
    sale_ids,
    send,
)

pytestmark = [pytest.mark.pg]
Mutation = Callable[[dict[str, Any]], None]


def _set(**fields: Any) -> Mutation:
    def apply(p: dict[str, Any]) -> None:
        p.update(fields)

    return apply


def _line(**fields: Any) -> Mutation:
    def apply(p: dict[str, Any]) -> None:
        p["lines"][0].update(fields)

    return apply


def _inflated(p: dict[str, Any]) -> None:
    p.update(total="1000000.00", payable="1000000.00", change="0.00")
    p["tenders"] = [{"kind": "cash", "amount": "1000000.00"}]


def _negative_qty(p: dict[str, Any]) -> None:
    p["lines"][0].update(qty="-2", extended="-2.98", line_total="-2.98", tax="-0.14")
    p.update(subtotal="-2.98", total="-2.98", tax_total="-0.14", payable="-2.98")
    p["tax_breakdown"] = []
    p["tenders"], p["change"] = [{"kind": "cash", "amount": "0.01"}], "2.99"


def _negative_tender(p: dict[str, Any]) -> None:
    p["tenders"], p["change"] = [{"kind": "cash", "amount": "-5.00"}], "-7.98"


def _negative_tax(p: dict[str, Any]) -> None:
    p["lines"][0]["tax"] = "-0.14"
    p["tax_total"] = "-0.14"
    p["tax_breakdown"][0].update(tax="-0.14", net="3.12")


def _wrong_tax(p: dict[str, Any]) -> None:
    p["lines"][0]["tax"] = "0.50"
    p["tax_total"] = "0.50"
    p["tax_breakdown"][0].update(tax="0.50", net="2.48")


def _fractional_each(p: dict[str, Any]) -> None:
    fresh = sale_payload(
        1,
        items=[
            Item(
                product_id="p-003",
                sku="GB-0003",
                name="Whole Milk 1L",
                qty="2.5",
                unit="each",
                unit_price="1.19",
            )
        ],
    )
    p.update({k: v for k, v in fresh.items() if k not in ("sale_id", "receipt_no")})


CASES: dict[str, tuple[Mutation, set[str]]] = {
    "negative total": (_set(total="-2.98", payable="-2.98"), {"TOTALS_MISMATCH"}),
    "1 000 000.00 over 3.78 of lines": (_inflated, {"TOTALS_MISMATCH"}),
    # a returned line (negative qty) with no sale beside it: never a sale (issue 14)
    "negative quantity": (_negative_qty, {"UNMATCHED_RETURN"}),
    "returned line with a positive total": (
        lambda p: (_returned_empties(p), p["lines"][1].update(line_total="0.50")),
        {"INVALID_MONEY"},
    ),
    "quantity 0": (_line(qty="0"), {"INVALID_QUANTITY"}),
    "negative receipt number": (_set(receipt_no=-5), {"MALFORMED_MESSAGE"}),
    "foreign currency": (_set(currency="USD"), {"CURRENCY_MISMATCH"}),
    "negative tender": (_negative_tender, {"INVALID_MONEY"}),
    "negative change": (
        _set(change="-1.98", tenders=[{"kind": "cash", "amount": "1.00"}]),
        {"INVALID_MONEY"},
    ),
    "negative tax": (_negative_tax, {"TAX_MISMATCH", "INVALID_MONEY"}),
    "tax not the rate's": (_wrong_tax, {"TAX_MISMATCH"}),
    "year 9999": (_set(completed_at="9999-12-31T23:59:59+00:00"), {"TIMESTAMP_OUT_OF_RANGE"}),
    "100 000-character name": (_line(name="x" * 100_000), {"MALFORMED_MESSAGE"}),
    "tenders short of the total": (
        _set(tenders=[{"kind": "cash", "amount": "1.00"}], change="0.00"),
        {"TENDER_MISMATCH"},
    ),
    "qty x price is not the line": (_line(unit_price="0.01"), {"LINE_ARITHMETIC"}),
    "fractional qty of an 'each' product": (_fractional_each, {"INVALID_QUANTITY"}),
    "points beyond the total": (
        _set(
            tenders=[{"kind": "points", "amount": "5.00", "points": 500}],
            change="2.02",
        ),
        {"TENDER_MISMATCH"},
    ),
    "unknown tender kind": (
        _set(tenders=[{"kind": "voucher", "amount": "5.00"}]),
        {"UNKNOWN_TENDER"},
    ),
}


@pytest.mark.req("FR-303", "FR-300", "NFR-005")
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_sale_that_breaks_a_rule_is_quarantined_with_its_seq_consumed(app, case: str):
    mutate, reasons = CASES[case]
    box = enrol_box(T, B)
    payload = copy.deepcopy(sale_payload(1))
    mutate(payload)
    bad = envelope(box, 1, payload)
    good = envelope(box, 2, sale_payload(2))
    ack = send(box, [bad, good])
    assert ack is not None
    assert bad["event_id"] not in acked_ids(ack)
    assert rejected(ack)[1] in reasons, ack.rejected
    assert ack.acked_through == 2, "the bad event's seq is consumed so the queue drains"
    assert [str(e) for e in ack.accepted] == [good["event_id"]]
    assert sale_ids(box) == {good["payload"]["sale_id"]}
    assert lines_and_moves(payload["sale_id"]) == (0, 0)
    assert quarantined(box) == [rejected(ack)[1]]
    assert [i for i in items(box) if i[0] == "EVENT_QUARANTINED"] == [
        ("EVENT_QUARANTINED", "CRITICAL")
    ]
    again = send(box, [bad])  # redelivered: refused again with the same reason, not duplicate
    assert rejected(again) == {1: rejected(ack)[1]}
    assert again.duplicates == []
    assert len(quarantined(box)) == 1


def _split_card_cash(p: dict[str, Any]) -> None:
    fresh = sale_payload(
        1,
        items=[
            Item(),  # weighed bananas
            Item(
                product_id="p-016",
                sku="GB-0016",
                name="Sparkling Water 1.5L",
                qty="2",
                unit="each",
                unit_price="0.69",
                tax_class="STD",
                rate="0.20",
                discount="0.20",
            ),
            Item(
                product_id="p-037",
                sku="GB-0037",
                name="Bottle Deposit",
                qty="2",
                unit="each",
                unit_price="0.25",
                tax_class="ZERO",
                rate="0",
            ),
            Item(
                product_id="p-033",
                sku="GB-0033",
                name="Lager 6x330ml",
                qty="1",
                unit="each",
                unit_price="6.49",
                tax_class="EXCL",
                rate="0.10",
                inclusive=False,
            ),
        ],
    )
    p.update({k: v for k, v in fresh.items() if k not in ("sale_id", "receipt_no")})
    p["lines"][2]["deposit_for_line"] = 2
    p["tenders"] = [
        {"kind": "card", "amount": "5.00", "reference": "AUTH-99812"},
        {"kind": "cash", "amount": "20.00"},
    ]
    p["cash_rounding"], p["payable"] = "0.00", p["total"]
    p["change"] = str(Decimal("25.00") - Decimal(p["total"]))


def _paid_in_points(p: dict[str, Any]) -> None:
    """Loyalty redemption is a `points` tender (docs/CONTRACT.md "Loyalty")."""
    p["tenders"] = [
        {"kind": "cash", "amount": "2.00"},
        {"kind": "points", "amount": "1.00", "points": 100},
    ]
    p["change"] = "0.02"


def _cash_rounding(p: dict[str, Any]) -> None:
    p.update(cash_rounding="0.02", payable="3.00", change="2.00")  # 2.98 -> 3.00 at 0.05 steps


def _returned_empties(p: dict[str, Any]) -> None:
    """Bananas sold, two empties brought back (issue 14): a negative line, net total."""
    empties = {
        **p["lines"][0], "line_no": 2, "product_id": "p-037", "sku": "GB-0037",
        "name": "Bottle Deposit", "qty": "-2", "unit": "each", "weight": None,
        "unit_price": "0.25", "extended": "-0.50", "discounts": [], "line_total": "-0.50",
        "tax_class": "ZERO", "tax_rate": "0", "tax": "0.00",
    }  # fmt: skip
    p["lines"].append(empties)
    zero = {"tax_class": "ZERO", "rate": "0", "inclusive": True, "net": "-0.50", "tax": "0.00",
            "gross": "-0.50"}  # fmt: skip
    p["tax_breakdown"].append(zero)
    total = Decimal(p["total"]) - Decimal("0.50")
    p.update(subtotal=str(Decimal(p["subtotal"]) - Decimal("0.50")), total=str(total))
    p.update(payable=str(total), change=str(Decimal(p["tenders"][0]["amount"]) - total))


@pytest.mark.req("FR-303", "FR-300", "FR-302")
@pytest.mark.parametrize(
    "shape",
    [_split_card_cash, _cash_rounding, _returned_empties, _paid_in_points, lambda p: None],
    ids=["split", "round", "empties", "points", "plain"],
)
def test_real_box_shapes_are_accepted(app, shape: Mutation):
    box = enrol_box(T, B)
    payload = copy.deepcopy(sale_payload(1))
    shape(payload)
    ack = send(box, [envelope(box, 1, payload)])
    assert ack is not None
    assert ack.rejected == [], ack.rejected
    assert sale_ids(box) == {payload["sale_id"]}
