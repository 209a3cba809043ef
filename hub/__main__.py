"""Hub command line: `python -m hub migrate|seed-demo|serve|ingest|publish-down|...`."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.app import create_app
from hub.boxes import broker_acl, registry
from hub.compliance import export
from hub.core import db as hub_db
from hub.core import heap
from hub.core.models import utcnow
from hub.demo.seed import seed_demo
from hub.governance import audit
from hub.loyalty import jobs as loyalty_jobs
from hub.migrate import migrate
from hub.ops import backups, jobs, restore, restore_drill, scheduler
from hub.releases import artifacts
from hub.reports import partitions
from hub.settings import HubSettings, SettingsError, load_settings
from hub.sync import downlink, resend
from hub.sync.partition import Partition
from hub.sync.worker import IngestWorker
from posdomain.obs import configure_logging, log_event
from posdomain.permissions import Principal, Role

log = logging.getLogger("hub.cli")
OPS_ONCE = (
    "alerts-evaluate",
    "alerts-deliver",
    "webhooks-deliver",
    "risk-score",
    "retention-purge",
    "risk-expire-audit",
    "report-partitions",
)


def cmd_migrate(cfg: HubSettings) -> int:
    """Apply pending migrations with the admin DSN."""
    applied = migrate(cfg.hub_admin_database_url or cfg.hub_database_url)
    print(json.dumps({"applied": applied}))
    return 0


def cmd_seed(cfg: HubSettings) -> int:
    """Seed the demo data and publish the down messages; print the summary JSON."""
    hub_db.bind(cfg.hub_database_url)
    summary = seed_demo()
    summary["down_published"] = downlink.publish_all(*cfg.mqtt_host_port()) > 0
    print(json.dumps(summary, indent=2))
    return 0


def cmd_serve(cfg: HubSettings, host: str, port: int) -> int:
    """Flask dev server (use gunicorn in production)."""
    create_app().run(host=host, port=port, threaded=True)
    return 0


def cmd_ingest(cfg: HubSettings) -> int:
    """Run the MQTT ingest worker until interrupted."""
    hub_db.bind(cfg.hub_database_url)
    (host, port), *failover = cfg.mqtt_endpoints()
    partition = Partition.parse(cfg.ingest_partition) if cfg.ingest_partition else None
    worker = IngestWorker(
        host,
        port,
        client_id=partition.client_id(cfg.ingest_client_id) if partition else cfg.ingest_client_id,
        releases_dir=cfg.releases_dir,
        shared_group=cfg.ingest_shared_group,
        failover=failover,
        partition=partition,
        partition_refresh=cfg.ingest_partition_refresh,
        partition_stale=cfg.ingest_partition_stale,
        run_batches=cfg.ingest_run_batches,
    )
    # stopped on purpose: its status is cleared (SIGKILL: the broker publishes its last will);
    # on a thread of its own: the handler may interrupt paho holding a lock `leave` needs
    signal.signal(
        signal.SIGTERM,
        lambda _sig, _frame: threading.Thread(target=worker.leave, daemon=True).start(),
    )
    # start-up's heap frozen, batches left to reference counting (hub/core/heap.py)
    heap.settle()
    worker.run_forever()
    return 0


def cmd_publish_down(cfg: HubSettings) -> int:
    """Republish every box's retained down messages."""
    hub_db.bind(cfg.hub_database_url)
    print(json.dumps({"tenants_published": downlink.publish_all(*cfg.mqtt_host_port())}))
    return 0


def cmd_verify_audit(cfg: HubSettings, write_checkpoint: bool) -> int:
    """Verify every chain (and its checkpoint); exit 2 if broken."""
    hub_db.bind(cfg.hub_database_url)
    key = cfg.checkpoint_key.encode()
    cp_dir = str(cfg.hub_checkpoint_dir) if cfg.hub_checkpoint_dir else None
    state = audit.startup_validation(cp_dir, key)
    written = audit.write_checkpoints(cp_dir, key) if write_checkpoint and cp_dir else []
    print(json.dumps({"ok": not state.locked, "broken": state.broken, "checkpoints": written}))
    return 2 if state.locked else 0


