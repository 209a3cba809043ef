"""`python -m hub scheduler`: runs the operations jobs on their schedules (APScheduler).

APScheduler (3.x, `BlockingScheduler`, in-memory job store) was chosen over a hand-written
loop: interval and cron triggers, coalescing of missed runs and `max_instances=1` per job
come tested. Run exactly one scheduler per hub (the jobs are idempotent and the delivery
worker locks rows, so a second one would only waste work). Jobs:

| job | every | what |
|---|---|---|
| deliver_alerts | 5 s | send due alert deliveries (retries with backoff) |
| deliver_webhooks | 5 s | send due business-webhook deliveries of integrations (FR-P7-1010) |
| evaluate_alerts | 30 s | every alert rule, then incidents for CRITICAL alerts |
| score_risk | 15 min | risk scores and their alerts |
| republish_down | 1 min | republish down messages (expired risk modes reach boxes) |
| backup | CFPOS_BACKUP_INTERVAL_MINUTES | pg_dump with retention |
| restore_drill | daily 03:30 UTC | restore the newest backup into scratch and verify |
| purge_retention | daily 04:15 UTC | purge past retention, skipping legal holds (FR-P7-1016) |
| report_partitions | daily 02:45 UTC | sale-line partitions 24 months ahead (hub/reports) |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.ops import backups, jobs, restore_drill
from hub.reports import partitions
from hub.settings import HubSettings


def job_table(cfg: HubSettings) -> list[tuple[str, Callable[[], Any], Any]]:
    """(name, function, trigger) of every scheduled job."""
    admin = cfg.hub_admin_database_url or cfg.hub_database_url
    return [
        ("deliver_alerts", lambda: jobs.deliver_alerts(cfg), IntervalTrigger(seconds=5)),
        ("deliver_webhooks", lambda: jobs.deliver_webhooks(cfg), IntervalTrigger(seconds=5)),
        ("evaluate_alerts", jobs.evaluate_alerts, IntervalTrigger(seconds=30)),
        ("score_risk", jobs.score_risk, IntervalTrigger(minutes=15)),
        ("audit_expired_modes", jobs.audit_expired_modes, IntervalTrigger(minutes=1)),
        ("republish_down", lambda: jobs.republish_risk(cfg), IntervalTrigger(minutes=1)),
        (
            "backup",
            lambda: backups.run_backup(admin, cfg.backup_dir, cfg.backup_keep),
            IntervalTrigger(minutes=cfg.backup_interval_minutes),
        ),
        (
            "restore_drill",
            lambda: restore_drill.restore_drill(
                admin, cfg.rto_target_seconds, cfg.rpo_target_seconds
            ),
            CronTrigger(hour=3, minute=30, timezone="UTC"),
        ),
        ("purge_retention", jobs.purge_retention, CronTrigger(hour=4, minute=15, timezone="UTC")),
        (
            "report_partitions",
            lambda: partitions.ensure(admin),
            CronTrigger(hour=2, minute=45, timezone="UTC"),
        ),
    ]


def build(cfg: HubSettings) -> BlockingScheduler:
    """A scheduler with every job registered (one instance each, missed runs coalesced)."""
    scheduler = BlockingScheduler(timezone="UTC")
    for name, func, trigger in job_table(cfg):
        scheduler.add_job(func, trigger, id=name, name=name, max_instances=1, coalesce=True)
    return scheduler
