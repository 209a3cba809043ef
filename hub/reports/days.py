"""Business days: local midnight to local midnight in the branch's zone (DST-correct: a day
may last 23 or 25 hours). Times are UTC in storage and local only here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.governance import config
from hub.identity.models import Branch
from hub.sales.queries import branch_zone


def business_day(at: datetime, zone: ZoneInfo) -> tuple[str, int]:
    """(YYYY-MM-DD, local hour) of an instant in `zone`."""
    local = at.astimezone(zone)
    return local.date().isoformat(), local.hour


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of business day `day` in `zone` (23, 24 or 25 hours long)."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def day_hours(day: date, zone: ZoneInfo) -> int:
    """How many hours business day `day` lasts in `zone`."""
    start, end = day_bounds(day, zone)
    return int((end - start).total_seconds() // 3600)


def branch_zones(tenant_id: str) -> dict[str, ZoneInfo]:
    """Every branch's zone (its own, else the tenant's pricing config, else UTC; caller's
    tenant transaction)."""
    pricing = config.current(tenant_id, "pricing")
    tenant_tz = pricing.body.get("timezone") if pricing else None
    rows = Branch.select(Branch.id, Branch.timezone).where(Branch.tenant_id == tenant_id)
    return {b.id: branch_zone(b.timezone, tenant_tz) for b in rows}


def today(at: datetime, zone: ZoneInfo) -> date:
    """The local calendar day `at` falls on in `zone`."""
    return at.astimezone(zone).date()
