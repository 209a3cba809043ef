"""Fault harness for sync tests and chaos runs: a private Mosquitto, an isolated demo stack,
and the exact box ↔ hub reconciliation every fault scenario ends with.

Everything runs on loopback: a Mosquitto started here on a free port (persistence in its own
folder, so QoS 1 sessions survive a restart), the real PostgreSQL in a database of its own,
and the real hub/box processes started by `scripts.demo.boot`. The system broker on 1883 is
never touched.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from scripts.demo import Stack, boot, drop_database, free_port
from scripts.demo_smoke import BoxClient, login_of
from scripts.testkit.broker import PrivateBroker
from scripts.testkit.waiting import wait_until


@dataclass
class FaultStack:
    """A demo stack isolated on its own broker, database, box id and ingest client id."""

    stack: Stack
    seed: dict[str, Any]
    broker: PrivateBroker
    db_name: str

    @property
    def box_id(self) -> str:
        """The demo box's id."""
        return str(self.seed["box_id"])

    @property
    def box_db(self) -> Path:
        """The box's SQLite file."""
        return self.stack.var / "box.sqlite3"

    @property
    def admin_dsn(self) -> str:
        """Superuser DSN of the stack's hub database."""
        return self.stack.env["CFPOS_HUB_ADMIN_DATABASE_URL"]

    def cashier(self) -> BoxClient:
        """A box client logged in as the demo cashier, on an open shift (waits for the box
        web app; a sale needs the till's shift)."""
        box = BoxClient(self.stack.box_port)
        wait_until(lambda: healthy(self.stack.box_port), 30, "box web")
        box.wait_for_master_data()
        box.login(login_of(self.seed, "CASHIER")["pin"])
        box.ensure_shift()
        return box

    def stop(self) -> None:
        """Stop the processes, drop the database, stop the broker."""
        self.stack.stop()
        drop_database(self.db_name)
        self.broker.stop()


def healthy(port: int) -> bool:
    """True if the web app on this port answers /healthz."""
    import requests

    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok
    except requests.RequestException:
        return False


def start_fault_stack(
    folder: Path,
    max_queued_messages: int = 1000,
    max_inflight_messages: int = 20,
    locale: str = "en",
) -> FaultStack:
    """Boot a private broker and an isolated demo stack pointed at it (the till in `locale`).

    The web ports are picked free a few seconds before the processes bind them (migrations
    and the seed come first); on a busy machine an outgoing connection can take one of them
    in between. A boot that fails on a port taken that way is retried on fresh ports (up to
    `BOOT_ATTEMPTS` times), with a fresh database: nothing of the failed boot is kept."""
    broker = PrivateBroker(folder / "broker", max_queued_messages, max_inflight_messages)
    broker.start()
    try:
        for attempt in range(1, BOOT_ATTEMPTS + 1):
            try:
                return _boot_on(folder / ("stack" if attempt == 1 else f"stack-{attempt}"),
                                broker, locale)  # fmt: skip
            except SystemExit as err:
                if attempt == BOOT_ATTEMPTS or "Address already in use" not in str(err):
                    raise
    except BaseException:
        broker.stop()
        raise
    raise AssertionError("unreachable")  # the loop returns or raises


BOOT_ATTEMPTS = 3


def _boot_on(var: Path, broker: PrivateBroker, locale: str) -> FaultStack:
    tag = uuid.uuid4().hex[:8]
    saved = {k: os.environ.get(k) for k in _ISOLATION}
    os.environ.update(
        CFPOS_MQTT_URL=broker.url,
        CFPOS_DEMO_BOX_ID=f"box-fault-{tag}",
        CFPOS_INGEST_CLIENT_ID=f"cfpos-hub-ingest-fault-{tag}",
    )
    db_name = f"cfpos_test_fault_{tag}"
    args = argparse.Namespace(
        hub_port=free_port(),
        box_port=free_port(),
        db_name=db_name,
        var=str(var),
        locale=locale,
    )
    try:
        stack, seed = boot(args)
    except BaseException:
        drop_database(db_name)
        raise
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return FaultStack(stack, seed, broker, db_name)


