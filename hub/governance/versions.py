"""Version counters of the down-message kinds per tenant: a committed change bumps its kind
here (in the caller's transaction); `hub.sync.downlink` builds and publishes the messages."""

from __future__ import annotations

from hub.core.db import db
from hub.governance.models import DownState


def down_kind_for_config(kind: str) -> str:
    """Which down message a config kind feeds."""
    return {"risk": "risk", "catalog": "catalog"}.get(kind, "config")


def bump(tenant_id: str, kind: str) -> int:
    """Increase the tenant's version of a down kind (caller's transaction)."""
    row = DownState.get_or_none(DownState.tenant_id == tenant_id, DownState.kind == kind)
    if row is None:
        DownState.insert(tenant_id=tenant_id, kind=kind, version=1).execute()
        return 1
    DownState.update(version=DownState.version + 1).where(
        DownState.tenant_id == tenant_id, DownState.kind == kind
    ).execute()
    return int(row.version) + 1


def bump_by(tenant_id: str, kind: str, count: int) -> int:
    """Reserve `count` consecutive versions of a kind; return the highest (caller's tx).

    The row lock taken by the UPDATE is held until the caller commits, so a later bump of
    the same kind waits: a reader that sees version V committed sees every version below it.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    DownState.insert(tenant_id=tenant_id, kind=kind, version=0).on_conflict(
        conflict_target=[DownState.tenant_id, DownState.kind], action="IGNORE"
    ).execute()
    p = db.param
    cur = db.execute_sql(
        f"UPDATE down_state SET version = version + {p} WHERE tenant_id = {p} AND kind = {p} "
        "RETURNING version",
        (count, tenant_id, kind),
    )
    return int(cur.fetchone()[0])


def current(tenant_id: str, kind: str) -> int:
    """The tenant's version of a down kind (0 when never bumped; caller's transaction)."""
    row = DownState.get_or_none(DownState.tenant_id == tenant_id, DownState.kind == kind)
    return int(row.version) if row else 0
