"""Redeemed points on refunds (FR-401): a refund of a sale that was partly paid with points
gives back a share of those points instead of money for them.

Cumulative, like the refund's money: after refunds worth c of a sale total T, the customer
has had floor(R x c / T) of the R redeemed points back (and floor(V x c / T) of their money
value V); the refund that brings c to T gives back the rest. This refund pays the points part
as a negative `points` tender and carries `loyalty.points_returned` (the hub books the
`redeem_reversal`; earned points it reverses itself from the lines); the money tender pays
only the rest.

Cash rounding applies to the cash part only, as on the sale: paid out in cash so far =
the cumulative cash part (c - points value back) rounded to the step, and the refund that
completes the sale pays back exactly the cash the sale took (its payable - V). The refund's
`cash_rounding` = payable - total then says what that rounding was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from appliance.till.models import Refund, Sale
from posdomain.money import format_minor, from_minor, to_minor
from posdomain.tax import TaxConfig, cash_rounding_adjustment
from posdomain.till_codes import POINTS_TENDER


@dataclass(frozen=True)
class PointsBack:
    """What this refund gives back of a sale's redemption."""

    customer_id: str
    points: int
    value_minor: int


def _points_tender(payload: dict[str, Any]) -> tuple[int, int]:
    """(points, value minor) of a document's points tender(s), as positive numbers."""
    exp = int(payload.get("exponent", 2))
    pts = value = 0
    for t in payload.get("tenders", []):
        if t.get("kind") == POINTS_TENDER:
            pts += abs(int(t.get("points", 0)))
            value += abs(to_minor(Decimal(str(t["amount"])), exp))
    return pts, value


def points_minor(payload: dict[str, Any]) -> int:
    """The money value a document paid (or paid back) in points, in minor units."""
    return _points_tender(payload)[1]


@dataclass(frozen=True)
class Earlier:
    """What the earlier refunds of a sale gave back (positive minor units and points)."""

    total: int
    points: int
    value: int
    money: int


def _earlier(sale: Sale) -> Earlier:
    total = pts = val = money = 0
    for r in Refund.select().where(Refund.sale_id == sale.id):
        doc = json.loads(r.payload)
        p, v = _points_tender(doc)
        exp = int(doc.get("exponent", 2))
        paid = sum(
            -to_minor(Decimal(str(t["amount"])), exp)
            for t in doc.get("tenders", [])
            if t.get("kind") != POINTS_TENDER
        )
        total, pts, val, money = total - int(r.total_minor), pts + p, val + v, money + paid
    return Earlier(total, pts, val, money)


def share(sale: Sale, refund_total_minor: int) -> PointsBack | None:
    """The points (and their value) this refund of `refund_total_minor` (negative) gives back;
    None if the sale redeemed none."""
    sold = json.loads(sale.payload)
    redeemed, value = _points_tender(sold)
    facts = sold.get("loyalty") or {}
    if not redeemed or not facts.get("customer_id"):
        return None
    before = _earlier(sale)
    total = int(sale.total_minor)
    done = before.total - refund_total_minor
    if done >= total:
        want_pts, want_val = redeemed, value
    else:
        want_pts, want_val = redeemed * done // total, value * done // total
    return PointsBack(
        str(facts["customer_id"]),
        max(0, want_pts - before.points),
        max(0, want_val - before.value),
    )


def round_cash_part(
    payload: dict[str, Any], sale: Sale, back: PointsBack | None, cfg: TaxConfig
) -> None:
    """A cash refund of a sale paid partly with points: cash rounding on the cash part only
    (cumulative, see the module doc); sets the refund's payable, cash rounding and tender."""
    money = payload["tenders"][0]
    if back is None or not back.points or money["kind"] != "cash":
        return
    exp = int(payload["exponent"])
    total = to_minor(Decimal(payload["total"]), exp)  # negative
    sold = json.loads(sale.payload)
    before = _earlier(sale)
    done = before.total - total
    if done >= int(sale.total_minor):
        target = to_minor(Decimal(str(sold["payable"])), exp) - _points_tender(sold)[1]
    else:
        raw = from_minor(done - before.value - back.value_minor, exp)
        target = to_minor(raw + cash_rounding_adjustment(raw, cfg), exp)
    payable = -(max(0, target - before.money) + back.value_minor)
    payload["payable"] = format_minor(payable, exp)
    payload["cash_rounding"] = format_minor(payable - total, exp)
    money["amount"] = format_minor(payable, exp)


def apply(payload: dict[str, Any], back: PointsBack | None) -> None:
    """Split the refund's payout: the points part as a `points` tender, money for the rest."""
    if back is None or not back.points:
        return
    exp = int(payload["exponent"])
    money = payload["tenders"][0]
    rest = to_minor(Decimal(str(money["amount"])), exp) + back.value_minor  # negative or 0
    points = {
        "kind": POINTS_TENDER,
        "amount": format_minor(-back.value_minor, exp),
        "points": back.points,
    }
    payload["tenders"] = ([{**money, "amount": format_minor(rest, exp)}] if rest else []) + [points]
    payload["loyalty"] = {"customer_id": back.customer_id, "points_returned": back.points}
