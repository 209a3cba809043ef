"""The box_state row: identity, gap-free counters and held master-data versions."""

from __future__ import annotations

import json

from appliance.core.context import now_iso
from appliance.sync.models import BoxState
from firmware_config.schema import BoxConfig
from posdomain.envelope import Versions
from posdomain.errors import Conflict, Reason


def ensure_box_state(config: BoxConfig) -> BoxState:
    """Create the identity row on first start; refuse a database of another box."""
    state = BoxState.get_or_none(BoxState.id == 1)
    if state is None:
        BoxState.insert(
            id=1,
            box_id=config.box_id,
            tenant_id=config.tenant_id,
            branch_id=config.branch_id,
            next_seq=1,
            next_receipt_no=1,
            versions="{}",
            created_at=now_iso(),
        ).execute()
        return BoxState.get_by_id(1)
    ident = (state.box_id, state.tenant_id, state.branch_id)
    if ident != (config.box_id, config.tenant_id, config.branch_id):
        raise Conflict(
            "this database belongs to another box/tenant/branch",
            Reason.BOX_MISMATCH,
            {"database": list(ident)},
        )
    return state


def get_state() -> BoxState:
    """The identity row (migrate/ensure_box_state must have run)."""
    return BoxState.get_by_id(1)


def allocate_seq() -> int:
    """Take the next outbox seq (call inside a write transaction: gap-free on rollback)."""
    BoxState.update(next_seq=BoxState.next_seq + 1).where(BoxState.id == 1).execute()
    return int(get_state().next_seq) - 1


def allocate_receipt_no() -> int:
    """Take the next receipt number (inside the sale's write transaction)."""
    BoxState.update(next_receipt_no=BoxState.next_receipt_no + 1).where(BoxState.id == 1).execute()
    return int(get_state().next_receipt_no) - 1


def held_versions() -> dict[str, int]:
    """Version held per down-message kind."""
    return {str(k): int(v) for k, v in json.loads(get_state().versions).items()}


def set_held_version(kind: str, version: int) -> None:
    """Record the version of a kind just applied (inside its transaction)."""
    versions = held_versions()
    versions[kind] = version
    BoxState.update(versions=json.dumps(versions, sort_keys=True)).where(BoxState.id == 1).execute()


def envelope_versions() -> Versions:
    """Master-data versions carried by every event (prices/tax ride with catalog/config)."""
    held = held_versions()
    return Versions(
        catalog=held.get("catalog", 0),
        price=held.get("catalog", 0),
        tax=held.get("config", 0),
        policy=held.get("pricing", 0),
        staff=held.get("staff", 0),
        config=held.get("config", 0),
    )


def touch_agent(*, acked: bool) -> None:
    """The sync agent is alive (and, if `acked`, the hub just acknowledged a batch)."""
    fields = {BoxState.agent_seen_at: now_iso()}
    if acked:
        fields[BoxState.last_ack_at] = now_iso()
    BoxState.update(fields).where(BoxState.id == 1).execute()
