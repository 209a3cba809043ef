"""Branch transfers (FR-203): transitions, permissions, idempotency and failure injection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hub.core.db import db, tenant_tx
from hub.governance import audit
from hub.inventory import ledger, transfers
from hub.inventory import service as inventory
from hub.inventory.models import InventoryOperation, Transfer
from posdomain.errors import Conflict, Forbidden, NotFound, Reason
from posdomain.permissions import Role
from tests.hub.inventory_helpers import (
    OTHER_TENANT,
    TENANT,
    admin_scalar,
    key,
    movements,
    new_branches,
    who,
)
from tests.hub.inventory_helpers import on_hand as stock

pytestmark = [pytest.mark.pg]
ROOT = Path(__file__).resolve().parents[2]
LINES = [{"product_id": "p-001", "qty": "10"}, {"product_id": "p-002", "qty": "4"}]


@pytest.fixture
def setup(app) -> dict[str, Any]:
    """Two fresh branches with stock at the source, and one clerk per branch."""
    src, dst = new_branches(2)
    src_clerk, dst_clerk = who(Role.INVENTORY_CLERK, [src]), who(Role.INVENTORY_CLERK, [dst])
    stock_in = [{"product_id": "p-001", "qty": "20"}, {"product_id": "p-002", "qty": "5"}]
    inventory.receive(src_clerk, src, key(), stock_in)
    return {"src": src, "dst": dst, "src_clerk": src_clerk, "dst_clerk": dst_clerk}


def _requested(s: dict[str, Any]) -> str:
    t = transfers.request(s["dst_clerk"], key(), s["src"], s["dst"], LINES, "weekly")
    assert t["state"] == "requested"
    return str(t["transfer_id"])


def _dispatched(s: dict[str, Any]) -> str:
    tid = _requested(s)
    transfers.dispatch(s["src_clerk"], tid, key())
    return tid


def _snapshot(s: dict[str, Any], tid: str | None) -> tuple[Any, ...]:
    """Everything a step could change: transfer state, movements, stock, stored operations."""
    with tenant_tx(TENANT):
        t = Transfer.get_or_none(Transfer.id == tid) if tid else None
        state = t and transfers.transfer_dict(t)
        ops = InventoryOperation.select().where(InventoryOperation.tenant_id == TENANT).count()
        count = Transfer.select().where(Transfer.from_branch_id == s["src"]).count()
    moves = [m.id for b in (s["src"], s["dst"]) for m in movements(b)]
    levels = [stock(b, p) for b in (s["src"], s["dst"]) for p in ("p-001", "p-002")]
    return state, ops, count, moves, levels


@pytest.mark.req("FR-203", "FR-201")
def test_request_dispatch_receive_with_short_receipt(setup):
    s = setup
    tid = _requested(s)
    shipped = transfers.dispatch(s["src_clerk"], tid, key(), [{"product_id": "p-002", "qty": "3"}])
    assert shipped["state"] == "dispatched"
    assert [ln["dispatched"] for ln in shipped["lines"]] == ["10", "3"]
    assert (stock(s["src"], "p-001"), stock(s["src"], "p-002")) == ("10", "2")
    on_hand = inventory.list_on_hand(TENANT, [s["dst"]], None, 1)
    assert on_hand["items"] == []  # nothing at the destination yet, only in transit
    received = transfers.receive(
        s["dst_clerk"], tid, key(), [{"product_id": "p-001", "qty": "9.5"}]
    )
    assert received["state"] == "received"
    assert [(ln["received"], ln["variance"]) for ln in received["lines"]] == [
        ("9.5", "-0.5"),
        ("3", "0"),
    ]
    assert (stock(s["dst"], "p-001"), stock(s["dst"], "p-002")) == ("9.5", "3")
    assert stock(s["src"], "p-001") == "10"  # the short half unit is not booked back
    kinds = sorted((m.kind, m.qty_milli) for b in (s["src"], s["dst"]) for m in movements(b))
    assert ("transfer_out", -10000) in kinds
    assert ("transfer_in", 9500) in kinds
    assert all(m.ref == f"transfer:{tid}" for m in movements(s["dst"]))


@pytest.mark.req("FR-203")
def test_in_transit_shows_at_the_destination(setup):
    s = setup
    inventory.receive(s["dst_clerk"], s["dst"], key(), [{"product_id": "p-001", "qty": "1"}])
    _dispatched(s)
    [row] = inventory.list_on_hand(TENANT, [s["dst"]], "p-001", 1)["items"]
    assert (row["on_hand"], row["in_transit"]) == ("1", "10")


@pytest.mark.req("FR-203")
def test_cancel_requested_writes_no_movement(setup):
    s = setup
    tid = _requested(s)
    before = [m.id for m in movements(s["src"])]
    out = transfers.cancel(s["dst_clerk"], tid, key(), "not needed")
    assert out["state"] == "cancelled"
    assert [m.id for m in movements(s["src"])] == before


@pytest.mark.req("FR-203")
def test_cancel_dispatched_books_the_goods_back_at_source(setup):
    s = setup
    tid = _dispatched(s)
    with pytest.raises(Forbidden):  # the destination cannot cancel goods already on the road
        transfers.cancel(s["dst_clerk"], tid, key(), "lorry broke down")
    out = transfers.cancel(s["src_clerk"], tid, key(), "lorry broke down")
    assert out["state"] == "cancelled"
    assert (stock(s["src"], "p-001"), stock(s["src"], "p-002")) == ("20", "5")
    back = movements(s["src"], kind="transfer_in")
    assert {m.reason_code for m in back} == {"TRANSFER_CANCELLED"}


@pytest.mark.req("FR-203")
@pytest.mark.parametrize(
    ("prepare", "step"),
    [
        ("requested", "receive"),
        ("received", "dispatch"),
        ("received", "cancel"),
        ("cancelled", "dispatch"),
        ("cancelled", "receive"),
    ],
)
def test_invalid_transitions_are_409(setup, prepare, step):
    s = setup
    tid = _requested(s)
    if prepare == "received":
        transfers.dispatch(s["src_clerk"], tid, key())
        transfers.receive(s["dst_clerk"], tid, key())
    elif prepare == "cancelled":
        transfers.cancel(s["src_clerk"], tid, key(), "x")
    before = _snapshot(s, tid)
    actor = s["dst_clerk"] if step == "receive" else s["src_clerk"]
    args = (key(), "x") if step == "cancel" else (key(),)
    with pytest.raises(Conflict) as info:
        getattr(transfers, step)(actor, tid, *args)
    assert info.value.reason is Reason.INVALID_TRANSITION
    assert info.value.status == 409
    assert _snapshot(s, tid) == before


@pytest.mark.req("FR-203", "FR-003")
def test_source_dispatches_destination_receives(setup):
    s = setup
    tid = _requested(s)
    with pytest.raises(Forbidden) as info:
        transfers.dispatch(s["dst_clerk"], tid, key())
    assert info.value.reason is Reason.FORBIDDEN_BRANCH
    transfers.dispatch(s["src_clerk"], tid, key())
    with pytest.raises(Forbidden):
        transfers.receive(s["src_clerk"], tid, key())
    with pytest.raises(Forbidden) as info:
        transfers.receive(who(Role.SUPERVISOR, [s["dst"]]), tid, key())
    assert info.value.reason is Reason.FORBIDDEN_ROLE
    transfers.receive(who(Role.TENANT_OWNER), tid, key())


@pytest.mark.req("FR-203", "FR-100")
def test_other_tenant_cannot_see_or_move_a_transfer(setup):
    tid = _requested(setup)
    stranger = who(Role.TENANT_OWNER, tenant=OTHER_TENANT)
    with pytest.raises(NotFound):
        transfers.dispatch(stranger, tid, key())
    with pytest.raises(NotFound):
        transfers.get_transfer(OTHER_TENANT, None, tid)
    assert transfers.list_transfers(OTHER_TENANT, None, None, 1)["total"] == 0


@pytest.mark.req("FR-203")
@pytest.mark.parametrize("step", ["dispatch", "receive", "cancel"])
def test_duplicate_step_gives_one_set_of_movements(setup, step):
    s = setup
    tid = _requested(s) if step != "receive" else _dispatched(s)
    actor = s["dst_clerk"] if step == "receive" else s["src_clerk"]
    args = (key(), "dup") if step == "cancel" else (key(),)
    first = getattr(transfers, step)(actor, tid, *args)
    after_first = _snapshot(s, tid)
    replay = getattr(transfers, step)(actor, tid, *args)  # same key: stored result
    assert replay.pop("replayed") is True
    assert replay == first
    other_key = (key(), "dup") if step == "cancel" else (key(),)
    repeat = getattr(transfers, step)(actor, tid, *other_key)  # new key, step already done
    assert repeat["state"] == first["state"]
    state, _ops, count, moves, levels = _snapshot(s, tid)
    assert (state, count, moves, levels) == tuple(after_first[i] for i in (0, 2, 3, 4))


def _fail_in_db(*_args: Any, **_kwargs: Any) -> None:
    """A real error raised by PostgreSQL inside the step's transaction."""
    db.execute_sql("SELECT 1 / 0")


