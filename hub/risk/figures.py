"""What risk rules measure, per cashier, box and branch, from the data boxes synced (FR-701).

Over the scoring window: sales, post-voids and refunds (ratios to sales), no-sale drawer
opens and supervisor overrides (synced box audit entries `drawer.no_sale`,
`override.granted`, the override counted for the cashier who asked), sales whose discount
exceeds the configured share of the gross, sales completed outside business hours in the
branch's time zone, and for boxes (and their branch) the minutes offline right now.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hub.governance.config import effective_body
from hub.governance.models import BoxAudit
from hub.identity.models import Branch
from hub.sales.models import BoxRefund, HubSaleVoid, Sale, SaleLine
from posdomain.risk import RiskScoring

Subject = tuple[str, str]  # (kind, id)
Figures = dict[Subject, dict[str, Decimal]]


def _bump(figs: Figures, subjects: list[Subject], metric: str, by: Decimal = Decimal(1)) -> None:
    for s in subjects:
        figs[s][metric] = figs[s].get(metric, Decimal(0)) + by


def _who(cashier: str, box: str, branch: str) -> list[Subject]:
    return [("cashier", cashier), ("box", box), ("branch", branch)]


def _zone(tenant_id: str, branch: Branch | None) -> ZoneInfo:
    name = (branch.timezone if branch else None) or effective_body(tenant_id, "pricing", None).get(
        "timezone"
    )
    return ZoneInfo(name or "UTC")


def _after_hours(at: datetime, zone: ZoneInfo, scoring: RiskScoring) -> bool:
    local = at.astimezone(zone).time()
    opens = time.fromisoformat(scoring.business_open)
    closes = time.fromisoformat(scoring.business_close)
    return not opens <= local < closes


def _discounted(lines: list[SaleLine], threshold: Decimal) -> bool:
    gross = sum(Decimal(ln.qty) * ln.unit_price_minor for ln in lines)
    net = sum(ln.line_total_minor for ln in lines)
    return gross > 0 and (gross - net) * 100 / gross > threshold


def _sales(tenant_id: str, since: datetime, scoring: RiskScoring, figs: Figures) -> None:
    sales = list(Sale.select().where(Sale.tenant_id == tenant_id, Sale.completed_at >= since))
    lines: dict[str, list[SaleLine]] = defaultdict(list)
    ids = [s.id for s in sales]
    for ln in SaleLine.select().where(SaleLine.sale_id.in_(ids)) if ids else []:
        lines[ln.sale_id].append(ln)
    branches = {b.id: b for b in Branch.select().where(Branch.tenant_id == tenant_id)}
    zones = {b: _zone(tenant_id, branches.get(b)) for b in {s.branch_id for s in sales}}
    for s in sales:
        who = _who(s.cashier_id, s.box_id, s.branch_id)
        _bump(figs, who, "sales")
        if _after_hours(s.completed_at, zones[s.branch_id], scoring):
            _bump(figs, who, "after_hours_sales")
        if _discounted(lines[s.id], scoring.discount_threshold_percent):
            _bump(figs, who, "discounts_over_threshold")


def _documents(tenant_id: str, since: datetime, figs: Figures) -> None:
    voids = HubSaleVoid.select().where(
        HubSaleVoid.tenant_id == tenant_id, HubSaleVoid.voided_at >= since
    )
    for v in voids:
        _bump(figs, _who(v.cashier_id, v.box_id, v.branch_id), "voids")
    refunds = BoxRefund.select().where(
        BoxRefund.tenant_id == tenant_id, BoxRefund.completed_at >= since
    )
    for r in refunds:
        _bump(figs, _who(r.cashier_id, r.box_id, r.branch_id), "refunds")


def _box_audit(tenant_id: str, since: datetime, figs: Figures) -> None:
    entries = BoxAudit.select().where(
        BoxAudit.tenant_id == tenant_id,
        BoxAudit.action.in_(("drawer.no_sale", "override.granted")),
    )
    for e in entries:
        if datetime.fromisoformat(e.ts) < since:
            continue
        if e.action == "drawer.no_sale":
            cashier, metric = e.actor.removeprefix("staff:"), "no_sale_opens"
        else:
            cashier, metric = str((e.details or {}).get("requested_by", "")), "overrides"
        _bump(figs, _who(cashier, e.box_id, e.branch_id), metric)


def _ratios(figs: Figures) -> None:
    for values in figs.values():
        sales = values.get("sales", Decimal(0))
        for count, ratio in (("voids", "void_ratio"), ("refunds", "refund_ratio")):
            n = values.get(count, Decimal(0))
            values[ratio] = (n / sales).quantize(Decimal("0.0001")) if sales else Decimal(0)


def measure(
    tenant_id: str,
    since: datetime,
    scoring: RiskScoring,
    offline: dict[str, tuple[str, Decimal]],
) -> Figures:
    """Figures per subject (caller's tenant transaction); `offline`: box → (branch, minutes)."""
    figs: Figures = defaultdict(dict)
    _sales(tenant_id, since, scoring, figs)
    _documents(tenant_id, since, figs)
    _box_audit(tenant_id, since, figs)
    for box_id, (branch_id, minutes) in offline.items():
        figs[("box", box_id)]["offline_minutes"] = minutes
        branch = figs[("branch", branch_id)]
        branch["offline_minutes"] = max(branch.get("offline_minutes", Decimal(0)), minutes)
    _ratios(figs)
    for (kind, _id), values in figs.items():
        values.setdefault("sales", Decimal(0))
        if kind != "cashier":
            values.setdefault("offline_minutes", Decimal(0))
    return dict(figs)


def as_json(values: dict[str, Decimal]) -> dict[str, Any]:
    """Figures as strings (exact decimals in JSON)."""
    return {k: str(v) for k, v in sorted(values.items())}