def cmd_loyalty_jobs(cfg: HubSettings, every: float | None) -> int:
    """Points expiry and tier recalculation for every tenant (once, or every N seconds)."""
    hub_db.bind(cfg.hub_database_url)
    while True:
        results = loyalty_jobs.run_all()
        print(json.dumps({"tenants": results}))
        changed = [
            r["tenant_id"] for r in results if r["expired"]["customers"] or r["tiers"]["changed"]
        ]
        for tenant_id in changed:  # tier changes and expiries reach the boxes' card directory
            downlink.publish_tenant(*cfg.mqtt_host_port(), tenant_id)
        if not every:
            return 0
        time.sleep(every)


def cmd_mqtt_config(cfg: HubSettings, args: argparse.Namespace) -> int:
    """Write Mosquitto passwd/acl/conf for every enrolled box (NFR-005); SIGHUP the broker."""
    hub_db.bind(cfg.hub_database_url)
    users = registry.broker_users()
    written = broker_acl.write_broker_files(
        Path(args.out).resolve(), users, utcnow(), port=args.port, bind=args.bind
    )
    print(json.dumps(written))
    return 0


def cmd_backup(cfg: HubSettings) -> int:
    """Take one hub backup now (pg_dump, retention)."""
    hub_db.bind(cfg.hub_database_url)
    admin = cfg.hub_admin_database_url or cfg.hub_database_url
    print(json.dumps(backups.run_backup(admin, cfg.backup_dir, cfg.backup_keep), indent=2))
    return 0


def cmd_restore_drill(cfg: HubSettings) -> int:
    """Restore the newest backup into scratch, verify, report RTO/RPO; exit 3 if not ok."""
    hub_db.bind(cfg.hub_database_url)
    admin = cfg.hub_admin_database_url or cfg.hub_database_url
    report = restore_drill.restore_drill(admin, cfg.rto_target_seconds, cfg.rpo_target_seconds)
    jobs.evaluate_alerts()  # RESTORE_DRILL_OVER_TARGET right away, not at the next pass
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 3


def cmd_restore(cfg: HubSettings, args: argparse.Namespace) -> int:
    """Replace the hub database with a backup, then ask every box to resend (NFR-004)."""
    if not args.yes:
        print("hub: restore replaces the hub database; pass --yes", file=sys.stderr)
        return 2
    admin = cfg.hub_admin_database_url or cfg.hub_database_url
    hub_db.bind(cfg.hub_database_url)
    backup_id, path = restore.pick_backup(args.backup)
    hub_db.disconnect_all()
    done = restore.restore_database(admin, path)
    done["resend"] = resend.record_restore()
    done["down_published"] = downlink.publish_all(*cfg.mqtt_host_port())
    done["backup_id"] = backup_id
    print(json.dumps(done, indent=2))
    return 0


def cmd_scheduler(cfg: HubSettings) -> int:
    """Run the operations jobs on their schedules until interrupted."""
    hub_db.bind(cfg.hub_database_url)
    scheduler.build(cfg).start()
    return 0


def cmd_ops_once(cfg: HubSettings, which: str) -> int:
    """Run one operations job once (alerts, webhooks, risk, retention, report partitions)."""
    hub_db.bind(cfg.hub_database_url)
    runs: dict[str, Callable[[], Any]] = {
        "alerts-evaluate": jobs.evaluate_alerts,
        "alerts-deliver": lambda: jobs.deliver_alerts(cfg),
        "webhooks-deliver": lambda: jobs.deliver_webhooks(cfg),
        "retention-purge": jobs.purge_retention,
        "risk-score": jobs.score_risk,
        "risk-expire-audit": jobs.audit_expired_modes,
        "report-partitions": lambda: partitions.ensure(
            cfg.hub_admin_database_url or cfg.hub_database_url
        ),
    }
    print(json.dumps(runs[which](), indent=2, default=str))
    return 0