_ISOLATION = ("CFPOS_MQTT_URL", "CFPOS_DEMO_BOX_ID", "CFPOS_INGEST_CLIENT_ID")


def box_sales(box_db: Path) -> dict[str, int]:
    """{sale_id: total_minor} read from the box's SQLite file, read-only."""
    conn = sqlite3.connect(f"file:{box_db}?mode=ro", uri=True, timeout=10)
    try:
        return {str(r[0]): int(r[1]) for r in conn.execute("SELECT id, total_minor FROM sales")}
    finally:
        conn.close()


def box_unacked(box_db: Path) -> int:
    """Outbox rows still waiting for the hub: neither acked nor refused (read-only)."""
    conn = sqlite3.connect(f"file:{box_db}?mode=ro", uri=True, timeout=10)
    try:
        sql = "SELECT count(*) FROM outbox WHERE acked_at IS NULL AND refused_at IS NULL"
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def hub_rows(admin_dsn: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run one read query on the hub database as the owner (RLS does not filter it)."""
    conn = psycopg2.connect(admin_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


def hub_sales(admin_dsn: str, box_id: str) -> list[tuple[str, int]]:
    """(sale_id, total_minor) of every hub sale of the box (duplicates would show twice)."""
    rows = hub_rows(admin_dsn, "SELECT id, total_minor FROM sales WHERE box_id = %s", (box_id,))
    return [(str(r[0]), int(r[1])) for r in rows]


def reconcile_exact(expected: dict[str, int], admin_dsn: str, box_id: str) -> dict[str, Any]:
    """Assert box sales == hub sales: same ids, same count, same totals to the cent, no
    duplicates (sales, ingested events, stock movements); return the figures."""
    hub = hub_sales(admin_dsn, box_id)
    ids = [sid for sid, _total in hub]
    assert len(ids) == len(set(ids)), "duplicate sale on the hub"
    missing = sorted(set(expected) - set(ids))
    extra = sorted(set(ids) - set(expected))
    assert not missing, f"box sales missing on the hub: {missing[:5]}"
    assert not extra, f"hub sales the box does not have: {extra[:5]}"
    assert len(ids) == len(expected)
    hub_totals = dict(hub)
    wrong = [sid for sid, total in expected.items() if hub_totals[sid] != total]
    assert not wrong, f"totals differ for {wrong[:5]}"
    assert sum(hub_totals.values()) == sum(expected.values())
    dup_seqs = hub_rows(
        admin_dsn,
        "SELECT seq FROM ingested_events WHERE box_id = %s GROUP BY seq HAVING count(*) > 1",
        (box_id,),
    )
    assert not dup_seqs, f"a box sequence number was ingested twice: {dup_seqs[:5]}"
    bad_moves = hub_rows(
        admin_dsn,
        "SELECT s.id FROM sales s WHERE s.box_id = %s AND "
        "(SELECT count(*) FROM stock_movements m WHERE m.kind = 'sale' AND m.ref = s.id) <> "
        "(SELECT count(*) FROM sale_lines l WHERE l.sale_id = s.id)",
        (box_id,),
    )
    assert not bad_moves, f"sale movements not exactly one per line: {bad_moves[:5]}"
    return {"sales": len(ids), "total_minor": sum(hub_totals.values())}


def reconcile_box(fs: FaultStack, timeout: float = 60.0) -> dict[str, Any]:
    """Wait until the box's outbox is fully acked, then reconcile box ↔ hub exactly (the wait
    is at least `CFPOS_DEMO_BOOT_TIMEOUT` when set: a machine loaded by other runs)."""
    timeout = max(timeout, float(os.environ.get("CFPOS_DEMO_BOOT_TIMEOUT") or 0))
    wait_until(lambda: box_unacked(fs.box_db) == 0, timeout, "the box outbox to drain")
    return reconcile_exact(box_sales(fs.box_db), fs.admin_dsn, fs.box_id)
