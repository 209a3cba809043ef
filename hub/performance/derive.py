"""Cashier performance rows derived at ingest (FR-600 data foundations, REP-T-08).

Grain: (tenant, branch, cashier, business day in the branch's time zone). Each accepted
event adds to its row once (the batch applies each event id once, in one transaction);
the table in docs/CONTRACT.md "Staff performance" says, figure by figure, which event or
box audit action it is counted from. Active time (items per minute, idle gaps over 600 s
excluded) comes from `staff_sale_activity` with `posdomain.staff_stats.active_time`, box by
box: each batch adds the change its new sales make to their box's timeline (read around the
new sales only), so late and out-of-order sales still give exact figures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from hub.core.bulk import insert_rows
from hub.core.models import utcnow
from hub.governance import config
from hub.identity.models import Box, Branch
from hub.performance.models import SaleActivity, StaffDay
from hub.sales.queries import branch_zone
from posdomain.contract import EventType
from posdomain.envelope import EventEnvelope
from posdomain.errors import PosError
from posdomain.money import parse_minor
from posdomain.staff_stats import ActiveTime, TimedSale, active_time

COUNTERS = (
    "transactions",
    "items",
    "gross_minor",
    "net_minor",
    "total_minor",
    "voids_count",
    "voids_minor",
    "line_voids",
    "refunds_count",
    "refunds_minor",
    "refunds_net_minor",
    "overrides",
    "no_sale_opens",
    "drawer_opens",
    "timed_items",
    "active_ms",
)
NOT_OVERRIDES = frozenset({"override.granted", "override.denied"})
Key = tuple[str, str]  # (cashier_id, business_day)


def zone_of(box: Box) -> ZoneInfo:
    """The zone the box's business days are counted in (its branch's, else the tenant's)."""
    branch = Branch.get_or_none(Branch.id == box.branch_id)
    pricing = config.current(box.tenant_id, "pricing")
    return branch_zone(
        branch.timezone if branch else None, pricing.body.get("timezone") if pricing else None
    )


def _items(lines: list[Any]) -> int:
    count = 0
    for ln in lines:
        if not isinstance(ln, dict) or ln.get("deposit_for_line") is not None:
            continue
        try:
            qty = Decimal(str(ln.get("qty", "1")))
        except InvalidOperation:
            qty = Decimal(1)
        whole = ln.get("unit") != "weight" and qty == qty.to_integral_value()
        count += int(qty) if whole and qty > 0 else 1
    return count


def _has_cash(tenders: Any) -> bool:
    """Whether cash moved (a cash tender that is not zero): the box kicks the drawer then."""
    for t in tenders or []:
        if isinstance(t, dict) and t.get("kind") == "cash":
            try:
                if Decimal(str(t.get("amount", "0"))) != 0:
                    return True
            except InvalidOperation:
                continue
    return False


