"""What the compliance pages show (hub/compliance/pages.py): holds with their targets by name
and their dates in the tenant's zone, sorted and paged on the server; recent purge runs."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from hub.compliance import holds
from hub.compliance.models import LegalHold, PurgeRun
from hub.compliance.retention import run_dict
from hub.core.db import tenant_tx
from hub.core.paging import PAGE_SIZE, paged
from hub.customers.models import Customer
from hub.governance import config
from hub.i18n.request_locale import current_locale, tr
from hub.identity.models import Branch
from hub.sales.queries import branch_zone
from posdomain import locale_format
from posdomain.errors import HubReason, ValidationError

HOLD_SORTS = {"created_at": LegalHold.created_at, "scope": LegalHold.scope}


def tenant_zone(tenant_id: str) -> ZoneInfo:
    """The tenant's zone (its pricing config's, else UTC; caller's transaction)."""
    pricing = config.current(tenant_id, "pricing")
    return branch_zone(None, pricing.body.get("timezone") if pricing else None)


def local_time(at: str | None, zone: ZoneInfo) -> str:
    """An ISO time as the reader's locale writes it, in `zone` ("" for none)."""
    if not at:
        return ""
    return f"{locale_format.moment(at, zone.key, current_locale(), 'short')} {_abbr(at, zone)}"


def _abbr(at: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(at).astimezone(zone).strftime("%Z")


def _local_day(at: str, zone: ZoneInfo) -> str:
    local = datetime.fromisoformat(at).astimezone(zone).date()
    return locale_format.day(local, current_locale())


def check_sort(sort: str) -> str:
    """?sort= of the holds list (400 REPORT_BAD_SORT for anything else)."""
    if sort.removeprefix("-") not in HOLD_SORTS:
        raise ValidationError(
            "sort by created_at or scope",
            HubReason.REPORT_BAD_SORT,
            {"field": "sort", "allowed": sorted(HOLD_SORTS)},
        )
    return sort


def holds_page(tenant_id: str, live_only: bool, sort: str, page: int) -> dict[str, Any]:
    """One page of the tenant's holds, each with what it covers in words."""
    column = HOLD_SORTS[sort.removeprefix("-")]
    order = column.desc() if sort.startswith("-") else column.asc()
    with tenant_tx(tenant_id):
        query = LegalHold.select().where(LegalHold.tenant_id == tenant_id)
        if live_only:
            query = query.where(LegalHold.released_at.is_null())
        total = query.count()
        rows = list(query.order_by(order, LegalHold.id).paginate(page, PAGE_SIZE))
        zone = tenant_zone(tenant_id)
        branches = {b.id: b.name for b in Branch.select().where(Branch.tenant_id == tenant_id)}
        ids = [r.target for r in rows if r.scope == "customer" and r.target]
        people = {
            c.id: c.display_name
            for c in Customer.select().where(Customer.tenant_id == tenant_id, Customer.id.in_(ids))
        } if ids else {}  # fmt: skip
    items = []
    for r in rows:
        h = holds.hold_dict(r)
        h["covers"] = _covers(h, branches, people, zone)
        h["placed"] = local_time(h["created_at"], zone)
        h["released"] = local_time(h["released_at"], zone)
        items.append(h)
    return paged(items, page, total)


def _covers(
    h: dict[str, Any], branches: dict[str, str], people: dict[str, str], zone: ZoneInfo
) -> str:
    if h["scope"] == "tenant":
        return tr("every record of the tenant")
    if h["scope"] == "branch":
        return tr("branch %(name)s", name=branches.get(h["target"], h["target"]))
    if h["scope"] == "customer":
        return tr("customer %(name)s", name=people.get(h["target"], h["target"]))
    first = _local_day(h["starts_at"], zone)
    end = datetime.fromisoformat(h["ends_at"]).astimezone(zone)
    # a date-range hold ends at a local midnight (day_bounds): say the day, not 00:00
    last = (
        _local_day(h["ends_at"], zone) if end.time() == time.min else local_time(h["ends_at"], zone)
    )
    return tr("records from %(first)s to before %(last)s", first=first, last=last)


def day_bounds(tenant_id: str, first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the tenant's zone, for a date-range hold."""
    with tenant_tx(tenant_id):
        zone = tenant_zone(tenant_id)
    start = datetime.combine(first, time.min, zone)
    end = datetime.combine(date.fromordinal(last.toordinal() + 1), time.min, zone)
    return start, end


def recent_runs(tenant_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The latest purge runs, newest first, times local."""
    with tenant_tx(tenant_id):
        zone = tenant_zone(tenant_id)
        rows = (
            PurgeRun.select()
            .where(PurgeRun.tenant_id == tenant_id)
            .order_by(PurgeRun.finished_at.desc())
            .limit(limit)
        )
        out = []
        for r in rows:
            d = run_dict(r)
            d["finished"], d["cutoff_local"] = (
                local_time(d["finished_at"], zone),
                local_time(d["cutoff"], zone),
            )
            out.append(d)
        return out
