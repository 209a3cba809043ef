"""`python -m hub backup` and `python -m hub restore-drill` as an operator runs them (FR-700),
and the scheduler's job table (every operations job registered once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.ops import scheduler
from hub.settings import load_settings
from tests.hub.ops_helpers import private_hub

pytestmark = [pytest.mark.pg]
ROOT = Path(__file__).resolve().parents[2]


def _hub(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.req("FR-700", "NFR-004")
@pytest.mark.slow
def test_backup_and_restore_drill_commands(pg_admin_dsn, tmp_path):
    with private_hub(pg_admin_dsn) as urls:
        _commands(urls, tmp_path)


def _commands(hub_urls: tuple[str, str], tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CFPOS_HUB_DATABASE_URL": hub_urls[1],
        "CFPOS_HUB_ADMIN_DATABASE_URL": hub_urls[0],
        "CFPOS_BACKUP_DIR": str(tmp_path),
    }
    backup = _hub(["backup"], env)
    assert backup.returncode == 0, backup.stderr
    assert json.loads(backup.stdout)["status"] == "ok"
    drill = _hub(["restore-drill"], env)
    assert drill.returncode == 0, drill.stderr
    report = json.loads(drill.stdout)
    assert report["ok"] is True
    assert report["rto_target_seconds"] == 1800
    assert report["rpo_target_seconds"] == 900
    refused = _hub(["restore"], env)
    assert refused.returncode == 2  # replacing the database needs --yes
    assert "--yes" in refused.stderr


@pytest.mark.req("FR-500", "FR-501", "FR-700", "FR-701")
def test_scheduler_registers_every_job_once():
    built = scheduler.build(load_settings())
    ids = sorted(job.id for job in built.get_jobs())
    assert ids == sorted(
        [
            "deliver_alerts",
            "deliver_webhooks",
            "evaluate_alerts",
            "score_risk",
            "audit_expired_modes",
            "republish_down",
            "backup",
            "restore_drill",
            "purge_retention",
            "report_partitions",
        ]
    )
    assert all(job.max_instances == 1 for job in built.get_jobs())
