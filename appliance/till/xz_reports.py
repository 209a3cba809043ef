"""X and Z reports of a till shift (REP-T-03, REP-T-04).

Per tender: opening float, expected, counted, difference. All sums are over the shift's
window [opened_at, as_of) on this till; a post-voided sale is reversed in full (its cash went
back to the customer) and only counted under `voids`. Definitions (minor units):

* cash sales     = Σ cash tendered - Σ sale cash rounding (what customers handed over, at the
                   pre-rounding basis; the rounding is its own line, never folded into sales)
* change given   = Σ change handed back (change comes only from cash)
* cash refunds   = Σ totals (before rounding) of refunds paid out in cash, less what they gave
                   back as loyalty points (a points tender)
* cash rounding  = Σ sale cash-rounding lines + Σ refund cash-rounding lines (signed, as they
                   changed the drawer)
* bank deposits  = Σ bank deposits taken from this shift's drawer (till.deposits)
* expected cash  = opening + cash sales - cash refunds - change given - paid-outs - drops
                   - bank deposits ± cash rounding (drops go to the safe and deposits to the
                   bank, so both reduce the drawer's cash)
* expected card  = Σ card tenders - Σ card refunds;  difference = counted - expected
* net total      = Σ sale totals - Σ refund totals; Z grand total = previous Z's + net total.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, cast

from peewee import fn

from appliance.approvals.override_tokens import count_used
from appliance.catalog.config_docs import config_body, current_exponent
from appliance.core.db import database
from appliance.customers.returns import points_minor
from appliance.i18n import formats
from appliance.i18n.messages import catalog_for
from appliance.till.models import (
    BankDeposit,
    CashMovement,
    NoSale,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    SaleVoid,
    Shift,
    Tender,
    ZReport,
)
from posdomain.errors import NotFound, Reason
from posdomain.money import format_minor


def _sales(shift: Shift, as_of: str) -> tuple[list[Sale], list[SaleVoid]]:
    rows = list(
        Sale.select().where(Sale.completed_at >= shift.opened_at, Sale.completed_at < as_of)
    )
    voids = list(SaleVoid.select().where(SaleVoid.sale_id.in_([s.id for s in rows])))
    return rows, voids


def _tender_sums(sale_ids: list[str]) -> dict[str, int]:
    sums: dict[str, int] = defaultdict(int)
    for tender in Tender.select().where(Tender.sale.in_(sale_ids)):
        sums[tender.kind] += tender.amount_minor
    return sums


def _tax_rows(sale_ids: list[str], refund_ids: list[str]) -> list[dict[str, int | str]]:
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for line in SaleLine.select().where(SaleLine.sale.in_(sale_ids)):
        rows[(line.tax_class, line.tax_rate)][0] += line.line_total_minor
        rows[(line.tax_class, line.tax_rate)][1] += line.tax_minor
    for rline in RefundLine.select().where(RefundLine.refund_id.in_(refund_ids)):
        rows[(rline.tax_class, rline.tax_rate)][0] += rline.gross_minor
        rows[(rline.tax_class, rline.tax_rate)][1] += rline.tax_minor
    return [
        {"tax_class": cls, "rate": rate, "net": g - t, "tax": t, "gross": g}
        for (cls, rate), (g, t) in sorted(rows.items())
    ]


def _cash_moves(shift: Shift, as_of: str) -> dict[str, int]:
    sums = {"drop": 0, "paid_out": 0}
    query = CashMovement.select().where(
        CashMovement.shift_id == shift.id, CashMovement.created_at < as_of
    )
    for move in query:
        sums[move.kind] += move.amount_minor
    deposits = BankDeposit.select(fn.COALESCE(fn.SUM(BankDeposit.amount_minor), 0)).where(
        BankDeposit.shift_id == shift.id, BankDeposit.created_at < as_of
    )
    sums["deposits"] = int(deposits.scalar() or 0)
    return sums


def _money_part(refund: Refund) -> int:
    """A refund's total less what it gave back as loyalty points (negative, minor units)."""
    return int(refund.total_minor) + points_minor(json.loads(refund.payload))


