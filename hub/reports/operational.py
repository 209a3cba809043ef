"""REP-O queries: inventory (from the stock ledger), register sessions, sync health, risk and
incidents, audit integrity. Quantities in thousandths, money in minor units."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub.reports.days import day_bounds
from hub.reports.definitions import Column, Ctx, ReportDef, Row, fetch

M = "money"
BR = Column("branch", "Branch")


def _value(milli: int, minor: int | None) -> int:
    return (milli * int(minor or 0)) // 1000


def valuation(ctx: Ctx) -> list[Row]:
    """REP-O-01: on hand per branch and product (ledger balance) at current cost and price."""
    rows = fetch(
        """SELECT s.branch_id, s.product_id, p.sku, p.name AS product, s.on_hand_milli AS on_hand,
            p.cost_minor, p.price_minor FROM stock_balances s
            JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
            WHERE s.tenant_id = %s AND s.branch_id = ANY(%s)""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    for r in rows:
        r["on_hand"] = int(r["on_hand"])
        r["cost_value"] = _value(r["on_hand"], r.pop("cost_minor"))
        r["retail_value"] = _value(r["on_hand"], r.pop("price_minor"))
    return rows


def low_stock(ctx: Ctx) -> list[Row]:
    """REP-O-02: at or below reorder point; days of cover = on hand / avg daily units (28 d)."""
    since = (ctx.now - timedelta(days=28)).date().isoformat()
    rows = fetch(
        """SELECT r.branch_id, r.product_id, p.name AS product,
            COALESCE(s.on_hand_milli, 0) AS on_hand, r.reorder_point_milli AS reorder_point,
            COALESCE((SELECT SUM(l.qty_milli) FROM report_lines l WHERE l.tenant_id = r.tenant_id
              AND l.branch_id = r.branch_id AND l.product_id = r.product_id
              AND l.kind = 'sale' AND l.business_day >= %s), 0) AS sold_28d
            FROM reorder_points r JOIN products p ON p.tenant_id = r.tenant_id
              AND p.id = r.product_id
            LEFT JOIN stock_balances s ON s.tenant_id = r.tenant_id
              AND s.branch_id = r.branch_id AND s.product_id = r.product_id
            WHERE r.tenant_id = %s AND r.branch_id = ANY(%s)
              AND COALESCE(s.on_hand_milli, 0) <= r.reorder_point_milli""",
        [since, ctx.tenant_id, ctx.branch_ids],
    )
    for r in rows:
        r["on_hand"], r["reorder_point"] = int(r["on_hand"]), int(r["reorder_point"])
        sold = int(r.pop("sold_28d"))
        r["avg_daily"] = sold // 28
        r["days_of_cover"] = None if not sold else round(r["on_hand"] * 28 / sold, 1)
    return rows


def _utc_span(ctx: Ctx, branch_id: str) -> tuple[Any, Any] | None:
    zones = ctx.extras.get("zones", {})
    for w in ctx.windows:
        if w.branch_id == branch_id and branch_id in zones:
            return day_bounds(w.first, zones[branch_id])[0], day_bounds(w.last, zones[branch_id])[1]
    return None


def movement_ledger(ctx: Ctx) -> list[Row]:
    """REP-O-03: every movement in the range with its running balance per branch and product;
    the first row of each product is its opening balance (opening + movements = closing)."""
    out: list[Row] = []
    for branch_id in ctx.branch_ids:
        span = _utc_span(ctx, branch_id)
        if span is None:
            continue
        start, end = span
        params: list[Any] = [ctx.tenant_id, branch_id]
        product = ctx.extras.get("product_id")
        extra = " AND m.product_id = %s" if product else ""
        if product:
            params.append(product)
        opening = {
            r["product_id"]: int(r["qty"])
            for r in fetch(
                f"""SELECT m.product_id, SUM(m.qty_milli) AS qty FROM stock_movements m
                WHERE m.tenant_id = %s AND m.branch_id = %s{extra} AND m.occurred_at < %s
                GROUP BY m.product_id""",
                [*params, start],
            )
        }
        moves = fetch(
            f"""SELECT m.id, m.product_id, p.name AS product, m.kind, m.reason_code,
                m.qty_milli, m.occurred_at AS at, p.cost_minor FROM stock_movements m
                LEFT JOIN products p ON p.tenant_id = m.tenant_id AND p.id = m.product_id
                WHERE m.tenant_id = %s AND m.branch_id = %s{extra}
                AND m.occurred_at >= %s AND m.occurred_at < %s
                ORDER BY m.product_id, m.occurred_at, m.recorded_at, m.id""",
            [*params, start, end],
        )
        balance = dict(opening)
        seen: set[str] = set()
        for m in moves:
            pid = m["product_id"]
            if pid not in seen:
                seen.add(pid)
                out.append(_opening_row(branch_id, pid, m["product"], balance.get(pid, 0), start))
            qty = int(m["qty_milli"])
            balance[pid] = balance.get(pid, 0) + qty
            out.append(
                {
                    "branch_id": branch_id,
                    "product_id": pid,
                    "product": m["product"],
                    "at": m["at"],
                    "kind": m["kind"],
                    "reason_code": m["reason_code"],
                    "qty_in": max(qty, 0),
                    "qty_out": max(-qty, 0),
                    "value": _value(qty, m["cost_minor"]),
                    "balance": balance[pid],
                }
            )
    return out


