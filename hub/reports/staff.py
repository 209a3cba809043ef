"""REP-T reports about people: cashier performance (REP-T-08, from hub/performance) and
customers and loyalty (REP-T-15, from the customer and loyalty areas)."""

from __future__ import annotations

from hub.reports.definitions import Ctx, Row, fetch, in_windows, ints, pct, scope_sql


def cashier_performance(ctx: Ctx) -> list[Row]:
    """REP-T-08 from the performance area's daily counters (hub/performance)."""
    where, params = scope_sql(ctx, "p")
    rows = fetch(
        f"""SELECT p.cashier_id, SUM(transactions) AS transactions, SUM(items) AS items,
            SUM(gross_minor) AS gross, SUM(net_minor) AS net, SUM(voids_count) AS voids,
            SUM(voids_minor) AS voids_value, SUM(refunds_count) AS refunds,
            SUM(refunds_net_minor) AS refunds_value, SUM(no_sale_opens) AS no_sale_opens,
            SUM(overrides) AS overrides, SUM(timed_items) AS timed_items,
            SUM(active_ms) AS active_ms, SUM(line_voids) AS line_voids
            FROM staff_performance_daily p WHERE {where} GROUP BY p.cashier_id""",
        params,
    )
    names = dict(
        (r["cashier_id"], r["cashier_name"])
        for r in fetch(
            "SELECT DISTINCT cashier_id, cashier_name FROM sales WHERE tenant_id = %s"
            " AND cashier_id = ANY(%s)",
            [ctx.tenant_id, [r["cashier_id"] for r in rows]],
        )
    )
    out = []
    for r in rows:
        ints(r, "transactions", "items", "gross", "net", "voids", "voids_value", "refunds")
        ints(r, "refunds_value", "no_sale_opens", "overrides", "timed_items", "active_ms")
        ints(r, "line_voids")
        r["net"] -= r["refunds_value"]  # docs/CONTRACT.md: net_minor - refunds_net_minor
        r["cashier"] = names.get(r["cashier_id"], r["cashier_id"])
        r["avg_basket"] = r["net"] // r["transactions"] if r["transactions"] else 0
        ms = r.pop("active_ms")
        timed = r.pop("timed_items")
        r["items_per_minute"] = pct(timed * 60_000, ms * 100) if ms else None
        r["voids_pct"] = pct(r["voids_value"], r["gross"])
        r["refunds_pct"] = pct(r["refunds_value"], r["gross"])
        out.append(r)
    return out


def customers_loyalty(ctx: Ctx) -> list[Row]:
    """REP-T-15 from the customer and loyalty areas: purchases in the range, points earned and
    redeemed in the range, the balance and tier now."""
    zones = ctx.extras.get("zones", {})
    acts = fetch(
        """SELECT a.customer_id, a.branch_id, a.doc_kind, a.net_minor, a.occurred_at
            FROM customer_activity a WHERE a.tenant_id = %s AND a.branch_id = ANY(%s)""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    acts = in_windows(ctx, acts, "occurred_at") if zones else []
    points = fetch(
        """SELECT l.customer_id, l.branch_id, l.points, l.occurred_at AS at
            FROM loyalty_ledger l WHERE l.tenant_id = %s AND l.branch_id = ANY(%s)""",
        [ctx.tenant_id, ctx.branch_ids],
    )
    points = in_windows(ctx, points, "at") if zones else []
    per: dict[str, Row] = {}

    def row(cid: str) -> Row:
        return per.setdefault(
            cid,
            {"customer_id": cid, "transactions": 0, "net": 0, "earned": 0, "redeemed": 0},
        )

    for a in acts:
        r = row(a["customer_id"])
        if a["doc_kind"] == "sale":
            r["transactions"] += 1
        r["net"] += int(a["net_minor"])
    for p in points:
        r = row(p["customer_id"])
        if int(p["points"]) >= 0:
            r["earned"] += int(p["points"])
        else:
            r["redeemed"] += -int(p["points"])
    if per:
        info = fetch(
            """SELECT c.id, c.display_name, c.tier, COALESCE(b.points, 0) AS balance
                FROM customers c LEFT JOIN loyalty_balances b ON b.tenant_id = c.tenant_id
                AND b.customer_id = c.id WHERE c.tenant_id = %s AND c.id = ANY(%s)""",
            [ctx.tenant_id, list(per)],
        )
        for i in info:
            r = per[i["id"]]
            r.update(customer=i["display_name"], tier=i["tier"], balance=int(i["balance"]))
    for r in per.values():
        r.setdefault("customer", r["customer_id"])
        r.setdefault("tier", None)
        r.setdefault("balance", 0)
    return list(per.values())