def _cash_figures(
    shift: Shift, as_of: str, kept: list[Sale], cash_refunds: list[Refund], cash_in: int
) -> dict[str, int]:
    """The cash drawer lines of the report and the expected cash (module docstring)."""
    sale_rounding = sum(s.cash_rounding_minor for s in kept)
    moves = _cash_moves(shift, as_of)
    cash = {
        "opening_float": shift.opening_float_minor,
        "cash_sales": cash_in - sale_rounding,
        "cash_refunds": -sum(_money_part(r) for r in cash_refunds),
        "change_given": sum(s.change_minor for s in kept),
        "paid_outs": moves["paid_out"],
        "drops": moves["drop"],
        "deposits": moves["deposits"],
        "cash_rounding": sale_rounding + sum(r.cash_rounding_minor for r in cash_refunds),
    }
    cash["expected"] = (
        cash["opening_float"] + cash["cash_sales"] - cash["cash_refunds"] - cash["change_given"]
        - cash["paid_outs"] - cash["drops"] - cash["deposits"] + cash["cash_rounding"]
    )  # fmt: skip
    return cash


def compute(shift: Shift, as_of: str) -> dict[str, Any]:
    """Every figure of the report in minor units (see the module docstring for formulas)."""
    sales, voids = _sales(shift, as_of)
    voided = {v.sale_id for v in voids}
    kept = [s for s in sales if s.id not in voided]
    refunds = list(Refund.select().where(Refund.shift_id == shift.id, Refund.completed_at < as_of))
    cash_refunds = [r for r in refunds if r.tender == "cash"]
    tenders = _tender_sums([s.id for s in kept])
    cash = _cash_figures(shift, as_of, kept, cash_refunds, tenders.get("cash", 0))
    card_refunds = -sum(_money_part(r) for r in refunds if r.tender == "card")
    return {
        "cash": cash,
        "card": {"opening_float": 0, "expected": tenders.get("card", 0) - card_refunds},
        "sales": {"count": len(kept), "total": sum(s.total_minor for s in kept)},
        "refunds": {"count": len(refunds), "total": -sum(r.total_minor for r in refunds)},
        "voids": {"count": len(voids), "total": sum(v.total_minor for v in voids)},
        "no_sale_opens": NoSale.select()
        .where(NoSale.shift_id == shift.id, NoSale.created_at < as_of)
        .count(),
        "overrides": count_used(shift.opened_at, as_of),
        "refused_sales": refused_sales(shift.opened_at, as_of),
        "tax": _tax_rows([s.id for s in kept], [r.id for r in refunds]),
    }


def refused_sales(opened_at: str, as_of: str) -> int:
    """Sales of the window whose event the hub refused (kept on the box, not booked by the
    hub: the owner must know; the hub's reconciliation queue holds each of them)."""
    sql = (
        "SELECT count(*) FROM outbox o JOIN sales s"
        " ON s.id = json_extract(o.payload, '$.payload.sale_id')"
        " WHERE o.refused_at IS NOT NULL AND o.type = 'sale.completed'"
        " AND s.completed_at >= ? AND s.completed_at < ?"
    )
    row = cast(Any, database).execute_sql(sql, (opened_at, as_of)).fetchone()
    return int(row[0])


def _tender_rows(fig: dict[str, Any], counted: dict[str, int] | None, exp: int) -> list[Any]:
    rows = []
    for kind in ("cash", "card"):
        expected = fig[kind]["expected"]
        got = None if counted is None else counted.get(kind, 0)
        rows.append(
            {
                "kind": kind,
                "opening_float": format_minor(fig[kind]["opening_float"], exp),
                "expected": format_minor(expected, exp),
                "counted": None if got is None else format_minor(got, exp),
                "difference": None if got is None else format_minor(got - expected, exp),
            }
        )
    return rows


def previous_grand_total() -> int:
    """The running grand total of the latest Z report (0 before the first)."""
    last = ZReport.select().order_by(ZReport.z_no.desc()).first()
    return 0 if last is None else int(last.grand_total_minor)


