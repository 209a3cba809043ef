"""The box_state row: identity, gap-free counters and held master-data versions."""

from __future__ import annotations

import json

from peewee import DoesNotExist

from appliance.core.context import now_iso
from appliance.core.db import execute
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


# every sale takes two counters: constant statements, the new value read back in the same one
_TAKE_SEQ = "UPDATE box_state SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq"
_TAKE_RECEIPT = (
    "UPDATE box_state SET next_receipt_no = next_receipt_no + 1 WHERE id = 1"
    " RETURNING next_receipt_no"
)


def _take(sql: str) -> int:
    rows = execute(sql).fetchall()  # read to the end: the statement is finished, not pending
    if not rows:
        raise DoesNotExist("box_state row 1 is missing (migrate first)")
    return int(rows[0][0]) - 1


def allocate_seq() -> int:
    """Take the next outbox seq (call inside a write transaction: gap-free on rollback)."""
    return _take(_TAKE_SEQ)


def allocate_receipt_no() -> int:
    """Take the next receipt number (inside the sale's write transaction)."""
    return _take(_TAKE_RECEIPT)


def held_versions() -> dict[str, int]:
    """Version held per down-message kind."""
    row = execute("SELECT versions FROM box_state WHERE id = 1").fetchone()
    if row is None:
        raise DoesNotExist("box_state row 1 is missing (migrate first)")
    return {str(k): int(v) for k, v in json.loads(row[0]).items()}


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
