"""REP-T returns (REP-T-12) and till exceptions one by one (REP-T-13)."""

from __future__ import annotations

from hub.reports.definitions import Ctx, Row, fetch, in_windows, ints, scope_sql


def returns(ctx: Ctx) -> list[Row]:
    """REP-T-12: every refunded line with its original receipt, reason, receipt and approver."""
    where, params = scope_sql(ctx, "l")
    sql = f"""SELECT l.doc_id AS refund_id, r.receipt_no, r.original_receipt_no, l.sku,
        l.name AS product, -l.qty_milli AS qty, l.refunds AS value, r.reason_code,
        r.with_receipt, r.approver_id, r.completed_at AS at, l.branch_id
        FROM report_lines l JOIN box_refunds r ON r.tenant_id = l.tenant_id AND r.id = l.doc_id
        WHERE {where} AND l.kind = 'refund'"""
    return [ints(r, "qty", "value") for r in fetch(sql, params)]


def exceptions(ctx: Ctx) -> list[Row]:
    """REP-T-13 one by one: post-voids (`sale_voids`), price overrides (`report_discounts`),
    line voids and no-sale drawer openings (`report_exceptions`, from the box's
    `sale.line_voided` / `drawer.no_sale` events)."""
    zones = ctx.extras.get("zones", {})
    voids = fetch(
        """SELECT v.branch_id, 'post-void' AS kind, v.cashier_id AS who, v.approver_id,
            v.voided_at AS at, v.total_minor AS value, v.reason_code, v.box_id
            FROM sale_voids v WHERE v.tenant_id = %s AND v.branch_id = ANY(%s)"""
        + (" AND v.box_id = %s" if ctx.box_id else "")
        + (" AND v.cashier_id = %s" if ctx.cashier_id else ""),
        [ctx.tenant_id, ctx.branch_ids]
        + ([ctx.box_id] if ctx.box_id else [])
        + ([ctx.cashier_id] if ctx.cashier_id else []),
    )
    out = in_windows(ctx, voids, "at") if zones else []
    where, params = scope_sql(ctx, "x")
    out += fetch(
        f"""SELECT x.branch_id, 'price override' AS kind, x.cashier_id AS who, x.approver_id,
            d.at, x.value, x.reason_code, x.box_id, x.business_day AS day
            FROM report_discounts x JOIN report_docs d ON d.tenant_id = x.tenant_id
            AND d.kind = 'sale' AND d.doc_id = x.doc_id
            WHERE {where} AND x.source_kind = 'override'""",
        params,
    )
    out += fetch(
        f"""SELECT x.branch_id, x.kind, x.cashier_id AS who, x.approver_id, x.at, x.value,
            x.reason_code, x.box_id, x.business_day AS day, x.detail
            FROM report_exceptions x WHERE {where}""",
        params,
    )
    for r in out:
        r.setdefault("count", 1)
        r.setdefault("detail", "")
        r["value"] = None if r["value"] is None else int(r["value"])
    return out