def report_body(
    shift: Shift, as_of: str, kind: str, counted: dict[str, int] | None = None
) -> dict[str, Any]:
    """The X (counted None) or Z report of a shift in wire form (money as decimal strings)."""
    exp = current_exponent()
    fig = compute(shift, as_of)
    net = fig["sales"]["total"] - fig["refunds"]["total"]
    cfg = config_body("config") or {}
    return {
        "kind": kind,
        "shift_id": shift.id,
        "shift_kind": shift.kind,
        "business_day": shift.business_day,
        "till": shift.till,
        "cashier_id": shift.staff_id,
        "opened_at": shift.opened_at,
        "as_of": as_of,
        "currency": cfg.get("currency", ""),
        "cash": {k: format_minor(v, exp) for k, v in fig["cash"].items()},
        "tenders": _tender_rows(fig, counted, exp),
        "sales": {
            "count": fig["sales"]["count"],
            "total": format_minor(fig["sales"]["total"], exp),
        },
        "refunds": {
            "count": fig["refunds"]["count"],
            "total": format_minor(fig["refunds"]["total"], exp),
        },
        "voids": {
            "count": fig["voids"]["count"],
            "total": format_minor(fig["voids"]["total"], exp),
        },
        "no_sale_opens": fig["no_sale_opens"],
        "overrides": fig["overrides"],
        "refused_sales": fig["refused_sales"],
        "tax": [
            {**row, **{k: format_minor(int(row[k]), exp) for k in ("net", "tax", "gross")}}
            for row in fig["tax"]
        ],
        "net_total": format_minor(net, exp),
        "net_total_minor": net,
        "grand_total": format_minor(previous_grand_total() + net, exp),
    }


def get_z(z_no: int) -> dict[str, Any]:
    """A stored Z report body (404 if there is no such number)."""
    row = ZReport.get_or_none(ZReport.z_no == z_no)
    if row is None:
        raise NotFound(f"no Z report {z_no} on this box", Reason.NOT_FOUND)
    body = dict(json.loads(row.body))
    # a refusal may come after the close (the box was offline): always the current count
    body["refused_sales"] = refused_sales(body["opened_at"], body["as_of"])
    return body


def money_text(value: object, locale: str) -> str:
    """A report amount ('1234.50') as the locale writes it, keeping its digits ('' stays)."""
    return _money(value, locale) if value not in (None, "") else ""


def _money(value: object, locale: str) -> str:
    """A report amount ('1234.50') as the locale writes it, keeping its digits."""
    text = str(value)
    return formats.amount(text, locale, len(text.split(".")[1]) if "." in text else 0)


def _percent(rate: object, locale: str) -> str:
    """A tax rate (0.19) as the locale writes a percentage."""
    return formats.percent(rate, locale)


def print_lines(body: dict[str, Any], locale: str = "en", zone: str = "UTC") -> list[str]:
    """The report as plain lines for the receipt printer, in the box's language: labels from
    the catalog, amounts and times by Babel in the branch's zone (NFR-007)."""
    t = catalog_for(locale)
    z = body["kind"] == "Z"
    title = t["ui.x.z_title"].replace("{z_no}", str(body.get("z_no"))) if z else t["ui.x.title"]

    def money(value: object) -> str:
        return _money(value, locale) if value not in (None, "") else "-"

    def when(stamp: str) -> str:
        return formats.moment(stamp, zone, locale, "short")

    out = [title, f"{body['till']}  {body['shift_id'][:8]}"]
    out += [f"{t['ui.x.opened']}: {when(body['opened_at'])}"]
    out += [f"{t['ui.x.closed'] if z else t['ui.x.as_of']}: {when(body['as_of'])}", "-" * 32]
    out += [f"{t.get('ui.x.' + k, k)}: {money(v)}" for k, v in body["cash"].items()]
    for row in body["tenders"]:
        name = t.get("ui.tender." + row["kind"], row["kind"])
        counted = money(row["counted"]) if row["counted"] else t["ui.x.not_counted"]
        out.append(f"{name}: {t['ui.x.expected']} {money(row['expected'])}")
        out.append(
            f"  {t['ui.x.counted']} {counted}, {t['ui.x.difference']} {money(row['difference'])}"
        )
    for row in body["tax"]:
        out.append(
            f"{t['ui.x.tax_amount']} {row['tax_class']} {_percent(row['rate'], locale)}: "
            f"{t['ui.x.net']} {money(row['net'])}, {t['ui.x.tax_amount']} {money(row['tax'])}"
        )
    for key, label in (
        ("sales", "ui.x.sales"),
        ("refunds", "ui.x.refunds"),
        ("voids", "ui.x.voids"),
    ):
        out.append(f"{t[label]}: {body[key]['count']} / {money(body[key]['total'])}")
    out.append(f"{t['ui.x.no_sale_opens']}: {body['no_sale_opens']}")
    out.append(f"{t['ui.x.overrides']}: {body['overrides']}")
    if body.get("refused_sales"):
        out.append(f"{t['ui.x.refused_sales']}: {body['refused_sales']}")
    out += [f"{t['ui.x.net_total']}: {money(body['net_total'])}"]
    out += [f"{t['ui.x.grand_total']}: {money(body['grand_total'])}"]
    return out
