"""`python -m hub backup` and `python -m hub restore-drill` as an operator runs them (FR-700),
and the scheduler's job table (every operations job registered once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg2
import pytest

from hub.ops import scheduler
from hub.reports import partitions
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


@pytest.mark.req("NFR-001", "FR-600")
def test_report_partitions_command_runs_the_job_once(pg_admin_dsn):
    with private_hub(pg_admin_dsn) as (admin_url, app_url):
        env = {
            **os.environ,
            "CFPOS_HUB_DATABASE_URL": app_url,
            "CFPOS_HUB_ADMIN_DATABASE_URL": admin_url,
        }
        first = _hub(["report-partitions"], env)
        assert first.returncode == 0, first.stderr
        done = json.loads(first.stdout)
        assert done["moved"] == 0
        conn = psycopg2.connect(admin_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT relname FROM pg_class WHERE relkind = 'r'")
                have = {r[0] for r in cur.fetchall()}
        finally:
            conn.close()
        # every month from now to 24 ahead exists after the command, whoever created it
        assert {name for name, _, _ in partitions.months_ahead(date.today())} <= have
        again = _hub(["report-partitions"], env)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout) == {"created": [], "moved": 0}
