"""Install, switch, health-gate, keep or switch back (FR-703); recover at boot.

`update` runs these steps (each announced through `on_step` before it starts):

    verify       the artifact's manifest, SHA256SUMS and wheels (posdomain.releases)
    shift_check  refuse while the till has an open shift (REFUSED, nothing changed)
    install      unpack beside the running release (releases/<name>, via .partial)
    snapshot     the database as it is now (VACUUM INTO backups/<name>.sqlite3, via .partial)
    prepare      journal: pending=<new>, previous=<running>, the snapshot's path
    switch       `current` → the new release (atomic symlink rename)
    health       the new release's own process runs the health gate (appliance.updates.health)
    mark_good    journal: good=<new>, pending cleared; the snapshot is dropped
  or, when the gate fails:
    restore      the snapshot replaces the database (WAL/SHM removed first)
    switch_back  `current` → the previous release
    mark_rolled_back  journal: good=<previous>, pending cleared, why

`boot` runs before the box's services start: a journal that still names a pending release
means an update was cut off somewhere between prepare and mark (SIGKILL, power cut), so the
database snapshot is restored and `current` points back at the previous release. Every path
through a kill therefore boots a release that passed its gate. Reports (GOOD, ROLLED_BACK
with the failing check, REFUSED) are written to reports/ and queued in the box's outbox as
a `release.reported` event, which the hub's ingest applies to the box's rollout
(`hub.releases.rollouts.report_event`: counts towards the halt).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.core.context import BoxContext
from appliance.core.db import open_database, write_txn
from appliance.sync import outbox
from appliance.updates.install import install, remove_partials
from appliance.updates.layout import (
    Layout,
    fsync_dir,
    point_current,
    read_state,
    write_atomic,
    write_state,
)
from firmware_config.schema import BoxConfig
from posdomain.contract import EventType
from posdomain.releases import verify_artifact

HEALTH_TIMEOUT_S = 120.0
Step = Callable[[str], None]


def _quiet(_name: str) -> None:
    return None


def open_shift(db_path: str) -> bool:
    """True if the till database holds an open shift (no update then)."""
    if not Path(db_path).is_file():
        return False
    conn = sqlite3.connect(db_path)
    try:
        exists = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='shifts'"
        ).fetchone()
        if not exists:
            return False
        row = conn.execute("SELECT count(*) FROM shifts WHERE state = 'open'").fetchone()
        return int(row[0]) > 0
    finally:
        conn.close()


def snapshot_db(db_path: str, target: Path) -> Path:
    """A consistent copy of the database (VACUUM INTO a .partial, fsync, rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("VACUUM INTO ?", (str(partial),))
    finally:
        conn.close()
    with partial.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, target)
    fsync_dir(target.parent)
    return target


def restore_db(backup: Path, db_path: str) -> None:
    """Put the snapshot back in place of the database (idempotent: boot may redo it)."""
    db = Path(db_path)
    for suffix in ("-wal", "-shm"):  # a stale WAL must never be replayed onto the snapshot
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    tmp = db.with_name(db.name + ".restore")
    shutil.copyfile(backup, tmp)
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, db)
    fsync_dir(db.parent)


