"""Reverse a sale's points for its refunds and post-void (FR-401, PITFALLS "Loyalty").

`settle_sale` is called whenever a sale, one of its refunds or its post-void is applied, in
whatever order they arrive (a refund may reach the hub before the sale it refunds). It walks
the sale's refunds in completion order, cumulatively per line (`posdomain.loyalty.
refund_reversal`), then the post-void, and books what is not booked yet — each reversal keyed
by the refund's or void's event id and the line — so calling it again is a no-op:

* a refund takes back the points of what was refunded, proportionally per line; the refund
  that returns the last unit of a line takes back the rest of that line's points;
* a refund that says `loyalty.points_returned` gives redeemed points back (never more than
  the sale redeemed, minus what earlier refunds gave back);
* a post-void takes back everything the sale earned and gives back everything it redeemed.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.loyalty import ledger
from hub.loyalty.ledger import Entry
from hub.loyalty.models import LedgerRow
from hub.sales.models import BoxRefund, HubSaleVoid, SaleLine
from hub.sync.models import IngestedEvent
from posdomain.loyalty import refund_reversal


def _qty(text: Any) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return Decimal(0)
    return value if value.is_finite() and value > 0 else Decimal(0)


class _SaleState:
    """What the sale earned and redeemed, and what was reversed so far, from its ledger rows."""

    def __init__(self, rows: list[LedgerRow]) -> None:
        self.customer_id = rows[0].customer_id
        self.earned: dict[int, int] = defaultdict(int)
        self.redeemed = 0
        self.booked: dict[tuple[str, str, int], int] = {}
        self.template = rows[0]
        for r in rows:
            if r.kind == "earn":
                self.earned[int(r.line_no)] += int(r.points)
            elif r.kind == "redeem":
                self.redeemed += -int(r.points)
            else:
                self.booked[(r.source, r.kind, int(r.line_no))] = int(r.points)
        self.reversed: dict[int, int] = defaultdict(int)
        self.cumulative: dict[int, Decimal] = defaultdict(Decimal)
        self.returned = 0

    def entry(self, source: str, kind: str, line_no: int, points: int, at: Any) -> Entry:
        t = self.template
        return Entry(
            customer_id=self.customer_id,
            source=source,
            kind=kind,
            points=points,
            occurred_at=at,
            line_no=line_no,
            sale_id=t.sale_id,
            branch_id=t.branch_id,
            box_id=t.box_id,
            rules_version=t.rules_version,
        )


def _points_returned(event_id: str) -> int:
    row = IngestedEvent.get_or_none(IngestedEvent.event_id == event_id)
    facts = (row.payload or {}).get("loyalty") if row else None
    value = facts.get("points_returned") if isinstance(facts, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _refund_entries(state: _SaleState, refund: BoxRefund, sold: dict[int, Decimal]) -> list[Entry]:
    out: list[Entry] = []
    cumulative = state.cumulative
    touched = []
    for ln in refund.lines or []:
        line_no = ln.get("sale_line_no") if isinstance(ln, dict) else None
        if isinstance(line_no, int) and line_no in state.earned:
            cumulative[line_no] += _qty(ln.get("qty"))
            touched.append(line_no)
    for line_no in sorted(set(touched)):
        key = (refund.event_id, "earn_reversal", line_no)
        if key in state.booked:
            state.reversed[line_no] += -state.booked[key]
            continue
        back = refund_reversal(
            state.earned[line_no],
            sold.get(line_no, Decimal(0)),
            cumulative[line_no],
            state.reversed[line_no],
        )
        if back:
            out.append(
                state.entry(refund.event_id, "earn_reversal", line_no, -back, refund.completed_at)
            )
            state.reversed[line_no] += back
    key = (refund.event_id, "redeem_reversal", 0)
    if key in state.booked:
        state.returned += state.booked[key]
    else:
        give = min(_points_returned(refund.event_id), state.redeemed - state.returned)
        if give > 0:
            out.append(
                state.entry(refund.event_id, "redeem_reversal", 0, give, refund.completed_at)
            )
            state.returned += give
    return out


def _void_entries(state: _SaleState, void: HubSaleVoid) -> list[Entry]:
    out = []
    for line_no, earned in sorted(state.earned.items()):
        rest = earned - state.reversed[line_no]
        if rest > 0 and (void.event_id, "earn_reversal", line_no) not in state.booked:
            out.append(state.entry(void.event_id, "earn_reversal", line_no, -rest, void.voided_at))
    rest = state.redeemed - state.returned
    if rest > 0 and (void.event_id, "redeem_reversal", 0) not in state.booked:
        out.append(state.entry(void.event_id, "redeem_reversal", 0, rest, void.voided_at))
    return out


def settle_sale(tenant_id: str, sale_id: str) -> list[Entry]:
    """Book every reversal the sale's refunds and post-void call for and are not booked yet."""
    rows = ledger.sale_rows(tenant_id, sale_id)
    if not any(r.kind in ("earn", "redeem") for r in rows):
        return []
    state = _SaleState(rows)
    sold = {
        int(s.line_no): _qty(s.qty)
        for s in SaleLine.select().where(
            SaleLine.tenant_id == tenant_id, SaleLine.sale_id == sale_id
        )
    }
    refunds = (
        BoxRefund.select()
        .where(BoxRefund.tenant_id == tenant_id, BoxRefund.sale_id == sale_id)
        .order_by(BoxRefund.completed_at, BoxRefund.id)
    )
    entries: list[Entry] = []
    for refund in refunds:
        entries += _refund_entries(state, refund, sold)
    void = HubSaleVoid.get_or_none(
        HubSaleVoid.tenant_id == tenant_id, HubSaleVoid.sale_id == sale_id
    )
    if void is not None:
        entries += _void_entries(state, void)
    return ledger.book(tenant_id, entries)
