"""Hub CLI: migrate | seed-demo | serve | ingest | publish-down | verify-audit | mqtt-config."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any

from hub import db as hub_db
from hub.settings import defaults, mqtt_host_port
from posdomain.obs import configure_logging, log_event

log = logging.getLogger("hub.cli")


def cmd_migrate(cfg: dict[str, Any]) -> int:
    """Apply pending migrations with the admin DSN."""
    from hub.migrate import migrate

    url = cfg["ADMIN_DATABASE_URL"] or cfg["DATABASE_URL"]
    applied = migrate(url)
    print(json.dumps({"applied": applied}))
    return 0


def cmd_seed(cfg: dict[str, Any]) -> int:
    """Seed the demo data and publish the down messages; print the summary JSON."""
    from hub.seed import seed_demo
    from hub.services import downlink

    hub_db.bind(cfg["DATABASE_URL"])
    summary = seed_demo()
    host, port = mqtt_host_port(cfg["MQTT_URL"])
    summary["down_published"] = downlink.publish_all(host, port) > 0
    print(json.dumps(summary, indent=2))
    return 0


def cmd_serve(cfg: dict[str, Any], host: str, port: int) -> int:
    """Flask dev server (use gunicorn in production)."""
    from hub.app import create_app

    create_app().run(host=host, port=port, threaded=True)
    return 0


def cmd_ingest(cfg: dict[str, Any]) -> int:
    """Run the MQTT ingest worker until interrupted."""
    from hub.ingest import IngestWorker

    hub_db.bind(cfg["DATABASE_URL"])
    host, port = mqtt_host_port(cfg["MQTT_URL"])
    client_id = os.environ.get("CFPOS_INGEST_CLIENT_ID", "cfpos-hub-ingest")
    IngestWorker(host, port, client_id=client_id).run_forever()
    return 0


def cmd_publish_down(cfg: dict[str, Any]) -> int:
    """Republish every box's retained down messages."""
    from hub.services import downlink

    hub_db.bind(cfg["DATABASE_URL"])
    host, port = mqtt_host_port(cfg["MQTT_URL"])
    print(json.dumps({"tenants_published": downlink.publish_all(host, port)}))
    return 0


def cmd_verify_audit(cfg: dict[str, Any], write_checkpoint: bool) -> int:
    """Verify every chain (and its checkpoint); exit 2 if broken."""
    from hub.services import audit

    hub_db.bind(cfg["DATABASE_URL"])
    key, cp_dir = str(cfg["AUDIT_CHECKPOINT_KEY"]).encode(), cfg["AUDIT_CHECKPOINT_DIR"]
    state = audit.startup_validation(cp_dir, key)
    written = audit.write_checkpoints(cp_dir, key) if write_checkpoint and cp_dir else []
    print(json.dumps({"ok": not state.locked, "broken": state.broken, "checkpoints": written}))
    return 2 if state.locked else 0


def cmd_mqtt_config(cfg: dict[str, Any], args: argparse.Namespace) -> int:
    """Write Mosquitto passwd/acl/conf for every enrolled box (NFR-005); SIGHUP the broker."""
    from pathlib import Path

    from hub.models import utcnow
    from hub.services import enrolment_boxes, mqtt_acl

    hub_db.bind(cfg["DATABASE_URL"])
    users = enrolment_boxes.broker_users()
    written = mqtt_acl.write_broker_files(
        Path(args.out).resolve(), users, utcnow(), port=args.port, bind=args.bind
    )
    print(json.dumps(written))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it."""
    parser = argparse.ArgumentParser(prog="python -m hub")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("migrate", "seed-demo", "ingest", "publish-down"):
        sub.add_parser(name)
    serve = sub.add_parser("serve")
    serve.add_argument("--host", default=os.environ.get("CFPOS_HUB_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("CFPOS_HUB_PORT", "8000")))
    mqtt_cfg = sub.add_parser("mqtt-config", help="Mosquitto password/ACL files per box")
    mqtt_cfg.add_argument("--out", required=True, help="directory for passwd, acl, mosquitto.conf")
    mqtt_cfg.add_argument("--port", type=int, default=1883, help="listener port in the conf")
    mqtt_cfg.add_argument("--bind", default=None, help="listener address (default: all)")
    verify = sub.add_parser("verify-audit")
    verify.add_argument("--write-checkpoint", action="store_true")
    args = parser.parse_args(argv)
    configure_logging("hub")
    cfg = defaults()
    log_event(log, "hub command", command=args.cmd)
    if args.cmd == "serve":
        return cmd_serve(cfg, args.host, args.port)
    if args.cmd == "mqtt-config":
        return cmd_mqtt_config(cfg, args)
    if args.cmd == "verify-audit":
        return cmd_verify_audit(cfg, args.write_checkpoint)
    handlers = {
        "migrate": cmd_migrate,
        "seed-demo": cmd_seed,
        "ingest": cmd_ingest,
        "publish-down": cmd_publish_down,
    }
    return handlers[args.cmd](cfg)


if __name__ == "__main__":
    sys.exit(main())