def run_health(layout: Layout, name: str, config_path: Path, timeout: float) -> dict[str, Any]:
    """The new release's health gate in its own process (its packages first on the path)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(layout.site(name))
    argv = [sys.executable, "-m", "appliance.updates", "health", "--config", str(config_path)]
    try:
        done = subprocess.run(
            argv, cwd=layout.release(name), env=env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"ok": False, "failed": "timeout", "checks": {}}
    try:
        report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"ok": False, "failed": "start", "checks": {"start": {"ok": False, "detail": tail}}}
    return report


def write_report(layout: Layout, report: dict[str, Any]) -> Path:
    """Store an update report for the hub (reports/<time>-<artifact>.json)."""
    layout.reports.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = layout.reports / f"{stamp}-{report['artifact']}.json"
    write_atomic(path, json.dumps(report, sort_keys=True, indent=2).encode())
    return path


def queue_report(config: BoxConfig, report: dict[str, Any]) -> bool:
    """Put the report in the box's outbox as a `release.reported` event: it reaches the hub
    like a sale does (exactly once, after the hub's ack), offline too. False without a DB."""
    if not Path(config.database_path).is_file():
        return False
    payload = {k: report.get(k) for k in ("artifact", "outcome", "reason", "checks")}
    payload["checks"] = payload["checks"] or {}
    db = open_database(config.database_path)
    try:
        with db.connection_context(), write_txn():
            outbox.enqueue(BoxContext(config), EventType.RELEASE_REPORTED, payload)
    finally:
        db.close()
    return True


def _finish(layout: Layout, config: BoxConfig, report: dict[str, Any]) -> None:
    write_report(layout, report)
    queue_report(config, report)


def _reason(health: dict[str, Any]) -> str:
    failed = health.get("failed") or "unknown"
    detail = (health.get("checks") or {}).get(failed, {}).get("detail", "")
    return f"health:{failed}: {detail}"[:200]


def _roll_back(layout: Layout, state: dict[str, Any], db_path: str, step: Step) -> None:
    step("restore")
    backup = state.get("db_backup")
    if backup and Path(backup).is_file():
        restore_db(Path(backup), db_path)
    step("switch_back")
    previous = state.get("previous")
    if previous:
        point_current(layout, previous)
    else:
        layout.current.unlink(missing_ok=True)
    step("mark_rolled_back")
    write_state(layout, {"good": previous, "pending": None, "previous": None,
                         "last_failed": state.get("pending"), "phase": "rolled_back"})  # fmt: skip
    if backup:
        Path(backup).unlink(missing_ok=True)


def boot(layout: Layout, config: BoxConfig) -> dict[str, Any]:
    """Recover from an interrupted update; return what `current` boots and what happened."""
    layout.root.mkdir(parents=True, exist_ok=True)
    if layout.releases.is_dir():
        remove_partials(layout)
    for stale in layout.backups.glob("*.partial"):
        stale.unlink(missing_ok=True)
    state = read_state(layout)
    pending = state.get("pending")
    if pending:
        _roll_back(layout, state, config.database_path, _quiet)
        why = "interrupted: the update did not finish"
        _finish(
            layout,
            config,
            {"artifact": pending, "outcome": "ROLLED_BACK", "reason": why, "checks": {}},
        )
        return {"current": layout.current_name(), "recovered": pending}
    good = state.get("good")
    if good and layout.current_name() != good and layout.release(good).is_dir():
        point_current(layout, good)
    return {"current": layout.current_name(), "recovered": None}


def update(
    layout: Layout,
    artifact: Path,
    config_path: Path,
    config: BoxConfig,
    *,
    on_step: Step = _quiet,
    health_timeout: float = HEALTH_TIMEOUT_S,
) -> dict[str, Any]:
    """Update to `artifact` (the first install when nothing runs yet); the report."""
    boot(layout, config)
    on_step("verify")
    manifest, checksum = verify_artifact(artifact)
    running = layout.current_name()
    name = manifest.name
    if running == name:
        return {"artifact": name, "outcome": "GOOD", "reason": "already running", "checks": {}}
    on_step("shift_check")
    if open_shift(config.database_path):
        refused = {"artifact": name, "outcome": "REFUSED", "reason": "open shift", "checks": {}}
        _finish(layout, config, refused)
        return refused
    report: dict[str, Any]
    on_step("install")
    install(layout, artifact, manifest)
    on_step("snapshot")
    backup = None
    if Path(config.database_path).is_file():
        backup = str(snapshot_db(config.database_path, layout.backups / f"{name}.sqlite3"))
    on_step("prepare")
    state: dict[str, Any] = {
        "good": running,
        "pending": name,
        "previous": running,
        "db_backup": backup,
        "checksum": checksum,
        "phase": "switching",
    }
    write_state(layout, state)
    on_step("switch")
    point_current(layout, name)
    on_step("health")
    health = run_health(layout, name, config_path, health_timeout)
    if health.get("ok"):
        on_step("mark_good")
        write_state(layout, {"good": name, "pending": None, "previous": running, "phase": "good"})
        if backup:
            Path(backup).unlink(missing_ok=True)
        report = {"artifact": name, "outcome": "GOOD", "reason": None, "checks": health["checks"]}
    else:
        _roll_back(layout, state, config.database_path, on_step)
        report = {"artifact": name, "outcome": "ROLLED_BACK", "reason": _reason(health),
                  "checks": health.get("checks", {})}  # fmt: skip
    _finish(layout, config, report)
    return report
