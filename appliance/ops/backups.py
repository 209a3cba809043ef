"""Box backups (FR-700, NFR-004): `VACUUM INTO` while the till sells, verified, with retention.

`VACUUM INTO` writes a consistent copy from one read transaction; in WAL mode the till keeps
selling meanwhile (SQLite's online backup API restarts whenever another connection writes,
so a busy till may never finish it: PITFALLS). Each backup is written as `<name>.part`,
synced, checked (`PRAGMA integrity_check`, audit chain) and only then renamed; its manifest
(`<name>.json`: sha256, counts per table, last outbox seq, audit head, ledger sums) is
written last, by rename. A backup without a manifest does not exist: a process killed
mid-backup leaves at most a `.part` file, removed by the next run, and never touches the
previous backups or the live database. The newest `backup_keep` backups are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.ops.snapshot import facts
from firmware_config.schema import BoxConfig
from posdomain.obs import log_event

log = logging.getLogger(__name__)
SUFFIX = ".sqlite3"


class BackupError(RuntimeError):
    """A backup could not be written or did not verify (nothing was kept of it)."""


@dataclass(frozen=True)
class BackupInfo:
    """One complete backup: the file, its manifest and when its snapshot was taken."""

    path: Path
    manifest_path: Path
    created_at: str
    manifest: dict[str, Any]


def backup_dir(config: BoxConfig) -> Path:
    """Where this box keeps its backups (`backups/` beside the database by default)."""
    if config.backup_dir:
        return Path(config.backup_dir)
    return Path(config.database_path).resolve().parent / "backups"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, body: dict[str, Any]) -> None:
    """Write a JSON file atomically (temp file, fsync, rename, fsync the folder)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
    _fsync(tmp)
    tmp.replace(path)
    _fsync(path.parent)


def _vacuum_into(database: Path, target: Path) -> None:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("VACUUM INTO ?", (str(target),))


def complete_backups(config: BoxConfig) -> list[BackupInfo]:
    """Every backup with a manifest and its file, oldest first."""
    folder = backup_dir(config)
    found = []
    for manifest_path in sorted(folder.glob(f"box-*{SUFFIX}.json")):
        data_path = manifest_path.with_suffix("")
        if not data_path.exists():
            continue
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        found.append(BackupInfo(data_path, manifest_path, str(manifest["created_at"]), manifest))
    return sorted(found, key=lambda b: b.created_at)


def latest(config: BoxConfig) -> BackupInfo | None:
    """The newest complete backup, if any."""
    done = complete_backups(config)
    return done[-1] if done else None


def _remove_partials(folder: Path) -> list[str]:
    removed = []
    for part in folder.glob("*.part"):
        part.unlink(missing_ok=True)
        removed.append(part.name)
    return removed


def _prune(config: BoxConfig) -> list[str]:
    done = complete_backups(config)
    removed = []
    for old in done[: max(0, len(done) - config.backup_keep)]:
        old.manifest_path.unlink(missing_ok=True)  # first: without it the file is no backup
        old.path.unlink(missing_ok=True)
        removed.append(old.path.name)
    return removed


def run_backup(config: BoxConfig, now: datetime | None = None) -> BackupInfo:
    """Write, verify and keep one backup of the live box database; prune old ones."""
    folder = backup_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    stale = _remove_partials(folder)
    moment = now or datetime.now(UTC)
    name = f"box-{config.box_id}-{moment.strftime('%Y%m%dT%H%M%S%fZ')}{SUFFIX}"
    final = folder / name
    part = folder / (name + ".part")
    try:
        _vacuum_into(Path(config.database_path), part)
        _fsync(part)
        found = facts(part)
    except (sqlite3.Error, OSError) as err:
        part.unlink(missing_ok=True)
        raise BackupError(f"backup failed: {err}") from err
    if found["integrity"] != "ok" or not found["audit"]["ok"]:
        part.unlink(missing_ok=True)
        raise BackupError(f"backup did not verify: {found['integrity']}, {found['audit']}")
    part.replace(final)
    _fsync(folder)
    manifest = {
        "box_id": config.box_id,
        "file": name,
        "created_at": moment.isoformat(),
        "bytes": final.stat().st_size,
        "sha256": sha256_of(final),
        **found,
    }
    manifest_path = final.with_name(final.name + ".json")
    write_json(manifest_path, manifest)
    pruned = _prune(config)
    log_event(
        log,
        "box backup written",
        file=name,
        bytes=manifest["bytes"],
        last_seq=found["outbox"]["last_seq"],
        pruned=len(pruned),
        stale_parts=len(stale),
    )
    return BackupInfo(final, manifest_path, manifest["created_at"], manifest)


def due(config: BoxConfig, now: datetime | None = None) -> bool:
    """True when no backup is newer than the configured interval."""
    newest = latest(config)
    if newest is None:
        return True
    age = (now or datetime.now(UTC)) - datetime.fromisoformat(newest.created_at)
    return age.total_seconds() >= config.backup_interval_minutes * 60