def _prepare(s: dict[str, Any], step: str) -> tuple[str | None, Any, tuple[Any, ...]]:
    """(transfer id, actor, step args) for running `step` on a transfer in the right state."""
    if step == "request":
        return None, s["dst_clerk"], (key(), s["src"], s["dst"], LINES)
    tid = _dispatched(s) if step in ("receive", "cancel") else _requested(s)
    actor = s["dst_clerk"] if step == "receive" else s["src_clerk"]
    return tid, actor, ((key(), "x") if step == "cancel" else (key(),))


def _run(step: str, actor: Any, tid: str | None, args: tuple[Any, ...]) -> dict[str, Any]:
    fn = getattr(transfers, step)
    result: dict[str, Any] = fn(actor, *args) if tid is None else fn(actor, tid, *args)
    return result


@pytest.mark.req("FR-203")
@pytest.mark.parametrize(
    ("step", "where"),
    [
        ("dispatch", "after_first_movement"),
        ("receive", "after_first_movement"),
        ("cancel", "after_first_movement"),
        ("request", "before_commit"),
        ("dispatch", "before_commit"),
        ("receive", "before_commit"),
        ("cancel", "before_commit"),
    ],
)
def test_database_error_mid_step_leaves_nothing(setup, monkeypatch, step, where):
    s = setup
    tid, actor, args = _prepare(s, step)
    before = _snapshot(s, tid)
    if where == "after_first_movement":
        real = ledger.write_movement
        calls: list[int] = []

        def once_then_fail(*a: Any, **k: Any) -> Any:
            calls.append(1)
            if len(calls) > 1:
                _fail_in_db()
            return real(*a, **k)

        monkeypatch.setattr(ledger, "write_movement", once_then_fail)
    else:  # everything written, the audit entry (the last write) fails in the database
        monkeypatch.setattr(audit, "record", _fail_in_db)
    with pytest.raises(Exception, match="division by zero"):
        _run(step, actor, tid, args)
    assert _snapshot(s, tid) == before
    monkeypatch.undo()
    result = _run(step, actor, tid, args)  # the same key now succeeds, exactly once
    assert "replayed" not in result


