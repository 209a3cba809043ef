"""Box command line: `python -m appliance <command> --config F` (serve, sync, devices, ...).

Each command imports its own process's stack inside its function (Flask for serve, paho for
sync, the drivers for devices), so one box process never loads another's; no cycle hides
behind these imports (`../shared/tools/import_cycles.py` reads them too).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.core.db import open_database
from appliance.migrations import migrate, pending
from appliance.sync.box_state import ensure_box_state
from appliance.sync.status import box_status
from firmware_config.schema import BoxConfig, load_box_config
from posdomain.envelope import DownMessage, decode
from posdomain.obs import configure_logging


def cmd_migrate(config: BoxConfig) -> int:
    """Apply pending migrations and create the identity row."""
    db = open_database(config.database_path)
    with db.connection_context():
        applied = migrate(db)
        ensure_box_state(config)
    print(json.dumps({"applied": applied, "database": config.database_path}))
    return 0


def _open_ready(config: BoxConfig) -> BoxContext:
    db = open_database(config.database_path)
    with db.connection_context():
        todo = pending(db)
        if todo:
            raise SystemExit(f"pending migrations {todo}: run `python -m appliance migrate`")
        ensure_box_state(config)
    return BoxContext(config)


def cmd_serve(config: BoxConfig) -> int:
    """Serve the cashier screen and API on config.bind (a pool of reused request threads)."""
    from appliance.app import create_app
    from appliance.web.server import make_server

    app = create_app(config)
    host, _, port = config.bind.rpartition(":")
    server = make_server(host or "127.0.0.1", int(port), app)
    _on_term(lambda: threading.Thread(target=server.shutdown, daemon=True).start())
    server.serve_forever()
    return 0


def cmd_sync(config: BoxConfig) -> int:
    """Run the MQTT sync agent until SIGTERM/SIGINT."""
    from appliance.ops.jobs import BackupSchedule
    from appliance.sync.agent import SyncAgent, offline_will
    from appliance.sync.transport import PahoTransport

    ctx = _open_ready(config)
    transport = PahoTransport(
        config.mqtt, f"cfpos-box-{config.box_id}", will=offline_will(config.box_id)
    )
    stop = threading.Event()
    _on_term(stop.set)
    agent = SyncAgent(ctx, transport, stop_event=stop)
    BackupSchedule(ctx, stop).start()  # FR-700: scheduled box backups run beside the agent
    transport.start()
    try:
        agent.run()
    finally:
        transport.stop()
    return 0


def cmd_backup(config: BoxConfig) -> int:
    """Take one verified backup now (VACUUM INTO) and prune old ones; print its summary."""
    from appliance.ops.backups import BackupError
    from appliance.ops.jobs import backup_now

    ctx = _open_ready(config)
    with open_database(config.database_path).connection_context():
        try:
            print(json.dumps(backup_now(ctx), indent=2))
        except BackupError as err:
            print(json.dumps({"ok": False, "error": str(err)}))
            return 2
    return 0


def cmd_restore_drill(config: BoxConfig) -> int:
    """Restore the newest backup into a scratch file and check it; exit 3 if not ok."""
    from appliance.ops.jobs import drill_now

    ctx = _open_ready(config)
    with open_database(config.database_path).connection_context():
        report = drill_now(ctx)
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 3


def cmd_devices(config: BoxConfig) -> int:
    """Run the device service (print queue, scanner, drawer kicks, status) until SIGTERM."""
    from appliance.devices.service import DeviceService

    _open_ready(config)
    service = DeviceService(config)
    _on_term(service.stop_event.set)
    service.run()
    return 0


def cmd_status(config: BoxConfig) -> int:
    """Print the till status (backlog, versions, online) as JSON."""
    ctx = _open_ready(config)
    with open_database(config.database_path).connection_context():
        print(json.dumps(box_status(ctx), indent=2))
    return 0


def cmd_apply_down(config: BoxConfig, files: Sequence[str]) -> int:
    """Apply DownMessage JSON files (seeding a box without a hub, e.g. for a demo)."""
    ctx = _open_ready(config)
    with open_database(config.database_path).connection_context():
        for name in files:
            msg = decode(Path(name).read_bytes(), DownMessage)
            applied = down_messages.apply_down(ctx, msg)
            print(
                json.dumps(
                    {"file": name, "kind": msg.kind, "version": msg.version, "applied": applied}
                )
            )
    return 0


def _on_term(callback: Callable[[], object]) -> None:
    def handler(_sig: int, _frame: FrameType | None) -> None:
        callback()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run one subcommand."""
    parser = argparse.ArgumentParser(prog="python -m appliance")
    parser.add_argument(
        "command",
        choices=[
            "migrate",
            "serve",
            "sync",
            "devices",
            "status",
            "apply-down",
            "backup",
            "restore-drill",
        ],
    )
    parser.add_argument("files", nargs="*", help="DownMessage JSON files (apply-down)")
    parser.add_argument("--config", required=True, help="box config file (YAML or JSON)")
    args = parser.parse_args(argv)
    names = {"sync": "box-sync", "devices": "box-devices"}
    configure_logging(names.get(args.command, "box"))
    config = load_box_config(args.config)
    if args.command == "apply-down":
        return cmd_apply_down(config, args.files)
    commands = {
        "migrate": cmd_migrate,
        "serve": cmd_serve,
        "sync": cmd_sync,
        "devices": cmd_devices,
        "status": cmd_status,
        "backup": cmd_backup,
        "restore-drill": cmd_restore_drill,
    }
    return commands[args.command](config)


if __name__ == "__main__":
    sys.exit(main())
