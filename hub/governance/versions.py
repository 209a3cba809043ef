"""Version counters of the down-message kinds per tenant: a committed change bumps its kind
here (in the caller's transaction); `hub.sync.downlink` builds and publishes the messages."""

from __future__ import annotations

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
