"""Issue 9, closing the loop (FR-303, NFR-003, NFR-006): on the real stack (real hub ingest and
web on PostgreSQL, the real box and sync agent, a private Mosquitto) a crafted event takes the
box's next sale seq, so the hub refuses the real sale. The box's heartbeat tells the hub it
holds one refused sale; head office resolves the reconciliation item through the hub API
(audited); the `refusals` down message reaches the box, whose row becomes resolved — still
refused, never delivered, kept — so its banner clears and its next heartbeat says 0.

On the old code the heartbeat carried no refused counts and a resolution never left the hub:
the till kept showing the refused sale for ever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.demo_smoke import login_of
from scripts.sync_harness import FaultStack, hub_rows, start_fault_stack
from scripts.testkit.seq_taking import box_rows, drained, refused, take_next_sale_seq
from scripts.testkit.waiting import wait_until

pytestmark = [pytest.mark.pg, pytest.mark.slow]


@pytest.fixture
def own_stack(tmp_path: Path, pg_admin_dsn: str) -> Iterator[FaultStack]:
    """A stack of its own (a refused sale stays on its box; the shared stack stays exact)."""
    fs = start_fault_stack(tmp_path)
    try:
        yield fs
    finally:
        fs.stop()


def _beat(fs: FaultStack) -> tuple[Any, ...]:
    rows = hub_rows(
        fs.admin_dsn,
        "SELECT refused, refused_sales FROM box_heartbeats WHERE box_id = %s",
        (fs.box_id,),
    )
    return tuple(rows[0]) if rows else (None, None)


def _owner(fs: FaultStack) -> requests.Session:
    http = requests.Session()
    owner = login_of(fs.seed, "TENANT_OWNER")
    http.post(
        f"http://127.0.0.1:{fs.stack.hub_port}/api/v1/auth/login",
        json={"username": owner["username"], "password": owner["password"]},
        timeout=10,
    ).raise_for_status()
    return http


@pytest.mark.req("FR-303", "NFR-003", "NFR-006")
def test_head_office_resolves_a_refused_sale_and_the_box_learns_it(own_stack: FaultStack) -> None:
    fs, db = own_stack, own_stack.box_db
    box = fs.cashier()
    codes = box.first_barcodes(1)
    target = take_next_sale_seq(fs, box, codes)
    box.sell(codes, "100.00")  # takes `target`: the hub refuses it (SEQ_CONFLICT)
    wait_until(lambda: refused(db) != [], 60, "the hub's refusal to reach the box")
    drained(db)
    wait_until(lambda: _beat(fs) == (1, 1), 60, "the heartbeat to report the refused sale")

    [(item_id,)] = hub_rows(
        fs.admin_dsn,
        "SELECT id FROM reconciliation_items WHERE box_id = %s AND kind = 'SEQ_CONFLICT'"
        " AND details->>'seq' = %s",
        (fs.box_id, str(target)),
    )
    note = "Forged event voided; sale re-entered by head office"
    resp = _owner(fs).post(
        f"http://127.0.0.1:{fs.stack.hub_port}/api/v1/reconciliation/{item_id}/resolve",
        json={"note": note},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    audited = hub_rows(
        fs.admin_dsn,
        "SELECT count(*) FROM audit_log WHERE action = 'reconciliation.resolve' AND target = %s",
        (f"reconciliation:{item_id}",),
    )
    assert audited == [(1,)]

    def settled() -> list[tuple[Any, ...]]:
        sql = (
            "SELECT seq, refused_reason, acked_at, resolution_note FROM outbox"
            " WHERE resolved_at IS NOT NULL"
        )
        return box_rows(db, sql)

    wait_until(lambda: settled() != [], 60, "the resolution to reach the box")
    assert settled() == [(target, "SEQ_CONFLICT", None, note)], "resolved, still never delivered"
    assert refused(db) == [(target, "sale.completed", "SEQ_CONFLICT", None)], "kept as refused"
    status = box.call("GET", "/status")
    assert (status["refused"], status["refused_sales"], status["refused_events"]) == (0, 0, [])
    assert box.call("GET", "/shifts/current/x")["refused_sales"] == 1, "still not booked"
    wait_until(lambda: _beat(fs) == (0, 0), 60, "the heartbeat to report it settled")
    drained(db)  # the resolution's own audit entry goes up like any other event