def _parse_at(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


class Tally:
    """Counter deltas and sale timelines of one batch, flushed in a few statements."""

    def __init__(self, box: Box, zone: ZoneInfo | None = None) -> None:
        self.box, self.zone = box, zone_of(box) if zone is None else zone
        self.deltas: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
        self.exponent: dict[Key, int] = {}
        self.activity: list[dict[str, Any]] = []

    def key(self, cashier: Any, at: datetime) -> Key:
        return str(cashier or "unknown")[:64], at.astimezone(self.zone).date().isoformat()

    def sale(self, ev: EventEnvelope) -> None:
        p = ev.payload
        exp = int(p.get("exponent", 2))
        at = _parse_at(p.get("completed_at")) or ev.occurred_at
        k = self.key(p.get("cashier_id"), at)
        total, tax = (
            parse_minor(p["total"], exp, "total"),
            parse_minor(p.get("tax_total", "0"), exp),
        )
        lines = p.get("lines") or []
        gross = sum(
            parse_minor(ln.get("extended") or ln.get("line_total", "0"), exp) for ln in lines
        )
        items = _items(lines)
        d = self.deltas[k]
        d["transactions"] += 1
        d["items"] += items
        d["gross_minor"] += gross
        d["net_minor"] += total - tax
        d["total_minor"] += total
        d["drawer_opens"] += int(_has_cash(p.get("tenders")))
        self.exponent[k] = exp
        self.activity.append(
            {
                "event_id": str(ev.event_id),
                "tenant_id": self.box.tenant_id,
                "branch_id": self.box.branch_id,
                "box_id": self.box.box_id,
                "cashier_id": k[0],
                "business_day": k[1],
                "started_at": _parse_at(p.get("started_at")),
                "completed_at": at,
                "items": items,
            }
        )

    def refund(self, ev: EventEnvelope) -> None:
        p = ev.payload
        exp = int(p.get("exponent", 2))
        k = self.key(p.get("cashier_id"), _parse_at(p.get("completed_at")) or ev.occurred_at)
        total, tax = (
            parse_minor(p["total"], exp, "total"),
            parse_minor(p.get("tax_total", "0"), exp),
        )
        d = self.deltas[k]
        d["refunds_count"] += 1
        d["refunds_minor"] += -total
        d["refunds_net_minor"] += -(total - tax)
        d["drawer_opens"] += int(_has_cash(p.get("tenders")))

    def void(self, ev: EventEnvelope) -> None:
        p = ev.payload
        k = self.key(p.get("cashier_id"), _parse_at(p.get("voided_at")) or ev.occurred_at)
        d = self.deltas[k]
        d["voids_count"] += 1
        d["voids_minor"] += parse_minor(p["total"], int(p.get("exponent", 2)), "total")
        d["drawer_opens"] += 1  # the box kicks the drawer on every post-void

    def audit(self, ev: EventEnvelope) -> None:
        p = ev.payload
        action, actor = str(p.get("action", "")), str(p.get("actor", ""))
        if not actor.startswith("staff:"):
            return
        at = _parse_at(p.get("ts")) or ev.occurred_at
        d = self.deltas[self.key(actor.removeprefix("staff:"), at)]
        if action == "drawer.no_sale":
            d["no_sale_opens"] += 1
            d["drawer_opens"] += 1
        elif action == "sale.line_void":
            d["line_voids"] += 1
        elif action.startswith("override.") and action not in NOT_OVERRIDES:
            d["overrides"] += 1

    def add(self, ev: EventEnvelope) -> None:
        """Count one accepted event (bad money in it: skipped, the document decides)."""
        handler = {
            EventType.SALE_COMPLETED.value: self.sale,
            EventType.REFUND_COMPLETED.value: self.refund,
            EventType.SALE_VOIDED.value: self.void,
            EventType.AUDIT_ENTRY.value: self.audit,
        }.get(ev.type)
        if handler is None:
            return
        try:
            handler(ev)
        except (PosError, KeyError, TypeError, ValueError, AttributeError):
            return

    def flush(self) -> None:
        """Store the sale timelines, add their active time, upsert every counter."""
        inserted = insert_rows(
            SaleActivity,
            self.activity,
            suffix="ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        )
        fresh = {str(r[0]) for r in inserted}
        for (cashier, day), change in self._timing(fresh).items():
            self.deltas[(cashier, day)]["active_ms"] += change.ms
            self.deltas[(cashier, day)]["timed_items"] += change.timed_items
        deltas = {k: d for k, d in self.deltas.items() if any(d.values())}
        if not deltas:
            return
        now = utcnow()
        base = {"tenant_id": self.box.tenant_id, "branch_id": self.box.branch_id}
        rows = [
            {
                **base,
                "cashier_id": c,
                "business_day": day,
                **d,
                "exponent": self.exponent.get((c, day), 2),
                "updated_at": now,
            }
            for (c, day), d in sorted(deltas.items())
        ]
        adds = ", ".join(f"{c} = staff_performance_daily.{c} + excluded.{c}" for c in COUNTERS)
        insert_rows(
            StaffDay,
            rows,
            suffix=(
                "ON CONFLICT (tenant_id, branch_id, cashier_id, business_day) DO UPDATE SET "
                f"{adds}, updated_at = excluded.updated_at"
            ),
        )

    def _timing(self, fresh: set[str]) -> dict[Key, ActiveTime]:
        """Change of active time of each touched (cashier, day) on this box's timeline."""
        firsts: dict[Key, datetime] = {}
        for a in self.activity:
            if a["event_id"] in fresh:
                k = (a["cashier_id"], a["business_day"])
                firsts[k] = min(firsts.get(k, a["completed_at"]), a["completed_at"])
        return {k: self._window_change(k, first, fresh) for k, first in firsts.items()}

    def _window_change(self, key: Key, first: datetime, fresh: set[str]) -> ActiveTime:
        """Active time of the timeline from the last sale before `first` on, with the new
        sales minus without them: only the spans around the new sales change, so this is the
        exact change of the whole day's figure, read from a few rows (an append: the new rows
        and one before them), whatever the day's volume."""
        cashier, day = key
        timeline = SaleActivity.select().where(
            SaleActivity.tenant_id == self.box.tenant_id,
            SaleActivity.box_id == self.box.box_id,
            SaleActivity.cashier_id == cashier,
            SaleActivity.business_day == day,
        )
        anchor = (
            timeline.where(SaleActivity.completed_at < first)
            .order_by(SaleActivity.completed_at.desc())
            .first()
        )
        since = anchor.completed_at if anchor is not None else first
        # tuples, not model instances: a 1-line batch reads back ~200 rows per cashier-day
        rows: Any = (
            timeline.select(
                SaleActivity.completed_at,
                SaleActivity.items,
                SaleActivity.started_at,
                SaleActivity.event_id,
            )
            .where(SaleActivity.completed_at >= since)
            .order_by(SaleActivity.completed_at, SaleActivity.event_id)
            .tuples()
        )
        timed = [(TimedSale(at, int(items), started), ev) for at, items, started, ev in rows]
        with_new = [t for t, _ev in timed]
        without = [t for t, ev in timed if ev not in fresh]
        return active_time(with_new) - active_time(without)


def apply_events(box: Box, events: list[EventEnvelope], zone: ZoneInfo | None = None) -> None:
    """Derive the performance rows of a batch's accepted events (caller's transaction;
    `zone`: `zone_of(box)`, when the caller read it already)."""
    tally = Tally(box, zone)
    for ev in events:
        tally.add(ev)
    tally.flush()