_KILL_SCRIPT = """
import json, sys, time
from hub.core import db as hub_db
from hub.governance import audit
from hub.inventory import transfers
from posdomain.permissions import Principal, Role
cfg = json.loads(sys.argv[1])
hub_db.bind(cfg["url"])
real = audit.record
def hold(*a, **k):
    real(*a, **k)
    print("HOLDING", flush=True)
    time.sleep(60)
audit.record = hold
actor = Principal(kind="user", id="killed", role=Role.TENANT_OWNER, tenant_id=cfg["tenant"])
fn = getattr(transfers, cfg["step"])
fn(actor, *cfg["args"]) if cfg["tid"] is None else fn(actor, cfg["tid"], *cfg["args"])
"""


@pytest.mark.req("FR-203")
@pytest.mark.parametrize("step", ["request", "dispatch", "receive", "cancel"])
def test_process_killed_mid_step_leaves_nothing(setup, hub_urls, step):
    s = setup
    tid, actor, args = _prepare(s, step)
    before = _snapshot(s, tid)
    cfg = {"url": hub_urls[1], "tenant": TENANT, "step": step, "tid": tid, "args": list(args)}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, json.dumps(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "HOLDING"  # movements + state written, no commit
        open_tx = admin_scalar(
            hub_urls[0],
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND usename = 'cfpos_app' AND state = 'idle in transaction'",
        )
        assert open_tx >= 1
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(s, tid) == before
    result = _run(step, actor, tid, args)  # locks were released; the same key applies once
    assert "replayed" not in result
