"""The box restore drill (FR-700, NFR-004): restore a backup into a scratch file and prove it.

Checks, like the hub's drill: the copy's sha256 = the manifest's, `PRAGMA integrity_check`
ok, row counts per table = manifest, the audit chain verifies with the manifest's head, the
stock ledger sums per product = manifest, the outbox is gap-free (rows = last seq, next
seq = last + 1) with the manifest's last seq. RTO = copy start to checks done, against
RTO_TARGET_SECONDS; RPO = age of the restored snapshot, against the backup interval. The
scratch file is deleted; the report is kept as JSON in `<backup dir>/drills/`.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.ops.backups import BackupInfo, backup_dir, latest, sha256_of, write_json
from appliance.ops.snapshot import facts
from firmware_config.schema import BoxConfig

RTO_TARGET_SECONDS = 1800.0


def _checks(backup: BackupInfo, copy_sha: str, found: dict[str, Any]) -> list[dict[str, Any]]:
    manifest = backup.manifest
    out = found["outbox"]
    audit = found["audit"]

    def check(name: str, ok: bool, detail: Any) -> dict[str, Any]:
        return {"check": name, "ok": bool(ok), "detail": detail}

    return [
        check("sha256", copy_sha == manifest["sha256"], copy_sha),
        check("integrity_check", found["integrity"] == "ok", found["integrity"]),
        check(
            "row_counts",
            found["counts"] == manifest["counts"],
            {k: v for k, v in found["counts"].items() if manifest["counts"].get(k) != v},
        ),
        check(
            "audit_chain",
            audit["ok"] and audit["head_hash"] == manifest["audit"]["head_hash"],
            {"entries": audit["entries"], "problems": audit["problems"]},
        ),
        check("ledger_sums", found["ledger"] == manifest["ledger"], len(found["ledger"])),
        check(
            "last_seq",
            out["last_seq"] == manifest["outbox"]["last_seq"] == out["rows"]
            and out["next_seq"] == out["last_seq"] + 1,
            out,
        ),
    ]


def _unreadable(backup: BackupInfo, copy_sha: str, error: str) -> dict[str, Any]:
    sha_ok = copy_sha == backup.manifest["sha256"]
    return {
        "ok": False,
        "backup": backup.path.name,
        "error": "UNREADABLE",
        "checks": [
            {"check": "sha256", "ok": sha_ok, "detail": copy_sha},
            {"check": "integrity_check", "ok": False, "detail": error},
        ],
    }


def restore_drill(
    config: BoxConfig, backup: BackupInfo | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Restore `backup` (default: the newest) into a scratch file, check it, store the report."""
    chosen = backup or latest(config)
    if chosen is None:
        return {"ok": False, "error": "NO_BACKUP", "checks": []}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cfpos-box-drill-") as scratch:
        target = Path(scratch) / "restored.sqlite3"
        shutil.copyfile(chosen.path, target)
        copy_sha = sha256_of(target)
        try:
            found = facts(target)
        except sqlite3.DatabaseError as err:  # not even a database any more
            return _unreadable(chosen, copy_sha, str(err))
        checks = _checks(chosen, copy_sha, found)
    rto = time.monotonic() - started
    moment = now or datetime.now(UTC)
    rpo = (moment - datetime.fromisoformat(chosen.created_at)).total_seconds()
    rpo_target = config.backup_interval_minutes * 60.0
    checks.append({"check": "rto", "ok": rto <= RTO_TARGET_SECONDS, "detail": round(rto, 3)})
    checks.append({"check": "rpo", "ok": rpo <= rpo_target, "detail": round(rpo, 1)})
    report = {
        "ok": all(c["ok"] for c in checks),
        "backup": chosen.path.name,
        "drilled_at": moment.isoformat(),
        "rto_seconds": round(rto, 3),
        "rto_target_seconds": RTO_TARGET_SECONDS,
        "rpo_seconds": round(rpo, 1),
        "rpo_target_seconds": rpo_target,
        "rows": sum(found["counts"].values()),
        "last_seq": found["outbox"]["last_seq"],
        "checks": checks,
    }
    folder = backup_dir(config) / "drills"
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / f"drill-{moment.strftime('%Y%m%dT%H%M%S%fZ')}.json", report)
    return report
