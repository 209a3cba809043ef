"""Box backups and the box restore drill (FR-700, NFR-004): VACUUM INTO, verified, kept N."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.core.context import BoxContext
from appliance.ops import backups, drill, jobs
from appliance.ops.snapshot import facts
from firmware_config.schema import BoxConfig
from scripts.testkit.waiting import wait_until
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_checkout import pay

ROOT = Path(__file__).resolve().parents[3]


def sell(cashier: FlaskClient, n: int = 1) -> None:
    """Complete n one-line cash sales."""
    for _ in range(n):
        add(cashier, MILK)
        assert pay(cashier).status_code == 200


def live_facts(config: BoxConfig) -> dict:
    """Counts and marks of the live database."""
    return facts(Path(config.database_path))


def write_config(config: BoxConfig, tmp_path: Path) -> Path:
    """The config as a file for `python -m appliance`."""
    path = tmp_path / "box.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    return path


def cli(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m appliance <args> --config F` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args, "--config", str(config_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.req("FR-700", "NFR-004")
@pytest.mark.usefixtures("shift_open")
def test_backup_is_exact_and_the_drill_proves_it(
    box_config: BoxConfig, box_db: SqliteDatabase, cashier: FlaskClient
) -> None:
    sell(cashier, 3)
    with box_db.connection_context():
        summary = jobs.backup_now(BoxContext(box_config))
    info = backups.latest(box_config)
    assert info is not None
    assert info.path.name == summary["file"]
    live = live_facts(box_config)
    # the backup is the live database as it was (the backup's own audit entry came after)
    assert info.manifest["counts"]["sales"] == live["counts"]["sales"] == 3
    assert info.manifest["outbox"]["last_seq"] == live["outbox"]["last_seq"] - 1
    assert info.manifest["integrity"] == "ok"
    assert info.manifest["audit"]["ok"] is True
    report = drill.restore_drill(box_config)
    assert report["ok"] is True, report
    assert {c["check"] for c in report["checks"]} >= {
        "sha256",
        "integrity_check",
        "row_counts",
        "audit_chain",
        "ledger_sums",
        "last_seq",
        "rto",
        "rpo",
    }
    assert report["last_seq"] == info.manifest["outbox"]["last_seq"]
    stored = list((backups.backup_dir(box_config) / "drills").glob("drill-*.json"))
    assert len(stored) == 1
    assert json.loads(stored[0].read_text())["ok"] is True


@pytest.mark.req("FR-700", "NFR-004")
@pytest.mark.usefixtures("shift_open")
def test_drill_fails_on_a_damaged_or_mismatched_backup(
    box_config: BoxConfig, box_db: SqliteDatabase, cashier: FlaskClient, tmp_path: Path
) -> None:
    sell(cashier, 2)
    info = backups.run_backup(box_config)
    manifest = dict(info.manifest)
    manifest["counts"] = {**manifest["counts"], "sales": manifest["counts"]["sales"] + 1}
    info.manifest_path.write_text(json.dumps(manifest))  # a sale the file does not hold
    report = drill.restore_drill(box_config)
    assert report["ok"] is False
    failed = {c["check"] for c in report["checks"] if not c["ok"]}
    assert failed == {"row_counts"}
    # a flipped byte in the file: the copy no longer matches its sha256
    info2 = backups.run_backup(box_config)
    raw = bytearray(info2.path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    info2.path.write_bytes(bytes(raw))
    report2 = drill.restore_drill(box_config)
    assert report2["ok"] is False
    assert "sha256" in {c["check"] for c in report2["checks"] if not c["ok"]}
    done = cli(write_config(box_config, tmp_path), "restore-drill")
    assert done.returncode == 3, done.stdout + done.stderr


@pytest.mark.req("FR-700")
def test_retention_keeps_the_newest(box_config: BoxConfig, box_db: SqliteDatabase) -> None:
    config = box_config.model_copy(update={"backup_keep": 2})
    made = [backups.run_backup(config) for _ in range(4)]
    kept = backups.complete_backups(config)
    assert [b.path.name for b in kept] == [m.path.name for m in made[-2:]]
    assert not made[0].path.exists()
    assert not made[0].manifest_path.exists()


@pytest.mark.req("FR-700", "NFR-004")
def test_backup_completes_while_the_till_writes(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    stop = threading.Event()
    written = []

    def writer() -> None:
        with contextlib.closing(sqlite3.connect(box_config.database_path, timeout=10)) as conn:
            while not stop.is_set():
                with conn:
                    conn.execute(
                        "INSERT INTO scan_events (code, source, created_at) VALUES (?, ?, ?)",
                        ("4000000000013", "test", "2026-01-01T00:00:00+00:00"),
                    )
                written.append(1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_until(lambda: len(written) > 20)
        infos = [backups.run_backup(box_config) for _ in range(3)]
    finally:
        stop.set()
        thread.join(10)
    counts = [i.manifest["counts"]["scan_events"] for i in infos]
    assert counts == sorted(counts)
    assert counts[-1] > 0
    assert live_facts(box_config)["counts"]["scan_events"] == len(written)
    assert drill.restore_drill(box_config)["ok"] is True


@pytest.mark.req("FR-700", "NFR-004")
@pytest.mark.slow
@pytest.mark.usefixtures("shift_open")
def test_sigkill_mid_backup_leaves_the_last_backup_and_the_live_db_intact(
    box_config: BoxConfig, box_db: SqliteDatabase, cashier: FlaskClient, tmp_path: Path
) -> None:
    sell(cashier, 2)
    config_path = write_config(box_config, tmp_path)
    first = cli(config_path, "backup")
    assert first.returncode == 0, first.stderr
    previous = backups.latest(box_config)
    assert previous is not None
    # ballast so that VACUUM INTO takes long enough to be caught writing
    with contextlib.closing(sqlite3.connect(box_config.database_path)) as conn, conn:
        conn.execute("CREATE TABLE ballast (b BLOB)")
        conn.executemany("INSERT INTO ballast VALUES (randomblob(1048576))", [()] * 300)
    before = live_facts(box_config)
    folder = backups.backup_dir(box_config)
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance", "backup", "--config", str(config_path)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: any(p.stat().st_size > 1 << 20 for p in folder.glob("*.part")), timeout=60
        )
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert list(folder.glob("*.part"))  # killed in the middle: only a partial file
    assert [b.path.name for b in backups.complete_backups(box_config)] == [previous.path.name]
    assert backups.sha256_of(previous.path) == previous.manifest["sha256"]
    after = live_facts(box_config)
    assert after["integrity"] == "ok"
    assert after["counts"] == before["counts"]
    assert after["audit"]["ok"] is True
    assert drill.restore_drill(box_config, previous)["checks"][0]["ok"] is True
    again = cli(config_path, "backup")  # the next run cleans up and succeeds
    assert again.returncode == 0, again.stderr
    assert not list(folder.glob("*.part"))
    assert len(backups.complete_backups(box_config)) == 2