def cmd_compliance_export(cfg: HubSettings, tenant_id: str, out: Path) -> int:
    """Write a tenant's signed compliance export to a tar file (audited like the API's)."""
    hub_db.bind(cfg.hub_database_url)
    # audited in the tenant's own chain, as the operator's command line
    who = Principal(kind="system", id="cli", role=Role.TENANT_OWNER, tenant_id=tenant_id)
    chunks = export.tenant_export(
        who, tenant_id, cfg.checkpoint_key.encode(), cfg.compliance_export_max_rows
    )
    with out.open("wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
            fh.flush()
    print(json.dumps({"tenant_id": tenant_id, "out": str(out), "bytes": out.stat().st_size}))
    return 0


RELEASE_CLI = Principal(
    kind="system", id="release-cli", role=Role.APPLICATION_OWNER, tenant_id=None
)


def cmd_release_publish(cfg: HubSettings, source: Path) -> int:
    """Verify an artifact built by `just build` and publish it into the hub's store."""
    hub_db.bind(cfg.hub_database_url)
    print(json.dumps(artifacts.publish(RELEASE_CLI, source, cfg.releases_dir), indent=2))
    return 0


def cmd_release_prune(cfg: HubSettings) -> int:
    """Apply artifact retention (last 30 PROD, open incident windows, running rollouts)."""
    hub_db.bind(cfg.hub_database_url)
    print(json.dumps(artifacts.prune(cfg.releases_dir), indent=2))
    return 0


def _parser(cfg: HubSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hub")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in (
        "migrate",
        "seed-demo",
        "ingest",
        "publish-down",
        "backup",
        "restore-drill",
        "scheduler",
        *OPS_ONCE,
    ):
        sub.add_parser(name)
    restore_cmd = sub.add_parser("restore", help="replace the hub database with a backup")
    restore_cmd.add_argument("--backup", default=None, help="backup id (default: newest good)")
    restore_cmd.add_argument("--yes", action="store_true", help="really replace the database")
    serve = sub.add_parser("serve")
    serve.add_argument("--host", default=cfg.hub_host)
    serve.add_argument("--port", type=int, default=cfg.hub_port)
    mqtt_cfg = sub.add_parser("mqtt-config", help="Mosquitto password/ACL files per box")
    mqtt_cfg.add_argument("--out", required=True, help="directory for passwd, acl, mosquitto.conf")
    mqtt_cfg.add_argument("--port", type=int, default=1883, help="listener port in the conf")
    mqtt_cfg.add_argument("--bind", default=None, help="listener address (default: all)")
    jobs = sub.add_parser("loyalty-jobs", help="points expiry and tier recalculation")
    jobs.add_argument("--every", type=float, default=None, help="repeat every N seconds")
    exporter = sub.add_parser("compliance-export", help="a tenant's signed compliance export")
    exporter.add_argument("--tenant", required=True)
    exporter.add_argument("--out", required=True, type=Path)
    publish = sub.add_parser("release-publish", help="publish a built release artifact")
    publish.add_argument("artifact", type=Path, help="dist/releases/cfgp-pos-... directory")
    sub.add_parser("release-prune", help="apply release artifact retention")
    verify = sub.add_parser("verify-audit")
    verify.add_argument("--write-checkpoint", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it (exit 2 with a clear message on bad settings)."""
    configure_logging("hub")
    try:
        cfg = load_settings()
    except SettingsError as err:
        print(f"hub: {err}", file=sys.stderr)
        return 2
    args = _parser(cfg).parse_args(argv)
    log_event(log, "hub command", command=args.cmd)
    if args.cmd == "serve":
        return cmd_serve(cfg, args.host, args.port)
    if args.cmd == "mqtt-config":
        return cmd_mqtt_config(cfg, args)
    if args.cmd == "loyalty-jobs":
        return cmd_loyalty_jobs(cfg, args.every)
    if args.cmd == "verify-audit":
        return cmd_verify_audit(cfg, args.write_checkpoint)
    if args.cmd == "restore":
        return cmd_restore(cfg, args)
    if args.cmd == "compliance-export":
        return cmd_compliance_export(cfg, args.tenant, args.out)
    if args.cmd == "release-publish":
        return cmd_release_publish(cfg, args.artifact)
    if args.cmd == "release-prune":
        return cmd_release_prune(cfg)
    if args.cmd in OPS_ONCE:
        return cmd_ops_once(cfg, args.cmd)
    handlers = {
        "migrate": cmd_migrate,
        "seed-demo": cmd_seed,
        "ingest": cmd_ingest,
        "publish-down": cmd_publish_down,
        "backup": cmd_backup,
        "restore-drill": cmd_restore_drill,
        "scheduler": cmd_scheduler,
    }
    return handlers[args.cmd](cfg)


if __name__ == "__main__":
    sys.exit(main())
