"""An absent hub is not a lost ack (issue 15 item 4; docs/sync-protocol.md "Hub ingest
presence"): the real box sync agent and the real `hub ingest` process on a private Mosquitto.

The box has sales in flight, unacked, when the ingest worker goes: stopped (SIGTERM: it
clears its retained status) or SIGKILLed (the broker publishes its offline last will). While
the worker is away the box does not resend, however long that is past its ack wait; when it
is back the box restarts its waits. A batch the broker kept for the worker's persistent
session is then delivered and acked without a resend; a batch nobody kept (the worker's
session ended while it was down; a shared subscription group with no member) is resent
after the restarted wait. With two workers in a group the hub is present while either is
up. Every time the reconciliation is exact: every sale stored once, totals to the cent.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.sync.agent import AgentSettings
from scripts.demo_smoke import BoxClient
from scripts.sync_harness import FaultStack, box_unacked, reconcile_box, start_fault_stack
from scripts.testkit.herd import end_session, stack_log, start_workers
from scripts.testkit.waiting import wait_until

pytestmark = [pytest.mark.pg, pytest.mark.slow]
WORKER = "hub-ingest"
SALES = 3
# the box agent's own ack wait (`python -m appliance sync` runs with the defaults); the old
# box resent after it, and again after twice it
ACK_WAIT = AgentSettings().ack_timeout
AWAY = 3 * ACK_WAIT  # the worker stays away this long with the box's batches in flight


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pg_admin_dsn: str) -> Iterator[FaultStack]:
    """A stack on its own broker that keeps what it queues for a persistent session (the
    package's fault broker drops past 3 queued messages: a kept batch could be lost there)."""
    fs = start_fault_stack(tmp_path_factory.mktemp("presence"))
    try:
        yield fs
    finally:
        fs.stop()


def _attempts(box_db: Path) -> list[tuple[int, int, bool]]:
    """(seq, send attempts, acked) of every outbox row, read-only."""
    conn = sqlite3.connect(f"file:{box_db}?mode=ro", uri=True, timeout=10)
    try:
        sql = "SELECT seq, attempts, acked_at IS NOT NULL FROM outbox ORDER BY seq"
        return [(int(s), int(a), bool(k)) for s, a, k in conn.execute(sql)]
    finally:
        conn.close()


def _terminate(fs: FaultStack, name: str) -> None:
    """SIGTERM one process of the stack (a clean stop), wait for it, forget it."""
    for entry in list(fs.stack.procs):
        if entry[0] == name:
            entry[1].send_signal(signal.SIGTERM)
            entry[1].wait(30)
            fs.stack.procs.remove(entry)


def _held_sales(
    fs: FaultStack, go: str, worker: str = WORKER, box: BoxClient | None = None
) -> list[int]:
    """With the box drained, take the (last) worker away (`go`: "stop" or "kill"), ring
    sales and keep it away for `AWAY`: the seqs of the sales' rows, each sent exactly once."""
    box = box or fs.cashier()
    wait_until(lambda: box_unacked(fs.box_db) == 0, 120, "a drained box")
    held = stack_log(fs, "box-sync").count("hub ingest absent; ack waits held")
    if go == "kill":
        fs.stack.kill(worker)  # SIGKILL: the broker publishes the worker's last will
    else:
        _terminate(fs, worker)
    wait_until(
        lambda: stack_log(fs, "box-sync").count("hub ingest absent; ack waits held") > held,
        60,
        "the box to hear that the hub's ingest is absent",
    )
    before = {seq for seq, _n, _acked in _attempts(fs.box_db)}
    codes = box.first_barcodes(1)
    for _ in range(SALES):
        box.sell(codes, "100.00")
    rows = [r for r in _attempts(fs.box_db) if r[0] not in before]
    assert rows
    assert not any(acked for _s, _n, acked in rows)
    wait_until(
        lambda: all(n >= 1 for s, n, _a in _attempts(fs.box_db) if s not in before),
        60,
        "the new rows to be published",
    )
    time.sleep(AWAY)  # the old box resent after ACK_WAIT and again after 2 x ACK_WAIT
    rows = [r for r in _attempts(fs.box_db) if r[0] not in before]
    assert not any(acked for _s, _n, acked in rows), "acked with no worker up"
    resent = [(s, n) for s, n, _a in rows if n > 1]
    assert not resent, f"resent while the hub's ingest was absent: {resent}"
    return [s for s, _n, _a in rows]


@pytest.mark.req("NFR-003", "FR-303")
# the SIGKILL (the last will) in the normal suite; the clean stop in `just test-chaos`
@pytest.mark.parametrize("go", [pytest.param("stop", marks=pytest.mark.chaos), "kill"])
def test_batches_kept_for_an_absent_worker_are_acked_without_a_resend(
    stack: FaultStack, go: str
) -> None:
    seqs = _held_sales(stack, go)
    stack.stack.restart(WORKER)
    reconcile_box(stack, 120)  # every sale stored once, totals to the cent
    attempts = {s: n for s, n, _a in _attempts(stack.box_db)}
    resent = {s: attempts[s] for s in seqs if attempts[s] > 1}
    assert not resent, f"the broker kept them for the worker, yet they were resent: {resent}"


@pytest.mark.req("NFR-003", "FR-303")
def test_a_batch_lost_while_the_worker_was_away_is_resent_after_it_is_back(
    stack: FaultStack,
) -> None:
    seqs = _held_sales(stack, "kill")
    # the worker's persistent session ends: what the broker kept for it is gone
    end_session(stack.broker.port, stack.stack.env["CFPOS_INGEST_CLIENT_ID"])
    stack.stack.restart(WORKER)
    reconcile_box(stack, 120)  # resent after the restarted wait, stored exactly once
    attempts = {s: n for s, n, _a in _attempts(stack.box_db)}
    assert all(attempts[s] >= 2 for s in seqs), "acked without the resend that was needed"


@pytest.mark.req("NFR-003", "FR-303", "NFR-006")
@pytest.mark.chaos  # two more worker processes to start: `just test-chaos`
def test_with_shared_workers_the_hub_is_present_while_any_is_up(stack: FaultStack) -> None:
    """Two workers in one shared subscription: one SIGKILLed, the box does not hold (the
    other takes its batches); both SIGKILLed, it holds; the group kept nothing for anyone,
    so once they are back the box resends after the restarted wait, exactly once stored."""
    fs = stack
    names = start_workers(fs, 2)
    try:
        box = fs.cashier()
        reconcile_box(fs, 120)
        held = stack_log(fs, "box-sync").count("hub ingest absent; ack waits held")
        fs.stack.kill(names[0])
        codes = box.first_barcodes(1)
        box.sell(codes, "100.00")
        reconcile_box(fs, 120)  # worker 1 took it
        assert stack_log(fs, "box-sync").count("hub ingest absent; ack waits held") == held
        seqs = _held_sales(fs, "kill", worker=names[1], box=box)
        fs.stack.restart(names[0])
        fs.stack.restart(names[1])
        reconcile_box(fs, 120)
        attempts = {s: n for s, n, _a in _attempts(fs.box_db)}
        assert all(attempts[s] >= 2 for s in seqs), "nobody kept them, yet no resend"
    finally:
        for name in names:
            fs.stack.kill(name)
        fs.stack.start(WORKER, fs.stack.argvs[WORKER], fs.stack.envs.get(WORKER))
        wait_until(lambda: box_unacked(fs.box_db) == 0, 120, "the single worker back")