def _opening_row(branch_id: str, pid: str, product: str, qty: int, at: Any) -> Row:
    return {
        "branch_id": branch_id,
        "product_id": pid,
        "product": product,
        "at": at,
        "kind": "opening balance",
        "reason_code": None,
        "qty_in": 0,
        "qty_out": 0,
        "value": None,
        "balance": qty,
    }


def transfers(ctx: Ctx) -> list[Row]:
    """REP-O-04: transfers touching the branches, dispatched vs received, age in transit."""
    rows = fetch(
        """SELECT t.id AS transfer_id, t.from_branch_id, t.to_branch_id, t.state,
            t.requested_at, t.dispatched_at, t.received_at,
            COALESCE(SUM(l.dispatched_milli), 0) AS dispatched,
            COALESCE(SUM(l.received_milli), 0) AS received
            FROM transfers t LEFT JOIN transfer_lines l ON l.tenant_id = t.tenant_id
              AND l.transfer_id = t.id
            WHERE t.tenant_id = %s AND (t.from_branch_id = ANY(%s) OR t.to_branch_id = ANY(%s))
            GROUP BY t.id""",
        [ctx.tenant_id, ctx.branch_ids, ctx.branch_ids],
    )
    for r in rows:
        r["dispatched"], r["received"] = int(r["dispatched"]), int(r["received"])
        r["discrepancy"] = r["received"] - r["dispatched"] if r["received_at"] else None
        started = r["dispatched_at"]
        if started and not r["received_at"]:
            r["age_hours"] = int((ctx.now - started).total_seconds() // 3600)
        else:
            r["age_hours"] = None
    return rows


def non_moving(ctx: Ctx) -> list[Row]:
    """REP-O-05: products with stock and no sale in the last N days (?days=, default 30)."""
    days = int(ctx.extras.get("days", 30))
    since = (ctx.now - timedelta(days=days)).date().isoformat()
    rows = fetch(
        """SELECT s.branch_id, s.product_id, p.name AS product, s.on_hand_milli AS on_hand,
            (SELECT MAX(l.business_day) FROM report_lines l WHERE l.tenant_id = s.tenant_id
              AND l.branch_id = s.branch_id AND l.product_id = s.product_id
              AND l.kind = 'sale') AS last_sold
            FROM stock_balances s JOIN products p ON p.tenant_id = s.tenant_id
              AND p.id = s.product_id
            WHERE s.tenant_id = %s AND s.branch_id = ANY(%s) AND s.on_hand_milli > 0""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    out = [r for r in rows if r["last_sold"] is None or r["last_sold"] < since]
    for r in out:
        r["on_hand"] = int(r["on_hand"])
    return out


def shrink(ctx: Ctx) -> list[Row]:
    """REP-O-06: waste and count/adjustment losses by reason, value at current cost."""
    out: list[Row] = []
    for branch_id in ctx.branch_ids:
        span = _utc_span(ctx, branch_id)
        if span is None:
            continue
        rows = fetch(
            """SELECT m.branch_id, m.kind, COALESCE(m.reason_code, '') AS reason_code,
                COUNT(*) AS movements, -SUM(m.qty_milli) AS qty,
                -SUM((m.qty_milli * COALESCE(p.cost_minor, 0)) / 1000) AS value
                FROM stock_movements m LEFT JOIN products p ON p.tenant_id = m.tenant_id
                  AND p.id = m.product_id
                WHERE m.tenant_id = %s AND m.branch_id = %s AND m.occurred_at >= %s
                AND m.occurred_at < %s AND m.qty_milli < 0
                AND m.kind IN ('waste', 'adjustment', 'count')
                GROUP BY m.branch_id, m.kind, COALESCE(m.reason_code, '')""",
            [ctx.tenant_id, branch_id, *span],
        )
        for r in rows:
            r["movements"], r["qty"], r["value"] = (
                int(r["movements"]),
                int(r["qty"]),
                int(r["value"]),
            )
        out += rows
    return out


def register_sessions(ctx: Ctx) -> list[Row]:
    """REP-O-07: closed shifts (the synced Z reports) with the cash over/short."""
    rows = fetch(
        """SELECT s.shift_id, s.branch_id, s.box_id, s.cashier_id, s.opened_at, s.closed_at,
            s.z_no, s.body FROM shift_reports s WHERE s.tenant_id = %s AND s.branch_id = ANY(%s)
            AND s.closed_at >= %s AND s.closed_at < %s""",
        [ctx.tenant_id, ctx.branch_ids, *_overall_span(ctx)],
    )
    for r in rows:
        body = r.pop("body") or {}
        diffs = [t.get("difference") for t in body.get("tenders") or [] if isinstance(t, dict)]
        r["over_short"] = ", ".join(
            f"{t.get('kind')} {t.get('difference')}"
            for t in body.get("tenders") or []
            if isinstance(t, dict) and t.get("difference") is not None
        ) or ("not counted" if not any(diffs) else "")
    return rows


def _overall_span(ctx: Ctx) -> tuple[Any, Any]:
    spans = [s for s in (_utc_span(ctx, b) for b in ctx.branch_ids) if s is not None]
    if not spans:
        return ctx.now, ctx.now
    return min(s[0] for s in spans), max(s[1] for s in spans)


def sync_health(ctx: Ctx) -> list[Row]:
    """REP-O-08 per box: last seen, outbox depth, oldest unsynced, late events, open conflicts."""
    rows = fetch(
        """SELECT b.box_id, b.name AS box, b.branch_id, b.last_seen_at, h.queued AS outbox,
            h.oldest_unsynced_at, h.online,
            (SELECT COUNT(*) FROM sales s WHERE s.tenant_id = b.tenant_id
              AND s.box_id = b.box_id AND s.late) AS late_events,
            (SELECT COUNT(*) FROM reconciliation_items r WHERE r.tenant_id = b.tenant_id
              AND r.box_id = b.box_id AND r.state = 'open') AS conflicts_open
            FROM boxes b LEFT JOIN box_heartbeats h ON h.box_id = b.box_id
            WHERE b.tenant_id = %s AND b.branch_id = ANY(%s)""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    for r in rows:
        oldest = r.pop("oldest_unsynced_at")
        r["oldest_unsynced_s"] = int((ctx.now - oldest).total_seconds()) if oldest else None
        r["late_events"], r["conflicts_open"] = int(r["late_events"]), int(r["conflicts_open"])
    return rows


def risk_incidents(ctx: Ctx) -> list[Row]:
    """REP-O-09: latest risk score per subject, mode changes and incidents by state/severity."""
    out = fetch(
        """SELECT DISTINCT ON (subject_kind, subject_id) 'risk score' AS kind,
            subject_kind || ' ' || subject_id AS subject, NULL AS state, NULL AS severity,
            score, 1 AS count FROM risk_scores WHERE tenant_id = %s
            AND (branch_id IS NULL OR branch_id = ANY(%s))
            ORDER BY subject_kind, subject_id, computed_at DESC""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    start, end = _overall_span(ctx)
    out += fetch(
        """SELECT 'mode change' AS kind, scope_kind || ' ' || scope_id AS subject, mode AS state,
            NULL AS severity, NULL AS score, COUNT(*) AS count FROM risk_modes
            WHERE tenant_id = %s AND set_at >= %s AND set_at < %s
            GROUP BY scope_kind, scope_id, mode""",
        [ctx.tenant_id, start, end],
    )
    out += fetch(
        """SELECT 'incidents' AS kind, COALESCE(module, '') AS subject, state,
            COALESCE(severity, 'unclassified') AS severity, NULL AS score, COUNT(*) AS count
            FROM incidents WHERE tenant_id = %s
            AND (branch_id IS NULL OR branch_id = ANY(%s))
            GROUP BY COALESCE(module, ''), state, COALESCE(severity, 'unclassified')""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    for r in out:
        r["count"] = int(r["count"])
    return out


def audit_integrity(ctx: Ctx) -> list[Row]:
    """REP-O-10: the hub chain and every box chain verified (the governance report)."""
    report = ctx.extras.get("integrity") or {}
    out = []
    for chain in report.get("chains", []):
        out.append(_chain_row("hub", chain))
    for chain in report.get("box_chains", []):
        out.append(_chain_row("box", chain))
    return out


def _chain_row(kind: str, chain: dict[str, Any]) -> Row:
    problems = chain.get("problems") or []
    return {
        "chain_kind": kind,
        "chain": str(chain.get("box_id") or chain.get("chain") or ""),
        "verified": bool(chain.get("ok", not problems)),
        "entries": int(chain.get("entries") or chain.get("checked") or 0),
        "breaks": len(problems),
        "downgrades": sum(1 for p in problems if "severity" in str(p)),
    }


QTY = "qty"
REPORTS = [
    ReportDef(
        "REP-O-01",
        "Inventory valuation",
        (
            BR,
            Column("product", "Product"),
            Column("sku", "SKU"),
            Column("on_hand", "On hand", QTY, True),
            Column("cost_value", "Cost value", M, True),
            Column("retail_value", "Retail value", M, True),
        ),
        valuation,
        "product",
        dated=False,
        inventory=True,
    ),
    ReportDef(
        "REP-O-02",
        "Low stock",
        (
            BR,
            Column("product", "Product"),
            Column("on_hand", "On hand", QTY),
            Column("reorder_point", "Reorder point", QTY),
            Column("avg_daily", "Avg daily units (28 d)", QTY),
            Column("days_of_cover", "Days of cover"),
        ),
        low_stock,
        "days_of_cover",
        dated=False,
        inventory=True,
    ),
    ReportDef(
        "REP-O-03",
        "Stock movement ledger",
        (
            BR,
            Column("product", "Product"),
            Column("at", "When", "time"),
            Column("kind", "Movement"),
            Column("reason_code", "Reason"),
            Column("qty_in", "Qty in", QTY, True),
            Column("qty_out", "Qty out", QTY, True),
            Column("value", "Value at cost", M, True),
            Column("balance", "Running balance", QTY),
        ),
        movement_ledger,
        "at",
        inventory=True,
    ),
    ReportDef(
        "REP-O-04",
        "Branch transfers",
        (
            Column("transfer_id", "Transfer"),
            Column("from_branch_id", "Source"),
            Column("to_branch_id", "Destination"),
            Column("state", "State"),
            Column("dispatched", "Dispatched", QTY, True),
            Column("received", "Received", QTY, True),
            Column("discrepancy", "Discrepancy", QTY),
            Column("age_hours", "Hours in transit", "int"),
        ),
        transfers,
        "transfer_id",
        dated=False,
        inventory=True,
    ),
    ReportDef(
        "REP-O-05",
        "Non-moving stock",
        (
            BR,
            Column("product", "Product"),
            Column("on_hand", "On hand", QTY, True),
            Column("last_sold", "Last sold", "date"),
        ),
        non_moving,
        "product",
        dated=False,
        inventory=True,
    ),
    ReportDef(
        "REP-O-06",
        "Shrink",
        (
            BR,
            Column("kind", "Movement"),
            Column("reason_code", "Reason"),
            Column("movements", "Movements", "int", True),
            Column("qty", "Qty lost", QTY, True),
            Column("value", "Value at cost", M, True),
        ),
        shrink,
        "value",
        inventory=True,
    ),
    ReportDef(
        "REP-O-07",
        "Register sessions",
        (
            BR,
            Column("box", "Box"),
            Column("cashier_id", "Cashier"),
            Column("z_no", "Z no.", "int"),
            Column("opened_at", "Opened", "time"),
            Column("closed_at", "Closed", "time"),
            Column("over_short", "Over/short"),
        ),
        register_sessions,
        "closed_at",
    ),
    ReportDef(
        "REP-O-08",
        "Sync and box health",
        (
            BR,
            Column("box", "Box"),
            Column("online", "Online", "bool"),
            Column("last_seen_at", "Last seen", "time"),
            Column("outbox", "Outbox depth", "int", True),
            Column("oldest_unsynced_s", "Oldest unsynced (s)", "int"),
            Column("late_events", "Late events", "int", True),
            Column("conflicts_open", "Conflicts open", "int", True),
        ),
        sync_health,
        "box",
        dated=False,
    ),
    ReportDef(
        "REP-O-09",
        "Risk and incidents",
        (
            Column("kind", "Kind"),
            Column("subject", "Subject"),
            Column("state", "State / mode"),
            Column("severity", "Severity"),
            Column("score", "Score", "int"),
            Column("count", "Count", "int", True),
        ),
        risk_incidents,
        "kind",
    ),
    ReportDef(
        "REP-O-10",
        "Audit integrity",
        (
            Column("chain_kind", "Chain"),
            Column("chain", "Id"),
            Column("verified", "Verified", "bool"),
            Column("entries", "Entries", "int", True),
            Column("breaks", "Breaks", "int", True),
            Column("downgrades", "Severity downgrades", "int", True),
        ),
        audit_integrity,
        "chain",
        dated=False,
        budget_ms=10_000,
    ),
]
